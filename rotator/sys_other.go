//go:build unix && !linux

package rotator

import "os"

func renameNoReplace(oldpath, newpath string) error { return linkRename(oldpath, newpath) }

// Extended attributes are used on Linux only; elsewhere rotation falls
// back to mtimes and post-rotate hooks do not run.
func setAttr(*os.File, string, []byte) {}

func getAttr(string, string) []byte { return nil }

func getAttrFile(*os.File, string) []byte { return nil }
