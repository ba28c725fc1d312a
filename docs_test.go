package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// The usage text, the man page and the README each document every flag:
// these tests keep them in step with newFlagSet.

// longFlags returns the long flag names written in text: "--name" in plain
// text, "\-\-name" (dashes escaped) in roff. A name is taken whole, so
// --post-rotate-timeout does not count as --post-rotate.
func longFlags(text string, roff bool) map[string]bool {
	dash := "-"
	if roff {
		dash = `\-`
	}
	d := regexp.QuoteMeta(dash)
	re := regexp.MustCompile(d + d + `([a-z0-9]+(?:` + d + `[a-z0-9]+)*)`)
	names := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		names[strings.ReplaceAll(m[1], dash, "-")] = true
	}
	return names
}

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func registeredFlags() []*pflag.Flag {
	var flags []*pflag.Flag
	newFlagSet(&options{}).VisitAll(func(f *pflag.Flag) { flags = append(flags, f) })
	return flags
}

func TestDocsNameEveryFlag(t *testing.T) {
	flags := registeredFlags()
	if len(flags) == 0 {
		t.Fatal("newFlagSet registers no flags")
	}
	man := readDoc(t, "man/rotlog.1")
	for _, doc := range []struct {
		name  string
		text  string
		roff  bool
		short func(f *pflag.Flag) string // how the shorthand must be shown, "" for not checked
	}{
		{name: "usage", text: usage, short: func(f *pflag.Flag) string {
			return "-" + f.Shorthand + ", --" + f.Name
		}},
		{name: "man/rotlog.1", text: man, roff: true, short: func(f *pflag.Flag) string {
			// .BI \-p ", " \-\-path " pattern" and .BR \-v ", " \-\-verbose
			return `\-` + f.Shorthand + ` ", " ` + `\-\-` + strings.ReplaceAll(f.Name, "-", `\-`)
		}},
		{name: "README.md", text: readDoc(t, "README.md")},
	} {
		t.Run(doc.name, func(t *testing.T) {
			named := longFlags(doc.text, doc.roff)
			var missing, noShort []string
			for _, f := range flags {
				if !named[f.Name] {
					missing = append(missing, "--"+f.Name)
				}
				if f.Shorthand != "" && doc.short != nil && !strings.Contains(doc.text, doc.short(f)) {
					noShort = append(noShort, doc.short(f))
				}
			}
			if len(missing) > 0 {
				t.Errorf("%s does not mention %d of %d flags: %s", doc.name, len(missing), len(flags), strings.Join(missing, " "))
			}
			if len(noShort) > 0 {
				t.Errorf("%s does not show these shorthands with their long names: %s", doc.name, strings.Join(noShort, " ; "))
			}
		})
	}
}

// TestDocsNameNoOtherFlag catches documentation of a flag that no longer
// exists: every long flag in the usage text, and every one that heads an
// entry of the man page's OPTIONS section, must be registered.
func TestDocsNameNoOtherFlag(t *testing.T) {
	registered := map[string]bool{}
	for _, f := range registeredFlags() {
		registered[f.Name] = true
	}
	var heads strings.Builder
	man := readDoc(t, "man/rotlog.1")
	_, options, ok := strings.Cut(man, "\n.SH OPTIONS\n")
	if !ok {
		t.Fatal("man/rotlog.1 has no OPTIONS section")
	}
	options, _, _ = strings.Cut(options, "\n.SH ")
	lines := strings.Split(options, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".TP") && i+1 < len(lines) {
			heads.WriteString(lines[i+1] + "\n")
		}
	}
	for _, doc := range []struct {
		name string
		got  map[string]bool
	}{
		{"usage", longFlags(usage, false)},
		{"man/rotlog.1 OPTIONS", longFlags(heads.String(), true)},
	} {
		var unknown []string
		for name := range doc.got {
			if !registered[name] {
				unknown = append(unknown, "--"+name)
			}
		}
		slices.Sort(unknown)
		if len(unknown) > 0 {
			t.Errorf("%s documents flags that newFlagSet does not register: %s", doc.name, strings.Join(unknown, " "))
		}
	}
}

// TestManPageLint runs mandoc -Tlint on the man page. Without mandoc it
// skips, unless ROTLOG_REQUIRE_MANDOC is set.
func TestManPageLint(t *testing.T) {
	mandoc, err := exec.LookPath("mandoc")
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_MANDOC", "mandoc is not installed (apt-get install mandoc): %v", err)
	}
	out, err := exec.Command(mandoc, "-Tlint", "man/rotlog.1").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("mandoc -Tlint man/rotlog.1: %v\n%s", err, out)
	}
}
