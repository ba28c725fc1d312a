package rotator

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
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
	Level       int           // Codec's level, from its MinLevel to MaxLevel; 0 for its default
	// FinishDelay holds back compression, the manifest line and the hook
	// until a file's period ended this long ago.
	FinishDelay time.Duration
	PostRotate  string        // shell command run with a finished file's path appended; "" for none
	HookTimeout time.Duration // a hook running longer is killed
	Manifest    bool          // append a line describing each finished file to ManifestPath
	Budget      Budget        // bounds on the disk space rotated files take (see budget.go)
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
	backlog  int   // files the last Pass left for a later one
	meta     *meta // where the records of files are kept
	actions  struct {
		compressed, hookRuns, hookFailures, manifest, removed atomic.Int64
	}
}

// Actions counts what a Keeper did since it was made.
type Actions struct {
	Compressed   int64 // files compressed
	HookRuns     int64 // post-rotate commands run, whatever their outcome
	HookFailures int64 // of those, the ones that failed
	Manifest     int64 // manifest lines written
	Removed      int64 // rotated files removed (retention or the budget)
}

// Actions returns what the Keeper did so far; safe to call while it works.
func (k *Keeper) Actions() Actions {
	a := &k.actions
	return Actions{a.compressed.Load(), a.hookRuns.Load(), a.hookFailures.Load(), a.manifest.Load(), a.removed.Load()}
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
	return &Keeper{pat: pat, hk: hk, logf: logf, verbosef: verbosef, meta: newMeta(logf, verbosef)}
}

// Active reports whether there is any housekeeping to do.
func (k *Keeper) Active() bool {
	return k.hk.BackupCount > 0 || k.hk.MaxAge > 0 || k.hk.Codec != nil || k.hk.PostRotate != "" || k.hk.Manifest ||
		k.hk.Budget.Active()
}

// rotated is one rotated file of the target.
type rotated struct {
	path   string
	stem   string // path without the compression extension
	codec  *Codec // the file's compression, or nil
	m      pattern.Match
	mod    time.Time
	period time.Time // the start of the period its creator recorded; zero if none
	disk   int64     // the space it takes on disk (see onDisk)
}

// Pass finishes the rotated files that nobody writes any more and whose
// period ended FinishDelay ago: compresses each, appends its manifest line,
// then runs its post-rotate hook (again, with backoff, until it succeeds).
// It removes leftovers of interrupted compressions and applies retention.
// It reports whether something is to be done again soon: a file still open
// in some pipeline, or a delay or a retry that ends within passEvery.
// When ctx is done it stops compressing and starts no hook.
func (k *Keeper) Pass(ctx context.Context, now time.Time) (again bool) {
	files := k.list(now)
	left := map[string]bool{} // stems of files with work left for a later pass
	defer func() { k.backlog = len(left) }()
	soon := func(t time.Time) {
		again = again || t.Sub(now) < passEvery
	}
	for i, f := range files {
		if ctx.Err() != nil {
			break
		}
		if k.hk.FinishDelay > 0 {
			if due := k.ended(f).Add(k.hk.FinishDelay); now.Before(due) {
				soon(due)
				left[f.stem] = true
				continue
			}
		}
		if k.hk.Codec != nil && f.codec == nil {
			out, busy, err := k.compress(ctx, f.path)
			again = again || busy
			if busy || err != nil {
				left[f.stem] = true
			}
			if err != nil {
				k.logf("error: compress %s: %v", f.path, err)
			}
			if out == "" {
				continue
			}
			files[i].path, files[i].codec = out, k.hk.Codec
			f = files[i]
		}
		if k.hk.Manifest {
			done, busy := k.manifest(ctx, f)
			again = again || busy
			if !done {
				left[f.stem] = true
				continue
			}
		}
		if k.hk.PostRotate != "" && ctx.Err() == nil {
			busy, due := k.hook(ctx, now, f.path)
			again = again || busy
			if !due.IsZero() {
				soon(due)
			}
			if busy || !due.IsZero() {
				left[f.stem] = true
			}
		}
	}
	again = k.retain(files, now, left) || again
	return k.budget(ctx, now, left, files) || again
}

