package rotator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/pattern"
)

// Housekeeping says what happens to rotated files: a template's files of
// ended periods and its numbered variants, or an active file's renamed ones.
type Housekeeping struct {
	BackupCount int           // keep at most this many rotated files; 0 keeps all
	MaxAge      time.Duration // remove rotated files whose period ended longer ago; 0 keeps all
	Codec       *Codec        // compress rotated files; nil for none
	PostRotate  string        // shell command run with a finished file's path appended; "" for none
	HookTimeout time.Duration // a hook running longer is killed
}

// Keeper does the housekeeping of one target. Every pipeline of a target
// may run one: a file is compressed, hooked or removed only by the process
// that holds its exclusive flock, which no writer's shared flock allows,
// and after checking the name still refers to that file, so each action
// happens once however many keepers run. A Keeper is used by one goroutine.
type Keeper struct {
	pat      *pattern.Pattern
	hk       Housekeeping
	logf     func(string, ...any)
	verbosef func(string, ...any)
}

// NewKeeper returns the Keeper of a target; logf and verbosef receive
// reports as for a Rotator and may be nil.
func NewKeeper(pat *pattern.Pattern, hk Housekeeping, logf, verbosef func(string, ...any)) *Keeper {
	nop := func(string, ...any) {}
	if logf == nil {
		logf = nop
	}
	if verbosef == nil {
		verbosef = nop
	}
	return &Keeper{pat: pat, hk: hk, logf: logf, verbosef: verbosef}
}

// Active reports whether there is any housekeeping to do.
func (k *Keeper) Active() bool {
	return k.hk.BackupCount > 0 || k.hk.MaxAge > 0 || k.hk.Codec != nil || k.hk.PostRotate != ""
}

// rotated is one rotated file of the target.
type rotated struct {
	path   string
	stem   string // path without the compression extension
	codec  *Codec // the file's compression, or nil
	m      pattern.Match
	mod    time.Time
	period time.Time // the start of the period its creator recorded; zero if none
}

// Pass compresses the rotated files that nobody writes any more, runs the
// post-rotate hook for each finished one, removes leftovers of interrupted
// compressions and applies retention. It reports whether something had to
// be left for a later pass because a pipeline still has the file open.
// When ctx is done it stops compressing and starts no hook.
func (k *Keeper) Pass(ctx context.Context, now time.Time) (again bool) {
	files := k.list(now)
	if k.hk.Codec != nil {
		for i, f := range files {
			if f.codec != nil || ctx.Err() != nil {
				continue
			}
			out, busy, err := k.compress(ctx, f.path)
			again = again || busy
			if err != nil {
				k.logf("error: compress %s: %v", f.path, err)
			}
			if out != "" {
				files[i].path, files[i].codec = out, k.hk.Codec
			}
		}
	}
	if k.hk.PostRotate != "" {
		for _, f := range files {
			if k.hk.Codec != nil && f.codec == nil {
				continue // still to be compressed
			}
			if ctx.Err() == nil {
				again = k.hook(ctx, f.path) || again
			}
		}
	}
	return k.retain(files, now) || again
}

// list finds the rotated files of the target, and removes the temporary
// files of compressions whose process is gone.
func (k *Keeper) list(now time.Time) []rotated {
	prefix := k.pat.Prefix()
	root := prefix
	if root == "" {
		root = "."
	}
	depth := k.pat.Depth()
	current := k.pat.Path(now)
	var out []rotated
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel != "." && strings.Count(rel, "/") >= depth {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		path := prefix + rel
		if final, ok := strings.CutSuffix(path, TempSuffix); ok {
			// A compression's: while its original exists, the compressor of
			// that original removes it (see compress); once the original is
			// gone, nobody can be compressing it.
			if orig, c := splitCodec(final); c != nil {
				if _, ok := k.pat.Match(orig); ok && !exists(orig) {
					k.cleanTemp(path)
				}
			}
			return nil
		}
		stem, codec := splitCodec(path)
		m, ok := k.pat.Match(stem)
		if !ok || path == current {
			return nil
		}
		if k.pat.Template() && m.Seq == 0 && !m.Time.IsZero() && !m.Time.Before(k.pat.Start(now)) {
			return nil // the current period's, or a later one's
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		out = append(out, rotated{path: path, stem: stem, codec: codec, m: m, mod: fi.ModTime(), period: k.recorded(path)})
		return nil
	})
	return out
}

