package pattern

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// zones are the locations the property tests run in: UTC and zones whose
// clocks do something surprising (a repeated hour, a 30-minute shift, a
// midnight that does not exist, a midnight shown twice). New zones go at the
// end: the fuzz corpus names zones by index.
var zones = []string{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo", "America/Havana"}

func loadLocation(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

// instant reads a wall-clock time with its offset, as written in the tables.
func instant(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad instant %q in table: %v", s, err)
	}
	return v
}

func schedule(t testing.TB, when string, interval int, zone string) Schedule {
	t.Helper()
	u, wd, err := ParseWhen(when)
	if err != nil {
		t.Fatalf("ParseWhen(%q): %v", when, err)
	}
	return Schedule{Unit: u, Interval: interval, Weekday: wd, Location: loadLocation(t, zone)}
}

func TestSchedule(t *testing.T) {
	// at, start and next are wall-clock readings with the offset in force,
	// so a repeated hour is told apart by its offset. An empty start means
	// the zero Time.
	tests := []struct {
		name     string
		zone     string
		when     string
		interval int
		at       string
		start    string
		next     string
	}{
		// UTC, every unit. 2026-11-25 is a Wednesday.
		{"S", "UTC", "S", 1, "2026-11-25T13:47:23.5Z", "2026-11-25T13:47:23Z", "2026-11-25T13:47:24Z"},
		{"S exact boundary", "UTC", "S", 1, "2026-11-25T13:47:23Z", "2026-11-25T13:47:23Z", "2026-11-25T13:47:24Z"},
		{"S7", "UTC", "S", 7, "2026-11-25T13:47:23Z", "2026-11-25T13:47:17Z", "2026-11-25T13:47:24Z"},
		{"S7 first of day", "UTC", "S", 7, "2026-11-26T00:00:03Z", "2026-11-26T00:00:00Z", "2026-11-26T00:00:07Z"},
		{"S7 last of day ends at midnight", "UTC", "S", 7, "2026-11-25T23:59:58Z", "2026-11-25T23:59:54Z", "2026-11-26T00:00:00Z"},
		{"M", "UTC", "M", 1, "2026-11-25T13:47:23Z", "2026-11-25T13:47:00Z", "2026-11-25T13:48:00Z"},
		{"M7", "UTC", "M", 7, "2026-11-25T13:47:23Z", "2026-11-25T13:46:00Z", "2026-11-25T13:53:00Z"},
		{"M7 last of day ends at midnight", "UTC", "M", 7, "2026-11-25T23:57:00Z", "2026-11-25T23:55:00Z", "2026-11-26T00:00:00Z"},
		{"M30", "UTC", "M", 30, "2026-11-25T13:47:23Z", "2026-11-25T13:30:00Z", "2026-11-25T14:00:00Z"},
		{"H", "UTC", "H", 1, "2026-11-25T13:47:23Z", "2026-11-25T13:00:00Z", "2026-11-25T14:00:00Z"},
		{"H6", "UTC", "H", 6, "2026-11-25T13:47:23Z", "2026-11-25T12:00:00Z", "2026-11-25T18:00:00Z"},
		{"H6 before 06", "UTC", "H", 6, "2026-11-25T05:59:59Z", "2026-11-25T00:00:00Z", "2026-11-25T06:00:00Z"},
		{"H6 last of day", "UTC", "H", 6, "2026-11-25T19:00:00Z", "2026-11-25T18:00:00Z", "2026-11-26T00:00:00Z"},
		{"H5 last of day ends at midnight", "UTC", "H", 5, "2026-11-25T22:00:00Z", "2026-11-25T20:00:00Z", "2026-11-26T00:00:00Z"},
		{"D", "UTC", "D", 1, "2026-11-25T13:47:23Z", "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z"},
		{"midnight", "UTC", "midnight", 1, "2026-11-25T00:00:00Z", "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z"},
		// 2026-11-25 is day 20782 since 1970-01-01, an even number.
		{"D2 even day", "UTC", "D", 2, "2026-11-25T13:47:23Z", "2026-11-25T00:00:00Z", "2026-11-27T00:00:00Z"},
		{"D2 odd day", "UTC", "D", 2, "2026-11-26T13:47:23Z", "2026-11-25T00:00:00Z", "2026-11-27T00:00:00Z"},
		{"D2 epoch", "UTC", "D", 2, "1970-01-02T05:00:00Z", "1970-01-01T00:00:00Z", "1970-01-03T00:00:00Z"},
		{"D3 before epoch", "UTC", "D", 3, "1969-12-31T05:00:00Z", "1969-12-29T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"W0 Monday", "UTC", "W0", 1, "2026-11-25T13:47:23Z", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"},
		{"W1 Tuesday", "UTC", "W1", 1, "2026-11-25T13:47:23Z", "2026-11-24T00:00:00Z", "2026-12-01T00:00:00Z"},
		{"W2 Wednesday", "UTC", "W2", 1, "2026-11-25T13:47:23Z", "2026-11-25T00:00:00Z", "2026-12-02T00:00:00Z"},
		{"W3 Thursday", "UTC", "W3", 1, "2026-11-25T13:47:23Z", "2026-11-19T00:00:00Z", "2026-11-26T00:00:00Z"},
		{"W4 Friday", "UTC", "W4", 1, "2026-11-25T13:47:23Z", "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z"},
		{"W5 Saturday", "UTC", "W5", 1, "2026-11-25T13:47:23Z", "2026-11-21T00:00:00Z", "2026-11-28T00:00:00Z"},
		{"W6 Sunday", "UTC", "W6", 1, "2026-11-25T13:47:23Z", "2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z"},
		{"W6 on Sunday", "UTC", "W6", 1, "2026-11-29T00:00:00Z", "2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z"},
		{"week is Monday", "UTC", "week", 1, "2026-11-29T23:59:59Z", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"},
		// Monday weeks are counted from 1970-01-05; the week of 2026-11-23
		// is week 2968, an even number.
		{"W0 interval 2 even week", "UTC", "W0", 2, "2026-11-25T13:47:23Z", "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z"},
		{"W0 interval 2 odd week", "UTC", "W0", 2, "2026-12-01T13:47:23Z", "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z"},
		{"month", "UTC", "month", 1, "2026-11-25T13:47:23Z", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"},
		{"month December", "UTC", "month", 1, "2026-12-31T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"month3 quarter Oct", "UTC", "month", 3, "2026-11-25T13:47:23Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"month3 quarter Jan", "UTC", "month", 3, "2026-03-31T23:59:59Z", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"},
		{"month3 quarter Apr", "UTC", "month", 3, "2026-04-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"},
		{"month3 quarter Jul", "UTC", "month", 3, "2026-09-30T12:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z"},
		{"year", "UTC", "year", 1, "2026-11-25T13:47:23Z", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"year2", "UTC", "year", 2, "2027-11-25T13:47:23Z", "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z"},
		{"never", "UTC", "never", 1, "2026-11-25T13:47:23Z", "", "9999-12-31T23:59:59Z"},
		{"never interval 5", "America/New_York", "never", 5, "2026-11-01T01:30:00-05:00", "", "9999-12-31T23:59:59Z"},

		// New York falls back on 2026-11-01: 02:00 EDT becomes 01:00 EST, so
		// 01:00 is shown twice and each time starts an hour of its own.
		{"NY fall back H before", "America/New_York", "H", 1, "2026-11-01T00:30:00-04:00", "2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00"},
		{"NY fall back H first 01", "America/New_York", "H", 1, "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"},
		{"NY fall back H second 01", "America/New_York", "H", 1, "2026-11-01T01:30:00-05:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"},
		{"NY fall back H second 01 at its start", "America/New_York", "H", 1, "2026-11-01T01:00:00-05:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"},
		{"NY fall back H after", "America/New_York", "H", 1, "2026-11-01T02:30:00-05:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"},
		{"NY fall back S last second of EDT", "America/New_York", "S", 1, "2026-11-01T01:59:59-04:00", "2026-11-01T01:59:59-04:00", "2026-11-01T01:00:00-05:00"},
		{"NY fall back M30 first 01:30", "America/New_York", "M", 30, "2026-11-01T01:45:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00"},
		{"NY fall back M30 second 01:30", "America/New_York", "M", 30, "2026-11-01T01:45:00-05:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"},
		{"NY fall back H6 spans the change", "America/New_York", "H", 6, "2026-11-01T03:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-01T06:00:00-05:00"},
		{"NY fall back day has 25 hours", "America/New_York", "D", 1, "2026-11-01T12:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"NY fall back day early", "America/New_York", "D", 1, "2026-11-01T01:30:00-04:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"NY fall back W6", "America/New_York", "W6", 1, "2026-11-01T12:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-08T00:00:00-05:00"},
		{"NY fall back month", "America/New_York", "month", 1, "2026-11-15T12:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"},
		{"NY year", "America/New_York", "year", 1, "2026-07-04T12:00:00-04:00", "2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00"},

		// Past 2037 Go computes New York's zone from a rule, and reports
		// the end of a leap year's last zone segment a day early, before
		// instants on December 31 (UTC).
		{"NY D leap year end", "America/New_York", "D", 1, "2040-12-31T12:00:00-05:00", "2040-12-31T00:00:00-05:00", "2041-01-01T00:00:00-05:00"},
		{"NY H leap year end", "America/New_York", "H", 1, "2040-12-30T19:30:00-05:00", "2040-12-30T19:00:00-05:00", "2040-12-30T20:00:00-05:00"},
		{"NY month38 across a leap year end", "America/New_York", "month", 38, "2039-06-01T00:00:00-04:00", "2039-05-01T00:00:00-04:00", "2042-07-01T00:00:00-04:00"},
		{"London year across a leap year end", "Europe/London", "year", 1, "2044-12-31T12:00:00Z", "2044-01-01T00:00:00Z", "2045-01-01T00:00:00Z"},
		{"Lord Howe W0 leap year end", "Australia/Lord_Howe", "W0", 1, "2048-12-31T12:00:00+11:00", "2048-12-28T00:00:00+11:00", "2049-01-04T00:00:00+11:00"},

		// New York springs forward on 2026-03-08: 02:00 EST becomes 03:00 EDT.
		{"NY spring H 01 ends at 03", "America/New_York", "H", 1, "2026-03-08T01:30:00-05:00", "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"NY spring H 03", "America/New_York", "H", 1, "2026-03-08T03:30:00-04:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"},
		{"NY spring H2 period 02 starts at the jump", "America/New_York", "H", 2, "2026-03-08T03:30:00-04:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"},
		{"NY spring H2 period 00", "America/New_York", "H", 2, "2026-03-08T01:30:00-05:00", "2026-03-08T00:00:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"NY spring M30", "America/New_York", "M", 30, "2026-03-08T01:45:00-05:00", "2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"NY spring day has 23 hours", "America/New_York", "D", 1, "2026-03-08T12:00:00-04:00", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"},
		{"NY spring H6", "America/New_York", "H", 6, "2026-03-08T05:00:00-04:00", "2026-03-08T00:00:00-05:00", "2026-03-08T06:00:00-04:00"},

		// London: 01:00 GMT becomes 02:00 BST on 2026-03-29, and 02:00 BST
		// becomes 01:00 GMT on 2026-10-25.
		{"London spring H", "Europe/London", "H", 1, "2026-03-29T00:30:00Z", "2026-03-29T00:00:00Z", "2026-03-29T02:00:00+01:00"},
		{"London spring D", "Europe/London", "D", 1, "2026-03-29T12:00:00+01:00", "2026-03-29T00:00:00Z", "2026-03-30T00:00:00+01:00"},
		{"London spring W0", "Europe/London", "W0", 1, "2026-03-29T12:00:00+01:00", "2026-03-23T00:00:00Z", "2026-03-30T00:00:00+01:00"},
		{"London fall H first 01", "Europe/London", "H", 1, "2026-10-25T01:30:00+01:00", "2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00Z"},
		{"London fall H second 01", "Europe/London", "H", 1, "2026-10-25T01:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"},
		{"London fall D", "Europe/London", "D", 1, "2026-10-25T12:00:00Z", "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00Z"},
		{"London fall W6", "Europe/London", "W6", 1, "2026-10-25T12:00:00Z", "2026-10-25T00:00:00+01:00", "2026-11-01T00:00:00Z"},

		// Lord Howe moves its clocks by 30 minutes. On 2026-04-05 02:00 +11
		// becomes 01:30 +10:30: 01:00 is shown once, so hour 01 is one
		// (90-minute) period, but 01:30 is shown twice.
		{"Lord Howe fall H before change", "Australia/Lord_Howe", "H", 1, "2026-04-05T01:45:00+11:00", "2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30"},
		{"Lord Howe fall H after change", "Australia/Lord_Howe", "H", 1, "2026-04-05T01:45:00+10:30", "2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30"},
		{"Lord Howe fall M30 01:00", "Australia/Lord_Howe", "M", 30, "2026-04-05T01:15:00+11:00", "2026-04-05T01:00:00+11:00", "2026-04-05T01:30:00+11:00"},
		{"Lord Howe fall M30 first 01:30", "Australia/Lord_Howe", "M", 30, "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+11:00", "2026-04-05T01:30:00+10:30"},
		{"Lord Howe fall M30 second 01:30", "Australia/Lord_Howe", "M", 30, "2026-04-05T01:45:00+10:30", "2026-04-05T01:30:00+10:30", "2026-04-05T02:00:00+10:30"},
		{"Lord Howe fall D", "Australia/Lord_Howe", "D", 1, "2026-04-05T12:00:00+10:30", "2026-04-05T00:00:00+11:00", "2026-04-06T00:00:00+10:30"},
		// On 2026-10-04 02:00 +10:30 becomes 02:30 +11: hour 02 starts at the jump.
		{"Lord Howe spring H 01", "Australia/Lord_Howe", "H", 1, "2026-10-04T01:45:00+10:30", "2026-10-04T01:00:00+10:30", "2026-10-04T02:30:00+11:00"},
		{"Lord Howe spring H 02", "Australia/Lord_Howe", "H", 1, "2026-10-04T02:45:00+11:00", "2026-10-04T02:30:00+11:00", "2026-10-04T03:00:00+11:00"},
		{"Lord Howe spring M30", "Australia/Lord_Howe", "M", 30, "2026-10-04T01:45:00+10:30", "2026-10-04T01:30:00+10:30", "2026-10-04T02:30:00+11:00"},

		// São Paulo sprang forward at midnight on 2018-11-04: the day starts
		// at 01:00 -02 and the day before ends then.
		{"Sao Paulo missing midnight D", "America/Sao_Paulo", "D", 1, "2018-11-04T12:00:00-02:00", "2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00"},
		{"Sao Paulo day before missing midnight", "America/Sao_Paulo", "D", 1, "2018-11-03T12:00:00-03:00", "2018-11-03T00:00:00-03:00", "2018-11-04T01:00:00-02:00"},
		{"Sao Paulo missing midnight H", "America/Sao_Paulo", "H", 1, "2018-11-03T23:30:00-03:00", "2018-11-03T23:00:00-03:00", "2018-11-04T01:00:00-02:00"},
		{"Sao Paulo missing midnight H6", "America/Sao_Paulo", "H", 6, "2018-11-04T02:00:00-02:00", "2018-11-04T01:00:00-02:00", "2018-11-04T06:00:00-02:00"},
		{"Sao Paulo missing midnight W6", "America/Sao_Paulo", "W6", 1, "2018-11-04T12:00:00-02:00", "2018-11-04T01:00:00-02:00", "2018-11-11T00:00:00-02:00"},
		{"Sao Paulo missing midnight month", "America/Sao_Paulo", "month", 1, "2018-11-15T12:00:00-02:00", "2018-11-01T00:00:00-03:00", "2018-12-01T00:00:00-02:00"},
		// It fell back at midnight on 2019-02-17: 00:00 -02 became 23:00 -03
		// on the 16th, which so has 25 hours and a second hour 23.
		{"Sao Paulo fall back D", "America/Sao_Paulo", "D", 1, "2019-02-16T23:30:00-03:00", "2019-02-16T00:00:00-02:00", "2019-02-17T00:00:00-03:00"},
		{"Sao Paulo fall back H first 23", "America/Sao_Paulo", "H", 1, "2019-02-16T23:30:00-02:00", "2019-02-16T23:00:00-02:00", "2019-02-16T23:00:00-03:00"},
		{"Sao Paulo fall back H second 23", "America/Sao_Paulo", "H", 1, "2019-02-16T23:30:00-03:00", "2019-02-16T23:00:00-03:00", "2019-02-17T00:00:00-03:00"},

		// Havana falls back at 01:00 on 2026-11-01: 01:00 CDT becomes 00:00
		// CST, so midnight is shown twice. The day (and the week starting on
		// that Sunday, and November) is one 25-hour-longer period starting
		// at the first midnight; an hour is still a second period.
		{"Havana fall back D first midnight", "America/Havana", "D", 1, "2026-11-01T00:30:00-04:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"Havana fall back D second midnight", "America/Havana", "D", 1, "2026-11-01T00:30:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"Havana fall back D at the second midnight", "America/Havana", "D", 1, "2026-11-01T00:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"Havana fall back D later", "America/Havana", "D", 1, "2026-11-01T12:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"Havana fall back day before", "America/Havana", "D", 1, "2026-10-31T23:59:59-04:00", "2026-10-31T00:00:00-04:00", "2026-11-01T00:00:00-04:00"},
		{"Havana fall back D2", "America/Havana", "D", 2, "2026-11-01T00:30:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-03T00:00:00-05:00"},
		{"Havana fall back D2 day before", "America/Havana", "D", 2, "2026-10-31T12:00:00-04:00", "2026-10-30T00:00:00-04:00", "2026-11-01T00:00:00-04:00"},
		{"Havana fall back W6 second midnight", "America/Havana", "W6", 1, "2026-11-01T00:30:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-08T00:00:00-05:00"},
		{"Havana fall back W6 first midnight", "America/Havana", "W6", 1, "2026-11-01T00:00:00-04:00", "2026-11-01T00:00:00-04:00", "2026-11-08T00:00:00-05:00"},
		{"Havana fall back W6 week before", "America/Havana", "W6", 1, "2026-10-31T23:59:59-04:00", "2026-10-25T00:00:00-04:00", "2026-11-01T00:00:00-04:00"},
		{"Havana fall back W0 spans it", "America/Havana", "W0", 1, "2026-11-01T00:30:00-05:00", "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"Havana fall back month second midnight", "America/Havana", "month", 1, "2026-11-01T00:30:00-05:00", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"},
		{"Havana fall back month later", "America/Havana", "month", 1, "2026-11-15T12:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"},
		{"Havana fall back October ends at the first midnight", "America/Havana", "month", 1, "2026-10-31T23:59:59-04:00", "2026-10-01T00:00:00-04:00", "2026-11-01T00:00:00-04:00"},
		{"Havana fall back month3", "America/Havana", "month", 3, "2026-11-01T00:30:00-05:00", "2026-10-01T00:00:00-04:00", "2027-01-01T00:00:00-05:00"},
		{"Havana fall back year", "America/Havana", "year", 1, "2026-11-01T00:30:00-05:00", "2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00"},
		{"Havana fall back H first 00", "America/Havana", "H", 1, "2026-11-01T00:30:00-04:00", "2026-11-01T00:00:00-04:00", "2026-11-01T00:00:00-05:00"},
		{"Havana fall back H second 00", "America/Havana", "H", 1, "2026-11-01T00:30:00-05:00", "2026-11-01T00:00:00-05:00", "2026-11-01T01:00:00-05:00"},
		{"Havana fall back H before", "America/Havana", "H", 1, "2026-10-31T23:30:00-04:00", "2026-10-31T23:00:00-04:00", "2026-11-01T00:00:00-04:00"},
		{"Havana fall back H6 first 00", "America/Havana", "H", 6, "2026-11-01T00:30:00-04:00", "2026-11-01T00:00:00-04:00", "2026-11-01T00:00:00-05:00"},
		{"Havana fall back H6 second 00", "America/Havana", "H", 6, "2026-11-01T03:00:00-05:00", "2026-11-01T00:00:00-05:00", "2026-11-01T06:00:00-05:00"},
		{"Havana fall back M30 second 00:30", "America/Havana", "M", 30, "2026-11-01T00:45:00-05:00", "2026-11-01T00:30:00-05:00", "2026-11-01T01:00:00-05:00"},
		// It springs forward at midnight on 2026-03-08: 00:00 CST becomes
		// 01:00 CDT, and the day starts at the jump.
		{"Havana spring D", "America/Havana", "D", 1, "2026-03-08T12:00:00-04:00", "2026-03-08T01:00:00-04:00", "2026-03-09T00:00:00-04:00"},
		{"Havana spring day before", "America/Havana", "D", 1, "2026-03-07T23:59:59-05:00", "2026-03-07T00:00:00-05:00", "2026-03-08T01:00:00-04:00"},
		{"Havana spring W6", "America/Havana", "W6", 1, "2026-03-08T01:00:00-04:00", "2026-03-08T01:00:00-04:00", "2026-03-15T00:00:00-04:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := schedule(t, tc.when, tc.interval, tc.zone)
			at := instant(t, tc.at)
			var start time.Time
			if tc.start != "" {
				start = instant(t, tc.start)
			}
			next := instant(t, tc.next)
			loc := s.Location
			if got := s.Start(at); !got.Equal(start) {
				t.Errorf("Start(%s) = %s, want %s", at.In(loc), got.In(loc), start.In(loc))
			}
			if got := s.Next(at); !got.Equal(next) {
				t.Errorf("Next(%s) = %s, want %s", at.In(loc), got.In(loc), next.In(loc))
			}
		})
	}
}

func TestScheduleDefaults(t *testing.T) {
	t.Run("zero interval means 1", func(t *testing.T) {
		s := Schedule{Unit: Hour, Location: time.UTC}
		at := instant(t, "2026-11-25T13:47:23Z")
		if got, want := s.Start(at), instant(t, "2026-11-25T13:00:00Z"); !got.Equal(want) {
			t.Errorf("Start = %s, want %s", got, want)
		}
		if got, want := s.Next(at), instant(t, "2026-11-25T14:00:00Z"); !got.Equal(want) {
			t.Errorf("Next = %s, want %s", got, want)
		}
	})
	t.Run("nil location is Local", func(t *testing.T) {
		at := instant(t, "2026-11-25T13:47:23Z")
		s := Schedule{Unit: Day}
		l := Schedule{Unit: Day, Location: time.Local}
		if !s.Start(at).Equal(l.Start(at)) || !s.Next(at).Equal(l.Next(at)) {
			t.Errorf("nil Location gives [%s, %s), time.Local gives [%s, %s)", s.Start(at), s.Next(at), l.Start(at), l.Next(at))
		}
	})
}

func TestUnitString(t *testing.T) {
	for u, want := range map[Unit]string{
		Never: "never", Second: "second", Minute: "minute", Hour: "hour",
		Day: "day", Week: "week", Month: "month", Year: "year", Unit(42): "Unit(42)", Unit(-1): "Unit(-1)",
	} {
		if got := u.String(); got != want {
			t.Errorf("Unit(%d).String() = %q, want %q", int(u), got, want)
		}
	}
}

func TestParseWhen(t *testing.T) {
	tests := []struct {
		in      string
		unit    Unit
		weekday time.Weekday // checked for Week only
	}{
		{"S", Second, 0}, {"s", Second, 0}, {"second", Second, 0}, {"Seconds", Second, 0},
		{"M", Minute, 0}, {"m", Minute, 0}, {"minute", Minute, 0}, {"MINUTES", Minute, 0},
		{"H", Hour, 0}, {"h", Hour, 0}, {"hour", Hour, 0}, {"Hours", Hour, 0},
		{"D", Day, 0}, {"d", Day, 0}, {"day", Day, 0}, {"days", Day, 0},
		{"midnight", Day, 0}, {"MIDNIGHT", Day, 0}, {"Midnight", Day, 0},
		{"W0", Week, time.Monday}, {"w0", Week, time.Monday},
		{"W1", Week, time.Tuesday}, {"W2", Week, time.Wednesday}, {"W3", Week, time.Thursday},
		{"W4", Week, time.Friday}, {"W5", Week, time.Saturday},
		{"W6", Week, time.Sunday}, {"w6", Week, time.Sunday},
		{"week", Week, time.Monday}, {"WEEK", Week, time.Monday}, {"weeks", Week, time.Monday},
		{"month", Month, 0}, {"Month", Month, 0}, {"months", Month, 0},
		{"year", Year, 0}, {"YEAR", Year, 0}, {"years", Year, 0},
		{"never", Never, 0}, {"Never", Never, 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, wd, err := ParseWhen(tc.in)
			if err != nil {
				t.Fatalf("ParseWhen(%q): %v", tc.in, err)
			}
			if u != tc.unit {
				t.Errorf("ParseWhen(%q) unit = %v, want %v", tc.in, u, tc.unit)
			}
			if u == Week && wd != tc.weekday {
				t.Errorf("ParseWhen(%q) weekday = %v, want %v", tc.in, wd, tc.weekday)
			}
		})
	}
	for _, bad := range []string{"", "W7", "W-1", "W", "w00", "W06", "X", "daily", "hourly", "monthly", "1", "H6", " D", "D ", "mid night", "sec", "weekly", "W0 "} {
		t.Run("bad "+bad, func(t *testing.T) {
			if u, wd, err := ParseWhen(bad); err == nil {
				t.Errorf("ParseWhen(%q) = %v, %v, nil; want an error", bad, u, wd)
			}
		})
	}
}

// propertySchedules are the units and intervals the property tests cover.
var propertySchedules = []struct {
	when     string
	interval int
}{
	{"S", 7}, {"M", 30}, {"H", 1}, {"H", 5}, {"D", 1}, {"D", 2},
	{"W0", 1}, {"W6", 2}, {"month", 1}, {"month", 3}, {"year", 2}, {"never", 1},
}

var (
	propFrom = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	propTo   = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
)

// propertyInstants returns n random instants from 1990 to 2040 and, for each
// zone transition in that span, instants right at and around it, where the
// schedule is most likely to be wrong.
func propertyInstants(loc *time.Location, seed uint64, n int) []time.Time {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	span := propTo.Sub(propFrom)
	var out []time.Time
	for range n {
		// Whole seconds mostly, so that exact boundaries come up too.
		d := time.Duration(r.Int64N(int64(span/time.Second))) * time.Second
		if r.IntN(4) == 0 {
			d += time.Duration(r.Int64N(int64(time.Second)))
		}
		out = append(out, propFrom.Add(d))
	}
	deltas := []time.Duration{0, -time.Nanosecond, time.Second, -45 * time.Minute, 45 * time.Minute, 90 * time.Minute}
	for at := propFrom; at.Before(propTo); {
		_, end := at.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(propTo) {
			break
		}
		for _, d := range deltas {
			out = append(out, end.Add(d))
		}
		at = end
	}
	return out
}

func TestScheduleProperties(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	for zi, zone := range zones {
		loc := loadLocation(t, zone)
		instants := propertyInstants(loc, uint64(zi), n)
		for _, ps := range propertySchedules {
			s := schedule(t, ps.when, ps.interval, zone)
			t.Run(zone+"/"+ps.when+"x"+strconv.Itoa(ps.interval), func(t *testing.T) {
				t.Parallel()
				fails := 0
				for _, at := range instants {
					if msg := checkSchedule(&s, at); msg != "" {
						t.Errorf("at %s: %s", at.In(loc).Format(time.RFC3339Nano), msg)
						if fails++; fails > 5 {
							t.Fatal("too many failures")
						}
					}
				}
			})
		}
	}
}

// checkSchedule tests the properties every schedule must have at t and
// describes the first one broken, or returns "".
func checkSchedule(s *Schedule, t time.Time) string {
	loc := s.Location
	show := func(u time.Time) string { return u.In(loc).Format(time.RFC3339Nano) }
	start, next := s.Start(t), s.Next(t)
	switch {
	case s.Unit == Never:
		if !start.IsZero() || !next.Equal(EndOfTime) {
			return "never: period is [" + show(start) + ", " + show(next) + "), want [zero, EndOfTime)"
		}
		return ""
	case t.Before(start):
		return "Start " + show(start) + " is after t"
	case !t.Before(next):
		return "Next " + show(next) + " is not after t"
	case !start.Before(next):
		return "empty period [" + show(start) + ", " + show(next) + ")"
	}
	if got := s.Start(next); !got.Equal(next) {
		return "Start(Next(t)) = " + show(got) + ", want Next(t) = " + show(next)
	}
	if got := s.Start(start); !got.Equal(start) {
		return "Start(Start(t)) = " + show(got) + ", want Start(t) = " + show(start)
	}
	if got := s.Next(start); !got.Equal(next) {
		return "Next(Start(t)) = " + show(got) + ", want Next(t) = " + show(next)
	}
	// The period has no hole: its last instant is in it too, and the period
	// before ends where this one starts.
	if got := s.Start(next.Add(-time.Nanosecond)); !got.Equal(start) {
		return "Start(Next(t)-1ns) = " + show(got) + ", want Start(t) = " + show(start)
	}
	if got := s.Next(start.Add(-time.Nanosecond)); !got.Equal(start) {
		return "Next(Start(t)-1ns) = " + show(got) + ", want Start(t) = " + show(start)
	}
	// A day or longer is one period even when the clock shows its start
	// twice: the period before has another start reading.
	if s.Unit >= Day {
		if prev := s.Start(start.Add(-time.Nanosecond)); s.label(prev) == s.label(start) {
			return "the period before, from " + show(prev) + ", starts at the same reading as [" + show(start) + ", " + show(next) + ")"
		}
	}
	return ""
}
