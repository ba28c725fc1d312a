package rotator

import (
	"os"

	"golang.org/x/sys/unix"
)

// statSpace returns the bytes free for users other than root on the
// filesystem of path, and its size.
func statSpace(path string) (free, size int64, err error) {
	var st unix.Statvfs_t
	if err := unix.Statvfs(path, &st); err != nil {
		return 0, 0, &os.PathError{Op: "statvfs", Path: path, Err: err}
	}
	return int64(st.Bavail) * int64(st.Frsize), int64(st.Blocks) * int64(st.Frsize), nil
}
