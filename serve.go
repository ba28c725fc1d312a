package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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

// Pending signals, as bits.
const (
	sigStop uint32 = 1 << iota
	sigReopen
	sigRotate
)

// app is one running pipeline: the read loop and what it writes to.
type app struct {
	cfg     *config
	rot     *rotator.Rotator
	stderr  io.Writer
	verbose bool

	in       *os.File // standard input; read deadlines work if pollable
	pollable bool     //
	signals  atomic.Uint32
	wake     chan struct{} // poked on every signal
	deadline time.Time     // the read deadline now set
	lastTick time.Time     // real time of the last Tick
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

// serve copies stdin to the target until EOF or a stop signal.
func (a *app) serve(stdin *os.File) error {
	if err := a.openInput(stdin); err != nil {
		return err
	}
	defer a.closeInput()
	a.wake = make(chan struct{}, 1)
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGALRM)
	defer signal.Stop(sigc)
	done := make(chan struct{})
	defer close(done)
	go a.catch(sigc, done)

	a.tick(a.now())
	buf := make([]byte, readSize+a.cfg.maxLine)
	n := 0 // buf[:n] is a partial line held back
	for {
		if s := a.signals.Swap(0); s != 0 {
			if s&sigStop != 0 {
				n, _ = a.drain(buf, n)
				return a.finish(buf[:n])
			}
			a.handle(s)
		}
		a.armDeadline()
		k, err := a.in.Read(buf[n:])
		now := a.now()
		if k > 0 {
			var werr error
			if n, werr = a.consume(buf, n, k, now); werr != nil {
				return werr
			}
		}
		switch {
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		case err == io.EOF:
			return a.finish(buf[:n])
		default:
			ferr := a.finish(buf[:n])
			return errors.Join(fmt.Errorf("read standard input: %w", err), ferr)
		}
		if time.Since(a.lastTick) >= tickEvery || !now.Before(a.rot.NextTick()) {
			a.tick(now)
		}
	}
}

// consume takes k new bytes after the n held in buf, writes every whole
// line with one write, and returns how many bytes it holds back.
func (a *app) consume(buf []byte, n, k int, now time.Time) (int, error) {
	total := n + k
	// Only the new bytes can hold a newline: the held ones had none.
	if i := bytes.LastIndexByte(buf[n:total], '\n'); i >= 0 {
		end := n + i + 1
		if err := a.write(buf[:end], buf[end:total], now); err != nil {
			return 0, err
		}
		return copy(buf, buf[end:total]), nil
	}
	if total >= a.cfg.maxLine {
		// Too long to hold back: write this piece now.
		return 0, a.write(buf[:total], nil, now)
	}
	return total, nil
}

