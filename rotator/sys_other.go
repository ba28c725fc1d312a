//go:build unix && !linux

package rotator

import "os"

func renameNoReplace(oldpath, newpath string) error { return linkRename(oldpath, newpath) }

func setStart(*os.File, []byte) {}

func getStart(string) []byte { return nil }
