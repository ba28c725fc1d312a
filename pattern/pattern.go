package pattern

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/strftime"
)

// verb says what one strftime conversion means to rotlog: the finest unit it
// shows, the text it can expand to, and the Go layout that parses it back
// ("" when Go cannot: Go reads a weekday name but drops it, and cannot read
// zone abbreviations such as "+1030").
type verb struct {
	unit   Unit
	re     string
	layout string
}

const (
	reMon  = `[A-Z][a-z]{2}`
	reWord = `[A-Z][a-z]+`
)

// verbs lists every conversion the formatter accepts, %s included (see
// TestVerbTableCoversFormatter). A unit of Never means the verb shows no time
// that periods could follow (a zone, a tab).
var verbs = map[byte]verb{
	'A': {Day, reWord, ""},
	'a': {Day, reMon, ""},
	'B': {Month, reWord, "January"},
	'b': {Month, reMon, "Jan"},
	'C': {Year, `\d{2}`, ""},
	'c': {Second, reMon + ` ` + reMon + ` [ \d]\d \d{2}:\d{2}:\d{2} \d{4}`, "Mon Jan _2 15:04:05 2006"},
	'D': {Day, `\d{2}/\d{2}/\d{2}`, "01/02/06"},
	'd': {Day, `\d{2}`, "02"},
	'e': {Day, `[ \d]\d`, "_2"},
	'F': {Day, `\d{4}-\d{2}-\d{2}`, "2006-01-02"},
	'G': {Week, `\d{4}`, ""}, // the ISO year turns on a Monday
	'g': {Week, `\d{2}`, ""},
	'H': {Hour, `\d{2}`, "15"},
	'h': {Month, reMon, "Jan"},
	'I': {Hour, `\d{2}`, "03"},
	'j': {Day, `\d{3}`, "002"},
	'k': {Hour, `[ \d]\d`, ""},
	'l': {Hour, `[ \d]\d`, ""},
	'M': {Minute, `\d{2}`, "04"},
	'm': {Month, `\d{2}`, "01"},
	'n': {Never, `\n`, ""},
	'p': {Hour, `[AP]M`, "PM"},
	'R': {Minute, `\d{2}:\d{2}`, "15:04"},
	'r': {Second, `\d{2}:\d{2}:\d{2} [AP]M`, "03:04:05 PM"},
	'S': {Second, `\d{2}`, "05"},
	's': {Second, `\d+`, ""},
	'T': {Second, `\d{2}:\d{2}:\d{2}`, "15:04:05"},
	't': {Never, `\t`, ""},
	'U': {Week, `\d{2}`, ""},
	'u': {Day, `[1-7]`, ""},
	'V': {Week, `\d{2}`, ""},
	'v': {Day, `[ \d]\d-` + reMon + `-\d{4}`, "_2-Jan-2006"},
	'W': {Week, `\d{2}`, ""},
	'w': {Day, `[0-6]`, ""},
	'X': {Second, `\d{2}:\d{2}:\d{2}`, "15:04:05"},
	'x': {Day, `\d{2}/\d{2}/\d{2}`, "01/02/06"},
	'Y': {Year, `\d{4}`, "2006"},
	'y': {Year, `\d{2}`, "06"},
	'Z': {Never, `[A-Za-z0-9+\-]+`, ""},
	'z': {Never, `[+\-]\d{4}`, "-0700"},
	'%': {Never, `%`, ""},
}

// specs are the formatter's conversions, each wrapped so that the formatter
// cannot merge it with the text next to it: it joins text and conversions
// into one Go layout, where "_%e" reads as "__2" (day of the year), "%buary"
// as "January" and "%aday" as "Monday".
var specs = func() strftime.SpecificationSet {
	ss := strftime.NewSpecificationSet()
	for b := range verbs {
		a := strftime.UnixSeconds()
		if b != 's' {
			var err error
			if a, err = ss.Lookup(b); err != nil {
				panic(err)
			}
		}
		if err := ss.Set(b, strftime.AppendFunc(a.Append)); err != nil {
			panic(err)
		}
	}
	return ss
}()

