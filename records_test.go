package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeLog is a sink that records each write and the time it was made for.
type writeLog struct {
	writes []string
	at     []time.Time
}

func (w *writeLog) write(p, raw []byte, held unwritten, now time.Time) error {
	w.writes = append(w.writes, string(p))
	w.at = append(w.at, now)
	return nil
}

// recordBatcher returns the batcher of rotlog ARGS writing to a writeLog.
func recordBatcher(t testing.TB, args ...string) (*batcher, *writeLog) {
	t.Helper()
	p := testPipeline(t, append([]string{"-p", filepath.Join(t.TempDir(), "app.log")}, args...)...)
	w := &writeLog{}
	return p.a.cfg.newBatcher(w), w
}

func feedBatcher(t testing.TB, b *batcher, s string, now time.Time) {
	t.Helper()
	for len(s) > 0 {
		k := copy(b.space(), s)
		s = s[k:]
		if err := b.consume(k, now); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecordsWhole checks that a record is held back until the next one
// starts and written with one write, at the time its first line was read,
// whatever the reads; records completed by one read go out together.
func TestRecordsWhole(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Second), t0.Add(2*time.Second)
	b, w := recordBatcher(t, "--multiline-start", "^ERROR|^INFO")
	feedBatcher(t, b, "ERROR a\n\tat x\n", t0)
	feedBatcher(t, b, "\tat y\n\tat", t1)
	if len(w.writes) != 0 {
		t.Fatalf("a record was written before it ended: %q", w.writes)
	}
	feedBatcher(t, b, " z\nINFO b\nINFO c\n  more\nERROR d\n\tat", t2)
	feedBatcher(t, b, " w", t2.Add(time.Second))
	if err := b.finish(t2.Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	want := []string{"ERROR a\n\tat x\n\tat y\n\tat z\n", "INFO b\nINFO c\n  more\n", "ERROR d\n\tat w"}
	wantAt := []time.Time{t0, t2, t2}
	if fmt.Sprint(w.writes) != fmt.Sprint(want) || fmt.Sprint(w.at) != fmt.Sprint(wantAt) {
		t.Errorf("writes %q at %v\nwant   %q at %v", w.writes, w.at, want, wantAt)
	}
}

// TestRecordsTimeout checks what --multiline-timeout writes: the whole
// lines of the record held back, not a partial line, at the record's time.
func TestRecordsTimeout(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b, w := recordBatcher(t, "--multiline-start", `^\S`)
	feedBatcher(t, b, "E a\n\tat x\n\tpart", t0)
	if !b.pending() {
		t.Fatal("a record with whole lines is not pending")
	}
	if err := b.flushRecord(t0.Add(time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if b.pending() {
		t.Error("still pending after the flush")
	}
	feedBatcher(t, b, "ial\nE b\n", t0.Add(2*time.Minute))
	b.finish(t0.Add(3 * time.Minute))
	want := []string{"E a\n\tat x\n", "\tpartial\n", "E b\n"}
	wantAt := []time.Time{t0, t0.Add(2 * time.Minute), t0.Add(3 * time.Minute)}
	if fmt.Sprint(w.writes) != fmt.Sprint(want) {
		t.Errorf("writes %q, want %q", w.writes, want)
	}
	if fmt.Sprint(w.at[:2]) != fmt.Sprint(wantAt[:2]) || !w.at[2].Equal(wantAt[2]) && !w.at[2].Equal(wantAt[1]) {
		t.Errorf("written at %v, want %v", w.at, wantAt)
	}
}

// TestRecordsMaxLine checks that a record longer than --max-line goes out
// in pieces of whole lines, and a line longer than it as a line does; the
// held back bytes stay within --max-line.
func TestRecordsMaxLine(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b, w := recordBatcher(t, "--multiline-start", `^E`, "--max-line", "20")
	feedBatcher(t, b, "E 1\n", now)
	feedBatcher(t, b, " 2345678\n", now)
	feedBatcher(t, b, " 2345678\n", now) // 22 bytes held: too many
	if b.n > 20 {
		t.Errorf("holds %d bytes, --max-line 20", b.n)
	}
	feedBatcher(t, b, " "+strings.Repeat("x", 30), now)
	if b.n > 20 {
		t.Errorf("holds %d bytes, --max-line 20", b.n)
	}
	feedBatcher(t, b, "\n y\nE 2\n", now)
	b.finish(now)
	if got := strings.Join(w.writes, ""); got != "E 1\n 2345678\n 2345678\n "+strings.Repeat("x", 30)+"\n y\nE 2\n" {
		t.Fatalf("file %q", got)
	}
	if w.writes[0] != "E 1\n 2345678\n 2345678\n" || w.writes[len(w.writes)-1] != "E 2\n" {
		t.Errorf("writes %q", w.writes)
	}
}

// TestRecordsStamped checks that --timestamp stamps a record's first line
// only, and not a piece that continues a record.
func TestRecordsStamped(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b, w := recordBatcher(t, "--multiline-start", `^E`, "--timestamp=%H:%M", "--utc", "--max-line", "30")
	feedBatcher(t, b, "orphan\nE 1\n\tat a\n\tat b\nE 2\n", now)
	feedBatcher(t, b, strings.Repeat(" long", 10)+"\n next\nE 3\n", now)
	b.finish(now)
	got := strings.Join(w.writes, "")
	want := "12:00 orphan\n12:00 E 1\n\tat a\n\tat b\n12:00 E 2\n" + strings.Repeat(" long", 10) + "\n next\n12:00 E 3\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestRecordsStampedBatches checks that stamped records are written in
// batches that end at record ends, memory staying bounded.
func TestRecordsStampedBatches(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b, w := recordBatcher(t, "--multiline-start", `^E`, "-t")
	var in strings.Builder
	for i := 0; in.Len() < 3*readSize; i++ {
		fmt.Fprintf(&in, "E %d\n\tat 1\n\tat 2\n", i)
	}
	feedBatcher(t, b, in.String(), now)
	b.finish(now)
	if len(w.writes) < 3 {
		t.Errorf("%d writes for %d bytes", len(w.writes), in.Len())
	}
	for i, p := range w.writes {
		if !strings.HasSuffix(p, "\tat 2\n") || !strings.HasPrefix(p, "2026-11-25T12:00:00.000") {
			t.Errorf("write %d does not hold whole records: %.40q ... %q", i, p, p[max(0, len(p)-20):])
		}
	}
	if cap(b.stamped) > 2*(readSize+200) {
		t.Errorf("stamped buffer grew to %d", cap(b.stamped))
	}
}

// FuzzRecords feeds arbitrary bytes, cut into arbitrary reads, through the
// record batcher and checks: bytes out are bytes in; what is held back
// stays within --max-line; and every write ends where a record ends (the
// next line starts one, or input ended), unless the record it ends in is
// longer than --max-line.
func FuzzRecords(f *testing.F) {
	f.Add([]byte("E a\n b\n c\nE d\n\ne\nE"), uint64(1), uint8(40), uint8(5))
	f.Add([]byte("E 1\n"+strings.Repeat(" x\n", 30)+"E 2\n y"), uint64(2), uint8(10), uint8(1))
	f.Add(bytes.Repeat([]byte("E\n\n x\n"), 40), uint64(3), uint8(7), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64, maxLine, timeoutEvery uint8) {
		ml := int(maxLine%64) + 1
		start := regexp.MustCompile(`^E`)
		b, w := recordBatcher(t, "--multiline-start", start.String(), "--max-line", strconv.Itoa(ml))
		rng := rand.New(rand.NewPCG(seed, 0))
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		for rest := in; len(rest) > 0; {
			k := min(1+rng.IntN(len(rest)), readSize)
			copy(b.space(), rest[:k])
			rest = rest[k:]
			if err := b.consume(k, now); err != nil {
				t.Fatal(err)
			}
			if b.n > ml {
				t.Fatalf("holds %d bytes, --max-line is %d", b.n, ml)
			}
			if timeoutEvery > 0 && rng.IntN(int(timeoutEvery)) == 0 {
				b.flushRecord(now, false) // --multiline-timeout
			}
		}
		b.finish(now)
		if got := strings.Join(w.writes, ""); got != string(in) {
			t.Fatalf("out %q, in %q", got, in)
		}
		// Where each record of in begins and ends.
		off := 0
		for i, p := range w.writes[:max(len(w.writes)-1, 0)] {
			off += len(p)
			if in[off-1] != '\n' {
				if lineStart := bytes.LastIndexByte(in[:off], '\n') + 1; off-lineStart <= ml {
					t.Fatalf("write %d cut a line of %d bytes (--max-line %d): %q", i, off-lineStart, ml, w.writes)
				}
				continue
			}
			lineEnd := bytes.IndexByte(in[off:], '\n')
			if lineEnd < 0 {
				lineEnd = len(in) - off
			}
			if start.Match(in[off : off+lineEnd]) {
				continue // the next record starts here
			}
			// Cut inside a record: allowed for a timeout (not checked
			// here), or if the record outgrew --max-line.
			if timeoutEvery > 0 {
				continue
			}
			recStart := recordStart(in, off, start)
			recEnd := recordEnd(in, off, start)
			if recEnd-recStart <= ml {
				t.Fatalf("write %d ends inside a record of %d bytes (--max-line %d): %q", i, recEnd-recStart, ml, w.writes)
			}
		}
	})
}

// recordStart returns where the record holding in[off-1] begins: the last
// line start at or before off-1 that matches, or 0.
func recordStart(in []byte, off int, start *regexp.Regexp) int {
	for ls := bytes.LastIndexByte(in[:off-1], '\n') + 1; ; ls = bytes.LastIndexByte(in[:ls-1], '\n') + 1 {
		le := bytes.IndexByte(in[ls:], '\n')
		if le < 0 {
			le = len(in) - ls
		}
		if ls == 0 || start.Match(in[ls:ls+le]) {
			return ls
		}
	}
}

// recordEnd returns where the record going on at off ends.
func recordEnd(in []byte, off int, start *regexp.Regexp) int {
	for ls := off; ls < len(in); {
		le := bytes.IndexByte(in[ls:], '\n')
		if le < 0 {
			return len(in)
		}
		if ls > off && start.Match(in[ls:ls+le]) {
			return ls
		}
		ls += le + 1
	}
	return len(in)
}

// TestRecordsFromSource checks --multiline-timeout with a real pipe: a
// record whose producer pauses is written after the timeout, before input
// ends.
func TestRecordsFromSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	p := testPipeline(t, "-p", path, "--multiline-start", `^\S`, "--multiline-timeout", "50ms")
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := p.a.source(r)
	done := make(chan error, 1)
	go func() { done <- s.run(p.a.stopped, p.a.drained) }()
	wr.WriteString("E 1\n\tat a\n\tat b\n")
	waitFor(t, "the paused record written", func() bool { return readFileQuiet(path) == "E 1\n\tat a\n\tat b\n" })
	wr.WriteString("\tat c\nE 2\n")
	wr.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := readFileQuiet(path); got != "E 1\n\tat a\n\tat b\n\tat c\nE 2\n" {
		t.Errorf("file %q", got)
	}
}
