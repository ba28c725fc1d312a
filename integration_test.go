package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/pattern"
)

// These tests run real rotlog processes: the test binary itself, which
// TestMain puts on PATH as rotlog (race-enabled under go test -race).

type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncBuffer
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// rotlogCmd is the one way Go tests make a rotlog process: the program
// name (rotlog, or a variant TestMain registers, such as rotlog-holdlock)
// run in dir with GORACE=atexit_sleep_ms=10 (a race-built process would
// otherwise sleep a second at exit) and TZ=UTC, then env, which may
// override both. The caller sets stdin and stdout as it needs, and starts
// it; a process still running when the test ends is killed.
func rotlogCmd(t *testing.T, dir string, name string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := bareRotlogCmd(t, dir, name, env, args...)
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// bareRotlogCmd is rotlogCmd without the clean-up, for callers that wait
// for the process themselves (see start in stop_test.go).
func bareRotlogCmd(t *testing.T, dir string, name string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=10", "TZ=UTC")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// startRotlog starts rotlogCmd's process with its stdin a pipe and its
// stderr kept for the test to read.
func startRotlog(t *testing.T, dir string, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := rotlogCmd(t, dir, name, env, args...)
	p := &proc{cmd: cmd, stderr: new(syncBuffer)}
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// wait closes stdin and waits; it fails the test on a non-zero exit.
func (p *proc) wait(t *testing.T) {
	t.Helper()
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("rotlog %v: %v; stderr:\n%s", p.cmd.Args[1:], err, p.stderr)
	}
}

// line is the self-checking line number seq of pipeline id, sent at sent:
// its padding is derived from (id, seq), so a torn or mixed line is caught.
func line(id, seq int, sent time.Time, padLen int) string {
	pad := strings.Repeat(string(rune('a'+(id+seq)%26)), padLen)
	return fmt.Sprintf("p%d %d %d %d %s\n", id, seq, sent.UnixNano(), padLen, pad)
}

type parsedLine struct {
	id, seq int
	sent    time.Time
}

func parseLine(s string) (parsedLine, bool) {
	f := strings.SplitN(s, " ", 5)
	if len(f) != 5 || !strings.HasPrefix(f[0], "p") {
		return parsedLine{}, false
	}
	id, err1 := strconv.Atoi(f[0][1:])
	seq, err2 := strconv.Atoi(f[1])
	ns, err3 := strconv.ParseInt(f[2], 10, 64)
	n, err4 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return parsedLine{}, false
	}
	pl := parsedLine{id, seq, time.Unix(0, ns)}
	return pl, line(id, seq, pl.sent, n) == s+"\n"
}

// targetFile is one file of a target and the period it holds.
type targetFile struct {
	path       string
	start, end time.Time
	seq        int
}

// collect finds every file under dir, checks it belongs to the target, and
// orders them by period (numbered variants after their base, the active
// file last).
func collect(t *testing.T, dir string, pat *pattern.Pattern) []targetFile {
	t.Helper()
	var files []targetFile
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !d.Type().IsRegular() {
			t.Errorf("unexpected non-regular file %s", rel)
			return nil
		}
		if strings.HasSuffix(rel, ".lock") {
			t.Errorf("lock file %s left behind", rel)
			return nil
		}
		if file, ok := sidecarOf(path); ok {
			// Records of a file, where there are no extended attributes.
			if !exists(file) {
				t.Errorf("sidecar %s left behind without its file", rel)
			}
			return nil
		}
		tf := targetFile{path: path}
		if !pat.Template() && rel == pat.Path(time.Time{}) {
			tf.start = recordedStart(t, path)
			tf.seq = 1 << 30
		} else {
			stem := strings.TrimSuffix(strings.TrimSuffix(rel, ".gz"), ".zst")
			m, ok := pat.Match(stem)
			if !ok || m.Time.IsZero() {
				t.Errorf("file %s is not a file of the target", rel)
				return nil
			}
			tf.start, tf.seq = m.Time, m.Seq
		}
		tf.end = pat.Next(tf.start)
		files = append(files, tf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool {
		if !files[i].start.Equal(files[j].start) {
			return files[i].start.Before(files[j].start)
		}
		return files[i].seq < files[j].seq
	})
	return files
}

// sidecarOf returns the file whose sidecar (.NAME.rotlog) is at path.
func sidecarOf(path string) (string, bool) {
	dir, base := filepath.Split(path)
	if name, ok := strings.CutPrefix(base, "."); ok {
		if name, ok := strings.CutSuffix(name, ".rotlog"); ok {
			return dir + name, true
		}
	}
	return "", false
}

// recordAt returns the record name (user.rotlog.start, ...) of the file at
// path: its extended attribute, else its sidecar's line, whose value is a
// Go string literal (see rotator/meta.go).
func recordAt(path, name string) (string, error) {
	buf := make([]byte, 256)
	n, err := unix.Getxattr(path, name, buf)
	if err == nil {
		return string(buf[:n]), nil
	}
	sc, _ := filepath.Split(path)
	data, serr := os.ReadFile(sc + "." + filepath.Base(path) + ".rotlog")
	if serr != nil {
		return "", err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if q, ok := strings.CutPrefix(l, name+" "); ok {
			return strconv.Unquote(q)
		}
	}
	return "", err
}

// recordedStart reads the period an active file's creator recorded.
func recordedStart(t *testing.T, path string) time.Time {
	t.Helper()
	v, err := recordAt(path, "user.rotlog.start")
	if err != nil {
		t.Fatalf("%s has no recorded period: %v", path, err)
	}
	buf, n := []byte(v), len(v)
	if string(buf[:n]) == "-" {
		return time.Time{} // a file of a Never schedule
	}
	ns, err := strconv.ParseInt(string(buf[:n]), 10, 64)
	if err != nil {
		t.Fatalf("%s: recorded period %q: %v", path, buf[:n], err)
	}
	return time.Unix(0, ns)
}

// checkTarget checks guarantees 1 to 3 for self-checking lines: every line
// sent is in exactly one file, whole, each pipeline's lines in order, and
// no line in a file whose period ended before it was sent.
func checkTarget(t *testing.T, dir string, pat *pattern.Pattern, sent map[int]int) []targetFile {
	return checkTargetStamped(t, dir, pat, sent, false)
}

// checkTargetStamped is checkTarget for lines that rotlog -t prefixed with
// their arrival time: then each line's file must hold that instant exactly.
func checkTargetStamped(t *testing.T, dir string, pat *pattern.Pattern, sent map[int]int, stamped bool) []targetFile {
	t.Helper()
	files := collect(t, dir, pat)
	next := map[int]int{} // per pipeline: the seq expected next
	for _, f := range files {
		data := readMaybeCompressed(t, f.path)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Errorf("%s does not end with a newline", f.path)
		}
		for _, s := range strings.SplitAfter(string(data), "\n") {
			if s == "" {
				continue
			}
			var read time.Time
			if stamped {
				ts, rest, _ := strings.Cut(s, " ")
				var err error
				if read, err = time.Parse(time.RFC3339Nano, ts); err != nil {
					t.Errorf("bad stamp in %s: %.80q", f.path, s)
					continue
				}
				s = rest
				if read.Before(f.start) || !read.Before(f.end) {
					t.Errorf("line read at %s is in %s, which holds [%s, %s)", ts, f.path, f.start.Format(time.RFC3339Nano), f.end.Format(time.RFC3339Nano))
				}
			}
			pl, ok := parseLine(strings.TrimSuffix(s, "\n"))
			if !ok {
				t.Errorf("torn line in %s: %.80q", f.path, s)
				continue
			}
			if pl.seq != next[pl.id] {
				t.Errorf("pipeline %d: line %d in %s, want line %d (lost, doubled or out of order)", pl.id, pl.seq, f.path, next[pl.id])
			}
			next[pl.id] = pl.seq + 1
			if !pl.sent.Before(f.end) {
				t.Errorf("line sent at %s is in %s, whose period ended at %s", pl.sent.Format(time.RFC3339Nano), f.path, f.end.Format(time.RFC3339Nano))
			}
		}
	}
	for id, n := range sent {
		if next[id] != n {
			t.Errorf("pipeline %d: %d lines sent, %d found in order", id, n, next[id])
		}
	}
	return files
}