// element is one piece of a parsed pattern: verbatim text, or a conversion.
type element struct {
	text  string
	verb  byte
	noPad bool
}

// scan splits a strftime pattern the way the formatter does: "%" then an
// optional "-" or "#" (no padding) then the verb.
func scan(p string) ([]element, error) {
	var out []element
	for p != "" {
		i := strings.IndexByte(p, '%')
		if i < 0 {
			out = append(out, element{text: p})
			break
		}
		if i > 0 {
			out = append(out, element{text: p[:i]})
		}
		p = p[i:]
		e := element{}
		j := 1
		if len(p) > 1 && (p[1] == '-' || p[1] == '#') {
			e.noPad = true
			j = 2
		}
		if len(p) <= j {
			return nil, errors.New("stray % at the end")
		}
		e.verb = p[j]
		if _, ok := verbs[e.verb]; !ok {
			return nil, fmt.Errorf("unknown conversion %%%c", e.verb)
		}
		out = append(out, e)
		p = p[j+1:]
	}
	return out, nil
}

// format is one compiled strftime format together with the matcher for its
// expansions.
type format struct {
	f      *strftime.Strftime
	elems  []element
	unit   Unit   // finest unit a conversion shows; Never if none
	re     string // matches every expansion; one group per parseable conversion
	layout string // Go layout of the groups, joined by "\x00"; "" for %s
	// exact is set when the groups determine the instant an expansion was
	// made at (see determines); the other conversions are then checked by
	// expanding it again.
	exact bool
	year  bool // the groups show the year
	unix  int  // index of the %s group, or -1
	timed bool
}

func compileFormat(p string) (*format, error) {
	elems, err := scan(p)
	if err != nil {
		return nil, err
	}
	f, err := strftime.New(p, strftime.WithSpecificationSet(specs))
	if err != nil {
		return nil, err
	}
	fm := &format{f: f, elems: elems, unix: -1}
	var re, layout strings.Builder
	groups := 0
	for _, e := range elems {
		if e.verb == 0 {
			re.WriteString(regexp.QuoteMeta(e.text))
			continue
		}
		v := verbs[e.verb]
		if v.unit != Never {
			fm.timed = true
		}
		if v.unit.finer(fm.unit) {
			fm.unit = v.unit
		}
		switch {
		case e.verb == 's' && !e.noPad:
			fm.unix = groups
			groups++
			re.WriteString(`(\d+)`)
		case v.layout == "" || e.noPad:
			if e.noPad {
				re.WriteString(`(?:` + unpadded(v.re) + `)`)
			} else {
				re.WriteString(`(?:` + v.re + `)`)
			}
		default:
			groups++
			re.WriteString(`(` + v.re + `)`)
			if layout.Len() > 0 {
				layout.WriteByte(0)
			}
			layout.WriteString(v.layout)
		}
	}
	fm.re = re.String()
	fm.layout = layout.String()
	fm.exact, fm.year = fm.determines()
	return fm, nil
}

// probe differs in every field from what time.Parse assumes for a missing
// one (year 0, January 1, midnight), and is in the afternoon.
var probe = time.Date(2033, 11, 27, 15, 42, 57, 0, time.UTC)

// determines reports whether the groups of an expansion made at the start of
// a period of fm.unit give back that instant when parsed. It is false when a
// field is missing (%H without a date, %m-%d without a year), for a 12-hour
// clock without AM/PM, and for a format that shows no time. year reports
// whether the groups show the year.
func (fm *format) determines() (exact, year bool) {
	if fm.unix >= 0 {
		return true, true
	}
	if fm.layout == "" {
		return false, false
	}
	y, mo, d := probe.Date()
	h, mi, s := probe.Clock()
	var at time.Time
	switch fm.unit {
	case Second:
		at = time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	case Minute:
		at = time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	case Hour:
		at = time.Date(y, mo, d, h, 0, 0, 0, time.UTC)
	case Day, Week:
		at = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	case Month:
		at = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	case Year:
		at = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		at = probe
	}
	var groups []string
	for _, l := range strings.Split(fm.layout, "\x00") {
		groups = append(groups, at.Format(l))
	}
	t, err := time.Parse(fm.layout, strings.Join(groups, "\x00"))
	if err != nil {
		return false, false
	}
	return fm.unit != Never && t.Equal(at), t.Year() == y
}

