package rotator

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// linkRename renames without replacing where rename(2) cannot: link fails
// if newpath exists. A crash between link and unlink leaves two names for
// one file, which the next rotation notices (see rotateTo). Where there is
// no link either (FAT, exFAT), it renames after checking that newpath is
// free: rotlog renames only under a lock (the target's rotation lock, or
// the file's exclusive flock for a compression), so no other pipeline takes
// the name in between.
func linkRename(oldpath, newpath string) error {
	err := os.Link(oldpath, newpath)
	if err == nil {
		return os.Remove(oldpath)
	}
	if !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.ENOTSUP) &&
		!errors.Is(err, syscall.EOPNOTSUPP) && !errors.Is(err, syscall.ENOSYS) {
		return err
	}
	if _, lerr := os.Lstat(newpath); lerr == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrExist}
	} else if !errors.Is(lerr, fs.ErrNotExist) {
		return lerr
	}
	return os.Rename(oldpath, newpath)
}

// rotateTo renames path to name, or to the first of name.1, name.2, ...
// that is free (starting at name.first if first > 0), and returns the name
// used. It never replaces a file. The file's sidecar, if it has one, goes
// with it (see moveTo).
func (m *meta) rotateTo(path, name string, first int) (string, error) {
	pfi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	var rec []attr
	id, err := pathID(path)
	if err == nil {
		rec = sidecarRecords(path, id)
	}
	for i := first; ; i++ {
		cand := name
		if i > 0 {
			cand = name + "." + strconv.Itoa(i)
		}
		if compressed(cand) {
			continue // the name is taken by its compressed form
		}
		if rec != nil {
			if fi, err := os.Lstat(cand); err == nil {
				if os.SameFile(fi, pfi) {
					return m.linked(path, cand, pfi, id, rec)
				}
				continue
			}
			switch err := m.reserve(cand, id, pfi.Mode().Perm(), rec); {
			case errors.Is(err, fs.ErrExist):
				continue // taken, or about to be
			case NoSpace(err):
				// Renamed now, the file would lose its records (its
				// hook and manifest marks): it is renamed once there
				// is room for them.
				return "", fmt.Errorf("records of %s cannot follow it to %s: %w", path, cand, err)
			case err != nil:
				m.logf("error: records of %s cannot follow it to %s: %v", path, cand, err)
			}
		}
		err := renameNoReplace(path, cand)
		if err == nil {
			if rec != nil {
				m.drop(path, id)
			}
			return cand, nil
		}
		if rec != nil {
			m.drop(cand, id) // the reservation
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		// Left behind by a crash inside linkRename: the rotated name
		// already holds this very file, so drop the active name only.
		if fi, err := os.Lstat(cand); err == nil && os.SameFile(fi, pfi) {
			return m.linked(path, cand, pfi, id, rec)
		}
	}
}

// linked ends a rename of path to cand that a crash inside linkRename
// left with both names: the records go to cand, and path is removed. If
// path names another file by now (a second lock holder, as a lock broken
// through another host's mount makes, rotated it and made a new one), the
// rename is done already and path is left alone.
func (m *meta) linked(path, cand string, fi fs.FileInfo, id fileID, rec []attr) (string, error) {
	if cur, err := os.Lstat(path); err != nil || !os.SameFile(cur, fi) {
		return cand, nil
	}
	if rec != nil {
		if err := writeSidecar(cand, id, fi.Mode().Perm(), rec, false); err != nil {
			m.logf("error: records of %s cannot follow it to %s: %v", path, cand, err)
		}
		m.drop(path, id)
	}
	return cand, os.Remove(path)
}

// reserve writes the sidecar of a file about to be renamed to cand (its
// records rec, its identity id), before the rename, so that no moment
// finds the file without its records whatever is killed when: a sidecar
// without its file is an orphan that housekeeping sweeps; the old sidecar,
// left beside the old name, is about a file no longer there. The sidecar
// is made without replacing one that is there: a fresh one belongs to
// another rename to cand under way, so cand is taken (fs.ErrExist); an
// old one about no file, or one about this very file (a rename killed
// before), is replaced.
func (m *meta) reserve(cand string, id fileID, perm fs.FileMode, rec []attr) error {
	err := writeSidecar(cand, id, perm, rec, true)
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	sc := sidecarPath(cand)
	if got, _, _, ok := readSidecarFile(sc); ok && got == id || m.orphan(sc, cand, false) {
		return writeSidecar(cand, id, perm, rec, false)
	}
	return err
}

// exists reports whether path names anything (a link is not followed).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// replaceSymlink makes link point at target (relative to the link's
// directory), replacing any link there atomically: a new link is made
// under a temporary name and renamed over the old one, so link never goes
// missing.
func replaceSymlink(target, link string) error {
	if rel, err := relTarget(target, link); err == nil {
		target = rel
	}
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return nil
	}
	// Only a link is ever replaced: a file there may be the target itself
	// (another spelling of its path) or someone's data.
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%s exists and is not a symbolic link; leaving it alone", link)
	}
	tmp := link + fmt.Sprintf(SymlinkTemp, os.Getpid(), rand.Uint32())
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("make %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// relTarget returns target relative to the directory link is in, as the
// kernel resolves both: from their real directories, symbolic links
// resolved. (filepath.Abs starts from $PWD, which may be reached through a
// link, and then takes ".." by spelling: -l ../current.log run from a
// linked directory would point from the real parent into nowhere.)
func relTarget(target, link string) (string, error) {
	td, err := realDir(target)
	if err != nil {
		return "", err
	}
	ld, err := realDir(link)
	if err != nil {
		return "", err
	}
	return filepath.Rel(ld, filepath.Join(td, filepath.Base(target)))
}

// realDir returns the absolute path of the directory path is in, with
// every symbolic link resolved, starting from the real working directory.
func realDir(path string) (string, error) {
	// Not filepath.Dir, which would take "link/../name" by spelling.
	dir := "."
	if i := strings.LastIndexByte(path, filepath.Separator); i == 0 {
		dir = "/"
	} else if i > 0 {
		dir = path[:i]
	}
	if !filepath.IsAbs(dir) {
		wd, err := unix.Getwd() // the kernel's, not $PWD
		if err != nil {
			return "", err
		}
		// Not filepath.Join, which would take "link/.." by spelling too.
		dir = wd + string(filepath.Separator) + dir
	}
	return filepath.EvalSymlinks(dir)
}
