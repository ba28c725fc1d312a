//go:build linux

package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var markerRE = regexp.MustCompile(`^rotlog: dropped (\d+) lines \((\d+) bytes\) between (\S+) and (\S+)$`)

// --on-block drop on a full disk: the producer is never held up, the lines
// kept are whole and in order, and the markers count exactly the rest.
func TestDropOnFullDisk(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, 1<<20)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20-64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "--on-block", "drop", "--buffer", "64K")
	// 100 000 lines of 100 bytes, 10 MB: far more than the disk, the
	// buffer and the pipe together hold.
	const n = 100_000
	sent := time.Now()
	var in bytes.Buffer
	for i := range n {
		in.WriteString(line(0, i, sent, 100-len(line(0, i, sent, 0))))
	}
	written := make(chan error, 1)
	go func() {
		_, err := p.stdin.Write(in.Bytes())
		written <- err
	}()
	var werr error
	waitFor(t, "the producer to write everything while the disk is full", func() bool {
		select {
		case werr = <-written:
			return true
		default:
			return false
		}
	})
	if werr != nil {
		t.Fatal(werr)
	}
	if !strings.Contains(p.stderr.String(), "dropping whole lines") {
		t.Errorf("no report of dropping: %s", p.stderr)
	}
	p.stdin.Close()
	os.Remove(filler)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%v; stderr: %s", err, p.stderr)
	}

	f, err := os.Open(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	kept, dropped, droppedBytes, markers, next := 0, 0, 0, 0, 0
	var keptBytes int
	for sc.Scan() {
		if m := markerRE.FindStringSubmatch(sc.Text()); m != nil {
			markers++
			l, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			dropped += l
			droppedBytes += b
			for _, ts := range m[3:] {
				if _, err := time.Parse(time.RFC3339, ts); err != nil {
					t.Errorf("marker %q: %v", sc.Text(), err)
				}
			}
			continue
		}
		pl, ok := parseLine(sc.Text())
		if !ok {
			t.Fatalf("a torn or foreign line: %q", sc.Text())
		}
		if pl.seq < next {
			t.Fatalf("line %d after line %d: out of order or doubled", pl.seq, next-1)
		}
		next = pl.seq + 1
		kept++
		keptBytes += len(sc.Text()) + 1
	}
	t.Logf("lines written %d, kept %d, dropped %d (markers: %d, %d bytes)", n, kept, dropped, markers, droppedBytes)
	if markers == 0 || dropped == 0 {
		t.Fatalf("no lines dropped: the test did not fill the buffer; stderr: %s", p.stderr)
	}
	if kept+dropped != n || keptBytes+droppedBytes != in.Len() {
		t.Errorf("kept %d + dropped %d lines = %d, want %d; bytes %d + %d, want %d",
			kept, dropped, kept+dropped, n, keptBytes, droppedBytes, in.Len())
	}
	if got := strings.Count(p.stderr.String(), "rotlog: dropped "); got != markers {
		t.Errorf("stderr has %d markers, the log %d", got, markers)
	}
}

// plainRotlog returns a rotlog built without the race detector, for a test
// that measures rotlog's memory: the race-built test binary's shadow
// memory multiplies the figures. Without the race detector the test binary
// is that rotlog already. Where there is no go command to build one (go
// test puts its own on PATH) it returns the race-built rotlog and false.
func plainRotlog(t *testing.T) (bin string, plain bool) {
	t.Helper()
	if raceEnabled {
		goBin, err := exec.LookPath("go")
		if err == nil {
			bin = filepath.Join(t.TempDir(), "rotlog")
			if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			return bin, true
		}
		if os.Getenv("ROTLOG_REQUIRE_ROOT") != "" {
			t.Fatalf("no go command to build rotlog without the race detector: %v", err)
		}
		t.Logf("no go command to build rotlog without the race detector (%v): memory is not measured", err)
	}
	bin, err := exec.LookPath("rotlog")
	if err != nil {
		t.Fatal(err)
	}
	return bin, !raceEnabled
}

// fillDisk fills the file system of dir: it writes a file until the
// file system says it is full, and checks that nothing more can be
// written. Removing the returned file frees the space.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for err == nil {
		_, err = f.Write(chunk)
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling %s: %v, want ENOSPC", dir, err)
	}
	probe := filepath.Join(dir, "probe")
	err = os.WriteFile(probe, []byte{'x'}, 0o644)
	os.Remove(probe)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("after filling %s, writing a byte: %v, want ENOSPC", dir, err)
	}
	return filler
}