// unpadded is the regexp for a conversion's text with the padding taken off
// (the '-' and '#' flags): leading spaces and, after a sign, leading zeros.
// A leading number may so get shorter, or vanish when more follows: %-T of
// 00:05:00 is ":05:00".
func unpadded(re string) string {
	for _, n := range []struct{ padded, sign string }{
		{`[ \d]\d`, ""}, {`\d{2}`, ""}, {`\d{3}`, ""}, {`\d{4}`, ""}, {`[+\-]\d{4}`, `[+\-]`},
	} {
		if rest, ok := strings.CutPrefix(re, n.padded); ok {
			if rest == "" {
				return n.sign + `\d+`
			}
			return n.sign + `\d*` + rest
		}
	}
	return re
}

func (fm *format) expand(t time.Time) string {
	return fm.f.FormatString(t)
}

// parse turns the submatches of fm.re back into an instant. ok is false when
// they do not form a valid time; known is false when the conversions cannot
// determine one.
func (fm *format) parse(groups []string, text string, loc *time.Location) (t time.Time, known, ok bool) {
	if fm.unix >= 0 {
		// %s fixes the instant; the other groups are checked by re-expansion.
		sec, err := strconv.ParseInt(groups[fm.unix], 10, 64)
		if err != nil {
			return time.Time{}, false, false
		}
		t = time.Unix(sec, 0).In(loc)
		if fm.expand(t) != text {
			return time.Time{}, false, false
		}
		return t, true, true
	}
	if fm.layout == "" {
		return time.Time{}, false, true
	}
	t, err := time.ParseInLocation(fm.layout, strings.Join(groups, "\x00"), loc)
	if err != nil && !fm.year {
		// Go takes a missing year for year 0, a leap year, where a day of
		// the year past February names another month: try a common year.
		_, err = time.Parse(fm.layout+"\x002006", strings.Join(groups, "\x00")+"\x002001")
	}
	if err != nil {
		return time.Time{}, false, false
	}
	if !fm.exact {
		// Valid fields, but Go filled in the missing ones.
		return time.Time{}, false, true
	}
	for _, c := range candidates(t.In(loc)) {
		if fm.expand(c) == text {
			return c, true, true
		}
	}
	return time.Time{}, false, false
}

// candidates returns the instants a name parsed as t may have been made at.
// First those at which the clock showed t's reading, earliest first: t, and
// the same reading in the zone segment before or after t's when the clock
// showed it twice (time.ParseInLocation picks one of the two). Then, for a
// reading the clock skipped, where time.ParseInLocation moves t off it, the
// instants at which the clock jumped next to t: a period that would start in
// the gap starts there, and its name is expanded there.
func candidates(t time.Time) []time.Time {
	out := make([]time.Time, 0, 5)
	_, off := t.Zone()
	zs, ze := zoneBounds(t)
	if !zs.IsZero() {
		_, prev := zs.Add(-time.Nanosecond).Zone()
		if u := t.Add(time.Duration(off-prev) * time.Second); u.Before(zs) {
			out = append(out, u)
		}
	}
	out = append(out, t)
	if !ze.IsZero() {
		_, next := ze.Zone()
		if u := t.Add(time.Duration(off-next) * time.Second); !u.Before(ze) {
			out = append(out, u)
		}
	}
	for _, u := range []time.Time{zs, ze} {
		if !u.IsZero() {
			out = append(out, u)
		}
	}
	return out
}

// maxPeriodDays bounds the length of a period: 10 years.
const maxPeriodDays = 3660

