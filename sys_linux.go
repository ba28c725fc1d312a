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

// growPipe enlarges a pipe's buffer; best effort, the limit is
// /proc/sys/fs/pipe-max-size.
func growPipe(fd, size int) { unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, size) }

// pipeInode returns the inode of the pipe f is, or 0.
func pipeInode(f *os.File) uint64 {
	sc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	var st unix.Stat_t
	if sc.Control(func(fd uintptr) { err = unix.Fstat(int(fd), &st) }) != nil || err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return 0
	}
	return st.Ino
}

// pipeHolders returns the PIDs of the other processes that have the pipe
// with inode ino open, found in /proc.
func pipeHolders(ino uint64) []int {
	if ino == 0 {
		return nil
	}
	want := fmt.Sprintf("pipe:[%d]", ino)
	procs, _ := os.ReadDir("/proc")
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		fds, _ := os.ReadDir("/proc/" + p.Name() + "/fd")
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/" + p.Name() + "/fd/" + fd.Name()); err == nil && l == want {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
