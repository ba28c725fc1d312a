package pattern

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzFrom and fuzzSpan are the instants the fuzz targets use: 1980 to 2100,
// after the epoch so that %s is never negative.
var (
	fuzzFrom = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	fuzzSpan = int64(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Sub(fuzzFrom) / time.Second)
)

func zoneIndex(name string) uint8 {
	for i, z := range zones {
		if z == name {
			return uint8(i)
		}
	}
	return 0 // "" is UTC
}

// fuzzLocations loads zones once per fuzz target, indexed as zoneIndex.
func fuzzLocations(f *testing.F) []*time.Location {
	locs := make([]*time.Location, len(zones))
	for i, z := range zones {
		locs[i] = loadLocation(f, z)
	}
	return locs
}

// longPeriod reports whether a period of interval units can be longer than
// 10 years. Start and Next walk over at most 64 zone boundaries (see
// maxTransitions), and past 2037 Go reports three a year (the two DST
// changes and the turn of the year), so periods of about 20 years and more
// are outside the contract ("real zones change at most a few times within
// one period"); huge intervals would also overflow the calendar arithmetic.
func longPeriod(unit Unit, interval int) bool {
	switch unit {
	case Day:
		return interval > 10*365
	case Week:
		return interval > 10*52
	case Month:
		return interval > 10*12
	case Year:
		return interval > 10
	}
	return interval > 1<<30 // S, M and H periods end at midnight anyway
}

// ambiguous reports whether names of the strftime format p can be split in
// more than one way by Match's regular expression, which picks one split,
// maybe not the one that expands back to the name: two conversions of
// variable width (%Z, %s, unpadded ones) with nothing between them but text
// and conversions made of characters both may show (letters, digits, + and
// -). "%Z%s" in Lord Howe gives "+112090848395": zone "+11" or "+1120"?
func ambiguous(p string) bool {
	elems, err := scan(p)
	if err != nil {
		return false
	}
	seen := false // a variable-width conversion, and no separator since
	for _, e := range elems {
		variable := e.verb == 'Z' || e.verb == 's' || e.noPad
		if variable && seen {
			return true
		}
		switch {
		case e.verb == 0:
			if strings.Trim(e.text, zoneChars) != "" {
				seen = false
			}
		case strings.IndexByte("TRrXDxcnt%", e.verb) >= 0: // show ':', '/', ' ', ...
			seen = false
		case variable:
			seen = true
		}
	}
	return false
}

// zoneChars are the characters a zone abbreviation (%Z) may have.
const zoneChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-"

func FuzzCompile(f *testing.F) {
	at := func(s string) int64 { return instant(f, s).Unix() }
	now := at("2026-11-25T13:47:23Z")
	for _, tc := range pathTests {
		f.Add(tc.pattern, tc.o.when, tc.o.interval, tc.o.suffix, zoneIndex(tc.o.zone), at(tc.at))
	}
	for _, tc := range rotatedNameTests {
		f.Add(tc.pattern, tc.o.when, tc.o.interval, tc.o.suffix, zoneIndex(tc.o.zone), at(tc.start))
	}
	for _, tc := range matchActiveTests {
		f.Add(tc.pattern, tc.o.when, tc.o.interval, tc.o.suffix, uint8(1), now)
		f.Add(tc.pattern, tc.o.when, tc.o.interval, tc.o.suffix, uint8(4), at("2018-11-04T12:00:00-02:00"))
	}
	for _, tc := range matchTemplateTests {
		f.Add(tc.pattern, tc.o.when, tc.o.interval, "", uint8(3), at("2026-04-05T01:45:00+10:30"))
		f.Add(tc.pattern, tc.o.when, tc.o.interval, "", uint8(1), at("2026-11-01T01:30:00-05:00"))
	}
	for _, tc := range defaultUnitTests {
		f.Add(tc.pattern, "", 0, "", uint8(0), now)
	}
	for _, tc := range compileErrorTests {
		f.Add(tc.pattern, tc.o.When, tc.o.Interval, tc.o.Suffix, uint8(0), now)
	}
	locs := fuzzLocations(f)

	f.Fuzz(func(t *testing.T, pattern, when string, interval int, suffix string, zone uint8, sec int64) {
		loc := locs[int(zone)%len(locs)]
		p, err := Compile(pattern, Options{When: when, Interval: interval, Suffix: suffix, Location: loc})
		if err != nil {
			return
		}
		if longPeriod(p.Unit, p.Interval) {
			return
		}
		t0 := fuzzFrom.Add(time.Duration(floorMod64(sec, fuzzSpan)) * time.Second)
		instants := []time.Time{t0, t0.Add(37*time.Minute + 11*time.Second)}
		if _, end := t0.In(loc).ZoneBounds(); !end.IsZero() {
			// Near the next zone transition, on either side.
			instants = append(instants, end.Add(time.Duration(floorMod64(sec, 7201)-3600)*time.Second))
		}
		if p.Unit != Never {
			next := p.Next(t0)
			instants = append(instants, next, next.Add(-time.Nanosecond), p.Start(t0).Add(-time.Nanosecond))
		}
		for _, at := range instants {
			checkPattern(t, p, at)
		}
	})
}