// Options configure Compile. The zero value gives the defaults of the spec.
type Options struct {
	When     string // the unit (see ParseWhen); "" means the finest unit of a template, never for an active file
	Interval int    // units per period; 0 means 1
	Suffix   string // strftime suffix of rotated active files; "" means the default for the unit
	// RotateTo is the path of rotated active files as a strftime pattern,
	// relative to the active file's directory unless absolute; "" means
	// the active path, a dot and Suffix. It excludes Suffix.
	RotateTo string
	Location *time.Location // nil means time.Local
	Host     string         // what %{host} in the path stands for
}

// hostVerb is the conversion for the host's short name: it lets each host
// of a shared directory write a target of its own.
const hostVerb = "%{host}"

// expandHost replaces %{host} in p with host (its % doubled, so that it
// stays literal), leaving %% and the other conversions alone.
func expandHost(p, host string) (string, error) {
	if !strings.Contains(p, "%{") {
		return p, nil
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] != '%' || i+1 == len(p):
			b.WriteByte(p[i])
		case p[i+1] == '%':
			b.WriteString("%%")
			i++
		case strings.HasPrefix(p[i:], hostVerb):
			if host == "" || strings.ContainsAny(host, "/\x00") || host == "." || host == ".." {
				return p, fmt.Errorf("%s: no usable host name (%q)", hostVerb, host)
			}
			b.WriteString(strings.ReplaceAll(host, "%", "%%"))
			i += len(hostVerb) - 1
		case p[i+1] == '{':
			end := strings.IndexByte(p[i:], '}')
			if end < 0 {
				end = len(p) - i - 1
			}
			return p, fmt.Errorf("unknown conversion %s (the only named one is %s)", p[i:i+end+1], hostVerb)
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String(), nil
}

// An OptionError is a bad value of one field of Options. Its message says
// what is wrong with the value without naming the field; Field names it.
type OptionError struct {
	Field string // "When", "Interval", "Suffix" or "RotateTo"
	Err   error
}

func (e *OptionError) Error() string { return strings.ToLower(e.Field) + ": " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Pattern is a compiled target.
type Pattern struct {
	Schedule
	raw      string
	active   string  // the active file's name, for a target without conversions
	path     *format // the target itself
	suffix   *format // active-file targets named by a suffix only
	rotated  *format // active-file targets only: the rotated path
	template bool
	matchRe  *regexp.Regexp
}

// DefaultSuffix returns the rotated-name suffix used for a unit when
// no suffix is given.
func DefaultSuffix(u Unit) string {
	switch u {
	case Minute:
		return "%Y-%m-%d_%H-%M"
	case Hour:
		return "%Y-%m-%d_%H"
	case Day, Week:
		return "%Y-%m-%d"
	case Month:
		return "%Y-%m"
	case Year:
		return "%Y"
	}
	return "%Y-%m-%d_%H-%M-%S"
}

// Compile checks and compiles a target pattern.
func Compile(p string, opt Options) (*Pattern, error) {
	if p == "" {
		return nil, errors.New("empty path")
	}
	p, err := expandHost(p, opt.Host)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", p, err)
	}
	if strings.HasSuffix(p, "/") {
		return nil, fmt.Errorf("path %q names a directory", p)
	}
	pf, err := compileFormat(p)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", p, err)
	}
	pt := &Pattern{raw: p, path: pf}
	for _, e := range pf.elems {
		if e.verb != 0 && e.verb != '%' {
			pt.template = true
		}
	}
	if !pt.template {
		pt.active = pf.expand(time.Time{}) // only %% to undo
	}
	pt.Location = opt.Location
	if pt.Location == nil {
		pt.Location = time.Local
	}
	pt.Interval = opt.Interval
	if opt.Interval < 0 {
		return nil, &OptionError{Field: "Interval", Err: fmt.Errorf("%d is not positive", opt.Interval)}
	}
	if opt.Interval == 0 {
		pt.Interval = 1
	}
	switch {
	case opt.When != "":
		pt.Unit, pt.Weekday, err = ParseWhen(opt.When)
		if err != nil {
			return nil, err
		}
	case pt.template:
		pt.Unit = pf.unit
		if pt.Unit == Week {
			pt.Weekday = time.Monday
		}
	default:
		pt.Unit = Never
	}
	if days := map[Unit]int{Day: 1, Week: 7, Month: 31, Year: 366}[pt.Unit] * pt.Interval; days > maxPeriodDays {
		// Start and Next walk at most maxTransitions zone changes.
		return nil, &OptionError{Field: "Interval", Err: fmt.Errorf("%d units make a period of over 10 years, which is not supported", pt.Interval)}
	}
	if pt.template {
		if opt.Suffix != "" {
			return nil, &OptionError{Field: "Suffix", Err: errors.New("only an active-file target (a path without % conversions) has one")}
		}
		if opt.RotateTo != "" {
			return nil, &OptionError{Field: "RotateTo", Err: errors.New("only an active-file target (a path without % conversions) is renamed; a template's files keep their names")}
		}
		pt.matchRe, err = regexp.Compile(`^` + pf.re + `(?:\.(\d+))?$`)
	} else {
		if err := pt.compileRotated(opt); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", p, err)
	}
	return pt, nil
}

