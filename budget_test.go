//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/pattern"
)

// onDiskTest is the space a file takes on disk, as rotlog counts it
// (rotator.onDisk): its blocks.
func onDiskTest(fi os.FileInfo) int64 {
	st := fi.Sys().(*syscall.Stat_t)
	if b := int64(st.Blocks) * 512; b > 0 || fi.Size() == 0 {
		return b
	}
	return fi.Size()
}

// dirTotal is the space every file in dir takes, and its rotated files'
// (those other than active, locks and temporary files) apart.
func dirTotal(dir, active string) (all, rotated int64) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		n := onDiskTest(fi)
		all += n
		if e.Name() != active && !strings.HasSuffix(e.Name(), ".lock") && !strings.HasSuffix(e.Name(), ".tmp") {
			rotated += n
		}
	}
	return all, rotated
}

// removals collects the files rotlog reported removing from the stderr
// of each pipeline (run with -v), with how many times each name was
// removed. It checks that no name was removed more often than files were
// rotated to it (less one if a file has it now), so that no file was
// removed twice (a removed name is taken again by a later rotation), and
// that no error was reported.
func removals(t *testing.T, dir string, stderrs []string) map[string]int {
	t.Helper()
	removed, made := map[string]int{}, map[string]int{}
	for i, s := range stderrs {
		for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			if rest, ok := strings.CutPrefix(l, "rotlog: removed "); ok {
				name, _, _ := strings.Cut(rest, ": ")
				removed[name]++
			} else if _, to, ok := strings.Cut(l, "rotlog: rotated app.log to "); ok {
				made[to]++
			} else if strings.Contains(l, "error") || strings.Contains(l, "warning") {
				t.Errorf("pipeline %d: %s", i, l)
			}
		}
	}
	for name, n := range removed {
		if exists(filepath.Join(dir, name)) {
			n++
		}
		if n > made[name] {
			t.Errorf("%s: removed %d times, made %d times", name, removed[name], made[name])
		}
	}
	return removed
}

// checkBudgetTarget checks the self-checking lines of the files left of a
// target whose oldest files the budget removed: every line whole, each
// pipeline's lines in order and without a gap inside a file, a gap between
// two files only where a file of a period between them was removed, and
// the newest files kept, and with lastKept the last line of each pipeline
// there (for a single pipeline: with many, one that ended earlier may have
// its last lines in a file older than the budget keeps). Files are
// in the order of their periods, then of their creation (as the budget
// orders them: a removed name is taken again by a later file).
func checkBudgetTarget(t *testing.T, dir string, pat *pattern.Pattern, sent map[int]int, removed map[string]int, lastKept bool) {
	t.Helper()
	var gone []time.Time
	for name := range removed {
		m, ok := pat.Match(name)
		if !ok {
			t.Errorf("removed %s, not a file of the target", name)
			continue
		}
		gone = append(gone, m.Time)
	}
	files := collect(t, dir, pat)
	born := map[string]time.Time{}
	for _, f := range files {
		var st unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, f.path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BTIME, &st); err != nil || st.Mask&unix.STATX_BTIME == 0 {
			t.Skipf("no creation time on %s: the files of a period cannot be ordered", f.path)
		}
		born[f.path] = time.Unix(st.Btime.Sec, int64(st.Btime.Nsec))
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		switch {
		case a.seq == 1<<30 || b.seq == 1<<30: // the active file, last
			return b.seq == 1<<30 && a.seq != 1<<30
		case !a.start.Equal(b.start):
			return a.start.Before(b.start)
		case !born[a.path].Equal(born[b.path]):
			return born[a.path].Before(born[b.path])
		}
		return a.seq < b.seq
	})
	next := map[int]int{}   // per pipeline: the seq expected next
	lastIn := map[int]int{} // per pipeline: the file of its last line, +1
	for i, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Errorf("%s does not end with a newline", f.path)
		}
		for _, s := range strings.SplitAfter(string(data), "\n") {
			if s == "" {
				continue
			}
			pl, ok := parseLine(strings.TrimSuffix(s, "\n"))
			if !ok {
				t.Errorf("torn line in %s: %.80q", f.path, s)
				continue
			}
			switch {
			case pl.seq < next[pl.id]:
				t.Errorf("pipeline %d: line %d in %s after line %d (doubled or out of order)", pl.id, pl.seq, f.path, next[pl.id]-1)
			case pl.seq > next[pl.id]:
				// Lost lines: only those of a removed file.
				if lastIn[pl.id] == i+1 {
					t.Errorf("pipeline %d: lines %d to %d missing inside %s", pl.id, next[pl.id], pl.seq-1, f.path)
					break
				}
				from := time.Time{}
				if j := lastIn[pl.id]; j > 0 {
					from = files[j-1].start
				}
				to := f.start
				if f.seq == 1<<30 {
					to = pattern.EndOfTime // the active file (of a Never schedule: no start)
				}
				explained := false
				for _, g := range gone {
					explained = explained || !g.Before(from) && !g.After(to)
				}
				if !explained {
					t.Errorf("pipeline %d: lines %d to %d missing before %s, and no file of a period between was removed", pl.id, next[pl.id], pl.seq-1, f.path)
				}
			}
			next[pl.id] = max(next[pl.id], pl.seq+1)
			lastIn[pl.id] = i + 1
		}
	}
	if lastKept {
		for id, n := range sent {
			if next[id] != n {
				t.Errorf("pipeline %d: %d lines sent, the last found is %d: the newest data must be kept", id, n, next[id]-1)
			}
		}
	}
	// The newest files are kept: no removed file holds a later period
	// than a rotated file kept, but for a file kept while a pipeline
	// still wrote it (up to a period or two).
	for _, f := range files {
		if f.seq == 1<<30 || f.end.Equal(pattern.EndOfTime) {
			continue // the active file; a Never schedule's (lastKept checks those)
		}
		for _, g := range gone {
			if g.After(f.start.Add(2 * (f.end.Sub(f.start)))) {
				t.Errorf("%s is kept, but a file of the later period %s was removed", f.path, g.Format(time.RFC3339))
				return
			}
		}
	}
}