// feed writes self-checking lines for about d, in batches, sometimes with
// a 100 KB line, pausing by a rate of its own; it returns how many.
func feed(w io.Writer, id int, d time.Duration, rng *rand.Rand) (int, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	pause := time.Duration(id%4) * 3 * time.Millisecond
	seq := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 1 + rng.IntN(40) {
			n := 20 + rng.IntN(280)
			if rng.IntN(500) == 0 {
				n = 100 << 10
			}
			bw.WriteString(line(id, seq, time.Now(), n))
			seq++
		}
		if err := bw.Flush(); err != nil {
			return seq, err
		}
		time.Sleep(pause + time.Duration(rng.IntN(3))*time.Millisecond)
	}
	return seq, bw.Flush()
}

// runPipelines runs n pipelines with args on dir for d and checks the target.
func runPipelines(t *testing.T, dir string, n int, d time.Duration, patText string, args ...string) []targetFile {
	t.Helper()
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startRotlog(t, dir, "rotlog", nil, append([]string{"-p", patText}, args...)...)
	}
	sent := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			k, err := feed(p.stdin, i, d, rand.New(rand.NewPCG(uint64(i), 7)))
			if err != nil {
				t.Errorf("pipeline %d: %v", i, err)
			}
			mu.Lock()
			sent[i] = k
			mu.Unlock()
			p.wait(t)
			if s := p.stderr.String(); s != "" {
				t.Errorf("pipeline %d stderr: %s", i, s)
			}
		})
	}
	wg.Wait()
	pat, err := pattern.Compile(patText, pattern.Options{When: "S", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return checkTargetStamped(t, dir, pat, sent, slices.Contains(args, "-t"))
}

func TestManyPipelinesActiveFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := runPipelines(t, dir, 8, 4*time.Second, "app.log", "-when", "S")
	if len(files) < 3 {
		t.Errorf("only %d files after 4 s of per-second rotation", len(files))
	}
	for _, f := range files {
		if f.seq != 0 && f.seq != 1<<30 {
			t.Errorf("%s: a period was rotated twice", f.path)
		}
	}
}

