package pattern

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/strftime"
)

// opts describes Options in the tables; zone "" means UTC.
type opts struct {
	when     string
	interval int
	suffix   string
	zone     string
}

func compile(t testing.TB, p string, o opts) *Pattern {
	t.Helper()
	zone := o.zone
	if zone == "" {
		zone = "UTC"
	}
	pt, err := Compile(p, Options{When: o.when, Interval: o.interval, Suffix: o.suffix, Location: loadLocation(t, zone)})
	if err != nil {
		t.Fatalf("Compile(%q, %+v): %v", p, o, err)
	}
	return pt
}

// randomInstants returns n whole-second instants from 1990 to 2040.
func randomInstants(seed uint64, n int) []time.Time {
	r := rand.New(rand.NewPCG(seed, 42))
	span := int64(propTo.Sub(propFrom) / time.Second)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = propFrom.Add(time.Duration(r.Int64N(span)) * time.Second)
	}
	return out
}

// matchInstants returns random instants and instants at and around the
// zone transitions of 2015 to 2021 (São Paulo's missing midnight of 2018
// included): fewer than the schedule properties use, as every one is
// checked with every variant ending.
func matchInstants(loc *time.Location, seed uint64) []time.Time {
	out := randomInstants(seed, 60)
	from, to := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	for at := from; ; {
		_, end := at.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		for _, d := range []time.Duration{0, -time.Second, 45 * time.Minute, -45 * time.Minute, 90 * time.Minute} {
			out = append(out, end.Add(d))
		}
		at = end
	}
	return out
}

func TestCompileKind(t *testing.T) {
	at := instant(t, "2026-11-25T13:47:23Z")
	tests := []struct {
		pattern  string
		template bool
		path     string // Path at 2026-11-25T13:47:23Z, UTC
	}{
		{"app.log", false, "app.log"},
		{"/var/log/app.log", false, "/var/log/app.log"},
		{"app%%.log", false, "app%.log"},
		{"%%Y/app.log", false, "%Y/app.log"},
		{"logs/%Y-%m-%d.log", true, "logs/2026-11-25.log"},
		{"logs/%%%Y.log", true, "logs/%2026.log"},
		{"%Z.log", true, "UTC.log"},
		{"logs/app%t.log", true, "logs/app\t.log"},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			p := compile(t, tc.pattern, opts{})
			if p.Template() != tc.template {
				t.Errorf("Template() = %v, want %v", p.Template(), tc.template)
			}
			if got := p.Path(at); got != tc.path {
				t.Errorf("Path = %q, want %q", got, tc.path)
			}
			if got := p.String(); got != tc.pattern {
				t.Errorf("String() = %q, want %q", got, tc.pattern)
			}
		})
	}
}

var defaultUnitTests = []struct {
	pattern string
	unit    Unit
}{
	{"app.log", Never},
	{"app%%.log", Never},
	{"a-%S.log", Second},
	{"a-%s.log", Second},
	{"a-%T.log", Second},
	{"a-%c.log", Second},
	{"a-%M.log", Minute},
	{"a-%R.log", Minute},
	{"a-%H.log", Hour},
	{"a-%I%p.log", Hour},
	{"a-%d.log", Day},
	{"a-%F.log", Day},
	{"a-%j.log", Day},
	{"a-%a.log", Day},
	{"a-%V.log", Week},
	{"a-%U.log", Week},
	{"a-%W.log", Week},
	{"a-%G.log", Week},
	{"a-%m.log", Month},
	{"a-%b.log", Month},
	{"a-%Y.log", Year},
	{"a-%y.log", Year},
	{"a-%Z.log", Never},
	{"a-%z.log", Never},
	{"%Y/%m/%d/%H.log", Hour},
	{"%Y/%m/%d/app-%Z.log", Day},
	{"%H/%Y.log", Hour},
	{"%Y/%-m/%-d.log", Day},
}

func TestCompileDefaults(t *testing.T) {
	for _, tc := range defaultUnitTests {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := Compile(tc.pattern, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Unit != tc.unit {
				t.Errorf("Unit = %v, want %v", p.Unit, tc.unit)
			}
			if p.Unit == Week && p.Weekday != time.Monday {
				t.Errorf("Weekday = %v, want Monday", p.Weekday)
			}
			if p.Interval != 1 {
				t.Errorf("Interval = %d, want 1", p.Interval)
			}
			if p.Location != time.Local {
				t.Errorf("Location = %v, want Local", p.Location)
			}
		})
	}
	t.Run("when overrides the pattern", func(t *testing.T) {
		p := compile(t, "logs/%Y-%m-%d.log", opts{when: "W6", interval: 2})
		if p.Unit != Week || p.Weekday != time.Sunday || p.Interval != 2 {
			t.Errorf("got %v/%v/%d, want week/Sunday/2", p.Unit, p.Weekday, p.Interval)
		}
	})
}

func TestDefaultSuffix(t *testing.T) {
	for u, want := range map[Unit]string{
		Never:  "%Y-%m-%d_%H-%M-%S",
		Second: "%Y-%m-%d_%H-%M-%S",
		Minute: "%Y-%m-%d_%H-%M",
		Hour:   "%Y-%m-%d_%H",
		Day:    "%Y-%m-%d",
		Week:   "%Y-%m-%d",
		Month:  "%Y-%m",
		Year:   "%Y",
	} {
		if got := DefaultSuffix(u); got != want {
			t.Errorf("DefaultSuffix(%v) = %q, want %q", u, got, want)
		}
	}
}