// Backlog is how many rotated files the last Pass left with work to do
// (compression, manifest line, hook, removal) for a later pass: still
// written or being finished elsewhere, not yet due, or failed to retry.
func (k *Keeper) Backlog() int { return k.backlog }

// passEvery is about how often the caller passes when not asked to pass
// again soon.
const passEvery = 30 * time.Second

// list finds the rotated files of the target, and removes the temporary
// files of compressions whose process is gone.
func (k *Keeper) list(now time.Time) []rotated {
	prefix, depth := k.pat.RotatedDir()
	root := prefix
	if root == "" {
		root = "."
	}
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
		if file, tmp, ok := sidecarFile(path); ok && !k.ours(path, current) {
			if k.ours(file, current) {
				k.meta.sweep(path, file, tmp)
			}
			return nil
		}
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
		out = append(out, rotated{path: path, stem: stem, codec: codec, m: m, mod: fi.ModTime(), period: k.recorded(path), disk: onDisk(fi)})
		return nil
	})
	return out
}

// ours reports whether path is a name of the target (the active file, a
// rotated file, compressed or being compressed), whose sidecar
// housekeeping sweeps.
func (k *Keeper) ours(path, current string) bool {
	stem, _ := splitCodec(strings.TrimSuffix(path, TempSuffix))
	_, ok := k.pat.Match(stem)
	return ok || path == current || !k.pat.Template() && path == k.pat.Path(time.Time{})
}

// recorded returns the start of the period the file at path holds, as its
// creator recorded it (see Rotator.record; compress carries it over), or
// the zero Time.
func (k *Keeper) recorded(path string) time.Time {
	t, ok := decodeStart(k.meta.get(path, startAttr))
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
		if string(k.meta.get(final, sourceAttr)) == identity(fi) {
			// A compression of this very file finished but was killed
			// before removing it.
			return final, false, k.remove(in, path)
		}
		// Another file's: path was made again with a name already used
		// (a name that repeats, a clock stepped back). Move it aside.
		name, err := k.meta.rotateTo(path, path, 1)
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
	content, err := encode(f, ctxReader{ctx, in}, k.hk.Codec, k.hk.Level)
	if err != nil {
		os.Remove(tmp)
		return "", false, err
	}
	// Recorded before the rename: the compressed file has its records
	// (the source's identity among them) from the moment it has its name.
	var rec []attr
	for _, a := range []string{hookAttr, startAttr, manifestAttr} {
		if v := k.meta.get(path, a); v != nil {
			rec = append(rec, attr{a, v})
		}
	}
	rec = append(rec, attr{contentAttr, []byte(content.String())}, attr{sourceAttr, []byte(identity(fi))})
	k.meta.setAll(f, final, rec)
	os.Chtimes(tmp, fi.ModTime(), fi.ModTime())
	if err := renameNoReplace(tmp, final); err != nil {
		os.Remove(tmp)
		return "", false, err
	}
	syncDir(filepath.Dir(final))
	k.actions.compressed.Add(1)
	k.verbosef("compressed %s to %s", path, final)
	return final, false, k.remove(in, path)
}

// remove removes path, open as f, and then its sidecar.
func (k *Keeper) remove(f *os.File, path string) error {
	id, idErr := fileIDOf(f)
	if err := os.Remove(path); err != nil {
		return err
	}
	if idErr == nil {
		k.meta.drop(path, id)
	}
	return nil
}

