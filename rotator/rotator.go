package rotator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/pattern"
)

// Config describes one target and how to write it.
type Config struct {
	Pattern      *pattern.Pattern
	Mode         fs.FileMode   // permission bits of created files, before umask
	Fsync        bool          // fsync after every write
	LockTimeout  time.Duration // a lock older than this whose owner is gone is broken
	MaxSize      int64         // also rotate before a write would take a file past this; 0 for no limit
	Symlink      string        // keep this symbolic link pointing at the file being written; "" for none
	MarkHook     bool          // mark created files for the post-rotate hook (see Keeper)
	MarkManifest bool          // mark created files for a manifest line (see Keeper)
	DirMode      fs.FileMode   // permission bits of created directories, before umask; 0 for 0755

	// Logf, if set, receives warnings (a broken stale lock, a long wait).
	Logf func(format string, args ...any)
	// Verbosef, if set, receives a line for every file opened or rotated.
	Verbosef func(format string, args ...any)
	// LockWait, if set, is called after each wait for a lock (another
	// process held it) with the time waited, whether the lock was then
	// taken or not (see Lock.Waited).
	LockWait func(d time.Duration)
	// Locked, if set, is called while the target's lock is held. For tests.
	Locked func()
	// Now, if set, is the caller's clock (the one whose times it passes):
	// it tells a line written late from one read after the clock stepped
	// back (see lateFile).
	Now func() time.Time
	// Unlocked, if set, is called at each step of an open without the lock
	// (see openCurrent): "opened", "period" and "name", after the step of
	// that name succeeded. For tests, to rotate the file in between.
	Unlocked func(step string)
}

// Rotator writes one target. The zero value is not usable; call New.
type Rotator struct {
	cfg  Config
	pat  *pattern.Pattern
	meta *meta // where the records of files are kept

	f    *os.File  // the file of the current period, nil if none is open
	name string    // the path f was opened as
	end  time.Time // first instant after f's period
	tick time.Time // when Tick next has work to do
	size int64     // f's size when last looked at
	fd   int       // f's descriptor
	st   unix.Stat_t

	warned  map[string]bool // linked directories reported
	renamed bool            // a rename under the lock awaits a directory sync
	events  Events          // what happened since the last Tick
	recent  [2]time.Time    // starts of the last periods this Rotator opened a file for
	tail    bool            // f holds part of a batch whose rest must follow first
	failed  time.Time       // when writes began to fail; zero when the last one worked
}

// Events says what a Rotator did, or saw happen, since the previous Tick.
type Events struct {
	Boundary  bool // a period ended: its file is finished once every pipeline lets go
	Rotations int  // files this Rotator renamed (by Write, Rotate or Tick)
}

// Pending returns the Events since the previous Tick, which the next Tick
// returns: a caller can tell that a Write rotated.
func (r *Rotator) Pending() Events { return r.events }

// New returns a Rotator for cfg. It opens nothing until the first Write.
func New(cfg Config) *Rotator {
	if cfg.Mode == 0 {
		cfg.Mode = 0o644
	}
	if cfg.DirMode == 0 {
		cfg.DirMode = 0o755
	}
	return &Rotator{cfg: cfg, pat: cfg.Pattern, meta: newMeta(cfg.Logf, cfg.Verbosef)}
}

func (r *Rotator) logf(format string, args ...any) {
	if r.cfg.Logf != nil {
		r.cfg.Logf(format, args...)
	}
}

func (r *Rotator) verbosef(format string, args ...any) {
	if r.cfg.Verbosef != nil {
		r.cfg.Verbosef(format, args...)
	}
}