// 8 pipelines rotating every second and every 100K under --max-total 1M,
// on a small filesystem of their own: a watcher sampling the directory
// never sees more than 1 MiB of rotated files plus one file per pipeline
// (the one each writes, full or just rotated), every removal is reported
// once, no line is lost but those of removed files, and the newest are
// kept.
func TestBudgetMaxTotalManyPipelines(t *testing.T) {
	t.Parallel()
	const n, maxTotal, size = 8, 1 << 20, 100 << 10
	dir := mountTmpfs(t, 16<<20)
	var all, rotated, samples atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			a, r := dirTotal(dir, "app.log")
			samples.Add(1)
			if a > all.Load() {
				all.Store(a)
			}
			if r > rotated.Load() {
				rotated.Store(r)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "S", "-s", "100K", "--max-total", "1M", "-v")
	}
	sent := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			k, err := feed(p.stdin, i, 15*time.Second, rand.New(rand.NewPCG(uint64(i), 14)))
			if err != nil {
				t.Errorf("pipeline %d: %v", i, err)
			}
			mu.Lock()
			sent[i] = k
			mu.Unlock()
			p.stdin.Close()
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("pipeline %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-watched
	bound := int64(maxTotal + n*(size+readSize))
	t.Logf("the watcher saw at most %d bytes in the directory, %d of rotated files, in %d samples (bound %d)", all.Load(), rotated.Load(), samples.Load(), bound)
	if all.Load() > bound {
		t.Errorf("the directory held %d bytes at some instant, more than %d: 1 MiB and a file per pipeline", all.Load(), bound)
	}
	stderrs := []string{}
	for _, p := range procs {
		stderrs = append(stderrs, p.stderr.String())
	}
	removed := removals(t, dir, stderrs)
	if len(removed) == 0 {
		t.Error("nothing removed")
	}
	_, r := dirTotal(dir, "app.log")
	t.Logf("the rotated files take %d bytes at the end", r)
	if r > maxTotal || r < maxTotal/2 {
		t.Errorf("the rotated files take %d bytes at the end: more than 1 MiB, or far less (removed too much)", r)
	}
	pat, err := pattern.Compile("app.log", pattern.Options{When: "S", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	checkBudgetTarget(t, dir, pat, sent, removed, false)
	if t.Failed() {
		for i, s := range stderrs {
			t.Logf("pipeline %d stderr:\n%.3000s", i, s)
		}
	}
}

// freeSpace is what statfs says is free on dir's filesystem, and its size.
func freeSpace(t *testing.T, dir string) (free, size int64) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Frsize), int64(st.Blocks) * int64(st.Frsize)
}

