package pattern

import (
	"testing"
	"time"
)

// The per-line hot path asks the pattern nothing: a Rotator compares the
// read time with the end of its period. These are the calls made once per
// period (and per file opened): name expansion and period arithmetic in
// zones and units that rotator's BenchmarkStartNext (UTC, S/H/D) leaves out.

var benchNow = time.Date(2026, 11, 25, 12, 34, 56, 789_000_000, time.UTC)

func benchZone(b *testing.B, name string) *time.Location {
	b.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		b.Fatal(err)
	}
	return loc
}

func benchCompile(b *testing.B, p string, o Options) *Pattern {
	b.Helper()
	pt, err := Compile(p, o)
	if err != nil {
		b.Fatal(err)
	}
	return pt
}

// BenchmarkPath is name expansion: the file for a time.
func BenchmarkPath(b *testing.B) {
	ny := benchZone(b, "America/New_York")
	for _, bc := range []struct {
		name string
		p    string
		o    Options
	}{
		{"active", "/var/log/app/app.log", Options{When: "H", Location: time.UTC}},
		{"template-hourly-UTC", "/var/log/app/%Y/%m/%d/%H.log", Options{Location: time.UTC}},
		{"template-hourly-NewYork", "/var/log/app/%Y/%m/%d/%H.log", Options{Location: ny}},
		{"template-daily-F", "/var/log/app/access-%F.log", Options{Location: time.UTC}},
		{"template-seconds", "/var/log/app/%Y%m%d-%H%M%S.log", Options{Location: time.UTC}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pt := benchCompile(b, bc.p, bc.o)
			b.ReportAllocs()
			for b.Loop() {
				_ = pt.Path(benchNow)
			}
		})
	}
}

// BenchmarkRotatedName is the name an active file is renamed to.
func BenchmarkRotatedName(b *testing.B) {
	pt := benchCompile(b, "/var/log/app/app.log", Options{When: "H", Location: time.UTC})
	start := pt.Start(benchNow)
	b.ReportAllocs()
	for b.Loop() {
		_ = pt.RotatedName(start)
	}
}

// BenchmarkStartNextZones is the period check (Start and Next of a time)
// in a zone with daylight saving time, and for calendar units.
func BenchmarkStartNextZones(b *testing.B) {
	ny := benchZone(b, "America/New_York")
	for _, bc := range []struct {
		name string
		o    Options
	}{
		{"H-NewYork", Options{When: "H", Location: ny}},
		{"midnight-NewYork", Options{When: "midnight", Location: ny}},
		{"W6-NewYork", Options{When: "W6", Location: ny}},
		{"month-UTC", Options{When: "month", Location: time.UTC}},
		{"H-interval6-Local", Options{When: "H", Interval: 6, Location: time.Local}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pt := benchCompile(b, "app.log", bc.o)
			b.ReportAllocs()
			for b.Loop() {
				_ = pt.Start(benchNow)
				_ = pt.Next(benchNow)
			}
		})
	}
}
