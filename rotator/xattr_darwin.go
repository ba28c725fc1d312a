package rotator

import "golang.org/x/sys/unix"

// xattrName is the name of an attribute of names.go as this system spells
// it: macOS takes any name.
func xattrName(name string) string { return name }

func fgetxattr(fd int, name string, buf []byte) (int, error) {
	return unix.Fgetxattr(fd, xattrName(name), buf)
}

func lgetxattr(path, name string, buf []byte) (int, error) {
	return unix.Lgetxattr(path, xattrName(name), buf)
}

func fsetxattr(fd int, name string, v []byte) error {
	return unix.Fsetxattr(fd, xattrName(name), v, 0)
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
