//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// At a stop whose drain runs out with the named pipe of --input still open,
// rotlog names the processes that hold it open for writing, as it does for
// standard input: the writer's PID, and no other (not rotlog itself, whose
// own write end is closed at the stop, nor a process holding an unrelated
// pipe). All that was written is logged, and rotlog exits 0.
func TestFIFOHoldersNamed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.fifo")
	cmd := rotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--input", fifo, "--drain-timeout", "300ms")
	r := start(t, cmd, false)
	waitFor(t, "the named pipe", func() bool { return exists(fifo) && holds(cmd.Process.Pid, fifo) })

	// A writer that writes a line and keeps the pipe open; and a bystander
	// with a pipe of its own as standard output.
	w := exec.Command("sh", "-c", fmt.Sprintf(`echo held-open; exec sleep 600 # %s`, dir))
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Stdout = f
	ws := start(t, w, false)
	f.Close()
	by := exec.Command("sleep", "600")
	byOut, err := by.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start(t, by, false)
	defer byOut.Close()

	app := filepath.Join(dir, "app.log")
	waitFor(t, "the line", func() bool { return readFileQuiet(app) == "held-open\n" })
	cmd.Process.Signal(syscall.SIGTERM)
	if !r.exited(stopLimit) || r.status() != 0 {
		t.Fatalf("rotlog after TERM: exited %v, status %d; stderr:\n%s", r.gone(), r.status(), r.stderr)
	}
	stderr := r.stderr.String()
	want := regexp.MustCompile(fmt.Sprintf(`\Arotlog: input was still open \(held by PID %d\) when rotlog stopped reading, \S+ after the stop; `, w.Process.Pid))
	if !want.MatchString(stderr) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr:\n%s\nwant one line matching %s", stderr, want)
	}
	if ws.gone() {
		t.Errorf("the writer is gone: %v %s", ws.err, ws.stderr)
	}
}

// The same for standard input, an anonymous pipe: the writer holding it is
// named, and no bystander.
func TestStdinHoldersNamed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := rotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--drain-timeout", "300ms")
	cmd.Stdin = pr
	r := start(t, cmd, false)
	pr.Close()
	w := exec.Command("sh", "-c", fmt.Sprintf(`echo held-open; exec sleep 600 # %s`, dir))
	w.Stdout = pw
	ws := start(t, w, false)
	pw.Close()
	by := exec.Command("sleep", "600")
	byOut, err := by.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start(t, by, false)
	defer byOut.Close()

	app := filepath.Join(dir, "app.log")
	waitFor(t, "the line", func() bool { return readFileQuiet(app) == "held-open\n" })
	cmd.Process.Signal(syscall.SIGTERM)
	if !r.exited(stopLimit) || r.status() != 0 {
		t.Fatalf("rotlog after TERM: exited %v, status %d; stderr:\n%s", r.gone(), r.status(), r.stderr)
	}
	stderr := r.stderr.String()
	want := regexp.MustCompile(fmt.Sprintf(`\Arotlog: input was still open \(held by PID %d\) when rotlog stopped reading, \S+ after the stop; `, w.Process.Pid))
	if !want.MatchString(stderr) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr:\n%s\nwant one line matching %s", stderr, want)
	}
	if ws.gone() {
		t.Errorf("the writer is gone: %v %s", ws.err, ws.stderr)
	}
}
