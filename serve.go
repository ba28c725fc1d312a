package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/rotator"
)

// readSize is how much one read asks for; a pipe gives at most what it
// holds, up to pipeSize once rotlog has enlarged it.
const (
	readSize = 256 << 10
	pipeSize = 1 << 20
)

// tickEvery bounds the time between Ticks, so an idle rotlog notices a
// boundary or a moved file within about a second.
const tickEvery = time.Second

// drainFor is how long a stop signal lets rotlog go on reading its input
// until end of file: a producer stopped with it has time to exit.
const drainFor = time.Second

// app is one running pipeline: its sources of lines, the control loop
// (signals, ticks) and the target they write to.
type app struct {
	cfg     *config
	stderr  io.Writer
	verbose bool

	mu  sync.Mutex // guards rot
	rot *rotator.Rotator

	teeMu sync.Mutex
	tee   io.Writer // nil when not teeing, or after stdout failed

	keeper     *rotator.Keeper
	cancelKeep func()        // ends a housekeeping pass, on a stop
	housekeep  chan struct{} // a housekeeping pass is wanted
	rotations  int           // rot.Rotations() when last looked at

	stopping atomic.Bool
	wake     chan struct{} // closed when stopping, to end retry waits
}

func (a *app) now() time.Time { return time.Now().Add(a.cfg.offset) }

func (a *app) warnf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "rotlog: "+format+"\n", args...)
}

func (a *app) verbosef(format string, args ...any) {
	if a.verbose {
		a.warnf(format, args...)
	}
}

// unwrittenError is data that could not be written when rotlog had to stop.
type unwrittenError struct {
	bytes, lines int
	err          error
}

func (e *unwrittenError) Error() string {
	return fmt.Sprintf("%d bytes (%d lines) could not be written: %v", e.bytes, e.lines, e.err)
}

// child is the command of exec mode, if any.
type child interface {
	signal(os.Signal)
	exited() <-chan struct{}
}