// --keep-free 30% on a filesystem another process fills: rotlog removes
// its oldest rotated files to keep 30% free and, once the disk is full,
// to write at once; it never blocks while a file of its own is left to
// remove, and what is left of its files is whole and in order.
func TestBudgetKeepFreeFilledDisk(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, 4<<20)
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-s", "100K", "--keep-free", "30%", "-v")
	in := bufio.NewWriter(p.stdin)
	seq := 0
	var sent int64
	send := func(bytes int) {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			for n := 0; n < bytes; seq++ {
				l := line(0, seq, time.Now(), 200)
				n += len(l)
				sent += int64(len(l))
				in.WriteString(l)
			}
			done <- in.Flush()
		}()
		var err error
		waitFor(t, "rotlog to take the input", func() bool {
			select {
			case err = <-done:
				return true
			default:
				return false
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	written := func() int64 {
		ents, _ := os.ReadDir(dir)
		var n int64
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), "app.log") && !strings.HasSuffix(e.Name(), ".lock") {
				n += fi.Size()
			}
		}
		return n
	}
	rotatedFiles := func() int {
		ents, _ := os.ReadDir(dir)
		n := 0
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "app.log.") && !strings.HasSuffix(e.Name(), ".lock") {
				n++
			}
		}
		return n
	}
	// 1.5 MiB: rotated files (of 100K or a batch), within what 30% free
	// allows.
	send(1536 << 10)
	waitFor(t, "the input written", func() bool { return written() >= sent })
	if strings.Contains(p.stderr.String(), "removed") || rotatedFiles() < 5 {
		t.Fatalf("%d rotated files, or removed with the disk far from full: %s", rotatedFiles(), p.stderr)
	}
	// Another process fills the disk to the last byte.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	filler.Close()
	if free, _ := freeSpace(t, dir); free > 4096 {
		t.Fatalf("%d bytes free after filling", free)
	}
	// 600 KiB more: each write finds the disk full until rotlog frees it.
	send(600 << 10)
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%v; stderr: %s", err, p.stderr)
	}
	stderr := p.stderr.String()
	t.Logf("stderr:\n%s", stderr)
	if strings.Contains(stderr, "retrying") {
		t.Errorf("rotlog blocked with files of its own to remove")
	}
	removed := removals(t, dir, []string{stderr})
	if len(removed) == 0 {
		t.Fatal("nothing removed")
	}
	if !strings.Contains(stderr, ": --keep-free 30% not met (") {
		t.Error("no removal reported for --keep-free")
	}
	if free, size := freeSpace(t, dir); free < size*30/100 {
		t.Errorf("%d bytes free of %d at the end, less than 30%%, with %d rotated files left", free, size, rotatedFiles())
	}
	pat, err := pattern.Compile("app.log", pattern.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "filler"))
	checkBudgetTarget(t, dir, pat, map[int]int{0: seq}, removed, true)
}

// Without --max-total or --keep-free a full disk is waited out as before,
// and nothing is removed, even with rotated files to remove.
func TestDiskFullWithoutBudget(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, 1<<20)
	for i := range 3 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("app.log.2026-11-25_12-00-0%d", i)), make([]byte, 64<<10), 0o644)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	f.Close()
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "S", "-n", "10")
	io.WriteString(p.stdin, "held\n")
	waitFor(t, "a report of the full disk", func() bool { return strings.Contains(p.stderr.String(), "no space left on device; retrying") })
	if strings.Contains(p.stderr.String(), "removed") || strings.Contains(p.stderr.String(), "nothing of this target") {
		t.Errorf("stderr: %s", p.stderr)
	}
	os.Remove(filler)
	p.wait(t)
	for i := range 3 {
		if !exists(filepath.Join(dir, fmt.Sprintf("app.log.2026-11-25_12-00-0%d", i))) {
			t.Errorf("rotated file %d removed", i)
		}
	}
}

// A pipeline killed while it removes files for the budget loses nothing
// else: every file is either whole or removed and reported (but for the
// one whose removal the kill came before the report), and the next
// pipeline finishes the work, the newest files kept.
func TestBudgetKilledWhileRemoving(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 400
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	name := func(i int) string {
		return "app.log." + t0.Add(time.Duration(i)*time.Second).Format("2006-01-02_15-04-05")
	}
	body := func(i int) string { return strings.Repeat(fmt.Sprintf("file %04d\n", i), 400) }
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, name(i)), []byte(body(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, name(0)))
	if err != nil {
		t.Fatal(err)
	}
	one := onDiskTest(fi)
	limit := fmt.Sprint(10 * one)
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "S", "--max-total", limit)
	waitFor(t, "a removal", func() bool { return strings.Contains(p.stderr.String(), "rotlog: removed ") })
	p.cmd.Process.Kill()
	p.cmd.Wait()
	first := p.stderr.String()
	t.Logf("the first pipeline reported %d removals before it was killed", strings.Count(first, "rotlog: removed "))
	cmd := rotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "-when", "S", "--max-total", limit, "--lock-timeout", "1s")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v: %s", err, out)
	}
	removed := map[string]int{}
	for _, s := range []string{first, string(out)} {
		for _, l := range strings.Split(s, "\n") {
			if rest, ok := strings.CutPrefix(l, "rotlog: removed "); ok {
				f, _, _ := strings.Cut(rest, ": ")
				removed[f]++
			} else if strings.Contains(l, "error") {
				t.Errorf("%s", l)
			}
		}
	}
	kept, unreported := 0, 0
	for i := range n {
		data, err := os.ReadFile(filepath.Join(dir, name(i)))
		switch {
		case errors.Is(err, os.ErrNotExist):
			switch removed[name(i)] {
			case 1:
			case 0:
				// The one the kill came between removing and reporting.
				if unreported++; unreported > 1 {
					t.Errorf("%s is gone, not reported removed", name(i))
				}
			default:
				t.Errorf("%s reported removed %d times", name(i), removed[name(i)])
			}
		case err != nil:
			t.Fatal(err)
		default:
			kept++
			if string(data) != body(i) {
				t.Errorf("%s changed", name(i))
			}
			if removed[name(i)] != 0 {
				t.Errorf("%s is there, but reported removed", name(i))
			}
			if i < n-10 {
				t.Errorf("%s kept, though it is not among the 10 newest", name(i))
			}
		}
	}
	if kept != 10 {
		t.Errorf("%d files kept, want the 10 newest", kept)
	}
}
