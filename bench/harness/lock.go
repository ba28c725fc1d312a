//go:build linux

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/pattern"
	"github.com/rotlog/rotlog/rotator"
)

// hold is one lifetime of the lock file, as the spinner saw it.
type hold struct {
	start, end time.Time
}

// spinner watches a lock file from a thread of its own, calling lstat in a
// tight loop: it sees the file appear (the O_EXCL create that takes the
// lock) and disappear (the remove that releases it) within about a
// microsecond each, from outside the code that holds the lock. On a busy
// machine its thread may be off the CPU for the whole of a short hold, so
// the Locked hook waits until the spinner has seen the lock (see lockMain).
type spinner struct {
	path     string
	lastSeen atomic.Int64 // start (Unix ns) of the latest look that found the file
	stop     atomic.Bool
	started  chan struct{}
	done     chan []hold
}

func spin(path string) *spinner {
	s := &spinner{path: path, started: make(chan struct{}), done: make(chan []hold, 1)}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var holds []hold
		var st unix.Stat_t
		var ino uint64
		var cur *hold
		close(s.started)
		for {
			stopping := s.stop.Load()
			before := time.Now()
			err := unix.Lstat(s.path, &st)
			now := time.Now()
			if err == nil {
				s.lastSeen.Store(before.UnixNano())
			}
			switch {
			case err == nil && (cur == nil || st.Ino != ino):
				if cur != nil {
					cur.end = now // released and taken again between two looks
					holds = append(holds, *cur)
				}
				cur, ino = &hold{start: now}, st.Ino
			case err != nil && cur != nil:
				cur.end = now
				holds = append(holds, *cur)
				cur = nil
			}
			if stopping {
				// The operation has returned, so it has released the lock.
				if cur != nil {
					cur.end = now
					holds = append(holds, *cur)
				}
				s.done <- holds
				return
			}
		}
	}()
	<-s.started
	return s
}

func (s *spinner) finish() []hold {
	s.stop.Store(true)
	return <-s.done
}