// compileRotated compiles the rotated path of an active file: the active
// path, a dot and the suffix, or the RotateTo pattern.
func (pt *Pattern) compileRotated(opt Options) error {
	// The active path as pattern text: its % are literal.
	lit := strings.ReplaceAll(pt.active, "%", "%%")
	var raw string
	if opt.RotateTo == "" {
		s := opt.Suffix
		if s == "" {
			s = DefaultSuffix(pt.Unit)
		}
		bad := func(err error) error { return &OptionError{Field: "Suffix", Err: err} }
		if strings.Contains(s, "/") {
			return bad(fmt.Errorf("%q must not contain /", s))
		}
		var err error
		if pt.suffix, err = compileFormat(s); err != nil {
			return bad(fmt.Errorf("%q: %w", s, err))
		}
		if strings.Contains(pt.suffix.expand(time.Unix(0, 0).UTC()), "/") {
			return bad(fmt.Errorf("%q expands to a name with / (as %%D and %%x do)", s))
		}
		if !pt.suffix.timed {
			return bad(fmt.Errorf("%q has no time conversion", s))
		}
		raw = lit + "." + s
	} else {
		if opt.Suffix != "" {
			return &OptionError{Field: "RotateTo", Err: errors.New("a suffix is given too; the suffix is a short way to say a rotated path")}
		}
		raw = opt.RotateTo
		if !strings.HasPrefix(raw, "/") {
			raw = lit[:strings.LastIndexByte(lit, '/')+1] + raw
		}
	}
	bad := func(err error) error {
		if opt.RotateTo == "" {
			return &OptionError{Field: "Suffix", Err: err}
		}
		return &OptionError{Field: "RotateTo", Err: err}
	}
	if strings.HasSuffix(raw, "/") {
		return bad(fmt.Errorf("%q names a directory", opt.RotateTo))
	}
	// Cleaned, so that Match knows a rotated file however its path is
	// spelled (conversions expand to no / of their own, checked below).
	fm, err := compileFormat(filepath.Clean(raw))
	if err != nil {
		return bad(fmt.Errorf("%q: %w", opt.RotateTo, err))
	}
	if !fm.timed {
		return bad(fmt.Errorf("%q has no time conversion, so every period would get the same name", opt.RotateTo))
	}
	if fm.slashes() != strings.Count(fm.expand(time.Unix(0, 0).UTC()), "/") {
		return bad(fmt.Errorf("%q expands to a name with more / than it shows (as %%D and %%x do)", opt.RotateTo))
	}
	pt.rotated = fm
	if pt.matchRe, err = regexp.Compile(`^` + fm.re + `(?:\.(\d+))?$`); err != nil {
		return bad(err)
	}
	if _, ok := pt.Match(pt.active); ok {
		return bad(fmt.Errorf("%q can expand to the active file %s itself", opt.RotateTo, pt.active))
	}
	return nil
}

// slashes counts the / in the verbatim text of fm.
func (fm *format) slashes() int {
	n := 0
	for _, e := range fm.elems {
		n += strings.Count(e.text, "/")
	}
	return n
}

