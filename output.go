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

	tee   *teeCopy   // nil when not teeing
	queue *dropQueue // --on-block drop; nil for wait
	stats *stats     // --metrics; nil when not counting

	// failing is set while a write fails and is retried: only then does
	// --on-block drop drop lines. onFailing, if set, hears when it is set.
	failing   atomic.Bool
	onFailing func()

	// budget, with --max-total or --keep-free, keeps the disk budget right
	// after this pipeline rotated a file, and frees this target's oldest
	// rotated files when a write finds the disk full. Used under mu.
	budget *rotator.Keeper

	// stop is done when rotlog stops: a failing write is not retried.
	// locks is done when data already read may no longer wait for a lock
	// (see the stop policy in serve.go).
	stop, locks context.Context
}

// unwrittenError is data that could not be written when rotlog had to
// stop, or ever (permanent).
type unwrittenError struct {
	bytes, lines int
	midLine      bool // the last line counted has no newline yet
	unread       int  // bytes left in the input pipe, not read
	err          error
	permanent    bool
}

// add counts p, read after what e counts, as not written either.
func (e *unwrittenError) add(p []byte) {
	if len(p) == 0 {
		return
	}
	if e.midLine {
		e.lines-- // p continues the line counted last
	}
	e.bytes += len(p)
	e.lines += countNewlines(p)
	if e.midLine = p[len(p)-1] != '\n'; e.midLine {
		e.lines++
	}
}

