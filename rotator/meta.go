package rotator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// meta keeps the records rotlog makes about its files (the attributes of
// names.go): in user extended attributes where the filesystem has them,
// else in a sidecar file beside each file, .NAME.rotlog (see the package
// doc, "Records"). A meta belongs to one Rotator or Keeper, and so to one
// goroutine.
type meta struct {
	// sidecars holds the directories where user xattrs failed as
	// unsupported: their records go to sidecar files without trying
	// xattrs again.
	sidecars map[string]bool
	logf     func(string, ...any)
	verbosef func(string, ...any)
}

func newMeta(logf, verbosef func(string, ...any)) *meta {
	nop := func(string, ...any) {}
	if logf == nil {
		logf = nop
	}
	if verbosef == nil {
		verbosef = nop
	}
	return &meta{sidecars: map[string]bool{}, logf: logf, verbosef: verbosef}
}

// attr is one record: an attribute of names.go and its value.
type attr struct {
	name string
	v    []byte
}

// fileID is what makes a file the same file across renames: its inode and,
// where the system keeps one, its birth time (inode numbers are reused
// once a file is removed; a birth time tells the new file from the old).
// Not the device number: it changes when a FUSE or network filesystem is
// mounted again, and a sidecar is always on its file's filesystem.
type fileID struct {
	ino   uint64
	birth int64 // nanoseconds; 0 where unknown
}

// fileIDOf returns the identity of the open file f.
func fileIDOf(f *os.File) (fileID, error) {
	var id fileID
	var err error
	sc, cerr := f.SyscallConn()
	if cerr != nil {
		return id, cerr
	}
	if cerr = sc.Control(func(fd uintptr) { id, err = fdID(int(fd)) }); cerr != nil {
		return id, cerr
	}
	return id, err
}

// unsupported reports whether an xattr call failed because the filesystem
// (or the system) has no user extended attributes.
func unsupported(err error) bool {
	return errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS)
}

// useSidecars notes that dir has no user xattrs.
func (m *meta) useSidecars(dir string, err error) {
	if !m.sidecars[dir] {
		m.sidecars[dir] = true
		m.verbosef("%s has no user extended attributes (%v); keeping records in sidecar files (%sNAME%s)", dir, err, SidecarPrefix, SidecarSuffix)
	}
}

// get returns the record name of the file at path (a link is not
// followed), or nil: its extended attribute, else its sidecar's entry.
func (m *meta) get(path, name string) []byte {
	return m.lookup(path, name, func(buf []byte) (int, error) { return lgetxattr(path, name, buf) },
		func() (fileID, error) { return pathID(path) })
}

// getFile returns the record name of the open file f, whatever its name
// refers to now, or nil; path is the name f was opened as, where its
// sidecar is, which counts only if it names f.
func (m *meta) getFile(f *os.File, path, name string) []byte {
	xattr := func(buf []byte) (n int, err error) {
		sc, err := f.SyscallConn()
		if err != nil {
			return -1, err
		}
		sc.Control(func(fd uintptr) { n, err = fgetxattr(int(fd), name, buf) })
		return n, err
	}
	return m.lookup(path, name, xattr, func() (fileID, error) { return fileIDOf(f) })
}

// lookup is get and getFile: the extended attribute xattr reads, unless
// path's directory keeps sidecars, else the entry of path's sidecar if it
// is about the file id names.
func (m *meta) lookup(path, name string, xattr func([]byte) (int, error), id func() (fileID, error)) []byte {
	dir := filepath.Dir(path)
	if !m.sidecars[dir] {
		var buf [4096]byte
		n, err := xattr(buf[:])
		if err == nil && n > 0 {
			return bytes.Clone(buf[:n])
		}
		if unsupported(err) {
			m.useSidecars(dir, err)
		}
	}
	fid, err := id()
	if err != nil {
		return nil
	}
	return readSidecar(path, fid)[name]
}

// set records name on the open file f, which has or is about to have the
// name path; best effort (a failure is reported).
func (m *meta) set(f *os.File, path, name string, v []byte) {
	m.setAll(f, path, []attr{{name, v}})
}

