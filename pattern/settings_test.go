package pattern

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// settingsAt is when the settings tests record: a file of 2026-11-25.
var settingsAt = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func compileIn(t *testing.T, loc *time.Location, suffix string) *Pattern {
	t.Helper()
	p, err := Compile("app.log", Options{When: "H", Suffix: suffix, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Zones that do the same are the same settings, whatever their names;
// zones that do not are told apart, by name.
func TestSettingsDiffZones(t *testing.T) {
	load := func(name string) *time.Location { return loadLocation(t, name) }
	fixedUTC := time.FixedZone("UTC", 0)
	tests := []struct {
		name        string
		there, here *time.Location
		suffix      string
		want        []string
	}{
		{"UTC and UTC", time.UTC, time.UTC, "", nil},
		{"UTC and Etc/UTC", time.UTC, load("Etc/UTC"), "", nil},
		{"Etc/UTC and UTC", load("Etc/UTC"), time.UTC, "", nil},
		{"loaded UTC and Etc/UCT", load("UTC"), load("Etc/UCT"), "", nil},
		{"a fixed zone named UTC", fixedUTC, time.UTC, "", nil},
		{"Etc/GMT and UTC", load("Etc/GMT"), time.UTC, "", nil},
		{"Asia/Calcutta and Asia/Kolkata", load("Asia/Calcutta"), load("Asia/Kolkata"), "", nil},
		{"New York and UTC", load("America/New_York"), time.UTC, "", []string{"zone America/New_York there, UTC here"}},
		{"UTC and New York", load("Etc/UTC"), load("America/New_York"), "", []string{"zone Etc/UTC there, America/New_York here"}},
		{"New York and Toronto", load("America/New_York"), load("America/Toronto"), "", nil},
		{"New York and Havana", load("America/New_York"), load("America/Havana"), "", []string{"zone America/New_York there, America/Havana here"}},
		{"London and Lisbon", load("Europe/London"), load("Europe/Lisbon"), "", nil},
		// Names that show %Z show the abbreviation too.
		{"London and Lisbon with %Z", load("Europe/London"), load("Europe/Lisbon"), "%F_%H%Z", []string{"zone Europe/London there, Europe/Lisbon here"}},
		{"Etc/GMT and UTC with %Z", load("Etc/GMT"), time.UTC, "%F_%H%Z", []string{"zone Etc/GMT there, UTC here"}},
		{"UTC and Etc/UTC with %Z", time.UTC, load("Etc/UTC"), "%F_%H%Z", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			there := compileIn(t, tc.there, tc.suffix).Settings(settingsAt)
			got := compileIn(t, tc.here, tc.suffix).SettingsDiff(there, settingsAt)
			if !slices.Equal(got, tc.want) {
				t.Errorf("SettingsDiff(%q) = %q, want %q", there, got, tc.want)
			}
		})
	}
}

func TestSettingsDiff(t *testing.T) {
	ny := loadLocation(t, "America/New_York")
	here := compileIn(t, ny, "")
	tests := []struct {
		name  string
		there string
		want  []string
	}{
		{"same", here.Settings(settingsAt), nil},
		// The rules are compared over the years the record describes,
		// whenever it was made.
		{"recorded years ago", here.Settings(time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)), nil},
		{"recorded for the far future", here.Settings(time.Time{}), nil},
		{"other unit", strings.Replace(here.Settings(settingsAt), "when=hour", "when=day", 1), []string{"when day there, hour here"}},
		{"other interval and suffix",
			"when=hour\ninterval=2\nsuffix=%Y\nzone=America/New_York\nrules=2026..2027 -05:00",
			[]string{"interval 2 there, 1 here", "suffix %Y there, %Y-%m-%d_%H here", "zone America/New_York: rules 2026..2027 -05:00 there, " + zoneRules(ny, 2026, 2027, false) + " here"}},
		// An older version recorded no rules: the zone is compared by name.
		{"old record, same name", "when=hour\ninterval=1\nsuffix=%Y-%m-%d_%H\nzone=America/New_York", nil},
		{"old record, other name", "when=hour\ninterval=1\nsuffix=%Y-%m-%d_%H\nzone=US/Eastern", []string{"zone US/Eastern there, America/New_York here"}},
		{"old record, local", "when=hour\ninterval=1\nsuffix=%Y-%m-%d_%H\nzone=local EST-18000/EDT-14400", []string{"zone local EST-18000/EDT-14400 there, America/New_York here"}},
		{"unreadable rules", "when=hour\ninterval=1\nsuffix=%Y-%m-%d_%H\nzone=US/Eastern\nrules=1..9999 x", []string{"zone US/Eastern there, America/New_York here"}},
		{"unreadable rules, same name", "when=hour\ninterval=1\nsuffix=%Y-%m-%d_%H\nzone=America/New_York\nrules=x", nil},
		{"unknown field", here.Settings(settingsAt) + "\nfuture=1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := here.SettingsDiff(tc.there, settingsAt); !slices.Equal(got, tc.want) {
				t.Errorf("SettingsDiff(%q) = %q, want %q", tc.there, got, tc.want)
			}
		})
	}
}