// feedLines writes n self-checking lines of pipeline id (see line), of size
// bytes each, to w, a chunk at a time, and returns the bytes written. It makes the lines
// without fmt, which under the race detector would take longer than
// rotlog takes to read them; every 4096th is checked against line.
func feedLines(w io.Writer, id, n, size int, sent time.Time) (int64, error) {
	var chunk []byte
	var total int64
	ns := sent.UnixNano()
	for i := range n {
		start := len(chunk)
		chunk = append(chunk, 'p')
		chunk = strconv.AppendInt(chunk, int64(id), 10)
		chunk = append(chunk, ' ')
		chunk = strconv.AppendInt(chunk, int64(i), 10)
		chunk = append(chunk, ' ')
		chunk = strconv.AppendInt(chunk, ns, 10)
		chunk = append(chunk, ' ')
		// The pad fills the line up to size: its length, a space, the
		// pad, a newline.
		pad := size - (len(chunk) - start) - len(" \n")
		for pad+len(strconv.Itoa(pad)) > size-(len(chunk)-start)-len(" \n") {
			pad--
		}
		chunk = strconv.AppendInt(chunk, int64(pad), 10)
		chunk = append(chunk, ' ')
		for range pad {
			chunk = append(chunk, byte('a'+(id+i)%26))
		}
		chunk = append(chunk, '\n')
		if i%4096 == 0 {
			if got, want := string(chunk[start:]), line(id, i, sent, pad); got != want || len(got) != size {
				return total, fmt.Errorf("feedLines made %q, want %q of %d bytes", got, want, size)
			}
		}
		if len(chunk) >= 64<<10 || i == n-1 {
			m, err := w.Write(chunk)
			total += int64(m)
			if err != nil {
				return total, err
			}
			chunk = chunk[:0]
		}
	}
	return total, nil
}

