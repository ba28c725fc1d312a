package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// traceRecord is record id of pipeline p: a header "ERROR p=P id=ID n=N"
// and N indented "at" lines that name it, some padded so that the record
// is longer than 64 KiB (more than a pipe holds, so it is read in pieces).
func traceRecord(p, id int, rng *rand.Rand) string {
	n := 5 + rng.IntN(196)
	pad := 20
	if rng.IntN(10) == 0 {
		pad = 400 // up to 80 KB
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ERROR p=%d id=%d n=%d pad=%d\n", p, id, n, pad)
	for k := range n {
		fmt.Fprintf(&b, "\tat p%d.id%d.Frame%d(%s)\n", p, id, k, strings.Repeat("x", pad))
	}
	return b.String()
}

var traceHeader = regexp.MustCompile(`^(\d{6}) ERROR p=(\d+) id=(\d+) n=(\d+) pad=(\d+)$`)

// TestRecordsManyPipelines runs 8 pipelines writing Java-like stack traces
// in random pieces to one template target with -when S and -t on first
// lines (one of each pipeline's records straddling a boundary): every
// record is found once, whole and contiguous, in the file of
// the period its stamp (its first line's read time) names, and no other
// line is stamped.
func TestRecordsManyPipelines(t *testing.T) {
	dir := t.TempDir()
	const pipes = 8
	d := 3 * time.Second
	if testing.Short() {
		d = time.Second
	}
	sent := make([]int, pipes)
	straddle := make([]string, pipes) // when the straddling record's first line was sent
	var wg sync.WaitGroup
	for p := range pipes {
		pr := startRotlog(t, dir, "rotlog", nil, "-p", "%H%M%S.log", "-when", "S",
			"--multiline-start", `^ERROR`, "--multiline-timeout", "1m", "--timestamp=%H%M%S")
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(p), 7))
			end := time.Now().Add(d)
			for id := 0; time.Now().Before(end); id++ {
				rec := traceRecord(p, id, rng)
				if id == 3 {
					// Straddle a boundary: the first line just after one,
					// the rest after the next. The record belongs to the
					// first line's period, not the one it ends in.
					i := strings.IndexByte(rec, '\n') + 1
					time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
					straddle[p] = time.Now().UTC().Format("150405")
					pr.stdin.Write([]byte(rec[:i]))
					time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
					rec = rec[i:]
				}
				for len(rec) > 0 {
					k := min(len(rec), 1+rng.IntN(20000))
					if _, err := pr.stdin.Write([]byte(rec[:k])); err != nil {
						t.Errorf("pipeline %d: %v", p, err)
						return
					}
					rec = rec[k:]
				}
				sent[p] = id + 1
			}
			pr.wait(t)
		}()
	}
	wg.Wait()
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(files) < 2 {
		t.Fatalf("%d files; want records in several periods", len(files))
	}
	seen := map[[2]int]bool{}
	for _, f := range files {
		period := strings.TrimSuffix(filepath.Base(f), ".log")
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		ln := 0
		for sc.Scan() {
			ln++
			m := traceHeader.FindStringSubmatch(sc.Text())
			if m == nil {
				t.Fatalf("%s:%d: not a record's first line: %.80q", f, ln, sc.Text())
			}
			if m[1] != period {
				t.Errorf("%s:%d: record read at %s is in the file of %s", f, ln, m[1], period)
			}
			p, _ := strconv.Atoi(m[2])
			id, _ := strconv.Atoi(m[3])
			n, _ := strconv.Atoi(m[4])
			pad, _ := strconv.Atoi(m[5])
			if seen[[2]int{p, id}] {
				t.Errorf("%s:%d: record p=%d id=%d doubled", f, ln, p, id)
			}
			seen[[2]int{p, id}] = true
			if id == 3 && m[1] != straddle[p] {
				// rotlog read it late (by most of a second), or filed it
				// by its last line.
				t.Errorf("%s:%d: record p=%d id=%d sent %s, across a boundary, is stamped and filed %s", f, ln, p, id, straddle[p], m[1])
			}
			for k := range n {
				want := fmt.Sprintf("\tat p%d.id%d.Frame%d(%s)", p, id, k, strings.Repeat("x", pad))
				if !sc.Scan() || sc.Text() != want {
					t.Fatalf("%s:%d: record p=%d id=%d: line %d is %.80q, want %.80q", f, ln+1, p, id, k, sc.Text(), want)
				}
				ln++
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for p, n := range sent {
		total += n
		for id := range n {
			if !seen[[2]int{p, id}] {
				t.Errorf("record p=%d id=%d lost", p, id)
			}
		}
	}
	if len(seen) != total {
		t.Errorf("%d records found, %d sent", len(seen), total)
	}
	t.Logf("%d records in %d files", total, len(files))
}
