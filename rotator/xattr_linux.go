package rotator

import (
	"errors"

	"golang.org/x/sys/unix"
)

// xattrName is the name of an attribute of names.go as this system spells
// it: Linux has the user namespace in the name.
func xattrName(name string) string { return name }

// fgetxattr reads the attribute name of the file open as fd into buf.
func fgetxattr(fd int, name string, buf []byte) (int, error) {
	return unix.Fgetxattr(fd, xattrName(name), buf)
}

// lgetxattr reads the attribute name of the file at path (a link is not
// followed) into buf.
func lgetxattr(path, name string, buf []byte) (int, error) {
	return unix.Lgetxattr(path, xattrName(name), buf)
}

// fsetxattr sets the attribute name of the file open as fd.
func fsetxattr(fd int, name string, v []byte) error {
	return unix.Fsetxattr(fd, xattrName(name), v, 0)
}

// statID returns the identity of the file at path relative to dirfd (a
// link is not followed), or of dirfd itself when path is "": its inode and,
// where the filesystem keeps one, its birth time (statx).
func statID(dirfd int, path string) (fileID, error) {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if path == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	var st unix.Statx_t
	err := unix.Statx(dirfd, path, flags, unix.STATX_INO|unix.STATX_BTIME, &st)
	if errors.Is(err, unix.ENOSYS) {
		// A kernel before 4.11: the inode alone.
		var s unix.Stat_t
		if path == "" {
			err = unix.Fstat(dirfd, &s)
		} else {
			err = unix.Lstat(path, &s)
		}
		return fileID{ino: s.Ino}, err
	}
	if err != nil {
		return fileID{}, err
	}
	id := fileID{ino: st.Ino}
	if st.Mask&unix.STATX_BTIME != 0 {
		id.birth = st.Btime.Sec*1e9 + int64(st.Btime.Nsec)
	}
	return id, nil
}

func fdID(fd int) (fileID, error) { return statID(fd, "") }

func pathID(path string) (fileID, error) { return statID(unix.AT_FDCWD, path) }