var rotatedNameTests = []struct {
	name    string
	pattern string
	o       opts
	start   string
	want    string
}{
	{"default D", "/var/log/app.log", opts{when: "D"}, "2026-11-24T00:00:00Z", "/var/log/app.log.2026-11-24"},
	{"default midnight", "app.log", opts{when: "midnight"}, "2026-11-24T00:00:00Z", "app.log.2026-11-24"},
	{"default S", "app.log", opts{when: "S"}, "2026-11-25T13:47:23Z", "app.log.2026-11-25_13-47-23"},
	{"default M", "app.log", opts{when: "M"}, "2026-11-25T13:47:00Z", "app.log.2026-11-25_13-47"},
	{"default H", "app.log", opts{when: "H"}, "2026-11-25T13:00:00Z", "app.log.2026-11-25_13"},
	{"default W6", "app.log", opts{when: "W6"}, "2026-11-22T00:00:00Z", "app.log.2026-11-22"},
	{"default month", "app.log", opts{when: "month"}, "2026-11-01T00:00:00Z", "app.log.2026-11"},
	{"default year", "app.log", opts{when: "year"}, "2026-01-01T00:00:00Z", "app.log.2026"},
	{"default never is the moment of rotation", "app.log", opts{}, "2026-11-25T13:47:23Z", "app.log.2026-11-25_13-47-23"},
	{"suffix", "app.log", opts{when: "D", suffix: "%Y%m%d"}, "2026-11-24T00:00:00Z", "app.log.20261124"},
	{"suffix %s", "app.log", opts{when: "H", suffix: "%s"}, "2026-11-25T13:00:00Z", "app.log.1795611600"},
	{"escaped percent", "app%%.log", opts{when: "D"}, "2026-11-24T00:00:00Z", "app%.log.2026-11-24"},
	{"in the zone", "app.log", opts{when: "D", zone: "America/New_York"}, "2026-11-25T05:00:00Z", "app.log.2026-11-25"},
	{"NY first 01", "app.log", opts{when: "H", zone: "America/New_York"}, "2026-11-01T01:00:00-04:00", "app.log.2026-11-01_01"},
	{"NY second 01 has the same name", "app.log", opts{when: "H", zone: "America/New_York"}, "2026-11-01T01:00:00-05:00", "app.log.2026-11-01_01"},
	{"Sao Paulo day without midnight", "app.log", opts{when: "D", zone: "America/Sao_Paulo"}, "2018-11-04T01:00:00-02:00", "app.log.2018-11-04"},
}

func TestRotatedName(t *testing.T) {
	for _, tc := range rotatedNameTests {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(t, tc.pattern, tc.o)
			if got := p.RotatedName(instant(t, tc.start)); got != tc.want {
				t.Errorf("RotatedName = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("panics for a template", func(t *testing.T) {
		p := compile(t, "logs/%Y.log", opts{})
		defer func() {
			if recover() == nil {
				t.Error("RotatedName of a template did not panic")
			}
		}()
		p.RotatedName(time.Now())
	})
}

var pathTests = []struct {
	name    string
	pattern string
	o       opts
	at      string
	want    string
}{
	{"day", "logs/%Y-%m-%d.log", opts{}, "2026-11-25T13:47:23Z", "logs/2026-11-25.log"},
	{"expanded at the hour start", "logs/%Y-%m-%d_%H-%M.log", opts{when: "H"}, "2026-11-25T13:47:23Z", "logs/2026-11-25_13-00.log"},
	{"expanded at the day start", "logs/%Y-%m-%d_%H.log", opts{when: "D"}, "2026-11-25T13:47:23Z", "logs/2026-11-25_00.log"},
	{"M30", "logs/%F_%T.log", opts{when: "M", interval: 30}, "2026-11-25T13:47:23Z", "logs/2026-11-25_13:30:00.log"},
	{"H6", "logs/%Y/%m/%d/%H.log", opts{interval: 6}, "2026-11-25T13:47:23Z", "logs/2026/11/25/12.log"},
	{"coarser name", "logs/%Y-%m.log", opts{when: "D"}, "2026-11-25T13:47:23Z", "logs/2026-11.log"},
	{"week start", "logs/%F.log", opts{when: "W0"}, "2026-11-25T13:47:23Z", "logs/2026-11-23.log"},
	{"ISO week", "logs/%G-W%V.log", opts{}, "2027-01-02T13:47:23Z", "logs/2026-W53.log"},
	{"no padding", "logs/%Y-%-m-%-d.log", opts{}, "2026-11-04T13:47:23Z", "logs/2026-11-4.log"},
	{"in the zone", "logs/%Y-%m-%d.log", opts{zone: "America/New_York"}, "2026-11-25T03:00:00Z", "logs/2026-11-24.log"},
	{"NY first 01", "logs/%Y-%m-%d_%H%Z.log", opts{zone: "America/New_York"}, "2026-11-01T01:30:00-04:00", "logs/2026-11-01_01EDT.log"},
	{"NY second 01", "logs/%Y-%m-%d_%H%Z.log", opts{zone: "America/New_York"}, "2026-11-01T01:30:00-05:00", "logs/2026-11-01_01EST.log"},
	{"NY repeated hour same file", "logs/%Y-%m-%d_%H.log", opts{zone: "America/New_York"}, "2026-11-01T01:30:00-05:00", "logs/2026-11-01_01.log"},
	{"Sao Paulo day starts at 01", "logs/%Y-%m-%d_%H.log", opts{when: "D", zone: "America/Sao_Paulo"}, "2018-11-04T12:00:00-02:00", "logs/2018-11-04_01.log"},
	{"Havana repeated midnight one day", "logs/%Y-%m-%d_%H%Z.log", opts{when: "D", zone: "America/Havana"}, "2026-11-01T00:30:00-05:00", "logs/2026-11-01_00CDT.log"},
	{"Havana repeated midnight second hour", "logs/%Y-%m-%d_%H%Z.log", opts{when: "H", zone: "America/Havana"}, "2026-11-01T00:30:00-05:00", "logs/2026-11-01_00CST.log"},
	{"Lord Howe hour 01 keeps its offset", "logs/%Y-%m-%d_%H-%M%z.log", opts{when: "H", zone: "Australia/Lord_Howe"}, "2026-04-05T01:45:00+10:30", "logs/2026-04-05_01-00+1100.log"},
	{"never template expands at t", "logs/%Z.log", opts{zone: "America/New_York"}, "2026-07-01T12:00:00Z", "logs/EDT.log"},
	{"active file", "logs/app.log", opts{when: "H"}, "2026-07-01T12:00:00Z", "logs/app.log"},
	// Text next to a conversion stays text.
	{"underscore before %e", "logs/x_%e.log", opts{}, "2026-11-04T13:47:23Z", "logs/x_ 4.log"},
	{"letters after %b", "logs/%buary.log", opts{}, "2026-11-04T13:47:23Z", "logs/Novuary.log"},
	{"letters after %a", "logs/%aday.log", opts{}, "2026-11-04T13:47:23Z", "logs/Wedday.log"},
	{"underscores before %v", "logs/__%v.log", opts{}, "2026-11-04T13:47:23Z", "logs/__ 4-Nov-2026.log"},
}

func TestPath(t *testing.T) {
	for _, tc := range pathTests {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(t, tc.pattern, tc.o)
			if got := p.Path(instant(t, tc.at)); got != tc.want {
				t.Errorf("Path = %q, want %q", got, tc.want)
			}
		})
	}
}