func TestSettingsText(t *testing.T) {
	ny := loadLocation(t, "America/New_York")
	got := compileIn(t, ny, "").Settings(settingsAt)
	want := "when=hour\ninterval=1\nsuffix=%Y-%m-%d_%H\nzone=America/New_York\n" +
		"rules=2026..2027 -05:00 @2026-03-08T07:00:00Z -04:00 @2026-11-01T06:00:00Z -05:00 @2027-03-14T07:00:00Z -04:00 @2027-11-07T06:00:00Z -05:00"
	if got != want {
		t.Errorf("Settings =\n%s\nwant\n%s", got, want)
	}
	lh := loadLocation(t, "Australia/Lord_Howe")
	p, err := Compile("logs/%F_%H%Z.log", Options{Location: lh})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := zoneRules(lh, 2026, 2026, p.showsZone()), "2026..2026 +11:00/+11 @2026-04-04T15:00:00Z +10:30/+1030 @2026-10-03T15:30:00Z +11:00/+11"; got != want {
		t.Errorf("zoneRules = %q, want %q", got, want)
	}
	if got, want := zoneRules(loadLocation(t, "Asia/Kathmandu"), 1985, 1986, false), "1985..1986 +05:30 @1985-12-31T18:30:00Z +05:45"; got != want {
		t.Errorf("zoneRules = %q, want %q", got, want)
	}
}

// Settings depends on the time it is given, never on the clock: a local
// zone is named by its offsets in the year of the file's period. Run in a
// process whose local zone is São Paulo, which kept summer time until 2019.
func TestSettingsLocalTimeIsAnArgument(t *testing.T) {
	if os.Getenv("ROTLOG_TEST_LOCAL_ZONE") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSettingsLocalTimeIsAnArgument$", "-test.v")
		cmd.Env = append(os.Environ(), "ROTLOG_TEST_LOCAL_ZONE=1", "TZ=America/Sao_Paulo")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("in São Paulo: %v\n%s", err, out)
		}
		return
	}
	if _, off := time.Date(2018, 1, 1, 12, 0, 0, 0, time.Local).Zone(); off != -2*3600 {
		t.Skipf("the local zone is not São Paulo's (offset %d on 2018-01-01)", off)
	}
	p := compileIn(t, nil, "")
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC), "zone=local -02-7200/-03-10800\nrules=2018..2019 -02:00 @2018-02-18T02:00:00Z -03:00 @2018-11-04T03:00:00Z -02:00 @2019-02-17T02:00:00Z -03:00"},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "zone=local -03-10800/-03-10800\nrules=2026..2027 -03:00"},
	} {
		if got := p.Settings(tc.at); !strings.HasSuffix(got, "\n"+tc.want) {
			t.Errorf("Settings(%s) = %q, want it to end with %q", tc.at, got, tc.want)
		}
	}
	// A record of 2018 by a local São Paulo pipeline agrees with an
	// explicit São Paulo zone, and not with UTC-3 alone.
	there := p.Settings(time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC))
	if got := compileIn(t, loadLocation(t, "America/Sao_Paulo"), "").SettingsDiff(there, settingsAt); got != nil {
		t.Errorf("São Paulo: %q", got)
	}
	if got := compileIn(t, time.FixedZone("-03", -3*3600), "").SettingsDiff(there, settingsAt); len(got) != 1 {
		t.Errorf("UTC-3: %q, want one difference", got)
	}
}
