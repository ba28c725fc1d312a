package rotator

import (
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// xattrName is the name of an attribute of names.go as this system spells
// it: FreeBSD takes the namespace apart (EXTATTR_NAMESPACE_USER).
func xattrName(name string) string { return strings.TrimPrefix(name, "user.") }

func fgetxattr(fd int, name string, buf []byte) (int, error) {
	return unix.ExtattrGetFd(fd, unix.EXTATTR_NAMESPACE_USER, xattrName(name), uintptr(unsafe.Pointer(unsafe.SliceData(buf))), len(buf))
}

func lgetxattr(path, name string, buf []byte) (int, error) {
	return unix.ExtattrGetLink(path, unix.EXTATTR_NAMESPACE_USER, xattrName(name), uintptr(unsafe.Pointer(unsafe.SliceData(buf))), len(buf))
}

func fsetxattr(fd int, name string, v []byte) error {
	var p uintptr
	if len(v) > 0 {
		p = uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	}
	n, err := unix.ExtattrSetFd(fd, unix.EXTATTR_NAMESPACE_USER, xattrName(name), p, len(v))
	if err == nil && n != len(v) {
		err = unix.EIO
	}
	return err
}

// fdID and pathID return a file's identity: its inode and birth time.
func fdID(fd int) (fileID, error) {
	var st unix.Stat_t
	err := unix.Fstat(fd, &st)
	return statFileID(&st), err
}

func pathID(path string) (fileID, error) {
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	return statFileID(&st), err
}

func statFileID(st *unix.Stat_t) fileID {
	return fileID{ino: st.Ino, birth: st.Btim.Nano()}
}