// setAll records each of as on the open file f, which has or is about to
// have the name path (compress records on a temporary file the name it is
// renamed to next): as extended attributes, else in path's sidecar, with
// one write however many there are. A failure is reported, and returned.
func (m *meta) setAll(f *os.File, path string, as []attr) error {
	dir := filepath.Dir(path)
	rest := as
	if !m.sidecars[dir] {
		rest = nil
		sc, err := f.SyscallConn()
		if err != nil {
			return err
		}
		for i, a := range as {
			var err error
			sc.Control(func(fd uintptr) { err = fsetxattr(int(fd), a.name, a.v) })
			if unsupported(err) {
				m.useSidecars(dir, err)
				rest = append(rest, as[i:]...)
				break
			}
			if err != nil {
				// Too big for the filesystem's attribute space, or
				// another refusal: the sidecar takes it.
				rest = append(rest, a)
			}
		}
	}
	if len(rest) == 0 {
		return nil
	}
	id, err := fileIDOf(f)
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if err == nil {
		err = writeSidecar(path, id, fi.Mode().Perm(), rest, false)
	}
	if err != nil {
		m.logf("error: recording %s on %s: %v", strings.TrimPrefix(rest[0].name, "user.rotlog."), path, err)
	}
	return err
}

// sidecarPath is where the sidecar of the file at path is: .NAME.rotlog in
// the same directory.
func sidecarPath(path string) string {
	dir, base := filepath.Split(path)
	return dir + SidecarPrefix + base + SidecarSuffix
}

// sidecarFile returns the file whose sidecar, or sidecar's temporary file
// (tmp), is at path; ok is false if path is neither.
func sidecarFile(path string) (file string, tmp, ok bool) {
	dir, base := filepath.Split(path)
	name, ok := strings.CutPrefix(base, SidecarPrefix)
	if !ok {
		return "", false, false
	}
	if i := strings.LastIndex(name, SidecarSuffix); i > 0 {
		switch rest := name[i+len(SidecarSuffix):]; {
		case rest == "":
			return dir + name[:i], false, true
		case strings.HasPrefix(rest, sidecarTempMark):
			return dir + name[:i], true, true
		}
	}
	return "", false, false
}

// sidecarTempMark begins the rest of a sidecar's temporary name:
// .NAME.rotlog.tmp-PID-RANDOM, as SymlinkTemp.
const sidecarTempMark = ".tmp-"

// The sidecar format: a first line naming the format and the file (its
// fileID), then one line per record: the attribute's name, a space, and
// its value as a Go string literal.
//
//	rotlog-sidecar 1 ino=1234 birth=1764000000000000000
//	user.rotlog.start "1764000000000000000"
const sidecarMagic = "rotlog-sidecar 1"

func encodeSidecar(id fileID, rec map[string][]byte, order []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s ino=%d birth=%d\n", sidecarMagic, id.ino, id.birth)
	for _, name := range order {
		fmt.Fprintf(&b, "%s %s\n", name, strconv.Quote(string(rec[name])))
	}
	return b.Bytes()
}

// decodeSidecar returns the file a sidecar is about and its records; ok is
// false for anything that is not a whole sidecar.
func decodeSidecar(data []byte) (id fileID, rec map[string][]byte, order []string, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		return id, nil, nil, false
	}
	if _, err := fmt.Sscanf(sc.Text(), sidecarMagic+" ino=%d birth=%d", &id.ino, &id.birth); err != nil {
		return id, nil, nil, false
	}
	rec = map[string][]byte{}
	for sc.Scan() {
		name, q, found := strings.Cut(sc.Text(), " ")
		v, err := strconv.Unquote(q)
		if !found || err != nil {
			return id, nil, nil, false
		}
		if _, dup := rec[name]; !dup {
			order = append(order, name)
		}
		rec[name] = []byte(v)
	}
	// Written whole and renamed into place, a sidecar ends with a newline.
	return id, rec, order, sc.Err() == nil && len(data) > 0 && data[len(data)-1] == '\n'
}