func floorMod64(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}

// checkPattern tests the properties of p at t.
func checkPattern(t *testing.T, p *Pattern, at time.Time) {
	t.Helper()
	show := func(u time.Time) string { return u.In(p.Location).Format(time.RFC3339Nano) }
	start := at.Add(-time.Duration(at.Nanosecond())) // a Never period: the moment, as named
	if p.Unit != Never {
		start = p.Start(at)
		next := p.Next(at)
		if at.Before(start) || !at.Before(next) {
			t.Fatalf("%q: at %s the period is [%s, %s)", p, show(at), show(start), show(next))
		}
		if p.Template() {
			name := p.Path(at)
			if got := p.Path(start); got != name {
				t.Fatalf("%q: Path(%s) = %q but Path of its start %s = %q", p, show(at), name, show(start), got)
			}
			if got := p.Path(next.Add(-time.Nanosecond)); got != name {
				t.Fatalf("%q: Path(%s) = %q but Path at the period's end = %q", p, show(at), name, got)
			}
		}
	}
	var name string
	var fm *format
	if p.Template() {
		name, fm = p.Path(at), p.path
	} else {
		name, fm = p.RotatedName(start), p.suffix
	}
	m, ok := p.Match(name)
	if !ok {
		if ambiguous(fm.f.Pattern()) {
			return
		}
		t.Fatalf("%q: Match(%q) = false; made at %s", p, name, show(start))
	}
	if m.Seq != 0 {
		t.Fatalf("%q: Match(%q) = seq %d, want none", p, name, m.Seq)
	}
	checkMatchTime(t, p, name, m)
}

// checkMatchTime checks that a Time Match reports expands to the matched
// name without its numbered variant.
func checkMatchTime(t *testing.T, p *Pattern, name string, m Match) {
	t.Helper()
	if m.Time.IsZero() {
		return
	}
	stem := name
	if m.Seq != 0 {
		stem = strings.TrimSuffix(stem, "."+strconv.Itoa(m.Seq))
	}
	var got string
	if p.Template() {
		got = p.path.expand(m.Time.In(p.Location))
	} else {
		got = p.RotatedName(m.Time)
		// Match compares directories cleaned; the names must be equal.
		got, stem = filepath.Base(got), filepath.Base(stem)
	}
	if got != stem {
		t.Fatalf("%q: Match(%q).Time = %s, which expands to %q, not %q", p, name, m.Time.In(p.Location), got, stem)
	}
	// Match reads the name it expands to the same way.
	if p.Template() {
		if again, ok := p.Match(got); !ok || !again.Time.Equal(m.Time) {
			t.Fatalf("%q: Match(%q) = %s, %v; but %q gave %s", p, got, again.Time, ok, name, m.Time)
		}
	}
}

func FuzzMatch(f *testing.F) {
	for _, g := range activeGood {
		f.Add("/var/log/app.log", "D", "", uint8(1), g.name)
	}
	for _, bad := range activeNearMisses {
		f.Add("/var/log/app.log", "D", "", uint8(1), bad)
	}
	for _, tc := range templateNameTests {
		for name := range tc.good {
			f.Add(tc.pattern, "", "", zoneIndex(tc.zone), name)
		}
		for _, name := range tc.bad {
			f.Add(tc.pattern, "", "", zoneIndex(tc.zone), name)
		}
	}
	for _, tc := range rotatedNameTests {
		f.Add(tc.pattern, tc.o.when, tc.o.suffix, zoneIndex(tc.o.zone), tc.want+".2")
	}
	for _, tc := range pathTests {
		f.Add(tc.pattern, tc.o.when, tc.o.suffix, zoneIndex(tc.o.zone), tc.want)
	}
	locs := fuzzLocations(f)

	f.Fuzz(func(t *testing.T, pattern, when, suffix string, zone uint8, name string) {
		p, err := Compile(pattern, Options{When: when, Suffix: suffix, Location: locs[int(zone)%len(locs)]})
		if err != nil {
			return
		}
		m, ok := p.Match(name)
		if !ok {
			if m != (Match{}) {
				t.Fatalf("Match(%q) = %+v, false; want the zero Match", name, m)
			}
			return
		}
		if m.Seq < 0 {
			t.Fatalf("Match(%q) = seq %d", name, m.Seq)
		}
		checkMatchTime(t, p, name, m)
	})
}

func TestAmbiguous(t *testing.T) {
	for p, want := range map[string]bool{
		"%Z%s":              true,
		"%Z%H%s":            true,
		"%s-%-d":            true,
		"%-m%-d":            true,
		"%Z.%s":             false,
		"%Z%T%s":            false,
		"%Y%m%d%H%M%S":      false,
		"%s":                false,
		"%Y-%m-%d_%H-%M%Z":  false,
		"%-H:%-M":           false,
		"app-%s-%Y%m%d.log": false,
	} {
		if got := ambiguous(p); got != want {
			t.Errorf("ambiguous(%q) = %v, want %v", p, got, want)
		}
	}
}
