package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pipeline is a rotlog pipeline built for a test as run builds it, from a
// command line, without signals or sources.
type pipeline struct {
	tb testing.TB
	a  *app
}

// testPipeline builds the pipeline of rotlog ARGS, with its reports going
// to the test log; it is closed when the test ends.
func testPipeline(tb testing.TB, args ...string) pipeline {
	tb.Helper()
	o, err := parseArgs(args)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := o.config(time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	a := newApp(c, io.Discard, tbWriter{tb})
	tb.Cleanup(func() {
		a.stop()
		a.out.close()
	})
	return pipeline{tb, a}
}

// batcher returns a batcher of the pipeline, built as for a source.
func (p pipeline) batcher() *batcher { return p.a.cfg.newBatcher(p.a.out) }

// tbWriter sends rotlog's reports to the test log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// FuzzBatcher feeds arbitrary bytes, cut into arbitrary reads, through the
// line batcher to a real file, and checks: bytes out are
// bytes in; what is held back stays within --max-line (memory is bounded);
// and after every write the file ends at a line end, unless the line was
// too long to hold and went out in pieces.
func FuzzBatcher(f *testing.F) {
	f.Add([]byte("a\nb\nc"), uint64(1), uint8(4))
	f.Add([]byte("no newline at all, and longer than max-line"), uint64(2), uint8(7))
	f.Add([]byte("\n\n\x00\xff\xfe\n"), uint64(3), uint8(1))
	f.Add(bytes.Repeat([]byte("0123456789\n"), 40), uint64(4), uint8(10))
	f.Add([]byte("a\n"+string(bytes.Repeat([]byte{'x'}, 30))), uint64(5), uint8(10))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64, maxLine uint8) {
		ml := int(maxLine%64) + 1
		path := filepath.Join(t.TempDir(), "app.log")
		b := testPipeline(t, "-p", path, "--max-line", strconv.Itoa(ml)).batcher()
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
			got, _ := os.ReadFile(path)
			if !bytes.HasPrefix(in, got) {
				t.Fatalf("file %q is not a prefix of the input %q", got, in)
			}
			if last := bytes.LastIndexByte(got, '\n'); len(got) > 0 && last != len(got)-1 && len(got)-last-1 <= ml {
				t.Fatalf("a line of %d bytes, within --max-line %d, was cut: file %q", len(got)-last-1, ml, got)
			}
		}
		if err := b.finish(now); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, in) {
			t.Fatalf("file %q, input %q", got, in)
		}
	})
}

// FuzzLastNewline checks lastNewline against bytes.LastIndexByte.
func FuzzLastNewline(f *testing.F) {
	f.Add([]byte("a\nb"), uint16(0))
	f.Add(bytes.Repeat([]byte("x"), 9000), uint16(100))
	f.Add(bytes.Repeat([]byte("x"), 9000), uint16(8999))
	f.Fuzz(func(t *testing.T, b []byte, at uint16) {
		// Long inputs matter: spread b over 10 KiB with one newline at at.
		big := bytes.Repeat([]byte{'x'}, 10<<10)
		copy(big, b)
		if int(at) < len(big) {
			big[at] = '\n'
		}
		for _, in := range [][]byte{b, big} {
			if got, want := lastNewline(in), bytes.LastIndexByte(in, '\n'); got != want {
				t.Fatalf("lastNewline = %d, want %d", got, want)
			}
		}
	})
}
