//go:build unix && !linux && !darwin && !freebsd

package rotator

import "golang.org/x/sys/unix"

// Elsewhere rotlog does not use extended attributes: every record is kept
// in a sidecar file (see meta).

func xattrName(name string) string { return name }

func fgetxattr(int, string, []byte) (int, error) { return 0, unix.ENOTSUP }

func lgetxattr(string, string, []byte) (int, error) { return 0, unix.ENOTSUP }

func fsetxattr(int, string, []byte) error { return unix.ENOTSUP }

// fdID and pathID return a file's identity: its inode.
func fdID(fd int) (fileID, error) {
	var st unix.Stat_t
	err := unix.Fstat(fd, &st)
	return fileID{ino: uint64(st.Ino)}, err
}

func pathID(path string) (fileID, error) {
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	return fileID{ino: uint64(st.Ino)}, err
}