var compileErrorTests = []struct {
	name    string
	pattern string
	o       Options
}{
	{"empty path", "", Options{}},
	{"trailing slash", "logs/", Options{}},
	{"template with trailing slash", "logs/%Y/", Options{}},
	{"stray %", "app%", Options{}},
	{"stray %-", "app%-", Options{}},
	{"stray %#", "logs/%Y%#", Options{}},
	{"unknown conversion", "app%Q.log", Options{}},
	{"unknown unpadded conversion", "app%-Q.log", Options{}},
	{"unknown %E", "app%E.log", Options{}},
	{"bad when", "app.log", Options{When: "fortnight"}},
	{"bad weekday", "app.log", Options{When: "W7"}},
	{"negative interval", "app.log", Options{When: "H", Interval: -1}},
	{"suffix on a template", "logs/%Y.log", Options{Suffix: "%Y"}},
	{"suffix with a slash", "app.log", Options{Suffix: "%Y/%m"}},
	{"suffix without a conversion", "app.log", Options{Suffix: "old"}},
	{"suffix with only %%", "app.log", Options{Suffix: "%%"}},
	{"suffix with only a zone", "app.log", Options{Suffix: "%Z"}},
	{"suffix stray %", "app.log", Options{Suffix: "%Y%"}},
	{"suffix unknown conversion", "app.log", Options{Suffix: "%Y%Q"}},
	// %D and %x expand to a date with slashes.
	{"suffix %D", "app.log", Options{Suffix: "%D"}},
	{"suffix %x", "app.log", Options{Suffix: "%Y_%x"}},
	{"rotate-to on a template", "logs/%Y.log", Options{RotateTo: "old/%Y.log"}},
	{"rotate-to and suffix", "app.log", Options{RotateTo: "app-%Y.log", Suffix: "%Y"}},
	{"rotate-to without a conversion", "app.log", Options{RotateTo: "old/app.log"}},
	{"rotate-to with only a zone", "app.log", Options{RotateTo: "app.log.%Z"}},
	{"rotate-to the active file", "2026.log", Options{When: "year", RotateTo: "%Y.log"}},
	{"rotate-to the active file, spelled apart", "logs/2026.log", Options{When: "year", RotateTo: "../logs/%Y.log"}},
	{"rotate-to a directory", "app.log", Options{RotateTo: "old/%Y/"}},
	{"rotate-to %D", "app.log", Options{RotateTo: "old/%D"}},
	{"rotate-to stray %", "app.log", Options{RotateTo: "old/%Y%"}},
}

