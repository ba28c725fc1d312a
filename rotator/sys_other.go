//go:build unix && !linux

package rotator

func renameNoReplace(oldpath, newpath string) error { return linkRename(oldpath, newpath) }
