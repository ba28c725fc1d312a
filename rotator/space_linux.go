package rotator

import (
	"os"

	"golang.org/x/sys/unix"
)

// statSpace returns the bytes free for users other than root on the
// filesystem of path, and its size, as statvfs(3) counts them: in
// fragments.
func statSpace(path string) (free, size int64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	unit := int64(st.Frsize) // int32 on 32-bit systems
	if unit == 0 {
		unit = int64(st.Bsize)
	}
	return int64(st.Bavail) * unit, int64(st.Blocks) * unit, nil
}