// recorded returns the start of the period the file at path holds, as its
// creator recorded it (see Rotator.record; compress carries it over), or
// the zero Time.
func (k *Keeper) recorded(path string) time.Time {
	t, ok := decodeStart(getAttr(path, startAttr))
	if !ok || t.IsZero() {
		return time.Time{}
	}
	// Normalised, in case the creator cut periods differently.
	if s := k.pat.Start(t); !s.IsZero() {
		return s
	}
	return t
}

// lockFile opens path and takes its exclusive flock without waiting. busy
// reports that another process has the file open for writing or is working
// on it. The file is nil if path no longer names what was opened.
func lockFile(path string) (f *os.File, busy bool, err error) {
	f, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return nil, false, err
	}
	if err := flockFile(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	a, err1 := f.Stat()
	b, err2 := os.Lstat(path)
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		f.Close()
		return nil, false, nil
	}
	return f, false, nil
}

// cleanTemp removes a compression's temporary file if no process holds it.
func (k *Keeper) cleanTemp(path string) {
	f, _, _ := lockFile(path)
	if f == nil {
		return
	}
	defer f.Close()
	if os.Remove(path) == nil {
		k.verbosef("removed %s, left by an interrupted compression", path)
	}
}

// compress turns path into path.gz (or .zst) and removes path, unless a
// pipeline still writes it (busy). It returns the compressed file's name.
//
// The data goes to path.gz.tmp, created with O_EXCL and flocked, fsynced,
// then renamed without replacing anything; only then is path removed. A
// compression killed at any point leaves path intact and at most the
// temporary file, which a later pass removes.
func (k *Keeper) compress(ctx context.Context, path string) (out string, busy bool, err error) {
	in, busy, err := lockFile(path)
	if in == nil {
		return "", busy, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return "", false, err
	}
	final := path + k.hk.Codec.Ext
	if _, err := os.Lstat(final); err == nil {
		if string(getAttr(final, sourceAttr)) == identity(fi) {
			// A compression of this very file finished but was killed
			// before removing it.
			return final, false, os.Remove(path)
		}
		// Another file's: path was made again with a name already used
		// (a name that repeats, a clock stepped back). Move it aside.
		name, err := rotateTo(path, path, 1)
		if err != nil {
			return "", false, err
		}
		k.verbosef("renamed %s to %s: %s exists", path, name, final)
		in.Close() // its flock would keep the compression of name off
		return k.compress(ctx, name)
	}
	tmp := final + TempSuffix
	os.Remove(tmp) // a leftover: no compression of path runs but ours
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, fi.Mode().Perm())
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	if err := flockFile(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		os.Remove(tmp)
		return "", false, &os.PathError{Op: "flock", Path: tmp, Err: err}
	}
	if err := encode(f, ctxReader{ctx, in}, k.hk.Codec); err != nil {
		os.Remove(tmp)
		return "", false, err
	}
	for _, a := range []string{hookAttr, startAttr} {
		if v := getAttr(path, a); v != nil {
			setAttr(f, a, v)
		}
	}
	setAttr(f, sourceAttr, []byte(identity(fi)))
	os.Chtimes(tmp, fi.ModTime(), fi.ModTime())
	if err := renameNoReplace(tmp, final); err != nil {
		os.Remove(tmp)
		return "", false, err
	}
	syncDir(filepath.Dir(final))
	k.verbosef("compressed %s to %s", path, final)
	return final, false, os.Remove(path)
}

// encode compresses in into f, at low CPU priority, and syncs f.
func encode(f *os.File, in io.Reader, codec *Codec) error {
	errc := make(chan error, 1)
	go func() {
		// A thread of its own at nice 10, so that writing logs comes
		// first; the thread ends with this goroutine.
		runtime.LockOSThread()
		lowerPriority()
		errc <- encodeNow(f, in, codec)
	}()
	return <-errc
}

