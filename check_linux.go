package main

import "golang.org/x/sys/unix"

// pathMax is the size of the longest path the kernel takes, its NUL
// included.
const pathMax = unix.PathMax

// nameMax returns the longest file name the file system holding dir
// allows (255 on most; fewer on some, such as eCryptfs).
func nameMax(dir string) int {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Namelen <= 0 {
		return unix.NAME_MAX
	}
	return int(st.Namelen)
}
