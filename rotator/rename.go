package rotator

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
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
		if compressed(cand) {
			continue // the name is taken by its compressed form
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

// exists reports whether path names anything (a link is not followed).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// replaceSymlink makes link point at target (relative to the link's
// directory when both are), replacing any link there atomically: a new
// link is made under a temporary name and renamed over the old one, so
// link never goes missing.
func replaceSymlink(target, link string) error {
	if at, err := filepath.Abs(target); err == nil {
		if al, err := filepath.Abs(link); err == nil {
			if rel, err := filepath.Rel(filepath.Dir(al), at); err == nil {
				target = rel
			}
		}
	}
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return nil
	}
	// Only a link is ever replaced: a file there may be the target itself
	// (another spelling of its path) or someone's data.
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%s exists and is not a symbolic link; leaving it alone", link)
	}
	tmp := link + fmt.Sprintf(symlinkTemp, os.Getpid(), rand.Uint32())
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("make %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