// With -t every line carries the instant rotlog read it: each must be in
// the file of that instant's period (guarantee 3, checked exactly).
func TestManyPipelinesStamped(t *testing.T) {
	t.Parallel()
	runPipelines(t, t.TempDir(), 6, 3*time.Second, "app.log", "-when", "S", "-t")
}

// Size rotation with many pipelines: nothing lost or doubled, numbered
// variants within a period, and no file past the size by more than one
// batch (at most readSize bytes) per pipeline.
func TestManyPipelinesSize(t *testing.T) {
	t.Parallel()
	const size, n = 1 << 20, 6
	dir := t.TempDir()
	files := runPipelines(t, dir, n, 3*time.Second, "app.log", "-when", "S", "-s", "1M")
	variants := 0
	for _, f := range files {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > size+n*readSize {
			t.Errorf("%s: %d bytes, more than %d + %d batches", f.path, fi.Size(), size, n)
		}
		if f.seq > 0 && f.seq < 1<<30 {
			variants++
		}
	}
	if variants == 0 {
		t.Error("no numbered variant: size rotation never happened within a period")
	}
}

func TestManyPipelinesTemplate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := runPipelines(t, dir, 8, 4*time.Second, "logs/%Y%m%d/%H%M%S.log", "-when", "S")
	if len(files) < 3 {
		t.Errorf("only %d files after 4 s of per-second rotation", len(files))
	}
}