// The test of --on-block drop: a producer writes 100 MB into
// --on-block drop --buffer 1M while the disk is full. It is never held up:
// it writes all of it while not one byte can be written, which a rotlog
// that stopped reading would make impossible, since the pipe and the
// buffer hold about 2 MiB. Once space is freed, the log has whole lines
// only, in order, and where lines are missing a marker counts exactly
// those lines and their bytes; stderr and --metrics report the same
// numbers. rotlog's
// peak memory exceeds that of an --on-block wait run of the same input
// (the usual buffers) by at most twice --buffer: the lines it holds, and
// as much again for the garbage collector, whose heap goal is twice what
// is live.
func TestDrop100MBOnFullDisk(t *testing.T) {
	t.Parallel()
	const (
		n      = 1_000_000 // lines
		size   = 100       // bytes each: 100 MB in all
		buffer = 1 << 20   // --buffer 1M
	)
	dir := mountTmpfs(t, 4<<20) // room for the buffer once freed
	bin, plain := plainRotlog(t)

	// The usual buffers: the same input, written as it comes.
	baseDir := t.TempDir()
	base := startRotlog(t, baseDir, bin, nil, "-p", "app.log")
	baseHWM := watchHWM(base.cmd.Process.Pid)
	if _, err := feedLines(base.stdin, 0, n, size, time.Now()); err != nil {
		t.Fatal(err)
	}
	base.wait(t)
	basePeak := baseHWM()

	filler := fillDisk(t, dir)
	mdir := t.TempDir()
	p := startRotlog(t, dir, bin, nil, "-p", "app.log", "--on-block", "drop", "--buffer", "1M", "--metrics", mdir)
	metrics := filepath.Join(mdir, fmt.Sprintf("rotlog_app_log_%d.prom", p.cmd.Process.Pid))
	hwm := watchHWM(p.cmd.Process.Pid)
	sent := time.Now()
	type result struct {
		n   int64
		err error
	}
	written := make(chan result, 1)
	go func() {
		n, err := feedLines(p.stdin, 0, n, size, sent)
		written <- result{n, err}
	}()
	var total int64
	select {
	case r := <-written:
		if r.err != nil {
			t.Fatal(r.err)
		}
		total = r.n
	case <-time.After(5 * time.Minute): // only a rotlog that stopped reading
		t.Fatalf("the producer is still blocked; rotlog's stderr:\n%s", p.stderr)
	}
	if total != n*size {
		t.Fatalf("wrote %d bytes, want %d", total, n*size)
	}
	pipe, err := unix.FcntlInt(p.stdin.(*os.File).Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The disk was full throughout: nothing reached the log.
	if fi, err := os.Stat(filepath.Join(dir, "app.log")); err == nil && fi.Size() > 0 {
		t.Fatalf("app.log has %d bytes while the disk was full: the test did not fill it", fi.Size())
	}
	if int64(pipe+buffer)*10 > total {
		t.Fatalf("the pipe (%d bytes) and the buffer hold too much of the input for the test to prove anything", pipe)
	}
	if !strings.Contains(p.stderr.String(), "dropping whole lines") {
		t.Errorf("no report of dropping: %s", p.stderr)
	}
	// At end of input, with the disk still full, the buffer holds
	// buffer/size whole lines, all of the same size, waiting to be
	// written; --metrics counts the rest as dropped, and nothing written.
	p.stdin.Close()
	wantDropped := n - buffer/size
	value := func(name string) float64 { return metricValue(t, metrics, name, "app.log") }
	waitFor(t, fmt.Sprintf("--metrics to count %d lines dropped", wantDropped), func() bool {
		return value("rotlog_lines_dropped_total") == float64(wantDropped)
	})
	if v := value("rotlog_bytes_dropped_total"); v != float64(wantDropped*size) {
		t.Errorf("rotlog_bytes_dropped_total = %v, want %d", v, wantDropped*size)
	}
	if v := value("rotlog_lines_written_total"); v != 0 {
		t.Errorf("rotlog_lines_written_total = %v on a full disk, want 0", v)
	}
	if e, b := value("rotlog_write_errors_total"), value("rotlog_blocked_seconds_total"); e < 1 || b <= 0 {
		t.Errorf("rotlog_write_errors_total = %v, rotlog_blocked_seconds_total = %v on a full disk, want more than 0", e, b)
	}
	os.Remove(filler)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%v; stderr: %s", err, p.stderr)
	}
	peak := hwm()

	f, err := os.Open(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var logMarkers [][2]int // lines, bytes
	kept, keptBytes, next := 0, 0, 0
	gapLines, gapBytes := 0, 0 // counted by markers since the last kept line
	for sc.Scan() {
		if m := markerRE.FindStringSubmatch(sc.Text()); m != nil {
			l, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			logMarkers = append(logMarkers, [2]int{l, b})
			gapLines += l
			gapBytes += b
			continue
		}
		pl, ok := parseLine(sc.Text())
		if !ok {
			t.Fatalf("a torn or foreign line: %q", sc.Text())
		}
		if pl.seq != next+gapLines || gapBytes != gapLines*size {
			t.Fatalf("line %d follows line %d and markers counting %d lines (%d bytes): they miss %d lines (%d bytes)",
				pl.seq, next-1, gapLines, gapBytes, pl.seq-next, (pl.seq-next)*size)
		}
		next, gapLines, gapBytes = pl.seq+1, 0, 0
		kept++
		keptBytes += len(sc.Text()) + 1
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n-next != gapLines || gapBytes != gapLines*size {
		t.Errorf("the log ends at line %d and markers counting %d lines (%d bytes): they miss %d lines",
			next-1, gapLines, gapBytes, n-next)
	}
	dropped := 0
	for _, m := range logMarkers {
		dropped += m[0]
	}
	t.Logf("lines written %d (%d bytes), kept %d (%d bytes), dropped %d in %d markers; pipe %d bytes",
		n, total, kept, keptBytes, dropped, len(logMarkers), pipe)
	t.Logf("peak RSS: %d KiB with --on-block drop --buffer %dK on the full disk, %d KiB with --on-block wait writing all", peak, buffer>>10, basePeak)
	if dropped == 0 {
		t.Fatalf("no lines dropped: the test did not fill the buffer; stderr: %s", p.stderr)
	}
	if kept+dropped != n {
		t.Errorf("kept %d + dropped %d lines = %d, want %d", kept, dropped, kept+dropped, n)
	}
	if dropped != wantDropped {
		t.Errorf("the markers count %d lines dropped, --metrics %d", dropped, wantDropped)
	}
	var errMarkers [][2]int
	for l := range strings.Lines(p.stderr.String()) {
		if m := markerRE.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			errMarkers = append(errMarkers, [2]int{a, b})
		}
	}
	if !slices.Equal(errMarkers, logMarkers) {
		t.Errorf("stderr reports drops %v, the log %v", errMarkers, logMarkers)
	}
	if !plain {
		return
	}
	if peak > basePeak+2*buffer>>10 {
		t.Errorf("peak RSS %d KiB, want at most %d KiB (the --on-block wait run's) + 2 × --buffer (%d KiB)", peak, basePeak, buffer>>10)
	}
}

// --on-block drop with several pipelines on one target and a full disk:
// each counts its own drops. The log has whole lines only, markers
// included, each pipeline's in order; each pipeline's markers on stderr
// count exactly the lines of its own that are missing, and the log has
// the markers of all of them.
func TestDropManyPipelinesOnFullDisk(t *testing.T) {
	t.Parallel()
	const (
		pipelines = 4
		n         = 50_000 // lines each
		size      = 100    // bytes each: 5 MB a pipeline
	)
	dir := mountTmpfs(t, 4<<20)
	filler := fillDisk(t, dir)
	var procs []*proc
	for range pipelines {
		procs = append(procs, startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "--on-block", "drop", "--buffer", "64K"))
	}
	sent := time.Now()
	errc := make(chan error, pipelines)
	for id, p := range procs {
		go func() {
			_, err := feedLines(p.stdin, id, n, size, sent)
			p.stdin.Close()
			errc <- err
		}()
	}
	for range pipelines {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Minute): // only a rotlog that stopped reading
			t.Fatal("a producer is still blocked")
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "app.log")); err == nil && fi.Size() > 0 {
		t.Fatalf("app.log has %d bytes while the disk was full: the test did not fill it", fi.Size())
	}
	os.Remove(filler)
	var errMarkers [][2]int  // every pipeline's, from stderr
	stderrDropped := []int{} // lines, by pipeline
	for id, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("pipeline %d: %v; stderr: %s", id, err, p.stderr)
		}
		lines := 0
		for l := range strings.Lines(p.stderr.String()) {
			if m := markerRE.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
				a, _ := strconv.Atoi(m[1])
				b, _ := strconv.Atoi(m[2])
				errMarkers = append(errMarkers, [2]int{a, b})
				lines += a
				if b != a*size {
					t.Errorf("pipeline %d: marker %q: %d bytes are not %d lines of %d", id, l, b, a, size)
				}
			}
		}
		stderrDropped = append(stderrDropped, lines)
	}

	f, err := os.Open(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var logMarkers [][2]int
	kept, next := make([]int, pipelines), make([]int, pipelines)
	for sc.Scan() {
		if m := markerRE.FindStringSubmatch(sc.Text()); m != nil {
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			logMarkers = append(logMarkers, [2]int{a, b})
			continue
		}
		pl, ok := parseLine(sc.Text())
		if !ok || pl.id < 0 || pl.id >= pipelines {
			t.Fatalf("a torn or foreign line: %q", sc.Text())
		}
		if pl.seq < next[pl.id] {
			t.Fatalf("pipeline %d: line %d after line %d: out of order or doubled", pl.id, pl.seq, next[pl.id]-1)
		}
		next[pl.id] = pl.seq + 1
		kept[pl.id]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pipelines of %d lines: kept %v, dropped (stderr) %v, %d markers in the log", pipelines, n, kept, stderrDropped, len(logMarkers))
	for id := range pipelines {
		if stderrDropped[id] == 0 {
			t.Errorf("pipeline %d dropped nothing: the test did not fill its buffer", id)
		}
		if kept[id]+stderrDropped[id] != n {
			t.Errorf("pipeline %d: kept %d + dropped %d lines = %d, want %d", id, kept[id], stderrDropped[id], kept[id]+stderrDropped[id], n)
		}
	}
	less := func(a, b [2]int) int { return cmp.Or(a[0]-b[0], a[1]-b[1]) }
	slices.SortFunc(errMarkers, less)
	slices.SortFunc(logMarkers, less)
	if !slices.Equal(errMarkers, logMarkers) {
		t.Errorf("the pipelines report drops %v on stderr, the log %v", errMarkers, logMarkers)
	}
}
