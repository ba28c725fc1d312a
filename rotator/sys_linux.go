package rotator

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames oldpath to newpath, failing with an error
// matching fs.ErrExist if newpath exists.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.ENOTSUP):
		// The filesystem cannot do it atomically: link never replaces either.
		return linkRename(oldpath, newpath)
	}
	return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
}

// setAttr sets a user extended attribute; best effort.
func setAttr(f *os.File, name string, v []byte) {
	if sc, err := f.SyscallConn(); err == nil {
		sc.Control(func(fd uintptr) { unix.Fsetxattr(int(fd), name, v, 0) })
	}
}

// getAttr returns an extended attribute of path (not followed if a
// link), or nil.
func getAttr(path, name string) []byte {
	var buf [4096]byte
	n, err := unix.Lgetxattr(path, name, buf[:])
	if err != nil || n <= 0 {
		return nil
	}
	return buf[:n]
}

// getAttrFile returns an extended attribute of the open file f, or nil:
// of the file itself, whatever its name refers to now.
func getAttrFile(f *os.File, name string) []byte {
	var buf [4096]byte
	n := -1
	if sc, err := f.SyscallConn(); err == nil {
		sc.Control(func(fd uintptr) {
			var err error
			if n, err = unix.Fgetxattr(int(fd), name, buf[:]); err != nil {
				n = -1
			}
		})
	}
	if n <= 0 {
		return nil
	}
	return buf[:n]
}