// waitFor polls cond until it holds; it fails the test after a generous
// limit, which only a broken rotlog (or a machine stalled for a minute)
// reaches. No test asserts how fast anything happens.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Guarantee 6: a pipeline killed while holding the rotation lock stops the
// others for no longer than --lock-timeout; exactly one of them breaks the
// lock, and no line is lost.
func TestKillLockHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ready := filepath.Join(t.TempDir(), "ready")
	holder := startRotlog(t, dir, "rotlog-holdlock", []string{"ROTLOG_HOLDLOCK_READY=" + ready},
		"-p", "app.log", "--lock-timeout", "1s")
	io.WriteString(holder.stdin, "never written\n")
	waitFor(t, "the holder to take the lock", func() bool { return exists(ready) })
	if !exists(filepath.Join(dir, "app.log.lock")) {
		t.Fatal("the holder does not hold app.log.lock")
	}
	holder.cmd.Process.Signal(syscall.SIGKILL)
	holder.cmd.Wait()

	const n = 6
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "--lock-timeout", "1s")
	}
	sent := map[int]int{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, p := range procs {
		wg.Go(func() {
			k, err := feed(p.stdin, i, 1500*time.Millisecond, rand.New(rand.NewPCG(uint64(i), 9)))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			sent[i] = k
			mu.Unlock()
			p.wait(t)
		})
	}
	wg.Wait()
	broke := 0
	for i, p := range procs {
		s := p.stderr.String()
		broke += strings.Count(s, "broke stale lock")
		s = strings.ReplaceAll(s, "broke stale lock", "")
		if strings.Contains(s, "error") {
			t.Errorf("pipeline %d: %s", i, p.stderr)
		}
	}
	if broke != 1 {
		t.Errorf("the stale lock was broken %d times, want once", broke)
	}
	pat, _ := pattern.Compile("app.log", pattern.Options{Location: time.UTC})
	checkTarget(t, dir, pat, sent)
}

// Guarantees 3 and 5 across a day and a week boundary, reached with
// --start-time: lines read before the boundary are in the file named for
// the old period, lines after it in the new file, and an idle pipeline
// rotates and lets go of the old file without new input.
func TestStartTimeBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name, when, start, tz, rotated string
	}{
		{"midnight", "midnight", "2026-11-24 23:59:57", "UTC", "app.log.2026-11-24"},
		{"week", "W0", "2026-11-29 23:59:57", "UTC", "app.log.2026-11-23"},
		{"sunday-week", "W6", "2026-11-28 23:59:57", "UTC", "app.log.2026-11-22"},
		{"midnight-new-york", "midnight", "2026-11-24 23:59:57", "America/New_York", "app.log.2026-11-24"},
		{"month", "month", "2026-11-30 23:59:57", "UTC", "app.log.2026-11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := startRotlog(t, dir, "rotlog", []string{"TZ=" + tc.tz}, "-p", "app.log", "-when", tc.when, "--start-time", tc.start)
			io.WriteString(p.stdin, "before 1\nbefore 2\n")
			rotated := filepath.Join(dir, tc.rotated)
			waitFor(t, tc.rotated+" to appear while idle", func() bool { return exists(rotated) })
			waitFor(t, "the old file to be let go", func() bool { return !holds(p.cmd.Process.Pid, rotated) })
			io.WriteString(p.stdin, "after 1\n")
			p.wait(t)
			got, _ := os.ReadFile(rotated)
			if string(got) != "before 1\nbefore 2\n" {
				t.Errorf("%s = %q", tc.rotated, got)
			}
			got, _ = os.ReadFile(filepath.Join(dir, "app.log"))
			if string(got) != "after 1\n" {
				t.Errorf("app.log = %q", got)
			}
		})
	}
}

// A template crossing midnight opens the next day's file, in a new directory.
func TestStartTimeTemplate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startRotlog(t, dir, "rotlog", nil, "-p", "%Y/%m/%d.log", "--start-time", "2026-12-31 23:59:58")
	io.WriteString(p.stdin, "old year\n")
	old := filepath.Join(dir, "2026/12/31.log")
	waitFor(t, "the old file", func() bool { return exists(old) })
	waitFor(t, "the old file to be let go", func() bool { return !holds(p.cmd.Process.Pid, old) })
	io.WriteString(p.stdin, "new year\n")
	p.wait(t)
	for path, want := range map[string]string{old: "old year\n", filepath.Join(dir, "2027/01/01.log"): "new year\n"} {
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

// holds reports whether process pid has path open.
func holds(pid int, path string) bool {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	want, err := os.Stat(path)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if fi, err := os.Stat(fd); err == nil && os.SameFile(fi, want) {
			return true
		}
	}
	return false
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
	}
	return string(b)
}

// SIGTERM writes what was read, a partial last line included, and exits 0.
func TestSignalTerm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log")
	io.WriteString(p.stdin, "whole\npartial")
	app := filepath.Join(dir, "app.log")
	waitFor(t, "the whole line", func() bool { return readFileQuiet(app) == "whole\n" })
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, p.stderr)
	}
	if got := readFile(t, app); got != "whole\npartial" {
		t.Errorf("app.log = %q", got)
	}
	if exists(app + ".lock") {
		t.Error("lock left behind")
	}
}

