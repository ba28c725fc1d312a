package pattern

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Unit is the length of one step of a Schedule.
type Unit int

// Units from finest to coarsest; Never means one period for all time.
const (
	Never Unit = iota
	Second
	Minute
	Hour
	Day
	Week
	Month
	Year
)

var unitNames = [...]string{"never", "second", "minute", "hour", "day", "week", "month", "year"}

func (u Unit) String() string {
	if u < 0 || int(u) >= len(unitNames) {
		return "Unit(" + strconv.Itoa(int(u)) + ")"
	}
	return unitNames[u]
}

// finer reports whether u is a finer unit than v; Never is the coarsest.
func (u Unit) finer(v Unit) bool {
	if u == Never {
		return false
	}
	return v == Never || u < v
}

// EndOfTime is the boundary after which a Never schedule would rotate.
var EndOfTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// ParseWhen reads a unit: S, M, H, D, midnight, W0..W6 (0 = Monday),
// month, year or never, in any case, or the words second, minute, hour, day
// and week (= W0). For a weekly unit it also returns the weekday the week
// starts on.
func ParseWhen(s string) (Unit, time.Weekday, error) {
	switch w := strings.ToLower(s); w {
	case "s", "second", "seconds":
		return Second, 0, nil
	case "m", "minute", "minutes":
		return Minute, 0, nil
	case "h", "hour", "hours":
		return Hour, 0, nil
	case "d", "day", "days", "midnight":
		return Day, 0, nil
	case "week", "weeks":
		return Week, time.Monday, nil
	case "month", "months":
		return Month, 0, nil
	case "year", "years":
		return Year, 0, nil
	case "never":
		return Never, 0, nil
	default:
		if len(w) == 2 && w[0] == 'w' && w[1] >= '0' && w[1] <= '6' {
			return Week, time.Weekday((w[1] - '0' + 1) % 7), nil
		}
	}
	return 0, 0, &OptionError{Field: "When", Err: fmt.Errorf("unknown unit %q (want S, M, H, D, midnight, W0..W6, month, year or never)", s)}
}

// A Schedule cuts time into periods of Interval units in Location.
// The zero Interval means 1.
type Schedule struct {
	Unit     Unit
	Interval int
	Weekday  time.Weekday // first day of a week, for Unit Week
	Location *time.Location
}

// civil is a wall-clock reading, compared as a value.
type civil struct {
	y           int
	mo          time.Month
	d, h, mi, s int
}

// instant is the moment the wall clock shows c in a zone at offset seconds east of UTC.
func (c civil) instant(offset int) time.Time {
	return time.Date(c.y, c.mo, c.d, c.h, c.mi, c.s, 0, time.UTC).Add(-time.Duration(offset) * time.Second)
}