// Write writes p, whole lines read at now, with one write(2) to the file of
// now's period, opening (and for an active file, rotating) first if needed.
// A wait for the lock ends when ctx is done. On error it returns how many
// bytes were written; the caller retries the rest with the same now.
//
// A failed write is retried in the same file: when part of p was written,
// the rest goes to that file first, whatever the time and whatever has been
// rotated meanwhile, so that a line is never split; a full disk
// (ENOSPC, EDQUOT, EFBIG) keeps the file too, so that retries make no new
// files. After a failure, and until a write succeeds, a Write waits (up to
// LockTimeout) for a file that does not end at a line end: another
// pipeline is finishing a partly written batch there.
func (r *Rotator) Write(ctx context.Context, p []byte, now time.Time) (int, error) {
	if r.tail && r.f != nil {
		if err := unix.Fstat(r.fd, &r.st); err != nil || r.st.Nlink != 0 {
			return r.write(p)
		}
		// Removed while a batch was written in part: that part is gone
		// with the file. The rest goes to a new one.
		r.logf("error: %s was removed while a batch was written in part; its first part is lost with it", r.name)
		r.tail = false
		r.closeFile()
		return r.Write(ctx, p, now)
	}
	if r.f == nil || !now.Before(r.end) {
		if err := r.open(ctx, now); err != nil {
			return 0, err
		}
	} else if err := unix.Fstat(r.fd, &r.st); err == nil && r.st.Nlink == 0 {
		// Written to, a file with no name is lost: make a new one.
		r.logf("%s was removed while open; creating it again", r.name)
		if err := r.open(ctx, now); err != nil {
			return 0, err
		}
	} else if err == nil {
		r.size = r.st.Size // other processes' writes included
	}
	if r.cfg.MaxSize > 0 && r.size > 0 && r.size+int64(len(p)) > r.cfg.MaxSize {
		if err := r.rotateForSize(ctx, now, int64(len(p))); err != nil {
			return 0, err
		}
	}
	if !r.failed.IsZero() && time.Since(r.failed) < r.cfg.LockTimeout && !r.atLineEnd() {
		return 0, fmt.Errorf("%s: %w", r.name, errMidLine)
	}
	return r.write(p)
}

// errMidLine is a file that does not end at a line end while writes fail.
var errMidLine = errors.New("another pipeline's line is written in part; waiting for its end")

// write writes p to the open file and keeps the state of a failure.
func (r *Rotator) write(p []byte) (int, error) {
	n, err := r.f.Write(p)
	if err == nil && r.cfg.Fsync {
		err = r.f.Sync()
	}
	if err == nil {
		r.tail, r.failed = false, time.Time{}
		return n, nil
	}
	if r.failed.IsZero() {
		r.failed = time.Now()
	}
	r.tail = r.tail || n > 0
	if !r.tail && !NoSpace(err) && !errors.Is(err, unix.EFBIG) {
		r.closeFile() // the retry reopens
	}
	return n, err
}

// atLineEnd reports whether the open file is empty or ends with a newline;
// true if that cannot be told. The descriptor written to is write-only:
// the file is opened again for reading, through /proc where there is one,
// else by its name if that still refers to it.
func (r *Rotator) atLineEnd() bool {
	var st unix.Stat_t
	if unix.Fstat(r.fd, &st) != nil || st.Size == 0 {
		return true
	}
	f, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", r.fd))
	if err != nil {
		if f, err = os.OpenFile(r.name, os.O_RDONLY|syscall.O_NOFOLLOW, 0); err != nil {
			return true
		}
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !os.SameFile(fi, fileInfo(r.f)) {
		return true
	}
	var b [1]byte
	n, _ := f.ReadAt(b[:], st.Size-1) // io.EOF with n == 1 is a success
	return n != 1 || b[0] == '\n'
}

// fileInfo is f.Stat, nil on error.
func fileInfo(f *os.File) fs.FileInfo {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	return fi
}

// rotateForSize renames the file of now's period, under the lock, if it
// still holds data and need more bytes would take it past MaxSize (another
// process may have rotated it already), and opens the path again.
func (r *Rotator) rotateForSize(ctx context.Context, now time.Time, need int64) error {
	r.closeFile()
	path := r.pat.Path(now)
	var f *os.File
	err := r.locked(ctx, path+LockSuffix, func() error {
		fi, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return err
		case fi.Size() > 0 && fi.Size()+need > r.cfg.MaxSize:
			if err := r.rotateSize(path, fi, now); err != nil {
				return err
			}
		}
		var rec []attr
		if !r.pat.Template() {
			rec = r.records(r.pat.Start(now))
		}
		f, _, err = r.openAppend(path, rec)
		return err
	})
	if err != nil {
		return err
	}
	return r.adopt(f, path, now)
}