func readFileQuiet(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// SIGHUP reopens: after the file was moved away, new lines go to a new
// file at the path. SIGALRM rotates now, to the suffix of the period.
func TestSignalHupAlrm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.log")
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "D", "--start-time", "2026-11-25 12:00:00")
	io.WriteString(p.stdin, "one\n")
	waitFor(t, "line one", func() bool { return readFileQuiet(app) == "one\n" })
	if err := os.Rename(app, app+".moved"); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the moved file to be let go", func() bool { return !holds(p.cmd.Process.Pid, app+".moved") })
	io.WriteString(p.stdin, "two\n")
	waitFor(t, "line two", func() bool { return readFileQuiet(app) == "two\n" })
	p.cmd.Process.Signal(syscall.SIGALRM)
	rotated := app + ".2026-11-25"
	waitFor(t, "the rotation", func() bool { return exists(rotated) })
	io.WriteString(p.stdin, "three\n")
	p.wait(t)
	for path, want := range map[string]string{app + ".moved": "one\n", rotated: "two\n", app: "three\n"} {
		if got := readFile(t, path); got != want {
			t.Errorf("%s = %q, want %q", filepath.Base(path), got, want)
		}
	}
}

// Guarantee 9: a write that fails is retried and reported, input is held
// meanwhile, and it lands once the fault is gone. Here the directory of
// the target is a regular file (a fault that holds even for root).
func TestWriteFailureRetried(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "sub")
	os.WriteFile(blocker, []byte("not a directory"), 0o644)
	p := startRotlog(t, dir, "rotlog", nil, "-p", "sub/%Y.log", "--start-time", "2026-11-25 12:00:00")
	io.WriteString(p.stdin, "held 1\nheld 2\n")
	waitFor(t, "a report of the failure", func() bool { return strings.Contains(p.stderr.String(), "not a directory") })
	os.Remove(blocker)
	io.WriteString(p.stdin, "after\n")
	p.wait(t)
	if got := readFile(t, filepath.Join(dir, "sub/2026.log")); got != "held 1\nheld 2\nafter\n" {
		t.Errorf("sub/2026.log = %q", got)
	}
	if !strings.Contains(p.stderr.String(), "writing works again") {
		t.Errorf("no report of recovery: %s", p.stderr)
	}
}

// Guarantee 9: what could not be written when rotlog must stop is reported
// with a count, and the exit status says so.
func TestWriteFailureOnStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "sub"), nil, 0o644)
	p := startRotlog(t, dir, "rotlog", nil, "-p", "sub/app.log")
	io.WriteString(p.stdin, "lost 1\nlost 2\npartial")
	waitFor(t, "a report of the failure", func() bool { return strings.Contains(p.stderr.String(), "retrying") })
	p.cmd.Process.Signal(syscall.SIGTERM)
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	if !strings.Contains(p.stderr.String(), "21 bytes (3 lines) could not be written") {
		t.Errorf("stderr does not count the loss: %s", p.stderr)
	}
}

// Guarantee 8: any bytes pass through unchanged, a huge line without a
// newline included, and memory stays flat.
func TestBinaryAndHugeLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log")
	hwm := watchHWM(p.cmd.Process.Pid)
	rng := rand.New(rand.NewPCG(1, 2))
	h := sha256.New()
	w := io.MultiWriter(p.stdin, h)
	chunk := make([]byte, 1<<20)
	for i := range 40 { // random bytes: NULs, invalid UTF-8, sometimes newlines
		for j := range chunk {
			chunk[j] = byte(rng.Uint32())
			if i%2 == 1 && chunk[j] == '\n' {
				chunk[j] = 0 // odd chunks: no newline at all
			}
		}
		w.Write(chunk)
	}
	xs := bytes.Repeat([]byte{'x'}, 1<<20)
	for range 200 { // then 200 MB more without a newline
		w.Write(xs)
	}
	peak := hwm()
	p.wait(t)
	f, err := os.Open(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h2 := sha256.New()
	io.Copy(h2, f)
	if !bytes.Equal(h.Sum(nil), h2.Sum(nil)) {
		t.Error("app.log differs from the input")
	}
	// Flat means far below the input: without the race detector about
	// 7 MiB is seen; with it, its shadow memory multiplies everything.
	limit := int64(32 << 10)
	if raceEnabled {
		limit = 320 << 10
	}
	if peak > limit {
		t.Errorf("peak RSS %d KiB for 240 MB of input, want at most %d KiB", peak, limit)
	}
}

