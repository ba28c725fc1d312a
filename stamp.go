package main

import (
	"bytes"
	"time"

	"github.com/lestrrat-go/strftime"
)

// defaultStamp is RFC 3339 with milliseconds and zone.
const defaultStamp = "2006-01-02T15:04:05.000Z07:00"

// stamper prefixes lines with their arrival time and a space.
type stamper struct {
	f   *strftime.Strftime // nil: defaultStamp
	loc *time.Location

	at  time.Time // the instant text was made for
	txt []byte
}

func newStamper(format string, loc *time.Location) (*stamper, error) {
	s := &stamper{loc: loc}
	if format != "" {
		f, err := strftime.New(format, strftime.WithMilliseconds('L'), strftime.WithMicroseconds('f'), strftime.WithUnixSeconds('s'))
		if err != nil {
			return nil, err
		}
		s.f = f
	}
	return s, nil
}

// clone returns a stamper with the same format and a cache of its own.
func (s *stamper) clone() *stamper {
	c := *s
	c.txt = nil
	return &c
}

func (s *stamper) text(now time.Time) []byte {
	if s.txt != nil && now.Equal(s.at) {
		return s.txt
	}
	s.at = now
	t := now.In(s.loc)
	if s.f == nil {
		s.txt = t.AppendFormat(s.txt[:0], defaultStamp)
	} else {
		s.txt = s.f.FormatBuffer(s.txt[:0], t)
	}
	s.txt = append(s.txt, ' ')
	return s.txt
}

// appendStamped appends p to dst with the stamp for now before every line
// start: the first byte if atStart, and every byte after a newline.
func (s *stamper) appendStamped(dst, p []byte, atStart bool, now time.Time) []byte {
	dst, _ = s.appendStampedUpTo(dst, p, atStart, now, -1)
	return dst
}

// appendStampedUpTo is appendStamped for the lines of p that fit while dst
// is under limit bytes (at least one line; no limit if limit < 0). It also
// returns the part of p it took: whole lines, or all of p.
func (s *stamper) appendStampedUpTo(dst, p []byte, atStart bool, now time.Time, limit int) ([]byte, []byte) {
	ts := s.text(now)
	in := p
	for len(p) > 0 {
		if limit >= 0 && len(dst) >= limit && len(p) < len(in) {
			return dst, in[:len(in)-len(p)]
		}
		if atStart {
			dst = append(dst, ts...)
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return append(dst, p...), in
		}
		dst = append(dst, p[:i+1]...)
		p = p[i+1:]
		atStart = true
	}
	return dst, in
}
