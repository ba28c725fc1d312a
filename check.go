package main

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/rotator"
)

// Start-up checks: what would only fail once input flows (and then be
// retried forever) is refused before any input is read. A target that can
// never be written is a bad command line (exit 2); too few file
// descriptors is a failure of the environment (exit 1).

// The suffixes rotlog adds to a target's names (rotator/names.go).
const (
	lockExt = rotator.LockSuffix
	tempExt = rotator.TempSuffix
	// variantExt is the allowance for numbered variants (NAME.1, NAME.2,
	// ...): up to 999 of one name.
	variantExt = ".999"
)

// linkTempExt is rotator.SymlinkTemp at its longest: the largest PID and
// random number.
var linkTempExt = fmt.Sprintf(rotator.SymlinkTemp, uint32(math.MaxUint32), uint32(math.MaxUint32))

// checkTarget refuses a target rotlog could never write: a pattern that
// names a directory, a directory, device, pipe, socket or symbolic link at
// the path written now or at its lock, a name that
// is or would become too long for the file system, and a --symlink on one
// of the target's own names.
func (c *config) checkTarget(now time.Time) error {
	raw := c.pat.String()
	if b := filepath.Base(raw); b == "." || b == ".." {
		return usagef("--path: %q names a directory, not a file", raw)
	}
	path := c.pat.Path(now)
	if err := c.checkLengths(now, existingDir(path)); err != nil {
		return err
	}
	if k := kindAt(path); k != "" {
		return usagef("--path: %s is %s", path, k)
	}
	if k := kindAt(path + lockExt); k != "" {
		return usagef("--path: the lock file %s is %s; remove it", path+lockExt, k)
	}
	if c.symlink == "" {
		return nil
	}
	if err := checkName("--symlink", "the link while it is replaced", c.symlink+linkTempExt, nameMax(existingDir(c.symlink))); err != nil {
		return err
	}
	if what := c.usedName(c.symlink); what != "" {
		return usagef("--symlink: %q is %s", c.symlink, what)
	}
	return nil
}

// checkLengths refuses a target whose names, or the names rotlog will
// make for it (its lock, rotated names with a numbered variant, and their
// compressed temporary names), do not fit the file system in dir (the
// nearest directory of the target that exists).
func (c *config) checkLengths(now time.Time, dir string) error {
	max := nameMax(dir)
	file, rotated := c.longestNames(now)
	rotated += variantExt
	if c.keep.Codec != nil {
		rotated += c.keep.Codec.Ext + tempExt
	}
	for _, n := range []struct{ what, name string }{
		{"the file", file},
		{"its lock file", file + lockExt},
		{"a rotated file", rotated},
	} {
		if err := checkName("--path", n.what, n.name, max); err != nil {
			return err
		}
	}
	return nil
}

// checkName refuses name if one of its components is longer than max
// bytes or the whole is too long for a path.
func checkName(flag, what, name string, max int) error {
	if len(name) >= pathMax {
		return usagef("%s: the path of %s would be %d bytes long (%s), over the limit of %d for a path", flag, what, len(name), abbrev(name), pathMax-1)
	}
	for _, part := range strings.Split(name, "/") {
		if len(part) > max {
			return usagef("%s: the name of %s would be %d bytes long (%s), over this file system's limit of %d", flag, what, len(part), abbrev(part), max)
		}
	}
	return nil
}

// abbrev shortens a long name for a message, keeping both ends.
func abbrev(s string) string {
	if len(s) <= 60 {
		return s
	}
	return strings.ToValidUTF8(s[:20]+"...", "") + strings.ToValidUTF8(s[len(s)-36:], "")
}

// longestNames returns the longest path the target's file takes in the
// year around now (names of months and days and zone abbreviations differ
// in length), and the longest name its rotated files take before any
// numbered variant or compression.
func (c *config) longestNames(now time.Time) (file, rotated string) {
	p := c.pat
	if !p.Template() {
		file = p.Path(now)
	}
	start := time.Date(now.Year(), 1, 1, 23, 59, 59, 999999999, p.Location)
	for day := range 367 {
		t := start.AddDate(0, 0, day)
		if p.Template() {
			if f := p.Path(t); len(f) > len(file) {
				file = f
			}
		} else if r := p.RotatedName(t); len(r) > len(rotated) {
			rotated = r
		}
	}
	if p.Template() {
		rotated = file
	}
	return file, rotated
}