func (c civil) days() int {
	return int(time.Date(c.y, c.mo, c.d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func fromDays(n int) civil {
	t := time.Unix(int64(n)*86400, 0).UTC()
	y, mo, d := t.Date()
	return civil{y: y, mo: mo, d: d}
}

// floorMod is the mathematical modulus, never negative for n > 0.
func floorMod(a, n int) int {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}

func (s *Schedule) interval() int {
	if s.Interval < 1 {
		return 1
	}
	return s.Interval
}

func (s *Schedule) loc() *time.Location {
	if s.Location == nil {
		return time.Local
	}
	return s.Location
}

// label is the wall-clock reading at which the period holding t starts.
func (s *Schedule) label(t time.Time) civil {
	w := t.In(s.loc())
	y, mo, d := w.Date()
	h, mi, sec := w.Clock()
	n := s.interval()
	switch s.Unit {
	case Second:
		x := h*3600 + mi*60 + sec
		x -= x % n
		return civil{y, mo, d, x / 3600, x / 60 % 60, x % 60}
	case Minute:
		x := h*60 + mi
		x -= x % n
		return civil{y, mo, d, x / 60, x % 60, 0}
	case Hour:
		return civil{y, mo, d, h - h%n, 0, 0}
	case Day:
		x := civil{y: y, mo: mo, d: d}.days()
		return fromDays(x - floorMod(x, n))
	case Week:
		x := civil{y: y, mo: mo, d: d}.days()
		x -= floorMod(int(w.Weekday())-int(s.Weekday), 7)
		// 1970-01-01 was a Thursday: ref is the first week start on or after it.
		ref := floorMod(int(s.Weekday)-int(time.Thursday), 7)
		weeks := (x - ref) / 7 // exact: x-ref is a multiple of 7
		return fromDays(x - floorMod(weeks, n)*7)
	case Month:
		x := y*12 + int(mo) - 1
		x -= floorMod(x, n)
		return civil{y: x / 12, mo: time.Month(x%12 + 1), d: 1}
	case Year:
		return civil{y: y - floorMod(y, n), mo: 1, d: 1}
	}
	return civil{}
}

// next is the label of the period after the one labelled c.
func (s *Schedule) next(c civil) civil {
	n := s.interval()
	nextDay := func() civil { return fromDays(c.days() + 1) }
	switch s.Unit {
	case Second:
		x := c.h*3600 + c.mi*60 + c.s + n
		if x >= 86400 {
			return nextDay()
		}
		return civil{c.y, c.mo, c.d, x / 3600, x / 60 % 60, x % 60}
	case Minute:
		x := c.h*60 + c.mi + n
		if x >= 1440 {
			return nextDay()
		}
		return civil{c.y, c.mo, c.d, x / 60, x % 60, 0}
	case Hour:
		if c.h+n >= 24 {
			return nextDay()
		}
		return civil{c.y, c.mo, c.d, c.h + n, 0, 0}
	case Day:
		return fromDays(c.days() + n)
	case Week:
		return fromDays(c.days() + 7*n)
	case Month:
		x := c.y*12 + int(c.mo) - 1 + n
		return civil{y: x / 12, mo: time.Month(x%12 + 1), d: 1}
	case Year:
		return civil{y: c.y + n, mo: 1, d: 1}
	}
	return c
}

// zoneBounds is t.ZoneBounds, mended. Past the last transition in its table
// Go computes a zone from the TZ rule and gives the end of a year's last
// segment as the year's start plus 365 days: in a leap year that is the
// start of December 31 (UTC), not after t for instants of that day. The
// zone goes on at least to the end of the year.
func zoneBounds(t time.Time) (start, end time.Time) {
	start, end = t.ZoneBounds()
	if !end.IsZero() && !end.After(t) {
		end = end.Add(24 * time.Hour)
	}
	return start, end
}

// maxTransitions bounds the walk over zone changes; real zones change at
// most a few times within one period.
const maxTransitions = 64

// Start returns the start of the period holding t. For seconds, minutes and
// hours that is the latest instant at or before t at which the wall clock
// showed the period's start, or the zone transition at which the clock
// jumped over it: a repeated hour is a second period. For days, weeks,
// months and years it is the first instant at which the clock showed it (or
// jumped over it): a midnight repeated when the clock falls back (Havana,
// 2026-11-01) does not start a second day. For Never it returns the zero
// Time.
func (s *Schedule) Start(t time.Time) time.Time {
	switch {
	case s.Unit == Never:
		return time.Time{}
	case s.coarse():
		start, _ := s.coarsePeriod(t)
		return start
	}
	return s.latestStart(t)
}

// latestStart is Start for units finer than a day.
func (s *Schedule) latestStart(t time.Time) time.Time {
	lab := s.label(t)
	cur := t.In(s.loc())
	var u time.Time
	for range maxTransitions {
		_, off := cur.Zone()
		u = lab.instant(off)
		zs, _ := zoneBounds(cur)
		if zs.IsZero() || !u.Before(zs) {
			return u
		}
		// The start lies before this zone segment began: either the period
		// runs on from the previous segment, or it began at the transition.
		prev := zs.Add(-time.Nanosecond)
		if s.label(prev) != lab {
			return zs
		}
		cur = prev
	}
	return u
}

// coarse reports whether periods are days or longer, which start at the
// first instant their start is shown (see Start).
func (s *Schedule) coarse() bool { return s.Unit >= Day }

// coarsePeriod returns the period holding t for a coarse unit: the period
// of the latest label whose first instant is at or before t. That is t's
// own label, or a later one when the clock was set back over a boundary
// and shows an earlier day again.
func (s *Schedule) coarsePeriod(t time.Time) (start, next time.Time) {
	lab := s.label(t)
	start = s.first(lab)
	if start.After(t) {
		// Not for any real zone; keep the contract Start(t) <= t.
		start = s.latestStart(t)
	}
	for range maxTransitions {
		nl := s.next(lab)
		next = s.first(nl)
		if next.After(t) {
			break
		}
		lab, start = nl, next
	}
	return start, next
}

// maxOffset bounds the offset of any zone from UTC, local mean times
// included (Manila was 15:56 behind before 1845).
const maxOffset = 17 * time.Hour

// first returns the first instant at which the wall clock showed c or, if
// it never did (a DST gap, a skipped midnight), the zone transition at
// which it jumped over c.
func (s *Schedule) first(c civil) time.Time {
	loc := s.loc()
	nominal := c.instant(0)
	cur := nominal.Add(-maxOffset).In(loc)
	end := nominal.Add(maxOffset)
	for range maxTransitions {
		_, off := cur.Zone()
		u := c.instant(off)
		zs, ze := zoneBounds(cur)
		if (zs.IsZero() || !u.Before(zs)) && (ze.IsZero() || u.Before(ze)) {
			return u // shown in this segment, and in none before
		}
		if ze.IsZero() || ze.After(end) {
			break
		}
		nx := ze.In(loc)
		if _, o := nx.Zone(); c.instant(o).Before(ze) && !u.Before(ze) {
			// Shown neither before the transition nor after it.
			return ze
		}
		cur = nx
	}
	_, off := nominal.In(loc).Zone()
	return c.instant(off)
}

// Next returns the first boundary after t: the start of the period after the
// one holding t. For Never it returns EndOfTime.
func (s *Schedule) Next(t time.Time) time.Time {
	switch {
	case s.Unit == Never:
		return EndOfTime
	case s.coarse():
		_, next := s.coarsePeriod(t)
		return next
	}
	start := s.latestStart(t)
	nl := s.next(s.label(t))
	cur := t.In(s.loc())
	var u time.Time
	for range maxTransitions {
		_, off := cur.Zone()
		u = nl.instant(off)
		_, ze := zoneBounds(cur)
		if ze.IsZero() || u.Before(ze) {
			return u
		}
		// The zone changes first; a new period may begin right there.
		if !s.latestStart(ze).Equal(start) {
			return ze
		}
		cur = ze
	}
	return u
}
