package rotator

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
)

// linkRename renames without replacing where rename(2) cannot: link fails
// if newpath exists. A crash between link and unlink leaves two names for
// one file, which the next rotation notices (see rotateTo).
func linkRename(oldpath, newpath string) error {
	if err := os.Link(oldpath, newpath); err != nil {
		return err
	}
	return os.Remove(oldpath)
}

// rotateTo renames path to name, or to the first of name.1, name.2, ...
// that is free (starting at name.first if first > 0), and returns the name
// used. It never replaces a file.
func rotateTo(path, name string, first int) (string, error) {
	pfi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	for i := first; ; i++ {
		cand := name
		if i > 0 {
			cand = name + "." + strconv.Itoa(i)
		}
		err := renameNoReplace(path, cand)
		if err == nil {
			return cand, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		// Left behind by a crash inside linkRename: the rotated name
		// already holds this very file, so drop the active name only.
		if fi, err := os.Lstat(cand); err == nil && os.SameFile(fi, pfi) {
			return cand, os.Remove(path)
		}
	}
}