// serve copies the sources to the target until each reaches EOF, or, on a
// stop signal without a child, until each has written what it read.
// Signals meant for a child are forwarded to it.
func (a *app) serve(sources []*source, kid child) error {
	sigc := make(chan os.Signal, 16)
	sigs := []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGALRM, syscall.SIGPIPE}
	if kid != nil {
		sigs = append(sigs, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	}
	signal.Notify(sigc, sigs...)
	control := make(chan os.Signal, 16)
	defer func() {
		signal.Stop(sigc)
		close(sigc)
	}()

	a.housekeep = make(chan struct{}, 1)
	if a.keeper.Active() {
		ctx, cancel := context.WithCancel(context.Background())
		a.cancelKeep = cancel
		last, kept := make(chan struct{}), make(chan struct{})
		go a.keep(ctx, last, kept)
		defer func() {
			// At end of input a last pass finishes what this pipeline
			// rotated; a stop signal cuts housekeeping short.
			if a.stopping.Load() {
				cancel()
			}
			close(last)
			<-kept
			cancel()
		}()
	}
	go a.catch(sigc, control, sources, kid)
	// Restart safety: rotate what an earlier run left before reading. A stop
	// signal ends a wait for the lock here.
	a.tick(a.now())
	errc := make(chan error, len(sources))
	for _, s := range sources {
		go func() { errc <- s.run() }()
	}
	timer := time.NewTimer(a.untilTick())
	defer timer.Stop()
	var errs []error
	var exited <-chan struct{}
	if kid != nil {
		exited = kid.exited()
	}
	for running := len(sources); running > 0; {
		select {
		case <-exited:
			// What the command wrote is in the pipes: read it, then stop,
			// even if a descendant holds them open.
			exited = nil
			a.stop(sources)
		case err := <-errc:
			running--
			errs = append(errs, err)
		case sig := <-control:
			a.onSignal(sig)
		case <-timer.C:
			a.tick(a.now())
			timer.Reset(a.untilTick())
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return errors.Join(append(errs, a.rot.Close())...)
}

// catch acts on stop signals at once, whatever the rest is doing (it may
// be waiting for a lock, which a stop ends), forwards signals to a child,
// and passes HUP and ALRM on to the control loop.
func (a *app) catch(sigc <-chan os.Signal, control chan<- os.Signal, sources []*source, kid child) {
	forwarded := 0
	for sig := range sigc {
		switch sig {
		case syscall.SIGHUP, syscall.SIGALRM:
			select {
			case control <- sig:
			default: // plenty are pending already
			}
		case syscall.SIGPIPE:
			// Only --tee writes to a pipe; the failed write says so.
		default:
			if kid != nil {
				// The command decides; its output is read to the end. A
				// second TERM or INT stops rotlog too (a descendant may
				// hold the pipes open forever).
				kid.signal(sig)
				if sig != syscall.SIGTERM && sig != syscall.SIGINT {
					continue
				}
				if forwarded++; forwarded < 2 {
					continue
				}
			}
			a.stop(sources)
		}
	}
}

// stop makes every source read what its input holds, for up to drainFor,
// write it and finish; waits for a lock and housekeeping end.
func (a *app) stop(sources []*source) {
	if a.stopping.Load() {
		return
	}
	// Interrupt before saying so: a source already draining would have
	// its drain deadline cut short.
	for _, s := range sources {
		s.interrupt()
	}
	if a.stopping.CompareAndSwap(false, true) {
		close(a.wake)
		if a.cancelKeep != nil {
			a.cancelKeep()
		}
	}
}

// onSignal handles HUP and ALRM in the control loop.
func (a *app) onSignal(sig os.Signal) {
	switch sig {
	case syscall.SIGHUP:
		a.verbosef("SIGHUP: reopening")
		a.mu.Lock()
		a.rot.Reopen()
		a.mu.Unlock()
	case syscall.SIGALRM:
		a.verbosef("SIGALRM: rotating")
		a.mu.Lock()
		err := a.rot.Rotate(a.now())
		a.mu.Unlock()
		if err != nil {
			a.warnf("error: %v", err)
		}
		a.wantHousekeeping()
	}
}

func (a *app) untilTick() time.Duration {
	a.mu.Lock()
	next := a.rot.NextTick()
	a.mu.Unlock()
	return min(tickEvery, max(next.Sub(a.now()), time.Millisecond))
}

func (a *app) tick(now time.Time) {
	a.mu.Lock()
	before := a.rot.NextTick()
	err := a.rot.Tick(now)
	boundary := !a.rot.NextTick().Equal(before)
	rotations := a.rot.Rotations()
	a.mu.Unlock()
	if err != nil {
		a.warnf("error: %v", err)
	}
	if boundary || rotations != a.rotations {
		a.rotations = rotations
		a.wantHousekeeping()
	}
}

// wantHousekeeping asks for a housekeeping pass.
func (a *app) wantHousekeeping() {
	select {
	case a.housekeep <- struct{}{}:
	default:
	}
}

// keep runs housekeeping passes when asked, again a second later while a
// file is still held by some pipeline, and every 30 s; after last is
// closed it runs one more pass and returns.
func (a *app) keep(ctx context.Context, last <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	retry := time.NewTimer(30 * time.Second)
	defer retry.Stop()
	for {
		final := false
		select {
		case <-ctx.Done():
			return
		case <-last:
			final = true
		case <-a.housekeep:
		case <-retry.C:
		}
		again := a.keeper.Pass(ctx, a.now())
		if final {
			return
		}
		wait := 30 * time.Second
		if again {
			wait = time.Second
		}
		retry.Reset(wait)
	}
}

// write writes p, whole lines read at now, retrying with backoff while it
// fails, until it is written or rotlog must stop. held is the data read
// after p, counted in the report if it is never written. raw, if not nil,
// is the input p came from, copied to --tee.
func (a *app) write(p, raw, held []byte, now time.Time) error {
	if raw != nil {
		a.copyTee(raw)
	}
	backoff := 10 * time.Millisecond
	var failed, reported time.Time
	var lastErr string
	for {
		// The lock is not held while waiting: signals and ticks go on.
		a.mu.Lock()
		n, err := a.rot.Write(p, now)
		a.mu.Unlock()
		p = p[n:]
		if err == nil {
			if !failed.IsZero() {
				a.warnf("writing works again after %s", time.Since(failed).Round(time.Millisecond))
			}
			return nil
		}
		if msg := err.Error(); msg != lastErr || time.Since(reported) > 30*time.Second {
			a.warnf("error: %v; retrying (input is not read meanwhile)", err)
			lastErr, reported = msg, time.Now()
			if failed.IsZero() {
				failed = reported
			}
		}
		if a.stopping.Load() {
			lines := bytes.Count(p, []byte{'\n'}) + bytes.Count(held, []byte{'\n'})
			if len(held) > 0 && held[len(held)-1] != '\n' {
				lines++
			}
			return &unwrittenError{bytes: len(p) + len(held), lines: lines, err: err}
		}
		select {
		case <-time.After(backoff):
		case <-a.wake:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// copyTee copies input to standard output for --tee, until that fails.
func (a *app) copyTee(raw []byte) {
	a.teeMu.Lock()
	defer a.teeMu.Unlock()
	if a.tee == nil {
		return
	}
	if _, err := a.tee.Write(raw); err != nil {
		a.warnf("--tee: %v; copying to standard output stops, logging goes on", err)
		a.tee = nil
	}
}

// source reads one input and hands whole lines to the app.
type source struct {
	a        *app
	in       *os.File
	pollable bool // read deadlines work, so a stop can interrupt a read
	tee      bool // copy this input to --tee
	restore  func()

	buf     []byte // buf[:n] is a partial line held back
	n       int
	midLine bool     // a piece of the current line was already written
	stamp   *stamper // --timestamp, this source's own (it caches)
	stamped []byte   // --timestamp output buffer, reused
}

func (a *app) newSource(in *os.File, tee bool) *source {
	s := &source{a: a, tee: tee}
	if a.cfg.stamp != nil {
		st := *a.cfg.stamp
		st.txt = nil
		s.stamp = &st
	}
	s.in, s.pollable, s.restore = pollable(in)
	s.buf = make([]byte, readSize+a.cfg.maxLine)
	return s
}

// interrupt wakes a read blocked on a pollable input.
func (s *source) interrupt() {
	if s.pollable {
		s.in.SetReadDeadline(time.Now())
	}
}

// run reads until EOF or a stop, then writes the partial line held back.
func (s *source) run() error {
	defer s.restore()
	for {
		if s.a.stopping.Load() {
			return s.drain()
		}
		k, err := s.in.Read(s.buf[s.n : s.n+readSize])
		if k > 0 {
			if werr := s.consume(k, s.a.now()); werr != nil {
				return werr
			}
		}
		switch {
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		case err == io.EOF:
			return s.finish()
		default:
			return errors.Join(fmt.Errorf("read %s: %w", s.in.Name(), err), s.finish())
		}
	}
}

// drain reads a pollable input until EOF or for drainFor, then finishes.
func (s *source) drain() error {
	if s.pollable {
		s.in.SetReadDeadline(time.Now().Add(drainFor))
		for {
			k, err := s.in.Read(s.buf[s.n : s.n+readSize])
			if k > 0 {
				if werr := s.consume(k, s.a.now()); werr != nil {
					return werr
				}
			}
			if err != nil {
				break
			}
		}
	}
	return s.finish()
}

// consume takes k new bytes after the n held, writes every whole line
// with one write, and keeps the rest.
func (s *source) consume(k int, now time.Time) error {
	n, total := s.n, s.n+k
	// Only the new bytes can hold a newline: the held ones had none.
	if i := lastNewline(s.buf[n:total]); i >= 0 {
		end := n + i + 1
		if total-end < s.a.cfg.maxLine {
			if err := s.emit(s.buf[:end], s.buf[end:total], now); err != nil {
				return err
			}
			s.n = copy(s.buf, s.buf[end:total])
			s.midLine = false
			return nil
		}
		// The rest is too long to hold back as well: write all of it.
	}
	if total >= s.a.cfg.maxLine {
		// Too long to hold back: write this piece now.
		s.n = 0
		err := s.emit(s.buf[:total], nil, now)
		s.midLine = true
		return err
	}
	s.n = total
	return nil
}

// lastNewline is bytes.LastIndexByte(b, '\n'), fast on long stretches
// without one too: LastIndexByte is a plain loop, IndexByte is vectorised.
// It looks back over the last 4 KiB, then scans the rest forwards.
func lastNewline(b []byte) int {
	const tail = 4 << 10
	if len(b) <= tail {
		return bytes.LastIndexByte(b, '\n')
	}
	head := len(b) - tail
	if i := bytes.LastIndexByte(b[head:], '\n'); i >= 0 {
		return head + i
	}
	last := -1
	for off := 0; ; {
		i := bytes.IndexByte(b[off:head], '\n')
		if i < 0 {
			return last
		}
		last = off + i
		off = last + 1
	}
}

// finish writes the held partial line as it is.
func (s *source) finish() error {
	if s.n == 0 {
		return nil
	}
	err := s.emit(s.buf[:s.n], nil, s.a.now())
	s.n = 0
	return err
}

// emit writes p (whole lines, or a piece of a line), stamped if asked.
func (s *source) emit(p, held []byte, now time.Time) error {
	var raw []byte
	if s.tee {
		raw = p
	}
	if s.stamp != nil {
		s.stamped = s.stamp.appendStamped(s.stamped[:0], p, !s.midLine, now)
		p = s.stamped
	}
	return s.a.write(p, raw, held, now)
}

// pollable returns a descriptor for in that Go's poller can interrupt, if
// in is a pipe, socket or terminal: a non-blocking duplicate, and a
// function that puts the original back in blocking mode. Anything else (a
// file) is returned as it is.
func pollable(in *os.File) (*os.File, bool, func()) {
	nothing := func() {}
	sc, err := in.SyscallConn()
	if err != nil {
		return in, false, nothing
	}
	fd := -1
	var st unix.Stat_t
	sc.Control(func(f uintptr) {
		if unix.Fstat(int(f), &st) != nil {
			return
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFIFO, unix.S_IFSOCK:
		case unix.S_IFCHR:
			if !isTerminal(int(f)) {
				return
			}
		default:
			return
		}
		fd, _ = unix.Dup(int(f))
	})
	if fd < 0 {
		return in, false, nothing
	}
	unix.CloseOnExec(fd)
	if st.Mode&unix.S_IFMT == unix.S_IFIFO {
		// Fewer, larger reads: a 64 KiB pipe costs twice cat's CPU in
		// wake-ups. Best effort; the limit is /proc/sys/fs/pipe-max-size.
		growPipe(fd, pipeSize)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return in, false, nothing
	}
	f := os.NewFile(uintptr(fd), in.Name())
	return f, true, func() {
		// O_NONBLOCK belongs to the open file, shared with whoever else
		// holds it: give it back as it was found.
		if sc, err := f.SyscallConn(); err == nil {
			sc.Control(func(fd uintptr) { unix.SetNonblock(int(fd), false) })
		}
		f.Close()
	}
}
