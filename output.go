package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rotlog/rotlog/rotator"
)

// logger is rotlog's one voice on stderr.
type logger struct {
	w       io.Writer
	verbose bool
}

func (l *logger) warnf(format string, args ...any) {
	fmt.Fprintf(l.w, "rotlog: "+format+"\n", args...)
}

func (l *logger) verbosef(format string, args ...any) {
	if l.verbose {
		l.warnf(format, args...)
	}
}

// output is the target as the sources and the control loop share it: the
// Rotator behind a mutex, the --tee copy, and the retries of a failing
// write. It is the sink of every batcher.
type output struct {
	log *logger

	mu  sync.Mutex // guards rot
	rot *rotator.Rotator

	tee *teeCopy // nil when not teeing

	// stop is done when rotlog stops: a failing write is not retried.
	// locks is done when data already read may no longer wait for a lock
	// (see the stop policy in serve.go).
	stop, locks context.Context
}

// unwrittenError is data that could not be written when rotlog had to
// stop, or ever (permanent).
type unwrittenError struct {
	bytes, lines int
	err          error
	permanent    bool
}

func (e *unwrittenError) Error() string {
	if e.permanent {
		return fmt.Sprintf("%v: this cannot succeed; stopping with %d bytes (%d lines) not written", e.err, e.bytes, e.lines)
	}
	return fmt.Sprintf("%d bytes (%d lines) could not be written: %v", e.bytes, e.lines, e.err)
}

func (e *unwrittenError) Unwrap() error { return e.err }

// permanent reports whether a write error cannot pass while rotlog runs,
// so retrying would only hold the producer up for good: a name too long,
// a directory or device where the file goes. A full disk, an I/O error, a
// permission or a symbolic link may be mended, and are retried.
func permanent(err error) bool {
	var nr *rotator.NotRegularError
	return errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, syscall.EINVAL) ||
		errors.As(err, &nr) && nr.Permanent()
}

// write writes p, whole lines read at now, retrying with backoff while it
// fails, until it is written or rotlog must stop. held is the data read
// after p, counted in the report if it is never written. raw, if not nil,
// is the input p came from, copied to --tee.
func (o *output) write(p, raw []byte, held unwritten, now time.Time) error {
	if raw != nil && o.tee != nil {
		o.tee.copy(raw)
	}
	backoff := 10 * time.Millisecond
	var failed, reported time.Time
	var lastErr string
	for {
		// The lock is not held while waiting: signals and ticks go on.
		o.mu.Lock()
		n, err := o.rot.Write(o.locks, p, now)
		o.mu.Unlock()
		p = p[n:]
		if err == nil {
			if !failed.IsZero() {
				o.log.warnf("writing works again after %s", time.Since(failed).Round(time.Millisecond))
			}
			return nil
		}
		if permanent(err) || o.stop.Err() != nil {
			n, lines := append(unwritten{p}, held...).count()
			return &unwrittenError{bytes: n, lines: lines, err: err, permanent: permanent(err)}
		}
		if msg := err.Error(); msg != lastErr || time.Since(reported) > 30*time.Second {
			o.log.warnf("error: %v; retrying (input is not read meanwhile)", err)
			lastErr, reported = msg, time.Now()
			if failed.IsZero() {
				failed = reported
			}
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-o.stop.Done():
			t.Stop()
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// tick lets the Rotator do what time requires, and says what it did.
func (o *output) tick(ctx context.Context, now time.Time) (rotator.Events, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rot.Tick(ctx, now)
}

// nextTick is when tick next has work to do.
func (o *output) nextTick() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rot.NextTick()
}

// reopen closes the current file; the next write opens the path again.
func (o *output) reopen() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rot.Reopen()
}

// rotate renames the current file now.
func (o *output) rotate(ctx context.Context, now time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rot.Rotate(ctx, now)
}

// close closes the current file.
func (o *output) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rot.Close()
}

// teeBuffer bounds what --tee holds for a slow standard output.
const teeBuffer = 4 << 20

// teeCopy copies input to standard output for --tee without ever making
// logging wait: a goroutine writes the copy, and while standard output is
// teeBuffer behind (its reader stalled) input is not copied. It stops
// copying for good when a write fails (the reader is gone).
type teeCopy struct {
	log    *logger
	ch     chan []byte
	queued atomic.Int64 // bytes in ch
	failed atomic.Bool
	done   chan struct{}

	mu       sync.Mutex // one copy at a time (exec mode has two sources)
	dropping bool       // reported that input is being dropped
}

func newTeeCopy(w io.Writer, log *logger) *teeCopy {
	t := &teeCopy{log: log, ch: make(chan []byte, 1024), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		for b := range t.ch {
			if !t.failed.Load() {
				if _, err := w.Write(b); err != nil {
					t.failed.Store(true)
					log.warnf("--tee: %v; copying to standard output stops, logging goes on", err)
				}
			}
			t.queued.Add(-int64(len(b)))
		}
	}()
	return t
}

// copy queues a copy of p for standard output, or drops it (reported
// once) while standard output is too far behind.
func (t *teeCopy) copy(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed.Load() {
		return
	}
	if t.queued.Load()+int64(len(p)) > teeBuffer || len(t.ch) == cap(t.ch) {
		if !t.dropping {
			t.dropping = true
			t.log.warnf("--tee: standard output is not being read; its copy loses input while it is %d MiB behind, logging goes on", teeBuffer>>20)
		}
		return
	}
	t.queued.Add(int64(len(p)))
	t.ch <- bytes.Clone(p)
}

// close lets the copy finish for up to wait: a stalled reader does not
// keep rotlog from exiting.
func (t *teeCopy) close(wait time.Duration) {
	t.mu.Lock()
	close(t.ch)
	t.mu.Unlock()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-t.done:
	case <-timer.C:
	}
}