// encode compresses in into f at level, at low CPU priority, and syncs f.
// It returns what in held.
func encode(f *os.File, in io.Reader, codec *Codec, level int) (counter, error) {
	type result struct {
		c   counter
		err error
	}
	done := make(chan result, 1)
	go func() {
		// A thread of its own at nice 10, so that writing logs comes
		// first; the thread ends with this goroutine.
		runtime.LockOSThread()
		lowerPriority()
		c, err := encodeNow(f, in, codec, level)
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

func encodeNow(f *os.File, in io.Reader, codec *Codec, level int) (counter, error) {
	var c counter
	w := bufio.NewWriterSize(f, 256<<10)
	enc, err := codec.newWriter(w, level)
	if err != nil {
		return c, err
	}
	if _, err := io.Copy(io.MultiWriter(enc, &c), in); err != nil {
		return c, err
	}
	if err := enc.Close(); err != nil {
		return c, err
	}
	if err := w.Flush(); err != nil {
		return c, err
	}
	return c, f.Sync()
}

// counter counts the bytes and lines written to it.
type counter struct{ bytes, lines int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// String is the counts as contentAttr keeps them.
func (c counter) String() string { return fmt.Sprintf("%d %d", c.bytes, c.lines) }

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

// hookState is where a file's post-rotate command is, as hookAttr keeps it.
type hookState struct {
	kind     string    // "" (no command for this file), pending, running, failed or done
	failures int       // how often it failed
	pid      int       // running: the process running it
	at       time.Time // failed: not to be tried before; running: since
}

func parseHook(b []byte) hookState {
	f := strings.Split(string(b), ":")
	num := func(i int) int64 {
		if i >= len(f) {
			return 0
		}
		n, _ := strconv.ParseInt(f[i], 10, 64)
		return n
	}
	st := hookState{kind: f[0]}
	switch st.kind {
	case hookFailed:
		st.failures, st.at = int(num(1)), time.Unix(num(2), 0)
	case hookRunning:
		st.failures, st.pid, st.at = int(num(1)), int(num(2)), time.Unix(num(3), 0)
	case hookPending, hookDone:
	default:
		st.kind = ""
	}
	return st
}

func (st hookState) String() string {
	switch st.kind {
	case hookFailed:
		return fmt.Sprintf("%s:%d:%d", hookFailed, st.failures, st.at.Unix())
	case hookRunning:
		return fmt.Sprintf("%s:%d:%d:%d", hookRunning, st.failures, st.pid, st.at.Unix())
	}
	return st.kind
}

// owed reports whether a command is still owed to the file.
func (st hookState) owed() bool { return st.kind != "" && st.kind != hookDone }

// handedOff reports whether the file at path was handed on: its manifest
// line written, or its post-rotate command started. Late lines must not
// go to it any more.
func (m *meta) handedOff(path string) bool {
	if string(m.get(path, manifestAttr)) == hookDone {
		return true
	}
	k := parseHook(m.get(path, hookAttr)).kind
	return k != "" && k != hookPending
}

// retryAfter is how long after its nth failure a post-rotate command is
// tried again: 1s, 2s, 4s... up to maxRetryAfter.
func retryAfter(n int) time.Duration {
	if n > 10 {
		return maxRetryAfter
	}
	return min(time.Second<<max(n-1, 0), maxRetryAfter)
}

const maxRetryAfter = 10 * time.Minute

// hook runs the post-rotate command for a finished file that is owed one,
// holding the file's exclusive flock while it runs, so that one process
// at a time runs it. The file is marked running first (with the failures
// so far), then done when the command succeeded, or failed with the time
// of the next try (see retryAfter). A running mark found under the flock
// was left by a process that died while its command ran: that counts as a
// failure, and the command runs again. So the command runs at least once
// to success, and may run more than once: it must be idempotent. busy
// reports that another process holds the file; due, when the next try
// of a failed command is.
//
// When ctx is done first (a stop), the command is killed and the file
// marked to be tried again at once, by a later pass of any pipeline.
func (k *Keeper) hook(ctx context.Context, now time.Time, path string) (busy bool, due time.Time) {
	st := parseHook(k.meta.get(path, hookAttr))
	if !st.owed() {
		return false, time.Time{}
	}
	if st.kind == hookFailed && now.Before(st.at) {
		return false, st.at
	}
	f, busy, _ := lockFile(path)
	if f == nil {
		return busy, time.Time{}
	}
	defer f.Close()
	st = parseHook(k.meta.get(path, hookAttr))
	switch {
	case !st.owed():
		return false, time.Time{}
	case st.kind == hookFailed && now.Before(st.at):
		return false, st.at
	case st.kind == hookRunning:
		// Its runner held this flock until it died.
		st.failures++
		k.logf("error: post-rotate command for %s did not finish (try %d): process %d ended while it ran; running it again", path, st.failures, st.pid)
	}
	before := st
	if before.kind == hookRunning {
		before = hookState{kind: hookFailed, failures: st.failures, at: now}
	}
	k.meta.set(f, path, hookAttr, []byte(hookState{kind: hookRunning, failures: st.failures, pid: os.Getpid(), at: now}.String()))
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
	k.actions.hookRuns.Add(1)
	if err == nil && ctx.Err() == nil {
		k.meta.set(f, path, hookAttr, []byte(hookDone))
		k.verbosef("post-rotate command for %s done", path)
		return false, time.Time{}
	}
	if stop.Err() != nil {
		if before.kind == hookFailed {
			before.at = now
		}
		k.meta.set(f, path, hookAttr, []byte(before.String()))
		k.logf("post-rotate command for %s was cut short by the stop; it runs again at a later pass", path)
		return false, time.Time{}
	}
	k.actions.hookFailures.Add(1)
	st.failures++
	next := now.Add(retryAfter(st.failures))
	k.meta.set(f, path, hookAttr, []byte(hookState{kind: hookFailed, failures: st.failures, at: next}.String()))
	why := err.Error()
	if o := strings.TrimSpace(out.String()); o != "" {
		why += ": " + o
	}
	if ctx.Err() != nil {
		why = fmt.Sprintf("killed after %s", k.hk.HookTimeout)
	}
	k.logf("error: post-rotate command for %s failed (try %d): %s; trying again in %s", path, st.failures, why, retryAfter(st.failures))
	return false, next
}

// Unfinished lists the rotated files whose post-rotate command has not
// succeeded yet, each with where it is ("pending", "failed 3 times",
// "running"), for a report.
func (k *Keeper) Unfinished(now time.Time) []string {
	if k.hk.PostRotate == "" {
		return nil
	}
	var out []string
	for _, f := range k.list(now) {
		switch st := parseHook(k.meta.get(f.path, hookAttr)); st.kind {
		case hookPending:
			out = append(out, f.path+" (not run yet)")
		case hookFailed:
			times := "times"
			if st.failures == 1 {
				times = "time"
			}
			out = append(out, fmt.Sprintf("%s (failed %d %s)", f.path, st.failures, times))
		case hookRunning:
			out = append(out, f.path+" (running)")
		}
	}
	return out
}

// manifest appends the manifest line of a finished file whose mark says
// it is pending, then marks it done, under the file's exclusive flock, so
// that one process writes it; ok reports that the line is written (or
// none is owed), busy that another process holds the file. A process
// killed between the write and the mark leaves the line to be written
// again.
func (k *Keeper) manifest(ctx context.Context, r rotated) (ok, busy bool) {
	if string(k.meta.get(r.path, manifestAttr)) != hookPending {
		return true, false
	}
	f, busy, err := lockFile(r.path)
	if f == nil {
		if err != nil {
			k.logf("error: manifest line for %s: %v", r.path, err)
		}
		return false, busy
	}
	defer f.Close()
	if string(k.meta.get(r.path, manifestAttr)) != hookPending {
		return true, false
	}
	line, err := k.describe(ctx, f, r)
	if err == nil {
		err = appendLine(ManifestPath(k.pat), line)
	}
	if err != nil {
		k.logf("error: manifest line for %s: %v", r.path, err)
		return false, false
	}
	k.meta.set(f, r.path, manifestAttr, []byte(hookDone))
	k.actions.manifest.Add(1)
	k.verbosef("manifest line for %s written", r.path)
	return true, false
}

// A manifestLine describes a finished file.
type manifestLine struct {
	Name            string `json:"name"`            // its path, as rotlog names it
	Start           string `json:"start,omitempty"` // the start of its period, RFC 3339 (none for a Never schedule)
	End             string `json:"end,omitempty"`   // the end of its period (for a Never schedule, its rotation)
	Bytes           int64  `json:"bytes"`           // what it holds, uncompressed
	Lines           int64  `json:"lines"`
	SHA256          string `json:"sha256"`           // of the file as it is on disk
	CompressedBytes int64  `json:"compressed_bytes"` // its size on disk
	Codec           string `json:"codec"`            // "none" when not compressed
}

// describe reads the finished file f (r) and returns its manifest line.
func (k *Keeper) describe(ctx context.Context, f *os.File, r rotated) ([]byte, error) {
	h := sha256.New()
	var c counter
	var w io.Writer = h
	if r.codec == nil {
		w = io.MultiWriter(h, &c)
	}
	n, err := io.Copy(w, ctxReader{ctx, f})
	if err != nil {
		return nil, err
	}
	m := manifestLine{Name: r.path, SHA256: hex.EncodeToString(h.Sum(nil)), CompressedBytes: n, Codec: "none"}
	if r.codec != nil {
		m.Codec = r.codec.Name
		if _, err := fmt.Sscanf(string(k.meta.get(r.path, contentAttr)), "%d %d", &c.bytes, &c.lines); err != nil {
			// Count what it holds.
			if c, err = decodeCount(ctx, f, r.codec); err != nil {
				return nil, err
			}
		}
	}
	m.Bytes, m.Lines = c.bytes, c.lines
	start, end := k.period(r)
	if !start.IsZero() {
		m.Start = start.In(k.pat.Location).Format(time.RFC3339)
	}
	if !end.IsZero() {
		m.End = end.In(k.pat.Location).Format(time.RFC3339)
	}
	line, err := json.Marshal(m)
	return append(line, '\n'), err
}

// decodeCount counts what the compressed file f holds.
func decodeCount(ctx context.Context, f *os.File, codec *Codec) (counter, error) {
	var c counter
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return c, err
	}
	d, err := codec.newReader(ctxReader{ctx, f})
	if err != nil {
		return c, err
	}
	defer d.Close()
	_, err = io.Copy(&c, d)
	return c, err
}

// period returns the start and end of the period a rotated file holds;
// for a Never schedule, no start, and the moment of rotation as the end.
func (k *Keeper) period(r rotated) (start, end time.Time) {
	start = r.period
	if start.IsZero() {
		start = r.m.Time
	}
	if start.IsZero() {
		return time.Time{}, time.Time{}
	}
	if k.pat.Unit == pattern.Never {
		return time.Time{}, start
	}
	return start, k.pat.Next(start)
}

// appendLine appends line to the file at path, creating it, with one
// write(2) to a descriptor opened O_APPEND, so that lines that processes
// append at once never mix; then syncs it.
func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// retain removes the rotated files beyond BackupCount, newest kept, and
// those whose period ended more than MaxAge before now (see made). It adds
// to left the stems of files it could not remove yet.
func (k *Keeper) retain(files []rotated, now time.Time, left map[string]bool) (again bool) {
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
		if !k.expired(i, f, now) {
			continue
		}
		for _, g := range stems[f.stem] {
			if k.hk.PostRotate != "" && parseHook(k.meta.get(g.path, hookAttr)).owed() ||
				k.hk.Manifest && string(k.meta.get(g.path, manifestAttr)) == hookPending {
				// Its hook, or its manifest line, comes first; a failed
				// hook's next try may be a while away.
				continue
			}
			fl, busy, _ := lockFile(g.path)
			again = again || busy
			if busy {
				left[g.stem] = true
			}
			if fl == nil {
				continue
			}
			if k.remove(fl, g.path) == nil {
				k.actions.removed.Add(1)
				k.verbosef("removed %s", g.path)
			}
			fl.Close()
		}
	}
	return again
}

// expired reports whether retention removes f, the ith newest of the
// target's rotated files (counting a file and its compressed copy once).
func (k *Keeper) expired(i int, f rotated, now time.Time) bool {
	old := k.hk.BackupCount > 0 && i >= k.hk.BackupCount
	if k.hk.MaxAge > 0 {
		old = old || now.Sub(k.ended(f)) > k.hk.MaxAge
	}
	return old
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