func (e *unwrittenError) Error() string {
	unread := ""
	if e.unread > 0 {
		unread = fmt.Sprintf("; %d more bytes are left unread in the input pipe", e.unread)
	}
	if e.permanent {
		return fmt.Sprintf("%v: this cannot succeed; stopping with %d bytes (%d lines) not written%s", e.err, e.bytes, e.lines, unread)
	}
	return fmt.Sprintf("%d bytes (%d lines) could not be written: %v%s", e.bytes, e.lines, e.err, unread)
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
	var failed, reported, blocked time.Time
	var lastErr string
	for {
		// The lock is not held while waiting: signals and ticks go on.
		o.mu.Lock()
		rotations := o.rot.Pending().Rotations
		n, err := o.rot.Write(o.locks, p, now)
		o.afterRotation(rotations, now)
		o.mu.Unlock()
		if s := o.stats; s != nil {
			s.wrote(p[:n], err, blocked)
			if !blocked.IsZero() || err != nil {
				blocked = time.Now()
			}
		}
		p = p[n:]
		if err == nil {
			if !failed.IsZero() {
				o.failing.Store(false)
				o.log.warnf("writing works again after %s", time.Since(failed).Round(time.Millisecond))
			}
			return nil
		}
		if !o.failing.Swap(true) && o.onFailing != nil {
			o.onFailing()
		}
		if permanent(err) || o.stop.Err() != nil {
			ue := &unwrittenError{err: err, permanent: permanent(err)}
			for _, q := range append(unwritten{p}, held...) {
				ue.add(q)
			}
			return ue
		}
		if o.freeSpace(p, err, now) {
			continue // at once
		}
		if msg := err.Error(); msg != lastErr || time.Since(reported) > 30*time.Second {
			meanwhile := "input is not read meanwhile"
			if o.queue != nil {
				meanwhile = "input is read on into --buffer, and dropped when it is full"
			}
			if o.budget != nil && rotator.NoSpace(err) {
				meanwhile += "; nothing of this target is left to remove"
			}
			o.log.warnf("error: %v; retrying (%s)", err, meanwhile)
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

// freeSpace, when a write of p failed with err for want of space and a
// disk budget is set, removes this target's oldest rotated files that can
// go, at least p's size; it reports whether it removed any, so that the
// write is retried at once.
func (o *output) freeSpace(p []byte, err error, now time.Time) bool {
	if o.budget == nil || !rotator.NoSpace(err) {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.budget.Free(o.locks, now, int64(len(p)), err) > 0
}

// afterRotation keeps the disk budget if the Rotator rotated a file since
// it had counted rotations; o.mu is held.
func (o *output) afterRotation(rotations int, now time.Time) {
	if o.budget != nil && o.rot.Pending().Rotations > rotations {
		o.budget.Budget(o.locks, now)
	}
}

// tick lets the Rotator do what time requires, and says what it did.
func (o *output) tick(ctx context.Context, now time.Time) (rotator.Events, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	rotations := o.rot.Pending().Rotations
	ev, err := o.rot.Tick(ctx, now)
	if o.budget != nil && ev.Rotations > rotations {
		o.budget.Budget(o.locks, now)
	}
	if o.stats != nil {
		o.stats.rotations.Add(int64(ev.Rotations))
	}
	return ev, err
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
	rotations := o.rot.Pending().Rotations
	err := o.rot.Rotate(ctx, now)
	o.afterRotation(rotations, now)
	return err
}

// close writes what --on-block drop still holds, then closes the current
// file.
func (o *output) close() error {
	var err error
	if o.queue != nil {
		err = o.queue.close()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return errors.Join(err, o.rot.Close())
}

// sink returns what one source's batcher writes to: the output itself, or
// with --on-block drop a front of its own to the queue.
func (o *output) sink() sink {
	if o.queue == nil {
		return o
	}
	return &dropFront{q: o.queue}
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

// dropQueue is --on-block drop: the sources put batches into it without
// waiting for the disk, and one goroutine writes them in order through
// output.write (which retries a failing write as ever). It holds at most
// size bytes: when a batch does not fit, the whole lines that fit are
// kept and the rest are dropped, whole lines only, counted. Where lines
// were dropped a marker line takes their place in the log, written when
// the writer gets to it, and said on stderr then too.
type dropQueue struct {
	out         *output
	size        int64
	onPermanent func() // called when the writer meets a permanent error

	mu     sync.Mutex
	cond   *sync.Cond // items taken or added, the writer stopped
	items  []queued
	queued int64 // bytes of data in items and in the one being written
	closed bool
	err    *unwrittenError // why the writer stopped; what was not written
	done   chan struct{}   // the writer has stopped

	drop drops // dropped since the last marker
}

// queued is one batch to write, or a marker for dropped lines.
type queued struct {
	p      []byte
	now    time.Time
	marker *drops
}

// drops counts lines dropped in a row.
type drops struct {
	lines, bytes int64
	first, last  time.Time
}

func (d *drops) line() []byte {
	return fmt.Appendf(nil, "rotlog: dropped %d lines (%d bytes) between %s and %s\n",
		d.lines, d.bytes, d.first.Format(time.RFC3339), d.last.Format(time.RFC3339))
}

func newDropQueue(out *output, size int64) *dropQueue {
	q := &dropQueue{out: out, size: size, done: make(chan struct{}), onPermanent: func() {}}
	q.cond = sync.NewCond(&q.mu)
	out.onFailing = func() {
		// A source waiting for room stops waiting: it drops now.
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	}
	go q.run()
	return q
}

// dropFront is one source's way into a dropQueue: it remembers where that
// source's current line stands, so that a line is kept or dropped whole.
type dropFront struct {
	q        *dropQueue
	dropping bool // the start of the current line was dropped: drop the rest
	kept     bool // the start of the current line was queued: queue the rest
}

// write queues p, whole lines read at now (or a piece of a line too long
// to hold back), as far as the queue has room, and drops the rest. It
// never waits for the disk; it waits for room only to queue the rest of a
// line whose start is queued already. After the writer stopped, p is
// counted as not written.
func (f *dropFront) write(p, raw []byte, _ unwritten, now time.Time) error {
	q := f.q
	if raw != nil && q.out.tee != nil {
		q.out.tee.copy(raw)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if f.dropping {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			q.dropped(p, 0, now)
			return nil
		}
		q.dropped(p[:i+1], 0, now)
		p, f.dropping = p[i+1:], false
	}
	if f.kept && len(p) > 0 {
		end := len(p)
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			end = i + 1
		}
		for q.err == nil && q.queued > 0 && q.queued+int64(end) > q.size {
			q.cond.Wait()
		}
		q.push(p[:end], now)
		p, f.kept = p[end:], end == len(p) && p[end-1] != '\n'
	}
	if len(p) == 0 {
		return nil
	}
	// While writing works, a full queue slows the producer, as in wait
	// mode: only a write that fails makes lines be dropped.
	for !q.out.failing.Load() && q.err == nil && q.queued > 0 && q.queued+int64(len(p)) > q.size {
		q.cond.Wait()
	}
	if !q.out.failing.Load() && q.err == nil {
		q.push(p, now)
		f.kept = p[len(p)-1] != '\n'
		return nil
	}
	keep := len(p)
	if room := q.size - q.queued; int64(keep) > room {
		keep = bytes.LastIndexByte(p[:max(room, 0)], '\n') + 1
	}
	if keep > 0 {
		q.push(p[:keep], now)
		f.kept = p[keep-1] != '\n'
	}
	if rest := p[keep:]; len(rest) > 0 {
		lines := countNewlines(rest)
		if rest[len(rest)-1] != '\n' {
			lines++
			f.dropping = true
		}
		q.dropped(rest, lines, now)
	}
	return nil
}

// push queues a copy of p, after a marker for lines dropped before it.
func (q *dropQueue) push(p []byte, now time.Time) {
	if q.err != nil {
		q.err.bytes += len(p)
		q.err.lines += countNewlines(p)
		return
	}
	q.pushMarker()
	q.items = append(q.items, queued{p: bytes.Clone(p), now: now})
	q.queued += int64(len(p))
	q.cond.Broadcast()
}

// pushMarker queues the marker for lines dropped since the last one, if any.
func (q *dropQueue) pushMarker() {
	if q.drop.bytes == 0 {
		return
	}
	d := q.drop
	q.drop = drops{}
	q.items = append(q.items, queued{now: d.last, marker: &d})
}

// dropped counts p, lines lines, as dropped at now.
func (q *dropQueue) dropped(p []byte, lines int, now time.Time) {
	if len(p) == 0 {
		return
	}
	if q.drop.bytes == 0 {
		q.drop.first = now
		q.out.log.warnf("writing is blocked and --buffer (%d bytes) is full: dropping whole lines until there is room", q.size)
	}
	q.drop.lines += int64(lines)
	q.drop.bytes += int64(len(p))
	q.drop.last = now
	if s := q.out.stats; s != nil {
		s.linesDropped.Add(int64(lines))
		s.bytesDropped.Add(int64(len(p)))
	}
}

// run writes the queue until it is closed and empty, or a write fails for
// good (the stop policy ended the retries, or the error is permanent).
func (q *dropQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		for len(q.items) == 0 && !q.closed {
			q.cond.Wait()
		}
		if len(q.items) == 0 {
			q.mu.Unlock()
			return
		}
		it := q.items[0]
		q.items[0] = queued{}
		q.items = q.items[1:]
		q.mu.Unlock()

		p := it.p
		if it.marker != nil {
			p = it.marker.line()
			q.out.log.warnf("%s", bytes.TrimSuffix(p[len("rotlog: "):], []byte("\n")))
		}
		err := q.out.write(p, nil, nil, it.now)

		q.mu.Lock()
		q.queued -= int64(len(it.p))
		q.cond.Broadcast()
		if err != nil {
			ue, ok := err.(*unwrittenError)
			if !ok {
				ue = &unwrittenError{err: err}
			}
			for _, rest := range q.items {
				ue.bytes += len(rest.p)
				ue.lines += countNewlines(rest.p)
				if m := rest.marker; m != nil {
					// Lines dropped before: not written either.
					ue.bytes += int(m.bytes)
					ue.lines += int(m.lines)
				}
			}
			q.items, q.queued, q.err = nil, 0, ue
			q.mu.Unlock()
			if ue.permanent {
				q.onPermanent()
			}
			return
		}
		q.mu.Unlock()
	}
}

// close writes what is queued, and a marker for lines dropped at the end,
// and returns what could not be written.
func (q *dropQueue) close() error {
	q.mu.Lock()
	if q.err == nil {
		q.pushMarker()
	}
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	<-q.done
	if q.err != nil {
		// Lines dropped since the last marker, which never went out.
		q.mu.Lock()
		q.err.bytes += int(q.drop.bytes)
		q.err.lines += int(q.drop.lines)
		q.mu.Unlock()
		return q.err
	}
	return nil
}
