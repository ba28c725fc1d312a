package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// readSize is how much one read asks for; a pipe gives at most what it
// holds, up to pipeSize once rotlog has enlarged it.
const (
	readSize = 256 << 10
	pipeSize = 1 << 20
)

// sink takes what a batcher makes: p, whole lines read at now or a piece
// of a line too long to hold back, to be written with one write; raw, the
// input p was made from, for --tee (nil when not teeing); and held, the
// input read after it, which a report counts if p is never written.
type sink interface {
	write(p, raw []byte, held unwritten, now time.Time) error
}

// unwritten is input read but not yet written, in pieces.
type unwritten [][]byte

// batcher turns reads into batches of whole lines: it holds back a partial
// line until its newline arrives (up to maxLine bytes before the newline;
// a longer line is written in pieces), stamps lines for --timestamp, and hands each batch to its sink.
// A batcher belongs to one source.
type batcher struct {
	out     sink
	maxLine int
	tee     bool     // hand the raw input to the sink too
	stamp   *stamper // --timestamp, this batcher's own (it caches); nil for none
	rec     *records // --multiline-start; nil for none

	buf     []byte // buf[:n] is a partial line held back
	n       int
	midLine bool   // a piece of the current line was already written
	stamped []byte // stamped output, reused
}

// newBatcher returns the batcher of one input, as --max-line, --timestamp
// and --tee say, writing to out.
func (c *config) newBatcher(out sink) *batcher {
	b := &batcher{out: out, maxLine: c.maxLine, tee: c.tee, buf: make([]byte, readSize+c.maxLine)}
	if c.stamp != nil {
		b.stamp = c.stamp.clone()
	}
	if c.multiline != nil {
		b.rec = &records{start: c.multiline, timeout: c.multilineTimeout}
	}
	return b
}

// space is where the next read goes: after the bytes held back.
func (b *batcher) space() []byte { return b.buf[b.n : b.n+readSize] }

// consume takes k new bytes read into space at now, writes every whole
// line with one write, and keeps the rest.
func (b *batcher) consume(k int, now time.Time) error {
	if b.rec != nil {
		return b.consumeRecords(k, now)
	}
	n, total := b.n, b.n+k
	// Only the new bytes can hold a newline: the held ones had none.
	if i := lastNewline(b.buf[n:total]); i >= 0 {
		end := n + i + 1
		if total-end <= b.maxLine {
			if err := b.emit(b.buf[:end], b.buf[end:total], now); err != nil {
				b.n = 0 // the report counted the rest too
				return err
			}
			b.n = copy(b.buf, b.buf[end:total])
			b.midLine = false
			return nil
		}
		// The rest is too long to hold back as well: write all of it.
	}
	if total > b.maxLine {
		// Longer than --max-line: write this piece now.
		b.n = 0
		err := b.emit(b.buf[:total], nil, now)
		b.midLine = true
		return err
	}
	b.n = total
	return nil
}

// finish writes the partial line (or record) held back, as it is.
func (b *batcher) finish(now time.Time) error {
	if b.rec != nil {
		return b.flushRecord(now, true)
	}
	if b.n == 0 {
		return nil
	}
	err := b.emit(b.buf[:b.n], nil, now)
	b.n = 0
	return err
}

// emit writes p (whole lines, or a piece of a line), stamped if asked.
func (b *batcher) emit(p, held []byte, now time.Time) error {
	if b.stamp == nil {
		return b.out.write(p, b.teed(p), unwritten{held}, now)
	}
	// Stamped, p grows by a stamp a line: write it in batches of whole
	// lines of about readSize, so that memory stays bounded whatever the
	// lines and the stamp format.
	atStart := !b.midLine
	for len(p) > 0 {
		var in []byte
		b.stamped, in = b.stamp.appendStampedUpTo(b.stamped[:0], p, atStart, now, readSize)
		p = p[len(in):]
		if err := b.out.write(b.stamped, b.teed(in), unwritten{p, held}, now); err != nil {
			return err
		}
		atStart = true
	}
	return nil
}