// prefix returns the leading verbatim text of fm up to and including its
// last slash before the first conversion that shows a time, and how many
// directory levels below it fm's expansions lie.
func (fm *format) prefix() (string, int) {
	var lead strings.Builder
	rest := 0
	timed := false
	for _, e := range fm.elems {
		switch {
		case timed:
			rest += strings.Count(e.text, "/")
		case e.verb == 0:
			lead.WriteString(e.text)
		case e.verb == '%':
			lead.WriteByte('%')
		default:
			timed = true
		}
	}
	s := lead.String()
	i := strings.LastIndexByte(s, '/') + 1
	return s[:i], rest + strings.Count(s[i:], "/")
}

// String returns the pattern as given.
func (p *Pattern) String() string { return p.raw }

// Template reports whether the pattern has conversions.
func (p *Pattern) Template() bool { return p.template }

// Path returns the file that lines read at t go to: the pattern expanded at
// the start of t's period for a template, the path itself otherwise.
func (p *Pattern) Path(t time.Time) string {
	if !p.template {
		return p.active
	}
	s := p.Start(t)
	if s.IsZero() {
		s = t
	}
	return p.path.expand(s.In(p.Location))
}

// RotatedName returns the name an active file holding the period that
// starts at start is renamed to. For a Never schedule, start is the moment
// of rotation. It panics for a template.
func (p *Pattern) RotatedName(start time.Time) string {
	if p.template {
		panic("pattern: RotatedName of a template")
	}
	return p.rotated.expand(start.In(p.Location))
}

// RotatedDir returns where an active file's rotated files lie: the
// leading part of their paths that holds no conversion, up to and
// including its last slash ("" for none), and how many directory levels
// below it. For a template, it is Prefix and Depth.
func (p *Pattern) RotatedDir() (prefix string, depth int) {
	if p.template {
		return p.Prefix(), p.Depth()
	}
	return p.rotated.prefix()
}

// RotatedPattern returns the rotated path of an active file as a strftime
// pattern (the active path's own % doubled), or "" for a template.
func (p *Pattern) RotatedPattern() string {
	if p.template {
		return ""
	}
	return p.rotated.f.Pattern()
}

// Match describes a file recognised as a rotated file of the target.
type Match struct {
	Time time.Time // the instant in the name (the earlier of two with one name); zero when the name cannot determine one
	Seq  int       // numbered variant, 0 for none
}

// Match reports whether path names a rotated file of this target (for a
// template: any file the pattern makes, of any period) and parses it.
// Paths are compared as given: pass them the way the pattern spells them.
func (p *Pattern) Match(path string) (Match, bool) {
	subject, fm := path, p.path
	if !p.template {
		subject, fm = filepath.Clean(path), p.rotated
	}
	m := p.matchRe.FindStringSubmatch(subject)
	if m == nil {
		return Match{}, false
	}
	groups := m[1 : len(m)-1]
	seqText := m[len(m)-1]
	text := subject
	var mt Match
	if seqText != "" {
		if len(seqText) > 1 && seqText[0] == '0' {
			return Match{}, false
		}
		if _, err := fmt.Sscanf(seqText, "%d", &mt.Seq); err != nil || mt.Seq == 0 {
			return Match{}, false
		}
		text = text[:len(text)-len(seqText)-1]
	}
	t, known, ok := fm.parse(groups, text, p.Location)
	if !ok {
		return Match{}, false
	}
	if known {
		mt.Time = t
	}
	return mt, true
}

// Prefix returns the leading part of the target's paths that holds no
// conversion, up to and including its last slash ("" for none). Every file
// of the target is Prefix followed by a path relative to it, Depth
// directories deep.
func (p *Pattern) Prefix() string {
	static := p.raw
	if !p.template {
		static = p.active
	} else if i := strings.IndexByte(static, '%'); i >= 0 {
		static = static[:i]
	}
	return static[:strings.LastIndexByte(static, '/')+1]
}