// --rotate-to names rotated files anywhere, and Match knows them again.
func TestRotateTo(t *testing.T) {
	utc := time.UTC
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, utc)
	for _, tc := range []struct {
		path, when, rotateTo string
		want, prefix         string
		depth                int
	}{
		{"app.log", "D", "app.log-%Y%m%d", "app.log-20261201", "", 0},
		{"/var/log/app.log", "D", "app-%Y-%m-%d.log", "/var/log/app-2026-12-01.log", "/var/log/", 0},
		{"/var/log/app.log", "D", "archive/%Y/%m/app.log.%d", "/var/log/archive/2026/12/app.log.01", "/var/log/archive/", 2},
		{"./app.log", "D", "old/app.%F", "old/app.2026-12-01", "old/", 0},
		{"/var/log/app.log", "D", "/srv/archive/%Y/app-%F.log", "/srv/archive/2026/app-2026-12-01.log", "/srv/archive/", 1},
		{"/var/log/100%%.log", "S", "100%%-%s", "/var/log/100%-1796083200", "/var/log/", 0},
	} {
		t.Run(tc.rotateTo, func(t *testing.T) {
			p, err := Compile(tc.path, Options{When: tc.when, RotateTo: tc.rotateTo, Location: utc})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.RotatedName(at); got != tc.want {
				t.Errorf("RotatedName = %q, want %q", got, tc.want)
			}
			if prefix, depth := p.RotatedDir(); prefix != tc.prefix || depth != tc.depth {
				t.Errorf("RotatedDir = %q, %d; want %q, %d", prefix, depth, tc.prefix, tc.depth)
			}
			for _, v := range []struct {
				name string
				seq  int
			}{{tc.want, 0}, {tc.want + ".3", 3}} {
				m, ok := p.Match(v.name)
				if !ok || !m.Time.Equal(at) || m.Seq != v.seq {
					t.Errorf("Match(%q) = %+v, %v; want %s seq %d", v.name, m, ok, at, v.seq)
				}
			}
			if _, ok := p.Match(tc.path); ok {
				t.Errorf("Match(%q), the active file, = true", tc.path)
			}
			if _, ok := p.Match(tc.want + ".manifest"); ok {
				t.Errorf("Match(%q) = true", tc.want+".manifest")
			}
		})
	}
}