// teed is p if it is to be copied to --tee, else nil.
func (b *batcher) teed(p []byte) []byte {
	if b.tee {
		return p
	}
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

// source reads one input into its batcher until end of input or a stop.
type source struct {
	orig     *os.File // the input as given
	in       *os.File // what is read: orig, or a pollable duplicate
	pollable bool     // read deadlines work, so a stop can interrupt a read
	restore  func()   // undoes pollable; once
	b        *batcher
	now      func() time.Time
	// keep, for --input, is a write end of the named pipe held so that
	// reading does not end when its writers come and go; closed at a stop
	// (see openFIFO).
	keep *os.File

	// open is set when reading ended with the input still open: the drain
	// ran out before end of input. holders are the processes that held it.
	open    bool
	holders []int
}

// newSource returns the source reading in into b, with now as its clock.
func newSource(in *os.File, b *batcher, now func() time.Time) *source {
	s := &source{orig: in, b: b, now: now}
	var restore func()
	s.in, s.pollable, restore = pollable(in)
	s.restore = sync.OnceFunc(restore)
	return s
}

// run reads until end of input. Once stopped is done it drains: it reads
// on until end of input or until drained is done, then takes what the input
// already holds without waiting. It writes everything it read, including a
// last partial line.
func (s *source) run(stopped, drained context.Context) error {
	defer s.restore()
	if s.keep != nil {
		defer s.keep.Close()
	}
	if err := s.read(stopped); err != nil || stopped.Err() == nil {
		s.countHeld(err)
		return errors.Join(err, s.b.finish(s.now()))
	}
	if s.keep != nil {
		// Drain a named pipe as standard input: until its writers close it.
		s.keep.Close()
	}
	err := s.read(drained)
	if err == nil && drained.Err() != nil {
		err = s.readHeld()
	}
	s.countHeld(err)
	if s.open {
		// Let writers meet EPIPE now rather than when rotlog exits: what
		// they write from here on is not read.
		name := pipeName(s.in)
		s.restore()
		s.orig.Close()
		s.holders = pipeHolders(name)
	}
	return errors.Join(err, s.b.finish(s.now()))
}

// read reads into the batcher until end of input, an error, or ctx is
// done. At end of input it returns nil with ctx not done, or sets open.
func (s *source) read(ctx context.Context) error {
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		if s.pollable {
			s.in.SetReadDeadline(time.Now())
		}
		close(interrupted)
	})
	defer func() {
		if !stop() {
			// The interrupt has run or is running: let it finish, then
			// clear its deadline for whatever reads next.
			<-interrupted
		}
		if s.pollable {
			s.in.SetReadDeadline(time.Time{})
		}
	}()
	// --multiline-timeout: while a record is held back, a read waits for
	// at most that long; a stop's deadline wins, since ctx is checked
	// after each deadline is set.
	timer := s.b.rec != nil && s.pollable
	if timer && s.b.pending() {
		// A record held back from before (a stop came in between) keeps
		// its timeout.
		s.in.SetReadDeadline(time.Now().Add(s.b.rec.timeout))
	}
	for ctx.Err() == nil {
		k, err := s.in.Read(s.b.space())
		if k > 0 {
			if werr := s.b.consume(k, s.now()); werr != nil {
				return werr
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if k == 0 && ctx.Err() == nil && s.b.pending() {
				// No stop: the input paused for --multiline-timeout.
				if werr := s.b.flushRecord(s.now(), false); werr != nil {
					return werr
				}
			}
		case err == io.EOF:
			s.open = false
			return nil
		default:
			return fmt.Errorf("read %s: %w", s.in.Name(), err)
		}
		if timer && (k > 0 || err != nil) {
			var d time.Time
			if s.b.pending() {
				d = time.Now().Add(s.b.rec.timeout)
			}
			s.in.SetReadDeadline(d)
		}
	}
	s.open = true
	return nil
}

// readHeld reads what a pollable input holds now, without waiting.
func (s *source) readHeld() error {
	if !s.pollable {
		return nil
	}
	sc, err := s.in.SyscallConn()
	if err != nil {
		return err
	}
	for {
		var k int
		var rerr error
		err := sc.Read(func(fd uintptr) bool {
			k, rerr = unix.Read(int(fd), s.b.space())
			return true // never wait
		})
		if err == nil {
			err = rerr
		}
		if k > 0 {
			if werr := s.b.consume(k, s.now()); werr != nil {
				return werr
			}
			continue
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		switch {
		case k == 0 && err == nil:
			s.open = false // end of input after all
			return nil
		case errors.Is(err, unix.EAGAIN):
			return nil
		default:
			return fmt.Errorf("read %s: %w", s.in.Name(), err)
		}
	}
}

// countHeld notes on the report err makes of what was not written (if it
// makes one) how many bytes the input still holds, unread: they are not
// read, so that whoever reads the pipe next (a restarted logger) still
// gets them.
func (s *source) countHeld(err error) {
	var ue *unwrittenError
	if !errors.As(err, &ue) || !s.pollable {
		return
	}
	if sc, serr := s.in.SyscallConn(); serr == nil {
		sc.Control(func(fd uintptr) { ue.unread = unreadBytes(int(fd)) })
	}
}

// pollable returns a descriptor for in that Go's poller can interrupt, if
// in is a pipe, socket or terminal: a non-blocking one, and a function
// that lets go of it. A pipe is opened anew where the system allows it
// (ownReader), so that O_NONBLOCK is set on rotlog's own open file; else,
// and for the others, it is a duplicate sharing the open file, and the
// function puts the original back in blocking mode. Anything else (a file)
// is returned as it is.
func pollable(in *os.File) (*os.File, bool, func()) {
	nothing := func() {}
	sc, err := in.SyscallConn()
	if err != nil {
		return in, false, nothing
	}
	fd := -1
	private := false // fd is an open file of its own, not shared
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
		if st.Mode&unix.S_IFMT == unix.S_IFIFO {
			fd = ownReader(int(f))
			private = fd >= 0
		}
		if fd < 0 {
			fd, _ = unix.Dup(int(f))
		}
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
		// holds it: give it back as it was found. (A pipe opened anew has
		// its own, which a kill cannot leave set on someone else's.)
		if sc, err := f.SyscallConn(); err == nil && !private {
			sc.Control(func(fd uintptr) { unix.SetNonblock(int(fd), false) })
		}
		f.Close()
	}
}

func countNewlines(p []byte) int { return bytes.Count(p, []byte{'\n'}) }