// Depth returns how many directory levels below Prefix the files of the
// target lie: 0 for an active file.
func (p *Pattern) Depth() int {
	if !p.template {
		return 0
	}
	return strings.Count(strings.TrimPrefix(p.raw, p.Prefix()), "/")
}

// Settings describes what every pipeline of a target must agree on, as
// "name=value" lines: the unit, interval and weekday, the suffix of an
// active file, the time zone's name and its rules: what the zone does
// around t, the start of the period of the file the settings are recorded
// on. The zero Time (a Never schedule has no periods) stands for the zone's
// present rules, as the time zone database carries them into the far
// future. SettingsDiff compares them with another pipeline's.
//
// The rules line lists the years it covers, the zone's offset from UTC
// (and "/" and its abbreviation when the names show %Z) on January 1 of
// the first, and each change within them, as "@instant" and the new offset:
//
//	rules=2026..2027 -05:00 @2026-03-08T07:00:00Z -04:00 @2026-11-01T06:00:00Z -05:00 ...
func (p *Pattern) Settings(t time.Time) string {
	y := rulesYear(t)
	return p.settings(y, y, y+rulesSpan-1, p.showsZone())
}

// rulesSpan is how many years Settings describes a zone for: those of the
// file's period and the next, long enough for the boundaries that matter
// to pipelines writing one file, short enough for an extended attribute.
const rulesSpan = 2

// presentYear stands for the zero Time in Settings: far in the future, where
// every zone follows its present rule.
const presentYear = 9998

func rulesYear(t time.Time) int {
	if t.IsZero() {
		return presentYear
	}
	return t.UTC().Year()
}

// settings is Settings with the zone named as in year zoneYear and its rules
// described for the years from to to, with abbreviations if abbr.
func (p *Pattern) settings(zoneYear, from, to int, abbr bool) string {
	var b strings.Builder
	when := p.Unit.String()
	if p.Unit == Week {
		when = fmt.Sprintf("W%d", (int(p.Weekday)+6)%7)
	}
	fmt.Fprintf(&b, "when=%s\ninterval=%d\n", when, p.Interval)
	switch {
	case p.suffix != nil:
		fmt.Fprintf(&b, "suffix=%s\n", p.suffix.f.Pattern())
	case !p.template:
		fmt.Fprintf(&b, "rotate-to=%s\n", p.rotated.f.Pattern())
	}
	fmt.Fprintf(&b, "zone=%s\nrules=%s", zoneID(p.Location, zoneYear), zoneRules(p.Location, from, to, abbr))
	return b.String()
}

// showsZone reports whether the names of the target show the zone's
// abbreviation (%Z), which then matters as much as its offsets.
func (p *Pattern) showsZone() bool {
	fm := p.rotated
	if p.template {
		fm = p.path
	}
	for _, e := range fm.elems {
		if e.verb == 'Z' {
			return true
		}
	}
	return false
}

// SettingsDiff compares settings another pipeline recorded (by Settings, of
// this version or an older one) with this pattern's and describes each
// difference, as "interval 1 there, 2 here". Zones are compared by what
// they do, not by name: their offsets and changes over the years the other
// pipeline described, so UTC, Etc/UTC and a local zone that is UTC agree.
// A record without rules (from an older version) has its zone compared by
// name, with a local zone named by its offsets in at's year; at is the time
// the record is about (the start of the period of the file it is on, or the
// file's last write).
func (p *Pattern) SettingsDiff(theirs string, at time.Time) []string {
	tk, order := splitSettings(theirs)
	y := rulesYear(at)
	from, to := y, y+rulesSpan-1
	abbr := p.showsZone()
	r, withRules := tk["rules"]
	if withRules {
		from, to, abbr, withRules = parseRules(r)
	}
	ours, _ := splitSettings(p.settings(y, from, to, abbr))
	// A suffix is a short way to say a rotated path: compare rotated paths
	// when one side gave a suffix and the other a path.
	if s, ok := tk["suffix"]; ok && !p.template {
		if _, same := ours["suffix"]; !same {
			tk["suffix"] = strings.ReplaceAll(p.active, "%", "%%") + "." + s
			ours["suffix"] = ours["rotate-to"]
		}
	} else if r, ok := tk["rotate-to"]; ok && p.suffix != nil {
		tk["rotate-to"] = r
		ours["rotate-to"] = p.rotated.f.Pattern()
	}
	var diffs []string
	for _, k := range order {
		v := tk[k]
		o, ok := ours[k]
		switch {
		case !ok || o == v:
		case k == "zone" && withRules:
			// Compared by its rules, next.
		case k == "rules" && !withRules:
			// Unreadable: the zone was compared by name.
		case k == "rules" && tk["zone"] != ours["zone"]:
			diffs = append(diffs, fmt.Sprintf("zone %s there, %s here", tk["zone"], ours["zone"]))
		case k == "rules":
			diffs = append(diffs, fmt.Sprintf("zone %s: rules %s there, %s here", ours["zone"], v, o))
		default:
			diffs = append(diffs, fmt.Sprintf("%s %s there, %s here", k, v, o))
		}
	}
	return diffs
}