// readSidecarFile returns what the sidecar at sc holds.
func readSidecarFile(sc string) (id fileID, rec map[string][]byte, order []string, ok bool) {
	f, err := os.OpenFile(sc, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return id, nil, nil, false
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(&limitedFile{f, 1 << 20}); err != nil {
		return id, nil, nil, false
	}
	return decodeSidecar(b.Bytes())
}

// limitedFile reads at most n bytes of f: a sidecar is small, and whatever
// someone put at its name is not read whole.
type limitedFile struct {
	f *os.File
	n int64
}

func (l *limitedFile) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("too long for a sidecar")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// readSidecar returns the records of the file at path whose identity is
// id: its sidecar's, if the sidecar is about that very file; else nil. A
// sidecar left under a name now used by another file is not believed.
func readSidecar(path string, id fileID) map[string][]byte {
	got, rec, _, ok := readSidecarFile(sidecarPath(path))
	if !ok || got != id {
		return nil
	}
	return rec
}

// writeSidecar records as in the sidecar of the file at path, whose
// identity is id, keeping the sidecar's other records if it is about that
// file: written whole to a temporary file, synced, and renamed over the
// sidecar, so that a reader sees the old sidecar or the new one, never a
// part. It has the permission bits of its file, perm: who may not read the
// file may not read what rotlog records about it. With noReplace it fails
// with an error matching fs.ErrExist if a sidecar is there already.
func writeSidecar(path string, id fileID, perm fs.FileMode, as []attr, noReplace bool) error {
	sc := sidecarPath(path)
	rec, order := map[string][]byte{}, []string(nil)
	if got, old, oldOrder, ok := readSidecarFile(sc); ok && got == id {
		rec, order = old, oldOrder
	}
	for _, a := range as {
		if _, ok := rec[a.name]; !ok {
			order = append(order, a.name)
		}
		rec[a.name] = a.v
	}
	tmp := sc + fmt.Sprintf(sidecarTempMark+"%d-%d", os.Getpid(), rand.Uint32())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(encodeSidecar(id, rec, order))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if noReplace {
			err = renameNoReplace(tmp, sc)
		} else {
			err = os.Rename(tmp, sc)
		}
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// sidecarRecords returns every record in the sidecar of the file at path whose
// identity is id, in the order written; nil if none.
func sidecarRecords(path string, id fileID) []attr {
	got, rec, order, ok := readSidecarFile(sidecarPath(path))
	if !ok || got != id {
		return nil
	}
	as := make([]attr, 0, len(order))
	for _, name := range order {
		as = append(as, attr{name, rec[name]})
	}
	return as
}

// drop removes the sidecar of the file at path if it is about the file
// whose identity is id: that file was removed, or renamed and its records
// written beside its new name.
func (m *meta) drop(path string, id fileID) {
	sc := sidecarPath(path)
	if got, _, _, ok := readSidecarFile(sc); ok && got == id {
		os.Remove(sc)
	}
}

// orphanAge is how old a sidecar must be before housekeeping removes it
// for want of its file: a sidecar is written (by a create, a rename or a
// compression) just before or after its file gets the name, so a young one
// may be about a file on its way.
const orphanAge = 10 * time.Minute

// sweep removes the sidecar (or sidecar temporary file, tmp) at sc of the
// file at path if it is an orphan: older than orphanAge (by the real
// clock, as lock ages), and about no file at path. The sidecar is first
// renamed aside, so that what is judged is what is removed: if someone
// wrote a new one at sc meanwhile, it is what was taken, young, and it is
// put back (unless a newer one is there again).
func (m *meta) sweep(sc, path string, tmp bool) {
	if !m.orphan(sc, path, tmp) {
		return
	}
	if tmp {
		if os.Remove(sc) == nil {
			m.verbosef("removed %s, left by an interrupted write", sc)
		}
		return
	}
	aside := sc + fmt.Sprintf(sidecarTempMark+"%d-%d", os.Getpid(), rand.Uint32())
	if os.Rename(sc, aside) != nil {
		return
	}
	if !m.orphan(aside, path, false) {
		if renameNoReplace(aside, sc) == nil {
			return
		}
	}
	if os.Remove(aside) == nil {
		m.verbosef("removed %s: the file it was about is gone", sc)
	}
}

// orphan reports whether the sidecar at sc is old and about no file at path.
func (m *meta) orphan(sc, path string, tmp bool) bool {
	fi, err := os.Lstat(sc)
	if err != nil || !fi.Mode().IsRegular() || time.Since(fi.ModTime()) < orphanAge {
		return false
	}
	if tmp {
		return true
	}
	got, _, _, ok := readSidecarFile(sc)
	if !ok {
		return true
	}
	id, err := pathID(path)
	if err == nil {
		return got != id
	}
	return errors.Is(err, fs.ErrNotExist)
}
