package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// command is the program of exec mode, in a process group of its own: its
// stdout and stderr come to rotlog through two pipes, so that lines of each
// stay whole, and signals go to its whole group, so that the workers a
// server forks hear them too (as dumb-init does).
type command struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the command has exited
	err  error         // of Wait
}

// notExecutable reports whether err, from startCommand, is for a command
// that was found but cannot be run: exit 126, as a shell does (127 is for
// one not found).
func notExecutable(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOEXEC)
}

// startCommand starts args with standard input inherited and returns the
// read ends of its stdout and stderr.
func startCommand(args []string) (*command, []*os.File, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	// The child has its own copies; rotlog sees EOF once they are closed.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, nil, err
	}
	c := &command{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, []*os.File{outR, errR}, nil
}

// signal sends sig to the command's process group.
func (c *command) signal(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(-c.cmd.Process.Pid, s)
	}
}

func (c *command) exited() <-chan struct{} { return c.done }

// groupAlive reports whether any process of the command's group is left.
func (c *command) groupAlive() bool {
	err := syscall.Kill(-c.cmd.Process.Pid, 0)
	return err == nil || err == syscall.EPERM
}

// pid is the command's process ID, which is also its group's.
func (c *command) pid() int { return c.cmd.Process.Pid }

// wait returns the command's exit status: its code, or 128 + the signal
// that killed it.
func (c *command) wait() int {
	<-c.done
	err := c.err
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 1
	}
	ws := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