// splitSettings reads "name=value" lines into a map and the names in order.
func splitSettings(s string) (map[string]string, []string) {
	m := map[string]string{}
	var order []string
	for _, kv := range strings.Split(s, "\n") {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := m[k]; !dup {
			order = append(order, k)
		}
		m[k] = v
	}
	return m, order
}

// parseRules reads the years a rules line covers and whether it shows
// abbreviations; ok is false for a line zoneRules would not write.
func parseRules(r string) (from, to int, abbr, ok bool) {
	span, rest, _ := strings.Cut(r, " ")
	a, b, found := strings.Cut(span, "..")
	from, err1 := strconv.Atoi(a)
	to, err2 := strconv.Atoi(b)
	if !found || err1 != nil || err2 != nil || from < 1 || to < from || to-from >= 10 || to > presentYear+10 {
		return 0, 0, false, false
	}
	return from, to, strings.Contains(rest, "/"), true
}

// zoneID names a location so that older versions can compare it: its name,
// or for Local (whose name says nothing) its zones on January 1 and July 1
// of year.
func zoneID(loc *time.Location, year int) string {
	if loc != time.Local {
		return loc.String()
	}
	jan, joff := time.Date(year, 1, 1, 0, 0, 0, 0, loc).Zone()
	jul, loff := time.Date(year, 7, 1, 0, 0, 0, 0, loc).Zone()
	return fmt.Sprintf("local %s%+d/%s%+d", jan, joff, jul, loff)
}

// maxRules bounds the changes zoneRules lists: real zones change a few
// times a year.
const maxRules = 32

// zoneRules describes what loc does from the start of year from to the end
// of year to: its offset (then "/" and its abbreviation if abbr), then each
// change, as "@instant" in UTC and the new offset.
func zoneRules(loc *time.Location, from, to int, abbr bool) string {
	at := time.Date(from, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(to+1, 1, 1, 0, 0, 0, 0, time.UTC)
	describe := func(t time.Time) string {
		name, off := t.In(loc).Zone()
		sign := byte('+')
		if off < 0 {
			sign, off = '-', -off
		}
		s := fmt.Sprintf("%c%02d:%02d", sign, off/3600, off/60%60)
		if off%60 != 0 {
			s += fmt.Sprintf(":%02d", off%60)
		}
		if abbr {
			s += "/" + name
		}
		return s
	}
	var b strings.Builder
	cur := describe(at)
	fmt.Fprintf(&b, "%d..%d %s", from, to, cur)
	for i, n := 0, 0; i < 4*maxRules && n < maxRules; i++ {
		_, ze := zoneBounds(at.In(loc))
		if ze.IsZero() || !ze.Before(end) {
			break
		}
		// Go also reports the turn of a year computed from a rule as a
		// bound; only a change counts.
		if d := describe(ze); d != cur {
			fmt.Fprintf(&b, " @%s %s", ze.UTC().Format(time.RFC3339), d)
			cur = d
			n++
		}
		at = ze
	}
	return b.String()
}