// rotateSize renames a full (or, for Rotate, any) file: an active file to its period's rotated
// name (the moment of rotation for a Never schedule), a template's file to
// its first free numbered variant.
func (r *Rotator) rotateSize(path string, fi fs.FileInfo, now time.Time) error {
	if r.pat.Template() {
		name, err := r.meta.rotateTo(path, path, 1)
		if err != nil {
			return fmt.Errorf("rotate: %w", err)
		}
		r.verbosef("rotated %s to %s", path, name)
		r.renamed = true
		r.events.Rotations++
		return nil
	}
	start := r.periodOf(path, fi)
	if start.IsZero() {
		start = now
	}
	return r.rotate(path, start)
}

// lingerFor is how long after its period ends a file is kept open.
const lingerFor = 500 * time.Millisecond

// NextTick returns when Tick next has work to do: the end of the current
// period, or the zero Time before the first Tick.
func (r *Rotator) NextTick() time.Time { return r.tick }

// Tick lets go of the file of an ended period (lingerFor after its end) and,
// for an active file, rotates it if no other process has. It also notices
// an active file that was renamed or removed by someone else, and lets go of
// it so that the next Write reopens the path. A wait for the lock ends when
// ctx is done. Call it at NextTick and about once a second. It returns what
// happened since the previous Tick, even when it fails.
func (r *Rotator) Tick(ctx context.Context, now time.Time) (Events, error) {
	err := r.tickNow(ctx, now)
	ev := r.events
	r.events = Events{}
	return ev, err
}

func (r *Rotator) tickNow(ctx context.Context, now time.Time) error {
	// A file of an ended period is kept for a grace time: a line read just
	// before the boundary, written late, still goes to it; and while a
	// write to it is being retried.
	if r.f != nil && !now.Before(r.end.Add(lingerFor)) && r.failed.IsZero() {
		r.closeFile()
	}
	if !now.Before(r.tick) {
		first := r.tick.IsZero()
		if !first {
			r.events.Boundary = true
		}
		r.tick = r.pat.Next(now)
		if r.pat.Template() {
			return nil
		}
		if first {
			// The first Tick takes the lock whatever it finds: a pipeline
			// starts once any rotation under way is done, and breaks a
			// stale lock a crashed pipeline left.
			return r.locked(ctx, r.activeLock(), func() error { return r.rotateEnded(now) })
		}
		if !r.ended(now) {
			return nil
		}
		// Of all the pipelines that find the file ended, the first to take
		// the lock renames it; the others stop waiting once it is gone.
		notEnded := func() bool { return !r.ended(now) }
		return r.lockedUnless(ctx, r.activeLock(), notEnded, func() error { return r.rotateEnded(now) })
	}
	if r.f != nil && r.failed.IsZero() && (!r.pat.Template() || r.cfg.MaxSize > 0) && !r.current() {
		r.verbosef("%s was moved away; reopening", r.name)
		r.closeFile()
	}
	return nil
}

// current reports whether the open file is still at its path.
func (r *Rotator) current() bool {
	a, err := r.f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(r.name)
	return err == nil && os.SameFile(a, b)
}

// Reopen closes the current file; the next Write opens the path again.
// A file holding part of a batch is kept until the rest is written: a line
// is never split between two files.
func (r *Rotator) Reopen() {
	if !r.tail {
		r.closeFile()
	}
}

// ErrTail is returned by Rotate while the current file holds part of a
// batch whose rest is still to be written.
var ErrTail = errors.New("the current file holds a partly written batch; not rotating it before the rest is written")

