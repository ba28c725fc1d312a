package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotlog/rotlog/pattern"
	"golang.org/x/sys/unix"
)

// TestScale runs 256 pipelines on one active file with -when S for 10 s
// (SPEC "Scale"): every line is in exactly one file, whole, in order, and
// in the file of the period it was read in (-t stamps it with that
// instant), and no pipeline reports anything under -v but creations,
// rotations and short lock waits: not a lock waited for past
// --lock-timeout, not a late line sent to the current file. Not timed.
//
// It is not parallel, so that it runs alone: 256 processes are a lot for
// the 2 cores it was written on. The input is light (about 5000 lines a
// second in all), so that every pipeline crosses every boundary without the
// machine being saturated: a pipeline starved of CPU for more than a second
// writes a line so late that its period's file is finished, and by design
// (guarantee 5) it then goes to the current file. With -race the 256
// processes are race-enabled too (the test binary doubles as rotlog):
// measured, they took about 4.5 GB together (18 MB each), against about
// 0.5 GB without -race, and about 11 s of CPU over the 14 s run.
// expectedVerbose matches what -v reports in TestScale's normal run.
// A late line that makes its period's file (no line of the period was
// written before the next period's file was made) is expected too: that is
// guarantee 3 when every pipeline stalled across a boundary.
var expectedVerbose = regexp.MustCompile(`^rotlog: (created app\.log|rotated app\.log to app\.log\.[0-9_-]+|lock \S+ is held; waiting|a line read before \S+ made app\.log\.[0-9_-]+: no line of its period was written before)$`)

func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("256 processes for 10 s")
	}
	const (
		n       = 256
		runFor  = 10 * time.Second
		every   = 100 * time.Millisecond // each pipeline: 1 to 3 lines this often, on average
		patText = "app.log"
	)
	dir := t.TempDir()
	type pipeline struct {
		cmd    *exec.Cmd
		stdin  *os.File
		stderr *syncBuffer
	}
	ps := make([]*pipeline, n)
	for i := range ps {
		cmd := rotlogCmd(t, dir, "rotlog", nil, "-p", patText, "-when", "S", "-t", "-v")
		p := &pipeline{cmd: cmd, stderr: new(syncBuffer)}
		cmd.Stderr = p.stderr
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin, p.stdin = r, w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		ps[i] = p
	}
	sent := make([]int, n)
	var wg sync.WaitGroup
	end := time.Now().Add(runFor)
	for i, p := range ps {
		wg.Go(func() {
			defer p.stdin.Close()
			rng := rand.New(rand.NewPCG(uint64(i), 17))
			time.Sleep(time.Duration(rng.Int64N(int64(every))))
			for time.Now().Before(end) {
				// A line or a few, now and then one of 8 KiB.
				var b strings.Builder
				for range 1 + rng.IntN(3) {
					pad := 20 + rng.IntN(200)
					if rng.IntN(200) == 0 {
						pad = 8 << 10
					}
					b.WriteString(line(i, sent[i], time.Now(), pad))
					sent[i]++
				}
				if _, err := p.stdin.WriteString(b.String()); err != nil {
					t.Errorf("pipeline %d: %v", i, err)
					return
				}
				time.Sleep(every/2 + time.Duration(rng.Int64N(int64(every))))
			}
		})
	}
	wg.Wait()
	for i, p := range ps {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("pipeline %d: %v", i, err)
		}
		// -v reports creations, rotations and lock waits, and nothing
		// else here: a late line sent to the current file, or a lock
		// waited for past --lock-timeout, is reported with its reason.
		for _, l := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
			if l != "" && !expectedVerbose.MatchString(l) {
				t.Errorf("pipeline %d stderr: %s", i, l)
			}
		}
	}
	pat, err := pattern.Compile(patText, pattern.Options{When: "S", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int{}
	for i, k := range sent {
		want[i] = k
	}
	files := checkTargetStamped(t, dir, pat, want, true)
	if t.Failed() {
		// What each file says of itself, to tell what went wrong.
		for _, f := range files {
			buf := make([]byte, 64)
			n, err := unix.Getxattr(f.path, "user.rotlog.start", buf)
			fi, _ := os.Stat(f.path)
			t.Logf("%s: %d bytes, modified %s, recorded start %q %v", filepath.Base(f.path), fi.Size(), fi.ModTime().Format(time.RFC3339Nano), buf[:max(n, 0)], err)
		}
	}
	if len(files) < int(runFor/time.Second)-1 {
		t.Errorf("only %d files after %s of per-second rotation", len(files), runFor)
	}
	for _, f := range files {
		if f.seq != 0 && f.seq != 1<<30 {
			t.Errorf("%s: a period was rotated twice", f.path)
		}
	}
}