func lockMain(args []string) {
	fs := flag.NewFlagSet("lock", flag.ExitOnError)
	work := fs.String("work", "bench/out/work", "scratch directory (emptied)")
	n := fs.Int("n", 200, "boundaries (rotations) to measure")
	batch := fs.Int("batch", 256<<10, "bytes written in each period before its boundary")
	fs.Parse(args)
	dir, err := filepath.Abs(filepath.Join(*work, "lock"))
	if err != nil {
		fatalf("%v", err)
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(dir)
	target := filepath.Join(dir, "app.log")
	pat, err := pattern.Compile(target, pattern.Options{When: "S", Location: time.UTC})
	if err != nil {
		fatalf("%v", err)
	}
	// The Locked hook, called once the lock is taken, notes the time and
	// waits until the spinner has seen the lock file, so that the spinner is
	// sure to be looking when it is removed; the wait is not counted.
	var cur atomic.Pointer[spinner]
	var hookIn, hookOut atomic.Int64
	r := rotator.New(rotator.Config{
		Pattern:     pat,
		LockTimeout: 10 * time.Second,
		Logf:        func(format string, args ...any) { logf("rotator: "+format, args...) },
		Locked: func() {
			in := time.Now().UnixNano()
			hookIn.Store(in)
			if s := cur.Load(); s != nil {
				for s.lastSeen.Load() < in {
				}
			}
			hookOut.Store(time.Now().UnixNano())
		},
	})
	defer r.Close()
	line := []byte("127.0.0.1 - - [25/Nov/2026:12:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 1234\n")
	data := bytes.Repeat(line, *batch/len(line)+1)

	// Periods of the synthetic clock: rotator takes the time of each write
	// as an argument, so the boundaries come as fast as the rotations go.
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if _, err := r.Write(ctx, data, now); err != nil {
		fatalf("%v", err)
	}
	lockPath := target + ".lock"
	type sample struct {
		before time.Duration // from the create, if the spinner saw it, to the hook
		after  time.Duration // from the hook's return to the remove
		seen   bool          // the spinner saw the create before the hook ran
	}
	held := func(s sample) float64 { return (s.before + s.after).Seconds() }
	var tickHolds, writeHolds []sample
	var boundary []float64 // Tick + first Write, seconds
	var extra int          // lock lifetimes beyond the one expected per call
	measure := func(into *[]sample, fn func() error) {
		hookIn.Store(0)
		s := spin(lockPath)
		cur.Store(s)
		err := fn()
		holds := s.finish()
		cur.Store(nil)
		if err != nil {
			fatalf("%v", err)
		}
		if len(holds) == 0 || hookIn.Load() == 0 {
			fatalf("the lock was not taken")
		}
		extra += len(holds) - 1
		h := holds[len(holds)-1]
		in, out := time.Unix(0, hookIn.Load()), time.Unix(0, hookOut.Load())
		smp := sample{after: h.end.Sub(out)}
		if h.start.Before(in) {
			smp.before, smp.seen = in.Sub(h.start), true
		}
		*into = append(*into, smp)
	}
	rotations := 0
	for range *n {
		now = now.Add(time.Second)
		t0 := time.Now()
		// What serve.go does at a boundary: Tick (rotates the ended file
		// under the lock), then the first Write of the period (opens and
		// creates the new file under the lock).
		measure(&tickHolds, func() error {
			ev, err := r.Tick(ctx, now)
			rotations += ev.Rotations
			return err
		})
		measure(&writeHolds, func() error { _, err := r.Write(ctx, data, now); return err })
		boundary = append(boundary, time.Since(t0).Seconds())
	}
	files, _ := filepath.Glob(target + ".*")

	t := table{head: []string{"lock taken by", "n", "held: median", "p90", "max", "create → hook: median (seen)", "hook → release: median"}}
	add := func(name string, ss []sample) {
		var hs, before, after []float64
		for _, s := range ss {
			hs = append(hs, held(s))
			if s.seen {
				before = append(before, s.before.Seconds())
			}
			after = append(after, s.after.Seconds())
		}
		t.add(name, fmt.Sprint(len(ss)), ms(median(hs)), ms(quantile(hs, 0.9)), ms(slices.Max(hs)),
			fmt.Sprintf("%s (%d)", ms(median(before)), len(before)), ms(median(after)))
	}
	add("Tick at the boundary: checks and renames app.log (the rotation)", tickHolds)
	add("first Write of the period: creates app.log, records its period", writeHolds)
	both := make([]sample, len(tickHolds))
	for i := range both {
		a, b := tickHolds[i], writeHolds[i]
		both[i] = sample{a.before + b.before, a.after + b.after, a.seen && b.seen}
	}
	add("both, per boundary", both)
	fmt.Printf("### Lock held per rotation\n\n%d boundaries of an active file (`-when S`, synthetic clock), %d KiB written per period, "+
		"rotator package in-process, as serve.go drives it. `held` is the lock file's life, O_EXCL create to remove, seen by a "+
		"thread calling lstat in a loop (about 1 µs per look), less the time the rotator.Config.Locked hook spends making sure that thread is looking: "+
		"`create → hook` (counted when the spinner saw the create: the O_EXCL open, flock and owner write) plus `hook → release` "+
		"(the check, the rename or the create, to the remove). When the create was not seen, `held` is `hook → release` alone.\n\n",
		*n, *batch>>10)
	fmt.Print(t.String())
	fmt.Printf("\nRotations done: %d (rotated files: %d); lock lives seen beyond one per call: %d. "+
		"Tick + first Write per boundary (with the directory fsync after the rename, outside the lock): median %s, max %s.\n\n",
		rotations, len(files), extra, ms(median(boundary)), ms(slices.Max(boundary)))
}