// Rotate renames the current file now, whatever its period, unless it is
// empty: an active file to its period's rotated name (or the next numbered
// variant), a template's file to its first free numbered variant.
// A wait for the lock ends when ctx is done.
func (r *Rotator) Rotate(ctx context.Context, now time.Time) error {
	if r.tail {
		return ErrTail
	}
	r.closeFile()
	path := r.pat.Path(now)
	return r.locked(ctx, path+LockSuffix, func() error {
		fi, err := lstatRegular(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Size() == 0 {
			return nil
		}
		return r.rotateSize(path, fi, now)
	})
}

// Close closes the current file. Close may be called more than once.
func (r *Rotator) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

func (r *Rotator) closeFile() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// lockAt returns the Lock at path, with this Rotator's settings.
func (r *Rotator) lockAt(path string) *Lock {
	return &Lock{Path: path, Timeout: r.cfg.LockTimeout, Logf: r.cfg.Logf, Verbosef: r.cfg.Verbosef, Waited: r.cfg.LockWait}
}

// locked runs fn holding the lock at lockPath, then makes the renames fn
// did durable. A wait for the lock ends when ctx is done.
func (r *Rotator) locked(ctx context.Context, lockPath string, fn func() error) error {
	return r.lockedUnless(ctx, lockPath, nil, fn)
}

// lockedUnless is locked, except that while it waits for the lock it asks
// done, and returns nil without running fn once done reports true.
func (r *Rotator) lockedUnless(ctx context.Context, lockPath string, done func() bool, fn func() error) error {
	l := r.lockAt(lockPath)
	unlock, err := l.acquireUnless(ctx, done)
	if errors.Is(err, fs.ErrNotExist) {
		if err = mkdirAll(filepath.Dir(lockPath), r.cfg.DirMode); err == nil {
			unlock, err = l.acquireUnless(ctx, done)
		}
	}
	if err != nil {
		return err
	}
	if unlock == nil {
		return nil // done
	}
	if r.cfg.Locked != nil {
		r.cfg.Locked()
	}
	r.renamed = false
	err = fn()
	unlock()
	if r.renamed {
		syncDir(filepath.Dir(lockPath))
	}
	return err
}

// activeLock is the lock of an active-file target.
func (r *Rotator) activeLock() string { return r.pat.Path(time.Time{}) + LockSuffix }

// open opens the file of now's period, replacing any open one.
func (r *Rotator) open(ctx context.Context, now time.Time) error {
	r.closeFile()
	start := r.pat.Start(now)
	path := r.pat.Path(now)
	var f *os.File
	var err error
	if r.pat.Template() {
		r.warnLinkedDirs(path)
		f, _, err = r.openAppend(path, nil)
	} else if f = r.openCurrent(path, start); f == nil {
		// While another pipeline holds the lock (rotating, or creating the
		// file of this period), the file it makes may be opened as above.
		current := func() bool { f = r.openCurrent(path, start); return f != nil }
		err = r.lockedUnless(ctx, r.activeLock(), current, func() error {
			if err := r.rotateEnded(now); err != nil {
				return err
			}
			// A line read before a boundary but opened after another
			// pipeline rotated: its period's file has its rotated name.
			if late, isLate, none := r.lateFile(path, start); isLate {
				why := "its period's file was handed off"
				switch {
				case late != "":
					if f, _, err = r.openExisting(late); err == nil {
						path = late
						return nil
					}
					why = fmt.Sprintf("%s cannot be written (%v)", late, err)
				case none:
					// No line was written in its period before the next
					// period's file was made: its file is made now, under
					// its rotated name.
					name := r.pat.RotatedName(start)
					if f, _, err = r.openAppend(name, r.records(start)); err == nil {
						r.verbosef("a line read before %s made %s: no line of its period was written before", r.pat.Next(start).Format(time.RFC3339), name)
						path = name
						return nil
					}
					why = fmt.Sprintf("%s cannot be made (%v)", name, err)
				}
				r.verbosef("a line read before %s goes to %s: %s", r.pat.Next(start).Format(time.RFC3339), path, why)
			}
			f, _, err = r.openAppend(path, r.records(start))
			return err
		})
	}
	if err != nil {
		return err
	}
	return r.adopt(f, path, now)
}

// openCurrent opens the active file at path, without the lock, if it holds
// the period starting at start; else, or if that cannot be told, it returns
// nil and the caller takes the lock. The file is judged by its descriptor:
//
//  1. open path O_WRONLY|O_APPEND|O_NOFOLLOW, never creating it;
//  2. take the shared flock without waiting (a housekeeper's exclusive
//     flock means the file is being handed off);
//  3. read the period recorded on the open file (fgetxattr): it must be
//     start's. A file's record is written once, by its creator, under the
//     lock right after the O_EXCL create; a file without one (just
//     created, or not by rotlog) is left to the lock;
//  4. check that path still names the open file.
//
// The package doc explains why no concurrent rotation can make this put a
// line in the wrong period's file.
func (r *Rotator) openCurrent(path string, start time.Time) *os.File {
	// O_NONBLOCK: a named pipe there must not block the open.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	r.unlocked("opened")
	if !isRegular(f) || flockFile(f, unix.LOCK_SH|unix.LOCK_NB) != nil {
		f.Close()
		return nil
	}
	t, ok := decodeStart(r.meta.getFile(f, path, startAttr))
	if !t.IsZero() {
		t = r.pat.Start(t) // normalised, as in periodOf
	}
	if !ok || !t.Equal(start) {
		f.Close()
		return nil
	}
	r.unlocked("period")
	if a, b := fileInfo(f), lstatInfo(path); a == nil || b == nil || !os.SameFile(a, b) {
		f.Close()
		return nil
	}
	r.unlocked("name")
	return f
}

func (r *Rotator) unlocked(step string) {
	if r.cfg.Unlocked != nil {
		r.cfg.Unlocked(step)
	}
}

// ended reports whether the active file for now holds a period before
// now's, and so is to be rotated; also, so that the caller looks under the
// lock and reports it, whether something else than a regular file is there.
func (r *Rotator) ended(now time.Time) bool {
	path := r.pat.Path(now)
	fi, err := lstatRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return err != nil || r.periodOf(path, fi).Before(r.pat.Start(now))
}

// lateFile reports whether a line read in the period starting at start is
// late (isLate): the active file at path holds a later period, and this
// Rotator wrote in the line's period, or the clock (Config.Now) shows the
// active file's period begun, or the period's rotated file is still open in
// some pipeline (just rotated); or there is no active file and the clock
// shows a later period. Then it returns the newest rotated file of
// that period (its name or last numbered variant), unless it was handed
// off: compressed, or its post-rotate command run; none reports that the
// period has no file under any of those names, compressed or not. Lines
// read in a period belong in its file, however late they are written. A
// line of a period no pipeline writes any more, that this Rotator never
// wrote in (the clock stepped back), is not late: a finished file is not
// written again.
func (r *Rotator) lateFile(path string, start time.Time) (name string, isLate, none bool) {
	var ours bool
	switch fi, err := os.Lstat(path); {
	case err == nil && fi.Mode().IsRegular():
		active := r.periodOf(path, fi)
		if !active.After(start) {
			return "", false, false
		}
		// The line is late, not from a clock that stepped back, if this
		// Rotator wrote in its period, or the clock now shows the active
		// file's period begun (it is not from the future).
		ours = start.Equal(r.recent[0]) || start.Equal(r.recent[1]) ||
			r.cfg.Now != nil && !r.cfg.Now().Before(active)
	case errors.Is(err, fs.ErrNotExist):
		// Rotated, and no line of a later period has made the next file
		// yet: only the clock can tell. (A rotation for size, or asked
		// for, leaves the period going on.)
		if r.cfg.Now == nil || !r.pat.Start(r.cfg.Now()).After(start) {
			return "", false, false
		}
		ours = true
	default:
		return "", false, false
	}
	base := r.pat.RotatedName(start)
	found, seen := "", false
	for i := 0; ; i++ {
		cand := base
		if i > 0 {
			cand = base + "." + strconv.Itoa(i)
		}
		if _, err := os.Lstat(cand); err != nil {
			if compressed(cand) {
				found, seen = "", true // handed off; a later variant may not be
				continue
			}
			break
		}
		found, seen = cand, true
	}
	if !ours && (found == "" || !inUse(found)) {
		return "", false, false
	}
	if found != "" && r.meta.handedOff(found) {
		found = ""
	}
	return found, true, !seen
}

// inUse reports whether some process has the file at path open for
// writing (a writer's shared flock).
func inUse(path string) bool {
	f, busy, _ := lockFile(path)
	if f != nil {
		f.Close()
	}
	return busy
}

// openExisting opens an existing file for appending, as openAppend does,
// but never creates one.
// A housekeeper working on it (its exclusive flock) makes it an error at
// once: it is being handed off, and the rotation lock is held meanwhile.
func (r *Rotator) openExisting(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, false, err
	}
	if !isRegular(f) {
		f.Close()
		return nil, false, &NotRegularError{Path: path}
	}
	if err := flockFile(f, unix.LOCK_SH|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, false, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	if a, b := fileInfo(f), lstatInfo(path); a == nil || b == nil || !os.SameFile(a, b) {
		f.Close()
		return nil, false, errMoved
	}
	if r.meta.handedOff(path) {
		// Between lateFile's look and the flock, a housekeeper finished it.
		f.Close()
		return nil, false, errMoved
	}
	return f, false, nil
}

// lstatInfo is os.Lstat, nil on error.
func lstatInfo(path string) fs.FileInfo {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	return fi
}

// warnLinkedDirs reports, once each, the directories of a template's path
// below its fixed prefix that are symbolic links: writing follows them out
// of the target's tree, which someone may have planted.
func (r *Rotator) warnLinkedDirs(path string) {
	prefix := r.pat.Prefix()
	parts := strings.Split(strings.TrimPrefix(path, prefix), "/")
	dir := prefix
	for _, p := range parts[:len(parts)-1] {
		dir += p
		if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 && !r.warned[dir] {
			dest, _ := os.Readlink(dir)
			r.logf("warning: %s is a symbolic link to %s; writing through it", dir, dest)
			if r.warned == nil {
				r.warned = map[string]bool{}
			}
			r.warned[dir] = true
		}
		dir += "/"
	}
}

// adopt makes f, opened as path, the file of now's period.
func (r *Rotator) adopt(f *os.File, path string, now time.Time) error {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.size = fi.Size()
	r.f, r.name, r.fd = f, path, int(f.Fd())
	r.end = r.pat.Next(now)
	if start := r.pat.Start(now); !start.Equal(r.recent[0]) {
		r.recent = [2]time.Time{start, r.recent[0]}
	}
	if r.cfg.Symlink != "" {
		if err := replaceSymlink(path, r.cfg.Symlink); err != nil {
			r.logf("error: symbolic link: %v", err)
		}
	}
	if r.tick.IsZero() || r.end.Before(r.tick) {
		r.tick = r.end
	}
	return nil
}

// openAppend opens path for appending, creating it and its directories if
// needed; created reports whether this call made the file, and then
// records rec on it, with the hook and manifest marks. The file is
// returned holding a shared flock, which keeps housekeeping off it.
func (r *Rotator) openAppend(path string, rec []attr) (f *os.File, created bool, err error) {
	for range 8 {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, r.cfg.Mode)
		created = err == nil
		if errors.Is(err, fs.ErrExist) {
			// O_NONBLOCK: a named pipe there must not block the open.
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
			if errors.Is(err, syscall.ENXIO) || errors.Is(err, syscall.EISDIR) || err == nil && !isRegular(f) {
				if f != nil {
					f.Close()
				}
				if _, lerr := lstatRegular(path); lerr != nil {
					err = lerr
				} else if err == nil {
					err = fmt.Errorf("%s changed while it was opened", path)
				}
				break
			}
		}
		if errors.Is(err, fs.ErrNotExist) {
			// A directory is missing, or the file was removed in between.
			if err = mkdirAll(filepath.Dir(path), r.cfg.DirMode); err != nil {
				return nil, false, err
			}
			continue
		}
		if err != nil {
			break
		}
		if err = r.share(f, path); err == errMoved {
			f.Close()
			continue
		}
		if err != nil {
			f.Close()
			return nil, false, err
		}
		// An active file without a record of its period (its creator was
		// killed before it recorded it, or rotlog did not make it) gets
		// its records now, under the lock, as if made now: its period
		// is the current one (rotateEnded, just before, judged it by its
		// last write), and its post-rotate command is owed.
		unrecorded := !created && len(rec) > 0 && r.meta.get(path, startAttr) == nil
		if unrecorded {
			r.verbosef("recording %s, which has no record of its period", path)
		}
		if created || unrecorded {
			if created {
				r.verbosef("created %s", path)
			}
			if r.cfg.MarkHook {
				rec = append(rec, attr{hookAttr, []byte(hookPending)})
			}
			if r.cfg.MarkManifest {
				rec = append(rec, attr{manifestAttr, []byte(hookPending)})
			}
			if len(rec) > 0 {
				if err := r.meta.setAll(f, path, rec); NoSpace(err) && created && !r.pat.Template() {
					// An active file must have its records from the
					// start (its period, its hook mark): without room
					// for them, it is not made yet. The lock is held, and
					// a file without a period is opened only under it.
					os.Remove(path)
					f.Close()
					return nil, false, err
				}
			}
		}
		return f, created, nil
	}
	if errors.Is(err, syscall.ELOOP) {
		err = &NotRegularError{Path: path, Mode: fs.ModeSymlink}
	}
	return nil, false, err
}

