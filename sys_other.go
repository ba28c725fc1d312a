//go:build unix && !linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TIOCGETA)
	return err == nil
}

func growPipe(fd, size int) {}

// unreadBytes: not told here.
func unreadBytes(int) int { return 0 }

// ownReader: no /proc to open a pipe anew through.
func ownReader(int) int { return -1 }

// pipeName and pipeHolders would name the processes holding a pipe;
// there is no /proc to find them in here.
func pipeName(*os.File) string { return "" }

func pipeHolders(string) []int { return nil }