// watchHWM samples a process's peak resident set (VmHWM, in KiB) until
// the returned function is called, which returns the last sample. (The
// rusage of a child started with vfork counts the parent's memory too.)
func watchHWM(pid int) func() int64 {
	var mu sync.Mutex
	var last int64
	stop := make(chan struct{})
	go func() {
		for {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				return
			}
			for l := range strings.Lines(string(b)) {
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
					n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
					mu.Lock()
					last = n
					mu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(stop)
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// Exec mode: stdout and stderr lines are each whole even when written in
// pieces, the command's status is rotlog's, and TERM reaches the command,
// whose last words are logged.
func TestExecMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, script string
		signal       bool
		status       int
		want         []string
	}{
		{"pieces", `printf out-a; printf err-a >&2; sleep 0.1; printf 'out-b\n'; printf 'err-b\n' >&2; printf tail`, false, 0,
			[]string{"out-aout-b\n", "err-aerr-b\n", "tail"}},
		{"status", `echo failing; exit 3`, false, 3, []string{"failing\n"}},
		{"killed", `echo dying; kill -KILL $$`, false, 128 + 9, []string{"dying\n"}},
		{"forwarded", `trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`, true, 7,
			[]string{"ready\n", "got TERM\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "--", "sh", "-c", tc.script)
			if tc.signal {
				waitFor(t, "the command to start", func() bool { return strings.Contains(readFileQuiet(filepath.Join(dir, "app.log")), "ready") })
				p.cmd.Process.Signal(syscall.SIGTERM)
			}
			err := p.cmd.Wait()
			status := 0
			if ee, ok := err.(*exec.ExitError); ok {
				status = ee.ExitCode()
			}
			if status != tc.status {
				t.Errorf("status %d (%v), want %d; stderr: %s", status, err, tc.status, p.stderr)
			}
			got := readFile(t, filepath.Join(dir, "app.log"))
			for _, w := range tc.want {
				if strings.Count(got, w) != 1 {
					t.Errorf("log %q lacks %q", got, w)
				}
			}
		})
	}
}

// --tee copies input to stdout; when stdout goes away, logging goes on.
func TestTeeClosedStdout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := rotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--tee")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	stderr := new(syncBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "one\n")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "one\n" {
		t.Fatalf("tee gave %q, %v", buf, err)
	}
	stdout.Close()
	io.WriteString(stdin, "two\n")
	waitFor(t, "line two", func() bool { return readFileQuiet(filepath.Join(dir, "app.log")) == "one\ntwo\n" })
	io.WriteString(stdin, "three\n")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v; stderr: %s", err, stderr)
	}
	if got := readFile(t, filepath.Join(dir, "app.log")); got != "one\ntwo\nthree\n" {
		t.Errorf("app.log = %q", got)
	}
	if c := strings.Count(stderr.String(), "--tee"); c != 1 {
		t.Errorf("%d reports of the closed stdout, want 1: %s", c, stderr)
	}
}

// reportedFiles counts, from what -v reported in stderr, the rotated files
// made (by a rotation, or under their rotated name by a line read before
// a boundary whose period had no file yet) and the files compressed, each
// under key(its name as reported).
func reportedFiles(stderr string, key func(string) string, rotations, compressions map[string]int) {
	for _, m := range rotatedRe.FindAllStringSubmatch(stderr, -1) {
		rotations[key(m[1]+m[2])]++
	}
	for _, m := range compressedRe.FindAllStringSubmatch(stderr, -1) {
		compressions[key(m[1])]++
	}
}

var (
	rotatedRe    = regexp.MustCompile(`rotated \S+ to (\S+)|made (\S+): no line of its period`)
	compressedRe = regexp.MustCompile(`compressed (\S+) to`)
)
