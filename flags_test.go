package main

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// sizeTests are parseSize's table, and the fuzz seeds. want -1 means an
// error, -2 errTooLarge.
var sizeTests = []struct {
	in   string
	want int64
}{
	{"0", 0},
	{"1", 1},
	{"500K", 500 << 10},
	{"500k", 500 << 10},
	{"100M", 100 << 20},
	{"2G", 2 << 30},
	{"1T", 1 << 40},
	{"1KB", 1 << 10},
	{"1KiB", 1 << 10},
	{"1kib", 1 << 10},
	{"7B", 7},
	{" 3M ", 3 << 20},
	{"+5", 5},
	{"9223372036854775807", 1<<63 - 1},
	{"8388607T", 8388607 << 40},
	{"8388608T", -2},
	{"9223372036854775808", -2},
	{"99999999999999999999K", -2},
	{"", -1},
	{"K", -1},
	{"B", -1},
	{"-1", -1},
	{"-1K", -1},
	{"1.5K", -1},
	{"1X", -1},
	{"1P", -1},
	{"0x10", -1},
	{"1_000", -1},
	{"-99999999999999999999", -1},
}

func TestParseSize(t *testing.T) {
	for _, tt := range sizeTests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			switch {
			case tt.want == -2 && !errors.Is(err, errTooLarge):
				t.Errorf("parseSize(%q) = %d, %v; want errTooLarge", tt.in, got, err)
			case tt.want == -1 && (err == nil || errors.Is(err, errTooLarge)):
				t.Errorf("parseSize(%q) = %d, %v; want a syntax error", tt.in, got, err)
			case tt.want >= 0 && (err != nil || got != tt.want):
				t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

// durationTests are parseDuration's table, and the fuzz seeds. err: "" for
// none, "large" for errTooLarge, "bad" for another error.
var durationTests = []struct {
	in   string
	want time.Duration
	err  string
}{
	{"0", 0, ""},
	{"10s", 10 * time.Second, ""},
	{"36h", 36 * time.Hour, ""},
	{"90m", 90 * time.Minute, ""},
	{"1h30m", 90 * time.Minute, ""},
	{"1.5h", 90 * time.Minute, ""},
	{"7d", 7 * 24 * time.Hour, ""},
	{"0d", 0, ""},
	{"4w", 28 * 24 * time.Hour, ""},
	{"-1s", -time.Second, ""},
	{"36500d", maxDuration, ""},
	{"5214w", 5214 * 7 * 24 * time.Hour, ""},
	{"876000h", maxDuration, ""},
	{"36501d", 0, "large"},
	{"5215w", 0, "large"},
	{"213504d", 0, "large"},
	{"30501w", 0, "large"},
	{"4294967296d", 0, "large"},
	{"99999999999999999999d", 0, "large"},
	{"876001h", 0, "large"},
	{"9999999999h", 0, "large"},
	{"9223372036854775807ns1ns", 0, "large"},
	{"+9999999999h", 0, "large"},
	{"-9999999999h", 0, "bad"},
	{"-876001h", 0, "bad"},
	{"", 0, "bad"},
	{"d", 0, "bad"},
	{"w", 0, "bad"},
	{"-1d", 0, "bad"},
	{"+1d", 0, "bad"},
	{"1.5d", 0, "bad"},
	{"1x", 0, "bad"},
	{"10", 0, "bad"},
	{"soon", 0, "bad"},
	{"1h1d", 0, "bad"},
	{".s", 0, "bad"},
}

func TestParseDuration(t *testing.T) {
	for _, tt := range durationTests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDuration(tt.in)
			kind := ""
			switch {
			case errors.Is(err, errTooLarge):
				kind = "large"
			case err != nil:
				kind = "bad"
			}
			if kind != tt.err || err == nil && got != tt.want {
				t.Errorf("parseDuration(%q) = %v, %v; want %v, %q", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

// timeTests are parseTime's table (in UTC), and the fuzz seeds.
var timeTests = []struct {
	in   string
	want string // RFC 3339, "" for an error
}{
	{"2026-11-24 23:59:58", "2026-11-24T23:59:58Z"},
	{"2026-11-24T23:59:58", "2026-11-24T23:59:58Z"},
	{"2026-11-24 23:59:58.25", "2026-11-24T23:59:58.25Z"},
	{"2026-11-24 23:59", "2026-11-24T23:59:00Z"},
	{"2026-11-24", "2026-11-24T00:00:00Z"},
	{"2026-11-24T23:59:58+01:00", "2026-11-24T22:59:58Z"},
	{"@1795564798", "2026-11-24T23:59:58Z"},
	{"@1795564798.5", "2026-11-24T23:59:58.5Z"},
	{"@0", "1970-01-01T00:00:00Z"},
	{"@-1", "1969-12-31T23:59:59Z"},
	{"", ""},
	{"@", ""},
	{"@abc", ""},
	{"@inf", ""},
	{"@NaN", ""},
	{"@1e12", ""},
	{"yesterday", ""},
	{"2026-13-01", ""},
	{"2026-02-30", ""},
	{"2026-11-24 25:00:00", ""},
	{"1795564798", ""},
}

func TestParseTime(t *testing.T) {
	for _, tt := range timeTests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTime(tt.in, time.UTC)
			if tt.want == "" {
				if err == nil {
					t.Errorf("parseTime(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			want, _ := time.Parse(time.RFC3339Nano, tt.want)
			if err != nil || !got.Equal(want) {
				t.Errorf("parseTime(%q) = %v, %v; want %v", tt.in, got, err, want)
			}
		})
	}
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func FuzzParseSize(f *testing.F) {
	for _, tt := range sizeTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			if n != 0 {
				t.Fatalf("parseSize(%q) = %d with error %v", s, n, err)
			}
			return
		}
		if n < 0 || n > maxSize {
			t.Fatalf("parseSize(%q) = %d, outside 0..maxSize", s, n)
		}
		// A byte count reads back as itself.
		if back, err := parseSize(big.NewInt(n).String()); err != nil || back != n {
			t.Fatalf("parseSize(%q) = %d, but parseSize(%d) = %d, %v", s, n, n, back, err)
		}
		// DIGITS plus a unit is exactly DIGITS times the unit.
		u := strings.ToUpper(strings.TrimSpace(s))
		u = strings.TrimSuffix(strings.TrimSuffix(u, "B"), "I")
		mult := int64(1)
		if i := strings.IndexByte("KMGT", u[len(u)-1]); i >= 0 {
			mult, u = 1<<(10*(i+1)), u[:len(u)-1]
		}
		if allDigits(u) {
			want, _ := new(big.Int).SetString(u, 10)
			want.Mul(want, big.NewInt(mult))
			if want.Cmp(big.NewInt(n)) != 0 {
				t.Fatalf("parseSize(%q) = %d, want %v", s, n, want)
			}
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, tt := range durationTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err == nil && (d > maxDuration || d < -maxDuration) {
			t.Fatalf("parseDuration(%q) = %v, beyond maxDuration", s, d)
		}
		// Days and weeks: N times the unit exactly, or too large; never
		// a wrapped value.
		for unit, per := range map[string]int64{"d": int64(24 * time.Hour), "w": int64(7 * 24 * time.Hour)} {
			n, ok := strings.CutSuffix(s, unit)
			if !ok || !allDigits(n) {
				continue
			}
			want, _ := new(big.Int).SetString(n, 10)
			want.Mul(want, big.NewInt(per))
			switch {
			case want.Cmp(big.NewInt(int64(maxDuration))) > 0:
				if !errors.Is(err, errTooLarge) {
					t.Fatalf("parseDuration(%q) = %v, %v; want errTooLarge", s, d, err)
				}
			case err != nil || big.NewInt(int64(d)).Cmp(want) != 0:
				t.Fatalf("parseDuration(%q) = %v, %v; want %v ns", s, d, err, want)
			}
		}
		// Go durations: what time.ParseDuration says, bounded.
		if gd, gerr := time.ParseDuration(s); gerr == nil {
			switch {
			case gd > maxDuration:
				if !errors.Is(err, errTooLarge) {
					t.Fatalf("parseDuration(%q) = %v, %v; want errTooLarge", s, d, err)
				}
			case gd < -maxDuration:
				if err == nil {
					t.Fatalf("parseDuration(%q) = %v, want an error", s, d)
				}
			case err != nil || d != gd:
				t.Fatalf("parseDuration(%q) = %v, %v; time.ParseDuration says %v", s, d, err, gd)
			}
		}
		// An accepted value reads back as itself.
		if err == nil {
			if back, err := parseDuration(d.String()); err != nil || back != d {
				t.Fatalf("parseDuration(%q) = %v, but parseDuration(%q) = %v, %v", s, d, d.String(), back, err)
			}
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, tt := range timeTests {
		f.Add(tt.in)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, loc := range []*time.Location{time.UTC, ny} {
			tm, err := parseTime(s, loc)
			if err != nil {
				if !tm.IsZero() {
					t.Fatalf("parseTime(%q) = %v with error %v", s, tm, err)
				}
				continue
			}
			// An accepted time reads back as the same instant, in RFC
			// 3339 and as @UNIXSECONDS, where the year has four digits.
			// (In UTC: RFC 3339 has no seconds in a zone offset, and local
			// mean times have them.)
			if y := tm.UTC().Year(); y < 1 || y > 9999 {
				continue
			}
			text := tm.UTC().Format(time.RFC3339Nano)
			if back, err := parseTime(text, loc); err != nil || !back.Equal(tm) {
				t.Fatalf("parseTime(%q) = %v, but parseTime(%q) = %v, %v", s, tm, text, back, err)
			}
			if tm.Nanosecond() == 0 {
				at := "@" + big.NewInt(tm.Unix()).String()
				if back, err := parseTime(at, loc); err != nil || !back.Equal(tm) {
					t.Fatalf("parseTime(%q) = %v, but parseTime(%q) = %v, %v", s, tm, at, back, err)
				}
			}
		}
	})
}
