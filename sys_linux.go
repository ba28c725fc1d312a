package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// ownReader opens the pipe fd reads anew, through /proc, as an open file of
// its own (its O_NONBLOCK not shared with whoever else holds fd), or
// returns -1.
func ownReader(fd int) int {
	nfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Fstat(nfd, &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		unix.Close(nfd)
		return -1
	}
	return nfd
}

// unreadBytes returns how many bytes the pipe fd reads from holds, or 0.
func unreadBytes(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD
	if err != nil {
		return 0
	}
	return n
}

// growPipe enlarges a pipe's buffer; best effort, the limit is
// /proc/sys/fs/pipe-max-size.
func growPipe(fd, size int) { unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, size) }

// pipeName returns the name the kernel gives the pipe f is, as
// /proc/PID/fd shows it: "pipe:[INODE]" for an anonymous pipe, the path of
// a named one; "" if f is no pipe or it cannot be told.
func pipeName(f *os.File) string {
	sc, err := f.SyscallConn()
	if err != nil {
		return ""
	}
	var st unix.Stat_t
	if sc.Control(func(fd uintptr) { err = unix.Fstat(int(fd), &st) }) != nil || err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return ""
	}
	var name string
	sc.Control(func(fd uintptr) { name, err = os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)) })
	if err != nil {
		return ""
	}
	return name
}

// pipeHolders returns the PIDs of the other processes that have the pipe
// named name (see pipeName) open, found in /proc. Names are compared, not
// files: reading a link costs nothing and never waits, where a stat of
// every file every process has open could wait on a network filesystem.
func pipeHolders(name string) []int {
	if name == "" {
		return nil
	}
	procs, _ := os.ReadDir("/proc")
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		fds, _ := os.ReadDir("/proc/" + p.Name() + "/fd")
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/" + p.Name() + "/fd/" + fd.Name()); err == nil && l == name {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
