package main

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMaxLineExact checks the --max-line boundary: a line of exactly
// --max-line bytes whose newline comes in a later read is held back and
// written whole with it; one byte more goes out in pieces.
func TestMaxLineExact(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		line      string
		wantPiece bool // written before its newline arrives
	}{
		{strings.Repeat("x", 9), false},
		{strings.Repeat("x", 10), false},
		{strings.Repeat("x", 11), true},
	} {
		path := filepath.Join(t.TempDir(), "app.log")
		b := testPipeline(t, "-p", path, "--max-line", "10").batcher()
		feed := func(s string) {
			t.Helper()
			if err := b.consume(copy(b.space(), s), now); err != nil {
				t.Fatal(err)
			}
		}
		feed("a\n" + tc.line)
		got, _ := os.ReadFile(path)
		if piece := len(got) > len("a\n"); piece != tc.wantPiece {
			t.Errorf("a line of %d bytes, --max-line 10: written before its newline = %v, want %v (file %q)", len(tc.line), piece, tc.wantPiece, got)
		}
		feed("\nb\n")
		if got, _ := os.ReadFile(path); string(got) != "a\n"+tc.line+"\nb\n" {
			t.Errorf("file %q", got)
		}
	}
}

// TestStampedMemoryBounded checks that --timestamp keeps memory bounded
// whatever the lines and the stamp format: a read of one-byte lines with a
// 160-byte stamp is written in batches of about readSize, not stamped into
// one buffer 80 times the read's size.
func TestStampedMemoryBounded(t *testing.T) {
	format := strings.Repeat("%Y-%m-%d ", 16) // 16 × 11 bytes
	path := filepath.Join(t.TempDir(), "app.log")
	b := testPipeline(t, "-p", path, "--timestamp="+format).batcher()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	in := strings.Repeat("a\n", readSize/2)
	if err := b.consume(copy(b.space(), in), now); err != nil {
		t.Fatal(err)
	}
	stamp := len(b.stamp.text(now))
	if limit := readSize + stamp + 2; cap(b.stamped) > 2*limit {
		t.Errorf("the stamped buffer grew to %d bytes for a read of %d; want about %d at most", cap(b.stamped), readSize, limit)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != int64(readSize/2*(stamp+2)) {
		t.Errorf("app.log: %v, %v; want %d bytes", fi.Size(), err, readSize/2*(stamp+2))
	}
}

// failingSink fails every write, recording what it was given.
type failingSink struct{ got [][]byte }

func (f *failingSink) write(p, raw []byte, held unwritten, now time.Time) error {
	f.got = append(f.got, bytes.Clone(p))
	ue := &unwrittenError{err: errors.New("disk on fire")}
	for _, q := range append(unwritten{p}, held...) {
		ue.add(q)
	}
	return ue
}

// TestBatcherAfterFailedWrite checks that a batch whose write failed is not
// sent again: the partial line held back before it was part of that batch
// (and of its report), so finishing the input writes nothing more.
func TestBatcherAfterFailedWrite(t *testing.T) {
	o, err := parseArgs([]string{"-p", filepath.Join(t.TempDir(), "app.log"), "--max-line", "10"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := o.config(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sink := &failingSink{}
	b := c.newBatcher(sink)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b.consume(copy(b.space(), "AAAA"), now) // held back: no newline yet
	if err := b.consume(copy(b.space(), "BB\nCC"), now); err == nil {
		t.Fatal("the failing write was not reported")
	}
	if err := b.finish(now); err != nil {
		t.Errorf("finish after the failed batch sent more: %v", err)
	}
	if len(sink.got) != 1 || string(sink.got[0]) != "AAAABB\n" {
		t.Errorf("writes %q, want the one batch \"AAAABB\\n\"", sink.got)
	}
}

// TestUnwrittenAdd checks that counting data piece by piece, cut anywhere,
// counts its bytes and lines as counting it whole does: a line split across
// pieces is one line, and a last line without a newline counts.
func TestUnwrittenAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, data := range []string{"", "a", "a\n", "\n\n", "ab\ncd", "ab\ncd\n", "x\ny\nzz\n\nlast"} {
		want := strings.Count(data, "\n")
		if data != "" && !strings.HasSuffix(data, "\n") {
			want++
		}
		for range 20 {
			var e unwrittenError
			for rest := data; rest != ""; {
				k := 1 + rng.IntN(len(rest))
				e.add([]byte(rest[:k]))
				rest = rest[k:]
			}
			if e.bytes != len(data) || e.lines != want {
				t.Fatalf("%q counted as %d bytes, %d lines; want %d, %d", data, e.bytes, e.lines, len(data), want)
			}
		}
	}
}
