package main

import "golang.org/x/sys/unix"

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// growPipe enlarges a pipe's buffer; best effort, the limit is
// /proc/sys/fs/pipe-max-size.
func growPipe(fd, size int) { unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, size) }