// existingDir returns the nearest directory above path that exists (to
// ask its file system for limits). A file where a directory should be is
// not refused: like a full disk, it can be put right while rotlog waits.
func existingDir(path string) string {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil && fi.IsDir() || dir == "." || dir == filepath.Dir(dir) {
			return dir
		}
	}
}

// kindAt says what is at path if it is there and not a regular file: "a
// directory", "a character device", ...; "" otherwise.
func kindAt(path string) string {
	fi, err := os.Lstat(path)
	if err != nil {
		return ""
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return ""
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link; rotlog does not write through links"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	default:
		return "not a regular file"
	}
}

// usedName says which of the target's names link is, if it is one: the
// lock, a rotated (or, for a template, any period's) file or a numbered
// variant of one, or their compressed or temporary forms; "" if none.
func (c *config) usedName(link string) string {
	if name, ok := strings.CutSuffix(link, lockExt); ok {
		if spelled, ok := c.spell(name); ok {
			if !c.pat.Template() && samePath(spelled, c.pat.Path(time.Time{})) {
				return "the name of the target's lock file"
			}
			if _, ok := c.pat.Match(spelled); ok && c.pat.Template() {
				return "the name of a lock file of the target"
			}
		}
	}
	// NAME.gz, NAME.gz.tmp: a compressed file and one being made.
	name := strings.TrimSuffix(link, tempExt)
	if stem, ok := trimCodecExt(name); ok {
		name = stem
	} else {
		name = link
	}
	if spelled, ok := c.spell(name); ok {
		if _, ok := c.pat.Match(spelled); ok {
			return "a name of the target's files"
		}
	}
	return ""
}

// trimCodecExt returns name without a codec's extension, if it has one.
func trimCodecExt(name string) (string, bool) {
	for _, n := range rotator.CodecNames() {
		if stem, ok := strings.CutSuffix(name, rotator.LookupCodec(n).Ext); ok {
			return stem, true
		}
	}
	return name, false
}

// spell returns name the way the pattern spells its paths (its static
// prefix, then the rest), for pattern.Match; false if name is not below
// that prefix.
func (c *config) spell(name string) (string, bool) {
	prefix := c.pat.Prefix()
	ap, err := filepath.Abs(prefix + ".")
	if err != nil {
		return "", false
	}
	an, err := filepath.Abs(name)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(ap, an)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return prefix + rel, true
}

// Free file descriptors rotlog needs beyond those open when it starts
// (standard input, output and error, and any the Go runtime keeps), as
// measured with ulimit -n on Linux, plus a margin of two for the moments
// when several coincide. Reading standard input takes five at once: a
// duplicate of the input, the runtime's poller (two: epoll and its
// eventfd), the file being written, and the lock or the directory being
// synced during a rotation; compression's source and temporary file fit in
// the same count. A --post-rotate command takes three more (its pipe, the
// pidfd, /dev/null), exec mode four more (the command's two pipes, and a
// pipe and pidfd while it starts).
const (
	fdsBase       = 5 + 2
	fdsPostRotate = 3
	fdsExec       = 4
)

// checkDescriptors makes sure the descriptors rotlog will need can be
// opened (ulimit -n), by opening them and closing them again. Run out of
// them, rotlog would retry a write forever, or the Go runtime would abort.
// It must run before anything starts a timer (the runtime's poller takes
// two descriptors then, and aborts the process if it cannot).
func (c *config) checkDescriptors(exec bool) error {
	need := fdsBase
	if c.keep.PostRotate != "" {
		need += fdsPostRotate
	}
	if exec {
		need += fdsExec
	}
	got := probeDescriptors(need)
	if got >= need {
		return nil
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil {
		return fmt.Errorf("too few file descriptors: the limit (ulimit -n) is %d; rotlog needs at least %d here (%d more); raise it", rl.Cur, uint64(rl.Cur)+uint64(need-got), need-got)
	}
	return fmt.Errorf("too few file descriptors (ulimit -n): rotlog needs %d more", need-got)
}

// probeDescriptors opens up to n descriptors (duplicates of one on
// /dev/null), closes them, and returns how many it could open.
func probeDescriptors(n int) int {
	fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	fds := []int{fd}
	for len(fds) < n {
		d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			break
		}
		fds = append(fds, d)
	}
	for _, d := range fds {
		unix.Close(d)
	}
	return len(fds)
}
