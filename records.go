package main

import (
	"bytes"
	"regexp"
	"time"
)

// records is a batcher's state for --multiline-start: the record being
// read is held back, whole lines and a partial one, until the next record
// starts, the input pauses for --multiline-timeout or ends. Without the
// flag a batcher has none and its hot path never looks at it.
//
// The batcher's buf[:n] is the current record: buf[:scan] its whole lines,
// buf[scan:n] a partial line. A record belongs to the time its first line
// was read (at), so all of it goes to the file of that period.
type records struct {
	start   *regexp.Regexp
	timeout time.Duration

	scan  int       // buf[:scan] are the current record's whole lines
	began bool      // the current record's first line is whole; at is its time
	at    time.Time // when the current record's first line was read
	cont  bool      // the current record continues one written in pieces: not stamped
}

// consumeRecords is consume for --multiline-start: it writes every record
// that the k new bytes end, records read at one time with one write, and
// holds back the current one. A current record longer than --max-line is
// written in pieces: its whole lines first, then, if need be, its last
// line as a line is.
func (b *batcher) consumeRecords(k int, now time.Time) error {
	r := b.rec
	total := b.n + k
	// buf[from:rec] are whole records read at regionAt, to be written with
	// one write; buf[rec:total] is the current record; ls is where the
	// first line not yet looked at begins.
	from, rec, ls := 0, 0, r.scan
	var regionAt time.Time
	fromCont := false
	for {
		// The held partial line has no newline: look only at new bytes.
		off := max(ls, b.n)
		i := bytes.IndexByte(b.buf[off:total], '\n')
		if i < 0 {
			break
		}
		le := off + i + 1
		switch {
		case !r.began:
			r.began, r.at = true, now
			if r.cont && !b.midLine && r.start.Match(b.buf[ls:le-1]) {
				r.cont = false // a record starts right after a piece
			}
		case r.start.Match(b.buf[ls : le-1]):
			// The current record ends before this line.
			if from < rec && !regionAt.Equal(r.at) {
				if err := b.emitRecords(b.buf[from:rec], b.buf[rec:total], !fromCont, regionAt); err != nil {
					return err
				}
				from = rec
			}
			if from == rec {
				regionAt, fromCont = r.at, r.cont
			}
			rec, r.at, r.cont = ls, now, false
		}
		b.midLine = false
		ls = le
	}
	if from < rec {
		if err := b.emitRecords(b.buf[from:rec], b.buf[rec:total], !fromCont, regionAt); err != nil {
			return err
		}
	}
	if total-rec > b.maxLine {
		// Too long to hold back: its whole lines go now, the rest of the
		// record continues in later pieces, each of its own time.
		if ls > rec {
			err := b.emitRecords(b.buf[rec:ls], b.buf[ls:total], !r.cont, r.at)
			rec, r.began, r.cont = ls, false, true
			if err != nil {
				return err
			}
		}
		if total-ls > b.maxLine {
			err := b.emitRecords(b.buf[ls:total], nil, !r.cont && !b.midLine, now)
			rec, r.began, r.cont, b.midLine = total, false, true, true
			if err != nil {
				return err
			}
		}
	}
	b.n = copy(b.buf, b.buf[rec:total])
	r.scan = max(ls-rec, 0)
	return nil
}

// pending reports whether a record with a whole line is held back: one
// that --multiline-timeout would write.
func (b *batcher) pending() bool { return b.rec != nil && b.rec.scan > 0 }

// flushRecord writes the current record's whole lines (all of it with
// partial) at the time of its first line; now is the time of a first line
// not yet whole.
func (b *batcher) flushRecord(now time.Time, partial bool) error {
	r := b.rec
	end := r.scan
	if partial {
		end = b.n
	}
	if end == 0 {
		return nil
	}
	at := now
	if r.began {
		at = r.at
	}
	err := b.emitRecords(b.buf[:end], b.buf[end:b.n], !r.cont, at)
	b.n = copy(b.buf, b.buf[end:b.n])
	r.scan, r.began, r.cont = 0, false, false
	return err
}

// emitRecords writes p, whole records read at now, with one write; a
// longer p (stamped) with one write per batch of whole records. Stamped,
// a record's first line alone gets the stamp: p's first line if first,
// and each later line that starts a record.
func (b *batcher) emitRecords(p, held []byte, first bool, now time.Time) error {
	if b.stamp == nil {
		return b.out.write(p, b.teed(p), unwritten{held}, now)
	}
	ts := b.stamp.text(now)
	for len(p) > 0 {
		b.stamped = b.stamped[:0]
		in := p
		for len(p) > 0 {
			line := p
			if i := bytes.IndexByte(p, '\n'); i >= 0 {
				line = p[:i+1]
			}
			starts := first
			if len(p) < len(in) {
				starts = b.rec.start.Match(bytes.TrimSuffix(line, []byte{'\n'}))
			}
			if starts && len(p) < len(in) && len(b.stamped) >= readSize {
				break // a record starts here: a write may end before it
			}
			if starts {
				b.stamped = append(b.stamped, ts...)
			}
			b.stamped = append(b.stamped, line...)
			p = p[len(line):]
		}
		first = true
		if err := b.out.write(b.stamped, b.teed(in[:len(in)-len(p)]), unwritten{p, held}, now); err != nil {
			return err
		}
	}
	return nil
}