// write writes p, retrying with backoff while it fails, until it is
// written or rotlog must stop. held is the data read after p, counted in
// the report if it is never written.
func (a *app) write(p, held []byte, now time.Time) error {
	backoff := 10 * time.Millisecond
	var failed time.Time
	var lastErr string
	for {
		n, err := a.rot.Write(p, now)
		p = p[n:]
		if err == nil {
			if !failed.IsZero() {
				a.warnf("writing works again after %s", time.Since(failed).Round(time.Millisecond))
			}
			return nil
		}
		if msg := err.Error(); msg != lastErr || time.Since(failed) > 30*time.Second {
			a.warnf("error: %v; retrying (input is not read meanwhile)", err)
			lastErr = msg
			if failed.IsZero() {
				failed = time.Now()
			}
		}
		if a.signals.Load()&sigStop != 0 {
			return &unwrittenError{
				bytes: len(p) + len(held),
				lines: bytes.Count(p, []byte{'\n'}) + bytes.Count(held, []byte{'\n'}) + boolInt(len(held) > 0 && held[len(held)-1] != '\n'),
				err:   err,
			}
		}
		select {
		case <-time.After(backoff):
		case <-a.wake:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// finish writes the held partial line, as it is, and closes the target.
func (a *app) finish(held []byte) error {
	var err error
	if len(held) > 0 {
		err = a.write(held, nil, a.now())
	}
	return errors.Join(err, a.rot.Close())
}

// drain reads what is already waiting in a pollable input after a stop
// signal, writing whole lines, and returns what it holds back.
func (a *app) drain(buf []byte, n int) (int, error) {
	if !a.pollable {
		return n, nil
	}
	a.in.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	for {
		k, err := a.in.Read(buf[n:])
		if k > 0 {
			var werr error
			if n, werr = a.consume(buf, n, k, a.now()); werr != nil {
				return n, werr
			}
		}
		if err != nil {
			return n, nil
		}
	}
}

func (a *app) handle(s uint32) {
	now := a.now()
	if s&sigReopen != 0 {
		a.verbosef("SIGHUP: reopening")
		a.rot.Reopen()
	}
	if s&sigRotate != 0 {
		a.verbosef("SIGALRM: rotating")
		if err := a.rot.Rotate(now); err != nil {
			a.warnf("error: %v", err)
		}
	}
}

func (a *app) tick(now time.Time) {
	a.lastTick = time.Now()
	if err := a.rot.Tick(now); err != nil {
		a.warnf("error: %v", err)
	}
}

// catch turns signals into pending bits and wakes the read loop.
func (a *app) catch(sigc <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case sig := <-sigc:
			switch sig {
			case syscall.SIGHUP:
				a.signals.Or(sigReopen)
			case syscall.SIGALRM:
				a.signals.Or(sigRotate)
			default:
				a.signals.Or(sigStop)
			}
			select {
			case a.wake <- struct{}{}:
			default:
			}
			if a.pollable {
				a.in.SetReadDeadline(time.Now())
			}
		}
	}
}

// armDeadline sets the read deadline to the next tick, if pollable. It is
// called before the pending signals are checked again on the next turn, so
// a signal's own deadline is never lost: catch sets the bit first.
func (a *app) armDeadline() {
	if !a.pollable {
		return
	}
	d := a.lastTick.Add(tickEvery)
	if next := a.rot.NextTick(); !next.IsZero() {
		if at := time.Now().Add(next.Sub(a.now())); at.Before(d) {
			d = at
		}
	}
	if !d.Equal(a.deadline) {
		a.deadline = d
		a.in.SetReadDeadline(d)
	}
	if a.signals.Load() != 0 {
		a.in.SetReadDeadline(time.Now())
		a.deadline = time.Time{}
	}
}

// openInput prepares stdin: a pipe or socket gets its own non-blocking
// descriptor in Go's poller, so that ticks and signals can interrupt a
// read; anything else (a file, a terminal) is read as it is.
func (a *app) openInput(stdin *os.File) error {
	a.in = stdin
	sc, err := stdin.SyscallConn()
	if err != nil {
		return nil
	}
	var fd int
	var derr error
	var st unix.Stat_t
	err = sc.Control(func(f uintptr) {
		if unix.Fstat(int(f), &st) != nil {
			fd = -1
			return
		}
		if t := st.Mode & unix.S_IFMT; t != unix.S_IFIFO && t != unix.S_IFSOCK {
			fd = -1
			return
		}
		fd, derr = unix.Dup(int(f))
	})
	if err != nil || derr != nil || fd < 0 {
		return nil
	}
	unix.CloseOnExec(fd)
	if st.Mode&unix.S_IFMT == unix.S_IFIFO {
		// Fewer, larger reads: a 64 KiB pipe costs twice cat's CPU in
		// wake-ups. Best effort; the limit is /proc/sys/fs/pipe-max-size.
		unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil
	}
	a.in = os.NewFile(uintptr(fd), "stdin")
	a.pollable = true
	return nil
}

// closeInput gives the input back as it was found: blocking.
func (a *app) closeInput() {
	if a.pollable {
		if sc, err := a.in.SyscallConn(); err == nil {
			sc.Control(func(fd uintptr) { unix.SetNonblock(int(fd), false) })
		}
		a.in.Close()
	}
}