// A suffix is the short way to say a rotated path: the two spellings give
// the same names, and pipelines using one or the other agree.
func TestSuffixIsRotateTo(t *testing.T) {
	a, err := Compile("/var/log/app.log", Options{When: "H", Suffix: "%Y%m%d%H", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compile("/var/log/app.log", Options{When: "H", RotateTo: "app.log.%Y%m%d%H", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile("/var/log/app.log", Options{When: "H", RotateTo: "app.log-%Y%m%d%H", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	if a.RotatedName(at) != b.RotatedName(at) {
		t.Errorf("%q and %q", a.RotatedName(at), b.RotatedName(at))
	}
	if d := a.SettingsDiff(b.Settings(at), at); d != nil {
		t.Errorf("suffix vs the same rotate-to: %q", d)
	}
	if d := b.SettingsDiff(a.Settings(at), at); d != nil {
		t.Errorf("rotate-to vs the same suffix: %q", d)
	}
	if d := c.SettingsDiff(a.Settings(at), at); len(d) != 1 {
		t.Errorf("other rotate-to vs suffix: %q, want one difference", d)
	}
	if d := a.SettingsDiff(c.Settings(at), at); len(d) != 1 {
		t.Errorf("suffix vs other rotate-to: %q, want one difference", d)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range compileErrorTests {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := Compile(tc.pattern, tc.o); err == nil {
				t.Errorf("Compile(%q, %+v) = %v, nil; want an error", tc.pattern, tc.o, p)
			}
		})
	}
}

func TestVerbTableCoversFormatter(t *testing.T) {
	for b := byte(0x21); b <= 0x7e; b++ {
		_, err := strftime.New("%"+string(b), strftime.WithUnixSeconds('s'))
		_, listed := verbs[b]
		if (err == nil) != listed {
			t.Errorf("%%%c: formatter accepts it: %v, verb table lists it: %v", b, err == nil, listed)
		}
	}

	// Every listed verb has a unit, a regexp matching what the formatter
	// makes of it and, where it has a layout, a layout that reads that
	// text back. A verb's text never changes within a period of its unit.
	instants := append(randomInstants(7, 150),
		instant(t, "2000-01-01T00:00:00Z"), instant(t, "1999-12-31T23:59:59Z"),
		instant(t, "2024-02-29T12:00:00Z"), instant(t, "2026-12-31T23:59:59Z"),
		instant(t, "2027-01-01T00:00:00Z"), instant(t, "2027-01-04T00:00:00Z"),
		instant(t, "2026-01-01T00:05:00Z"), instant(t, "2026-11-04T08:47:23Z"),
	)
	for b, v := range verbs {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			if v.unit < Never || v.unit > Year {
				t.Fatalf("unit %v is not a unit", v.unit)
			}
			f, err := strftime.New("%"+string(b), strftime.WithUnixSeconds('s'))
			if err != nil {
				t.Fatal(err)
			}
			re, err := regexp.Compile(`^(?:` + v.re + `)$`)
			if err != nil {
				t.Fatalf("regexp %q: %v", v.re, err)
			}
			// The same with the padding taken off, as %-X and %#X do.
			fu, err := strftime.New("%-"+string(b), strftime.WithUnixSeconds('s'))
			if err != nil {
				t.Fatal(err)
			}
			reu, err := regexp.Compile(`^(?:` + unpadded(v.re) + `)$`)
			if err != nil {
				t.Fatalf("unpadded regexp %q: %v", unpadded(v.re), err)
			}
			sched := Schedule{Unit: v.unit, Weekday: time.Monday}
			if b == 'U' {
				sched.Weekday = time.Sunday // %U counts weeks from Sunday
			}
			changes := false
			for _, zone := range zones {
				loc := loadLocation(t, zone)
				sched.Location = loc
				for _, at := range instants {
					at = at.In(loc)
					out := f.FormatString(at)
					if !re.MatchString(out) {
						t.Fatalf("at %s: regexp %q does not match %q", at, v.re, out)
					}
					if u := fu.FormatString(at); !reu.MatchString(u) {
						t.Fatalf("at %s: unpadded regexp %q does not match %q", at, unpadded(v.re), u)
					}
					if v.layout != "" {
						// Parsed in UTC: in loc a date may name a midnight
						// the clock skipped (Havana, 2017-03-12), which Go
						// moves to the day before; Match handles that (see
						// candidates), the layout need not.
						p, err := time.ParseInLocation(v.layout, out, time.UTC)
						if err != nil {
							t.Fatalf("at %s: layout %q does not parse %q: %v", at, v.layout, out, err)
						}
						if back := f.FormatString(p); back != out {
							t.Fatalf("at %s: %q parsed with layout %q is %s, which expands to %q", at, out, v.layout, p, back)
						}
					}
					if v.unit == Never {
						continue
					}
					start := sched.Start(at)
					if (b == 'U' || b == 'W') && start.In(loc).Year() != at.Year() {
						// These week numbers restart at 00 on January 1,
						// whatever the weekday: a week period that spans
						// the new year keeps the number of its start.
						continue
					}
					if got := f.FormatString(start.In(loc)); got != out {
						t.Fatalf("at %s: %q, but %q at the start of its %v, %s", at, out, got, v.unit, start.In(loc))
					}
					if f.FormatString(start.Add(-time.Nanosecond).In(loc)) != out {
						changes = true
					}
				}
			}
			if v.unit != Never && !changes {
				t.Errorf("the text never changes at the start of a %v: unit too fine", v.unit)
			}
		})
	}
}

// variants are the endings a rotated file may have, with the Seq Match must
// read from them. Compression extensions are the caller's to strip.
var variants = []struct {
	ending string
	seq    int
}{
	{"", 0}, {".1", 1}, {".12", 12}, {".3", 3},
}

// checkMatch asserts that p recognises name, made for the period starting
// at start, with every variant ending (only bare when !all). When exact,
// Time must be start or, when the clock showed start's reading twice (a
// repeated hour has one name for two periods), the other instant with that
// reading and name; otherwise Time must be zero.
func checkMatch(t *testing.T, p *Pattern, name string, start time.Time, exact, all bool, expand func(time.Time) string) {
	t.Helper()
	for i, v := range variants {
		if i > 0 && !all {
			break
		}
		m, ok := p.Match(name + v.ending)
		if !ok {
			t.Fatalf("Match(%q) = false (made at %s)", name+v.ending, start.In(p.Location))
		}
		if m.Seq != v.seq {
			t.Errorf("Match(%q) = seq %d, want %d", name+v.ending, m.Seq, v.seq)
		}
		switch {
		case !exact:
			if !m.Time.IsZero() {
				t.Errorf("Match(%q).Time = %s, want zero: the name does not determine an instant", name+v.ending, m.Time)
			}
		case m.Time.Equal(start):
		case wall(m.Time, p.Location) == wall(start, p.Location) && expand(m.Time) == name:
		default:
			t.Errorf("Match(%q).Time = %s, want %s", name+v.ending, m.Time.In(p.Location), start.In(p.Location))
		}
	}
}

// periodStart is the start of the period of fm's own unit (Monday weeks)
// that holds t: the instant a name made at t determines.
func (fm *format) periodStart(t time.Time, loc *time.Location) time.Time {
	s := Schedule{Unit: fm.unit, Weekday: time.Monday, Location: loc}
	if fm.unit == Never {
		return t
	}
	return s.Start(t)
}

// wall is the reading of t on loc's clock, without the offset.
func wall(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05.999999999")
}

var matchActiveTests = []struct {
	pattern string
	o       opts
}{
	{"/var/log/app.log", opts{when: "D"}},
	{"/var/log/app.log", opts{when: "H"}},
	{"app.log", opts{when: "S"}},
	{"app.log", opts{when: "M", interval: 30}},
	{"app.log", opts{when: "H", interval: 6}},
	{"app.log", opts{when: "W6"}},
	{"app.log", opts{when: "month", interval: 3}},
	{"app.log", opts{when: "year"}},
	{"app.log", opts{when: "never"}},
	{"app%%.log", opts{when: "D"}},
	{"logs/app.log", opts{when: "D", suffix: "%Y%m%d"}},
	{"app.log", opts{when: "H", suffix: "%s"}},
	{"app.log", opts{when: "H", suffix: "%F_%H%Z"}},
	{"app.log", opts{when: "M", suffix: "%Y%m%dT%H%M%z"}},
	{"app.log", opts{when: "D", suffix: "%a_%d_%b_%Y"}},
	{"app.log", opts{when: "D", suffix: "%Y-%j"}},
	{"app.log", opts{when: "H", suffix: "%c"}},
	{"app.log", opts{when: "H", suffix: "%v_%I%p"}},
}

func TestMatchActive(t *testing.T) {
	for i, tc := range matchActiveTests {
		for _, zone := range zones {
			o := tc.o
			o.zone = zone
			t.Run(tc.pattern+"/"+o.when+"/"+o.suffix+"/"+zone, func(t *testing.T) {
				t.Parallel()
				p := compile(t, tc.pattern, o)
				for j, at := range matchInstants(p.Location, uint64(i)) {
					start := p.Start(at)
					if p.Unit == Never {
						// The moment of rotation, to the second the name shows.
						start = at.Add(-time.Duration(at.Nanosecond()))
					}
					// The name determines the start of the period of the
					// suffix's own unit that holds the period's start.
					nameStart := p.suffix.periodStart(start, p.Location)
					checkMatch(t, p, p.RotatedName(start), nameStart, true, j%8 == 0, p.RotatedName)
				}
			})
		}
	}
}

// activeGood and activeNearMisses are names for /var/log/app.log with
// -when D in New York.
var activeGood = []struct {
	name string
	time string
	seq  int
}{
	{"/var/log/app.log.2026-11-24", "2026-11-24T00:00:00-05:00", 0},
	{"/var/log/app.log.2026-11-24.1", "2026-11-24T00:00:00-05:00", 1},
	{"/var/log/app.log.2026-11-24.12", "2026-11-24T00:00:00-05:00", 12},
	{"/var/log/app.log.2026-07-04", "2026-07-04T00:00:00-04:00", 0},
	{"/var/log/app.log.2026-07-04.7", "2026-07-04T00:00:00-04:00", 7},
	{"/var/log/app.log.2024-02-29", "2024-02-29T00:00:00-05:00", 0},
	{"/var/log/./app.log.2024-02-29", "2024-02-29T00:00:00-05:00", 0},
}
var activeNearMisses = []string{
	"/var/log/app.log",
	"/var/log/app.log.bak",
	"/var/log/app.log.lock",
	"/var/log/app.log.2026-13-45",
	"/var/log/app.log.2026-02-29",
	"/var/log/app.log.2026-11-31",
	"/var/log/app.log.2026-11-24.gz",
	"/var/log/app.log.2026-11-24.gz.tmp",
	"/var/log/app.log.2026-11-24.tmp",
	"/var/log/app.log.2026-11-24.gz.gz",
	"/var/log/app.log.2026-11-24.bz2",
	"/var/log/app.log.2026-11-24.gz.1",
	"/var/log/app.log.2026-11-24.0",
	"/var/log/app.log.2026-11-24.01",
	"/var/log/app.log.2026-11-24.-1",
	"/var/log/app.log.2026-11-24.",
	"/var/log/app.log.2026-11-24.1.",
	"/var/log/app.log.2026-11-24.99999999999999999999999",
	"/var/log/app.log.2026-11-24_00",
	"/var/log/app.log.2026-11-2",
	"/var/log/app.log.26-11-24",
	"/var/log/app.log.2026-11-24 ",
	"/var/log/app.log..2026-11-24",
	"/var/log/app.logx2026-11-24",
	"/var/log/xapp.log.2026-11-24",
	"/var/log/other.log.2026-11-24",
	"/var/log/sub/app.log.2026-11-24",
	"/var/app.log.2026-11-24",
	"/tmp/app.log.2026-11-24",
	"app.log.2026-11-24",
	"/var/log/app.log.2026-11-24/x",
	"",
}

func TestMatchActiveNames(t *testing.T) {
	p := compile(t, "/var/log/app.log", opts{when: "D", zone: "America/New_York"})
	for _, g := range activeGood {
		t.Run(g.name, func(t *testing.T) {
			m, ok := p.Match(g.name)
			if !ok {
				t.Fatal("not recognised")
			}
			if want := instant(t, g.time); !m.Time.Equal(want) || m.Seq != g.seq {
				t.Errorf("Match = %s seq %d, want %s seq %d", m.Time, m.Seq, want, g.seq)
			}
		})
	}
	for _, bad := range activeNearMisses {
		t.Run("reject "+bad, func(t *testing.T) {
			if m, ok := p.Match(bad); ok {
				t.Errorf("Match(%q) = %+v, true; want false", bad, m)
			}
		})
	}
	t.Run("relative active file", func(t *testing.T) {
		p := compile(t, "app.log", opts{when: "D"})
		if _, ok := p.Match("app.log.2026-11-24"); !ok {
			t.Error("app.log.2026-11-24 not recognised")
		}
		if _, ok := p.Match("logs/app.log.2026-11-24"); ok {
			t.Error("logs/app.log.2026-11-24 recognised")
		}
	})
	t.Run("escaped percent", func(t *testing.T) {
		p := compile(t, "app%%.log", opts{when: "D"})
		if _, ok := p.Match("app%.log.2026-11-24"); !ok {
			t.Error("app%.log.2026-11-24 not recognised")
		}
		if _, ok := p.Match("app%%.log.2026-11-24"); ok {
			t.Error("app%%.log.2026-11-24 recognised")
		}
	})
}

var matchTemplateTests = []struct {
	pattern string
	o       opts
	exact   bool // the name determines the period's start
}{
	{"/var/log/%Y/%m/%d/access.log", opts{}, true},
	{"/var/log/%Y/%m/%d/access.log", opts{when: "H"}, true},
	{"/var/log/%Y/%m/%d/%H.log", opts{interval: 6}, true},
	{"/var/log/%F/%T.log", opts{when: "S", interval: 7}, true},
	{"/var/log/%Y-%m-%d_%H-%M%Z.log", opts{when: "M", interval: 30}, true},
	{"/var/log/%Y%m%dT%H%M%z.log", opts{when: "M", interval: 30}, true},
	{"/var/log/%y%m%d-%a.log", opts{}, true},
	{"/var/log/%Y/%b/%e.log", opts{}, true},
	{"/var/log/%Y-%m.log", opts{interval: 3}, true},
	{"/var/log/%Y.log", opts{}, true},
	{"/var/log/%Y-%j.log", opts{}, true},
	{"/var/log/%Y/%m/%d/%I%p.log", opts{}, true},
	{"/var/log/%D.log", opts{}, true},
	{"/var/log/%F-W%V.log", opts{}, true},
	{"/tmp/app-%s.log", opts{}, true},
	{"/tmp/%Y/app-%s.log", opts{when: "M"}, true},
	{"/tmp/%s.%H%M%S", opts{}, true},
	// Names that do not determine an instant.
	{"/var/log/app-%H.log", opts{}, false},
	{"/var/log/app-%a.log", opts{}, false},
	{"/var/log/app-%A-%p.log", opts{}, false},
	{"/var/log/%m-%d.log", opts{}, false},
	{"/var/log/%Y/%m/%d/%I.log", opts{}, false},
	{"/var/log/%Y-%-m-%-d.log", opts{}, false},
	{"/var/log/%G-W%V.log", opts{}, false},
	{"/var/log/%Y-%U.log", opts{}, false},
	{"/var/log/app-%Z.log", opts{}, false},
}

func TestMatchTemplate(t *testing.T) {
	for i, tc := range matchTemplateTests {
		for _, zone := range zones {
			o := tc.o
			o.zone = zone
			t.Run(tc.pattern+"/"+o.when+"/"+zone, func(t *testing.T) {
				t.Parallel()
				p := compile(t, tc.pattern, o)
				expand := func(u time.Time) string { return p.path.expand(u.In(p.Location)) }
				for j, at := range matchInstants(p.Location, uint64(i)) {
					start := p.Start(at)
					if p.Unit == Never {
						start = at.Add(-time.Duration(at.Nanosecond()))
					}
					nameStart := p.path.periodStart(start, p.Location)
					checkMatch(t, p, p.Path(at), nameStart, tc.exact, j%8 == 0, expand)
				}
			})
		}
	}
}

var templateNameTests = []struct {
	pattern string
	zone    string
	good    map[string]string // name → instant it determines ("" for zero)
	bad     []string
}{
	{
		pattern: "/var/log/%Y/%m/%d/access.log",
		zone:    "America/New_York",
		good: map[string]string{
			"/var/log/2026/11/24/access.log":   "2026-11-24T00:00:00-05:00",
			"/var/log/2026/11/24/access.log.2": "2026-11-24T00:00:00-05:00",
			"/var/log/2024/02/29/access.log":   "2024-02-29T00:00:00-05:00",
		},
		bad: []string{
			"/var/log/2026/13/01/access.log",
			"/var/log/2026/00/10/access.log",
			"/var/log/2026/02/29/access.log",
			"/var/log/2026/11/31/access.log",
			"/var/log/2026/11/00/access.log",
			"/var/log/2026/11/1/access.log",
			"/var/log/2026/11/24/access.log.bak",
			"/var/log/2026/11/24/access.log.0",
			"/var/log/2026/11/24/access.log.01",
			"/var/log/2026/11/24/access.log.gz.tmp",
			"/var/log/2026/11/24/access.log.2.gz",
			"/var/log/2026/11/24/error.log",
			"/var/log/2026/11/access.log",
			"/var/log/2026/11/24/x/access.log",
			"/var/log/2026/11/24x/access.log",
			"var/log/2026/11/24/access.log",
			"/var/log/%Y/%m/%d/access.log",
		},
	},
	{
		pattern: "/var/log/%Y-%m-%d_%H%Z.log",
		zone:    "America/New_York",
		good: map[string]string{
			"/var/log/2026-11-01_01EDT.log": "2026-11-01T01:00:00-04:00",
			"/var/log/2026-11-01_01EST.log": "2026-11-01T01:00:00-05:00",
			"/var/log/2026-07-04_12EDT.log": "2026-07-04T12:00:00-04:00",
		},
		bad: []string{
			"/var/log/2026-11-01_02EDT.log", // 02:00 EDT was never shown
			"/var/log/2026-07-04_12EST.log",
			"/var/log/2026-07-04_12UTC.log",
			"/var/log/2026-03-08_02EST.log", // hour 02 did not exist
			"/var/log/2026-07-04_12.log",
		},
	},
	{
		pattern: "/l/%Y-%m-%d_%H-%M%Z.log",
		zone:    "Australia/Lord_Howe",
		good: map[string]string{
			"/l/2026-04-05_01-30+11.log":   "2026-04-05T01:30:00+11:00",
			"/l/2026-04-05_01-30+1030.log": "2026-04-05T01:30:00+10:30",
		},
		bad: []string{"/l/2026-04-05_01-30+10.log", "/l/2026-10-04_02-00+1030.log"},
	},
	{
		pattern: "/l/%Y%m%dT%H%M%z.log",
		zone:    "Australia/Lord_Howe",
		good: map[string]string{
			"/l/20260405T0130+1100.log": "2026-04-05T01:30:00+11:00",
			"/l/20260405T0130+1030.log": "2026-04-05T01:30:00+10:30",
		},
		bad: []string{"/l/20260405T0130+1000.log", "/l/20260405T0130-1100.log"},
	},
	{
		pattern: "/sp/%Y-%m-%d.log",
		zone:    "America/Sao_Paulo",
		good: map[string]string{
			// The day has no midnight: it starts at 01:00.
			"/sp/2018-11-04.log": "2018-11-04T01:00:00-02:00",
			"/sp/2018-11-03.log": "2018-11-03T00:00:00-03:00",
		},
	},
	{
		pattern: "/tmp/app-%s.log",
		zone:    "UTC",
		good:    map[string]string{"/tmp/app-1795614443.log": "2026-11-25T13:47:23Z"},
		bad:     []string{"/tmp/app-.log", "/tmp/app-12a.log", "/tmp/app--5.log", "/tmp/app-1795614443"},
	},
	{
		pattern: "/var/log/app-%H.log",
		zone:    "UTC",
		good:    map[string]string{"/var/log/app-13.log": "", "/var/log/app-00.log.1": ""},
		bad:     []string{"/var/log/app-24.log", "/var/log/app-1.log", "/var/log/app-.log"},
	},
	{
		// The weekday is checked against the date. 2026-01-01 is a Thursday.
		pattern: "/var/log/%y%m%d-%a.log",
		zone:    "UTC",
		good:    map[string]string{"/var/log/260101-Thu.log": "2026-01-01T00:00:00Z"},
		bad:     []string{"/var/log/260101-Mon.log", "/var/log/260101-Xyz.log", "/var/log/260101-thu.log"},
	},
	{
		// Without a year, a day of the year must fit the month in some year.
		pattern: "/var/log/%b-%j.log",
		zone:    "UTC",
		good:    map[string]string{"/var/log/Apr-091.log": "", "/var/log/Feb-060.log": "", "/var/log/Mar-060.log": "", "/var/log/Dec-366.log": ""},
		bad:     []string{"/var/log/Apr-060.log", "/var/log/Jan-032.log", "/var/log/Dec-367.log", "/var/log/Dec-000.log"},
	},
	{
		pattern: "/var/log/%m-%d.log",
		zone:    "UTC",
		good:    map[string]string{"/var/log/02-29.log": "", "/var/log/12-31.log": ""},
		bad:     []string{"/var/log/02-30.log", "/var/log/13-01.log", "/var/log/04-31.log"},
	},
}

func TestMatchTemplateNames(t *testing.T) {
	for _, tc := range templateNameTests {
		p := compile(t, tc.pattern, opts{zone: tc.zone})
		for name, want := range tc.good {
			t.Run(tc.pattern+"/"+name, func(t *testing.T) {
				m, ok := p.Match(name)
				if !ok {
					t.Fatal("not recognised")
				}
				var w time.Time
				if want != "" {
					w = instant(t, want)
				}
				if !m.Time.Equal(w) {
					t.Errorf("Time = %s, want %s", m.Time, w)
				}
			})
		}
		for _, name := range tc.bad {
			t.Run(tc.pattern+"/reject "+name, func(t *testing.T) {
				if m, ok := p.Match(name); ok {
					t.Errorf("Match(%q) = %+v, true; want false", name, m)
				}
			})
		}
	}
}

// TestConcurrentUse compiles and uses patterns from several goroutines, for
// the race detector: Patterns are immutable and share the formatter's
// conversions.
func TestConcurrentUse(t *testing.T) {
	loc := loadLocation(t, "America/New_York")
	shared, err := Compile("/var/log/%Y/%m/%d/%H.log", Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	instants := randomInstants(3, 50)
	var wg sync.WaitGroup
	errs := make(chan string, 2*4*len(instants))
	for range 4 {
		wg.Go(func() {
			a, err := Compile("/var/log/app.log", Options{When: "H", Location: loc})
			if err != nil {
				errs <- err.Error()
				return
			}
			for _, at := range instants {
				if _, ok := shared.Match(shared.Path(at)); !ok {
					errs <- shared.Path(at) + " not recognised"
				}
				if _, ok := a.Match(a.RotatedName(a.Start(at))); !ok {
					errs <- a.RotatedName(a.Start(at)) + " not recognised"
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestHostConversion(t *testing.T) {
	for _, tc := range []struct {
		in, host, path string
		template       bool
		err            string
	}{
		{in: "logs/%{host}/app.log", host: "web1", path: "logs/web1/app.log"},
		{in: "logs/%{host}-%Y-%m-%d.log", host: "web1", path: "logs/web1-2026-11-25.log", template: true},
		{in: "logs/%%{host}.log", host: "web1", path: "logs/%{host}.log"},
		{in: "logs/%{host}.log", host: "50%", path: "logs/50%.log"},
		{in: "logs/%{host}.log", host: "", err: "no usable host name"},
		{in: "logs/%{hostname}.log", host: "web1", err: "unknown conversion %{hostname}"},
	} {
		p, err := Compile(tc.in, Options{Host: tc.host, Location: time.UTC})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Compile(%q, host %q) = %v, want an error with %q", tc.in, tc.host, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Compile(%q, host %q): %v", tc.in, tc.host, err)
			continue
		}
		if got := p.Path(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)); got != tc.path || p.Template() != tc.template {
			t.Errorf("Compile(%q, host %q): Path = %q template %v, want %q %v", tc.in, tc.host, got, p.Template(), tc.path, tc.template)
		}
	}
}
