package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchLines returns about size bytes of access-log-like lines of 60 to 300
// bytes (every one in longEvery, if not 0, 10 to 50 KB), and their count.
func benchLines(size int, longEvery int, seed uint64) ([]byte, int) {
	rng := rand.New(rand.NewPCG(seed, 0))
	var b []byte
	lines := 0
	for len(b) < size {
		n := 60 + rng.IntN(241)
		if longEvery > 0 && rng.IntN(longEvery) == 0 {
			n = 10_000 + rng.IntN(40_001)
		}
		start := len(b)
		b = fmt.Appendf(b, "10.%d.%d.%d - - [25/Nov/2026:12:00:00 +0000] \"GET /x HTTP/1.1\" 200 %d ",
			rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(100000))
		for len(b)-start < n-1 {
			b = append(b, byte('a'+rng.IntN(26)))
		}
		b = append(b[:start+n-1], '\n')
		lines++
	}
	return b, lines
}

// benchTraces returns about size bytes of benchLines with a Java-like
// stack trace (a header, 5 to 40 indented "at" lines) after every tenth
// line, and the count of lines.
func benchTraces(size int, seed uint64) ([]byte, int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	plain, _ := benchLines(size, 0, seed)
	var b []byte
	lines := 0
	for len(b) < size && len(plain) > 0 {
		i := bytes.IndexByte(plain, '\n')
		b = append(b, plain[:i+1]...)
		plain = plain[i+1:]
		lines++
		if lines%10 == 0 {
			b = fmt.Appendf(b, "ERROR [worker-%d] request failed: java.lang.IllegalStateException: id=%d\n", rng.IntN(64), lines)
			for range 5 + rng.IntN(36) {
				b = fmt.Appendf(b, "\tat com.example.service.Handler%d.process(Handler.java:%d)\n", rng.IntN(100), rng.IntN(1000))
				lines++
			}
			lines++
		}
	}
	return b, lines
}

// BenchmarkConsume measures the batcher of rotlog -p DIR/app.log -when H
// (with -t for timestamp), built as run builds it: an op is one read
// of up to readSize bytes (cut at arbitrary points, as a pipe gives them)
// split at its last newline and written with one write(2) to a real file
// (truncated now and then, outside the timer). The goal is 0 allocs/op,
// and so 0 per line.
func BenchmarkConsume(b *testing.B) {
	for _, bc := range []struct {
		name      string
		longEvery int  // 0: no long lines
		nonl      bool // no newline at all
		stamp     bool
		records   bool // stack traces, --multiline-start '^\S'
	}{
		{name: "lines"},
		{name: "lines+long", longEvery: 200},
		{name: "no-newline", nonl: true},
		{name: "timestamp", stamp: true},
		{name: "records", records: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var input []byte
			lines := 0
			switch {
			case bc.nonl:
				input = bytes.Repeat([]byte{'x'}, 8<<20)
			case bc.records:
				input, lines = benchTraces(8<<20, 1)
			default:
				input, lines = benchLines(8<<20, bc.longEvery, 1)
			}
			path := filepath.Join(b.TempDir(), "app.log")
			args := []string{"-p", path, "-when", "H", "--utc"}
			if bc.stamp {
				args = append(args, "-t")
			}
			if bc.records {
				args = append(args, `--multiline-start=^\S`)
			}
			s := testPipeline(b, args...).batcher()
			now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			// Reads as a pipe gives them: readSize, but not on line ends.
			off := 0
			next := func() int {
				if off+readSize > len(input) {
					off = 0
				}
				k := copy(s.space(), input[off:off+readSize])
				off += k
				return k
			}
			// The first write opens the file: not the hot path.
			if err := s.consume(next(), now); err != nil {
				b.Fatal(err)
			}
			// Measure what was asked for: stamped lines are stamped.
			if head, err := os.ReadFile(path); !bc.nonl && (err != nil || bytes.HasPrefix(head, []byte("2026-11-25T12:00:00.000Z ")) != bc.stamp) {
				b.Fatalf("with stamp %v, the file begins %.40q (%v)", bc.stamp, head, err)
			}
			b.SetBytes(readSize)
			b.ReportAllocs()
			ops := 0
			for b.Loop() {
				if err := s.consume(next(), now); err != nil {
					b.Fatal(err)
				}
				if ops++; ops%512 == 0 {
					b.StopTimer()
					if err := os.Truncate(path, 0); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
			if lines > 0 {
				perOp := float64(lines) * readSize / float64(len(input))
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops)/perOp, "ns/line")
			}
		})
	}
}

// BenchmarkStamp measures --timestamp's prefixing of a batch of lines read
// at one instant (the stamp text is made once per instant).
func BenchmarkStamp(b *testing.B) {
	input, lines := benchLines(readSize, 0, 2)
	st, err := newStamper("", time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	dst := st.appendStamped(nil, input, true, now)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond) // a new read, a new stamp
		dst = st.appendStamped(dst[:0], input, true, now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(lines), "ns/line")
}
