//go:build unix && !linux

package main

import "golang.org/x/sys/unix"

// pathMax is the size of the longest path the kernel takes, its NUL
// included (PATH_MAX on macOS and the BSDs).
const pathMax = 1024

// nameMax returns the longest file name the file system holding dir
// allows: NAME_MAX, which the file systems of macOS and the BSDs keep to.
func nameMax(string) int { return unix.NAME_MAX }

// sharedFS would name a network or FUSE file system; statfs type numbers
// are Linux's, so elsewhere it cannot be told.
func sharedFS(string) string { return "" }

// mountID would tell bind mounts of one filesystem apart; elsewhere a
// mount of its own (nullfs aside) has a device number of its own.
func mountID(string) (uint64, bool) { return 0, false }