// isRegular reports whether f is a regular file.
func isRegular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

var errMoved = errors.New("file moved")

// share takes f's shared flock and checks that path still names f: a
// housekeeper may have finished with the file while we waited.
func (r *Rotator) share(f *os.File, path string) error {
	if err := flockFile(f, unix.LOCK_SH); err != nil {
		return &os.PathError{Op: "flock", Path: path, Err: err}
	}
	a, err := f.Stat()
	if err != nil {
		return err
	}
	b, err := os.Lstat(path)
	if err != nil || !os.SameFile(a, b) {
		return errMoved
	}
	return nil
}

// flockFile is flock(2) on f, retried on EINTR.
func flockFile(f *os.File, how int) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = sc.Control(func(fd uintptr) {
		for {
			if ferr = unix.Flock(int(fd), how); ferr != unix.EINTR {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return ferr
}

// rotateEnded renames the active file if it holds a period before now's.
// The lock must be held.
func (r *Rotator) rotateEnded(now time.Time) error {
	path := r.pat.Path(now)
	fi, err := lstatRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	start := r.periodOf(path, fi)
	if !start.Before(r.pat.Start(now)) {
		return nil
	}
	return r.rotate(path, start)
}

// rotate renames path to its rotated name for the period starting at start,
// creating the directories that name needs.
func (r *Rotator) rotate(path string, start time.Time) error {
	name := r.pat.RotatedName(start)
	dir := filepath.Dir(name)
	if err := mkdirAll(dir, r.cfg.DirMode); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	name, err := r.meta.rotateTo(path, name, 0)
	if err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	r.verbosef("rotated %s to %s", path, name)
	if dir != filepath.Dir(path) {
		syncDir(dir) // the lock's directory is synced by locked
	}
	r.renamed = true
	r.events.Rotations++
	return nil
}

// lstatRegular is os.Lstat for a file rotlog writes or rotates: anything
// but a regular file there (a link, a directory, a device) is a
// *NotRegularError.
func lstatRegular(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return fi, err
}

// A NotRegularError is a path rotlog would write or rotate that holds
// something else than a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	switch t := e.Mode.Type(); {
	case t&fs.ModeSymlink != 0:
		return e.Path + " is not a regular file but a symbolic link; rotlog does not write through links"
	case t&fs.ModeDir != 0:
		return e.Path + " is not a regular file but a directory"
	case t&fs.ModeNamedPipe != 0:
		return e.Path + " is not a regular file but a named pipe"
	case t&fs.ModeSocket != 0:
		return e.Path + " is not a regular file but a socket"
	case t&fs.ModeDevice != 0:
		return e.Path + " is not a regular file but a device"
	}
	return fmt.Sprintf("%s is not a regular file (%s)", e.Path, e.Mode.Type())
}

// Permanent reports whether the error cannot pass while rotlog runs: a
// directory, device, pipe or socket is there to stay; a symbolic link may
// be a tool's passing work, and is retried.
func (e *NotRegularError) Permanent() bool { return e.Mode.Type()&fs.ModeSymlink == 0 }

// periodOf returns the start of the period the file at path holds: the one
// its creator recorded, or else the period of its last write.
func (r *Rotator) periodOf(path string, fi fs.FileInfo) time.Time {
	if t, ok := decodeStart(r.meta.get(path, startAttr)); ok && !t.IsZero() {
		// Normalised, in case the creator cut periods differently.
		return r.pat.Start(t)
	}
	return r.pat.Start(fi.ModTime())
}

// records returns what is recorded on an active file when it is created:
// the period it holds and the settings it was made with.
func (r *Rotator) records(start time.Time) []attr {
	return []attr{{startAttr, encodeStart(start)}, {settingsAttr, []byte(r.pat.Settings(start))}}
}

// ErrSettings is returned by CheckSettings for a target written with other
// settings.
var ErrSettings = errors.New("conflicting settings")

// CheckSettings compares the settings recorded on an active file that
// another pipeline is writing now with this Rotator's, and returns an error
// naming each difference, which wraps ErrSettings. Pipelines that cut
// periods differently on one target would rotate each other's files at the
// wrong times. Zones are compared by what they do around the file's period
// (see pattern.Pattern.SettingsDiff), not by name. A restart with new
// settings, with no other pipeline writing, is not a conflict.
//
// The probe for writers (an exclusive flock, let go at once) is made under
// the rotation lock: without it, the file probed could be rotated in
// between, and the probe's flock make a late line's reopen of its period's
// file fail (see open). Once ctx is done, it judges without the lock.
func (r *Rotator) CheckSettings(ctx context.Context) error {
	if r.pat.Template() {
		return nil
	}
	path := r.pat.Path(time.Time{})
	if r.meta.get(path, settingsAttr) == nil {
		return nil
	}
	var conflict error
	err := r.locked(ctx, r.activeLock(), func() error {
		conflict = r.checkSettings(path)
		return nil
	})
	if errors.Is(err, ErrStopped) {
		// The lock is held for longer than ctx allows: judge without it.
		return r.checkSettings(path)
	}
	if err != nil {
		return err
	}
	return conflict
}

// checkSettings is CheckSettings with the rotation lock held.
func (r *Rotator) checkSettings(path string) error {
	theirs := r.meta.get(path, settingsAttr)
	if theirs == nil {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil
	}
	err = flockFile(f, unix.LOCK_EX|unix.LOCK_NB)
	fi, serr := f.Stat()
	f.Close()
	if err == nil {
		return nil // nobody writes it now
	}
	// The time the record is about: the file's period, else its last write.
	at, ok := decodeStart(r.meta.get(path, startAttr))
	if (!ok || at.IsZero()) && serr == nil {
		at = fi.ModTime()
	}
	diffs := r.pat.SettingsDiff(string(theirs), at)
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%s is written by pipelines with other settings (%s): %w", path, strings.Join(diffs, "; "), ErrSettings)
}

// encodeStart and decodeStart keep a period start in an extended attribute:
// Unix nanoseconds, or "-" for the zero Time (a Never schedule).
func encodeStart(t time.Time) []byte {
	if t.IsZero() {
		return []byte("-")
	}
	return fmt.Appendf(nil, "%d", t.UnixNano())
}

func decodeStart(b []byte) (time.Time, bool) {
	if len(b) == 0 {
		return time.Time{}, false
	}
	if string(b) == "-" {
		return time.Time{}, true
	}
	var ns int64
	if _, err := fmt.Sscanf(string(b), "%d", &ns); err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// mkdirAll creates dir and its parents with mode (before umask),
// tolerating another process creating them at the same time.
func mkdirAll(dir string, mode fs.FileMode) error {
	err := os.MkdirAll(dir, mode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

// syncDir makes renames in dir durable; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// NoSpace reports whether err is for want of space (ENOSPC, EDQUOT).
func NoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