func encodeNow(f *os.File, in io.Reader, codec *Codec) error {
	w := bufio.NewWriterSize(f, 256<<10)
	enc, err := codec.newWriter(w)
	if err != nil {
		return err
	}
	if _, err := io.Copy(enc, in); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

// identity names a file's inode, size and last modification, to know it
// again: an inode number alone is reused once the file is removed.
func identity(fi fs.FileInfo) string {
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d:%d:%d", st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano())
}

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// hook runs the post-rotate command for a finished file whose mark says
// it is pending, marking it done first, so that it runs at most once.
//
// When ctx is done first (a stop), the command is killed and the mark set
// back to pending, so that a later pass of any pipeline runs it again.
func (k *Keeper) hook(ctx context.Context, path string) (busy bool) {
	if string(getAttr(path, hookAttr)) != hookPending {
		return false
	}
	f, busy, _ := lockFile(path)
	if f == nil {
		return busy
	}
	if string(getAttr(path, hookAttr)) != hookPending {
		f.Close()
		return false
	}
	setAttr(f, hookAttr, []byte(hookDone))
	f.Close()
	stop := ctx
	ctx, cancel := context.WithTimeout(ctx, k.hk.HookTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", k.hk.PostRotate+` "$1"`, "rotlog-post-rotate", path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	switch {
	case stop.Err() != nil:
		if f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0); err == nil {
			setAttr(f, hookAttr, []byte(hookPending))
			f.Close()
		}
		k.logf("post-rotate command for %s was cut short by the stop; it runs again at a later pass", path)
	case ctx.Err() != nil:
		k.logf("error: post-rotate command for %s was killed after %s", path, k.hk.HookTimeout)
	case err != nil:
		k.logf("error: post-rotate command for %s: %v: %s", path, err, strings.TrimSpace(out.String()))
	default:
		k.verbosef("post-rotate command for %s done", path)
	}
	return false
}

// retain removes the rotated files beyond BackupCount, newest kept, and
// those whose period ended more than MaxAge before now (see made).
func (k *Keeper) retain(files []rotated, now time.Time) (again bool) {
	if k.hk.BackupCount <= 0 && k.hk.MaxAge <= 0 {
		return false
	}
	stems := map[string][]rotated{}
	var order []rotated
	for _, f := range files {
		if _, ok := stems[f.stem]; !ok {
			order = append(order, f)
		}
		stems[f.stem] = append(stems[f.stem], f)
	}
	sort.SliceStable(order, func(i, j int) bool { return k.newer(order[i], order[j]) })
	for i, f := range order {
		old := k.hk.BackupCount > 0 && i >= k.hk.BackupCount
		if k.hk.MaxAge > 0 {
			old = old || now.Sub(k.ended(f)) > k.hk.MaxAge
		}
		if !old {
			continue
		}
		for _, g := range stems[f.stem] {
			if k.hk.PostRotate != "" && string(getAttr(g.path, hookAttr)) == hookPending {
				again = true // its hook comes first
				continue
			}
			fl, busy, _ := lockFile(g.path)
			again = again || busy
			if fl == nil {
				continue
			}
			if os.Remove(g.path) == nil {
				k.verbosef("removed %s", g.path)
			}
			fl.Close()
		}
	}
	return again
}

// made returns when a rotated file was made, for ordering: the start of the
// period its creator recorded; else, for a file rotlog did not create or a
// filesystem without user xattrs, the time in its name; else the start of
// the period of its last write. Names alone cannot order files whose
// suffix does not carry the full time (%H, %a): app.log.10.1 may be a day
// older than app.log.11.
func (k *Keeper) made(f rotated) time.Time {
	switch {
	case !f.period.IsZero():
		return f.period
	case !f.m.Time.IsZero():
		return f.m.Time
	}
	if s := k.pat.Start(f.mod); !s.IsZero() {
		return s
	}
	return f.mod
}

// ended returns when a rotated file's period ended, for --max-age: the end
// of its recorded period, else of the period in its name (a Never
// schedule's names carry the moment of rotation), else its last write.
func (k *Keeper) ended(f rotated) time.Time {
	start := f.period
	if start.IsZero() {
		start = f.m.Time
	}
	if start.IsZero() {
		return f.mod
	}
	end := k.pat.Next(start)
	if end.Equal(pattern.EndOfTime) {
		return start
	}
	return end
}

// newer orders rotated files newest first: by when they were made (see
// made), then the numbered variant, then the last modification.
func (k *Keeper) newer(a, b rotated) bool {
	if ma, mb := k.made(a), k.made(b); !ma.Equal(mb) {
		return ma.After(mb)
	}
	if a.m.Seq != b.m.Seq {
		return a.m.Seq > b.m.Seq
	}
	return a.mod.After(b.mod)
}
