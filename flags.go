package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rotlog/rotlog/pattern"
	"github.com/rotlog/rotlog/rotator"
)

const usage = `Usage: rotlog -p PATTERN [flags] [-- COMMAND [ARG...]]

rotlog reads lines from standard input and appends them to log files named by
PATTERN, switching files at clock-aligned time boundaries. Any number of rotlog
processes may write the same target at once.

A PATTERN without % conversions is an active file: it is renamed to
PATTERN.SUFFIX when its period ends. A PATTERN with conversions is a
template: each period writes the pattern expanded at its start.

Example:
    myserver | rotlog -p app.log -when midnight
    myserver | rotlog -p '/var/log/app/%Y/%m/%d/access.log'

Flags (single-dash long forms such as -when work too):
    -p, --path PATTERN        target: a plain path or a strftime pattern (required)
    -w, --when UNIT           S, M, H, D, midnight, W0..W6 (0 = Monday), month,
                              year or never; default: the finest unit the pattern
                              shows, never for an active file
        --interval N          rotate every N units (default 1)
        --suffix FMT          strftime suffix of rotated active files
                              (default by unit, e.g. %Y-%m-%d for D)
    -s, --size SIZE           also rotate when the file reaches SIZE (500K, 100M, 2G)
        --utc                 cut periods and names in UTC
        --tz ZONE             cut periods and names in an IANA zone (default:
                              local time, TZ honoured)
    -n, --backup-count N      keep at most N rotated files of this target (0: all)
        --max-age DURATION    remove rotated files older than this (36h, 7d, 4w)
    -z, --compress[=CODEC]    compress rotated files once nobody writes them:
                              gzip (default) or zstd
    -l, --symlink LINK        keep LINK pointing at the file being written
        --post-rotate CMD     run CMD with each finished rotated file's path
                              appended (after compression)
        --post-rotate-timeout DURATION
                              kill a post-rotate command running longer (default 1m)
    -t, --timestamp[=FMT]     prefix each line with its arrival time and a space
                              (strftime, %L milliseconds, %f microseconds;
                              default RFC 3339 with milliseconds and zone)
        --tee                 copy input to standard output too
        --mode MODE           permission bits of created files (default 0644)
        --dir-mode MODE       permission bits of created directories (default 0755)
        --fsync               fsync after every write
        --max-line SIZE       longest line held back to be written whole
                              (default 1M); longer lines are written in pieces
        --lock-timeout DUR    break a lock this old whose owner is gone (default 10s)
        --drain-timeout DUR   after TERM or INT, read on until end of input for
                              at most this long (default 5s; 0: until end of input)
        --start-time TIME     pretend the clock reads TIME at start
                              ("2026-11-24 23:59:58", RFC 3339 or @UNIXSECONDS)
        --dry-run             print the file written now, the next boundary and
                              the rotated name, then exit
        --user USER[:GROUP]   when started as root, run as USER (and GROUP, by
                              default USER's) before opening any file; exec
                              mode's command and --post-rotate run so too
        --on-block MODE       when the disk takes no writes: wait (default) slows
                              the producer; drop reads on into --buffer and drops
                              whole lines when it is full, counted in a marker line
        --buffer SIZE         what --on-block drop holds while writing is blocked
                              (default 64M)
        --metrics DIR         keep DIR/rotlog_NAME_PID.prom up to date (every 10s)
                              for node_exporter's textfile collector
    -v, --verbose             report every file opened and rotated
    -V, --version             print the version and exit
    -h, --help                print this help and exit

Exec mode: rotlog [flags] -- COMMAND [ARG...] runs COMMAND in a process group
of its own with its stdout and stderr going into the log, forwards TERM, INT,
QUIT, USR1 and USR2 to that group, reads on until every process of it has
closed its output (at most --drain-timeout after COMMAND exits), and exits
with COMMAND's status.

Signals: TERM and INT stop reading new work: rotlog reads on until end of input
(at most --drain-timeout), writes everything and exits; a second one ends the
wait at once. HUP reopens the file, ALRM rotates now.
`

// usageError is a bad command line: exit 2 before reading any input.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// options is the parsed command line.
type options struct {
	path, when, suffix, tz      string
	mode, maxLine, lockTimeout  string
	drainTimeout                string
	startTime, size, timestamp  string
	maxAge, compress, symlink   string
	postRotate, hookTimeout     string
	user, dirMode, onBlock      string
	buffer, metrics             string
	backupCount                 int
	interval                    int
	utc, fsync, dryRun, verbose bool
	version, help, tee          bool
	args                        []string // after --
}

func newFlagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("rotlog", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	fs.StringVarP(&o.path, "path", "p", "", "")
	fs.StringVarP(&o.when, "when", "w", "", "")
	fs.IntVar(&o.interval, "interval", 1, "")
	fs.StringVar(&o.suffix, "suffix", "", "")
	fs.StringVarP(&o.size, "size", "s", "", "")
	fs.BoolVar(&o.utc, "utc", false, "")
	fs.StringVar(&o.tz, "tz", "", "")
	fs.IntVarP(&o.backupCount, "backup-count", "n", 0, "")
	fs.StringVar(&o.maxAge, "max-age", "", "")
	fs.StringVarP(&o.compress, "compress", "z", "", "")
	fs.Lookup("compress").NoOptDefVal = rotator.DefaultCodec().Name
	fs.StringVarP(&o.symlink, "symlink", "l", "", "")
	fs.StringVar(&o.postRotate, "post-rotate", "", "")
	fs.StringVar(&o.hookTimeout, "post-rotate-timeout", "1m", "")
	fs.StringVarP(&o.timestamp, "timestamp", "t", "", "")
	fs.Lookup("timestamp").NoOptDefVal = defaultStampFlag
	fs.BoolVar(&o.tee, "tee", false, "")
	fs.StringVar(&o.mode, "mode", "0644", "")
	fs.StringVar(&o.dirMode, "dir-mode", "0755", "")
	fs.BoolVar(&o.fsync, "fsync", false, "")
	fs.StringVar(&o.maxLine, "max-line", "1M", "")
	fs.StringVar(&o.lockTimeout, "lock-timeout", "10s", "")
	fs.StringVar(&o.drainTimeout, "drain-timeout", "5s", "")
	fs.StringVar(&o.startTime, "start-time", "", "")
	fs.BoolVar(&o.dryRun, "dry-run", false, "")
	fs.StringVar(&o.user, "user", "", "")
	fs.StringVar(&o.onBlock, "on-block", "wait", "")
	fs.StringVar(&o.buffer, "buffer", "64M", "")
	fs.StringVar(&o.metrics, "metrics", "", "")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "")
	fs.BoolVarP(&o.version, "version", "V", false, "")
	fs.BoolVarP(&o.help, "help", "h", false, "")
	return fs
}

// normalizeArgs rewrites Go-style long flags (-when) to GNU form (--when)
// before pflag sees them, which would read -when as -w hen. It stops at --.
func normalizeArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if fs.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

func parseArgs(args []string) (*options, error) {
	o := &options{}
	fs := newFlagSet(o)
	if err := fs.Parse(normalizeArgs(fs, args)); err != nil {
		return nil, usageError{err}
	}
	o.args = fs.Args()
	if at := fs.ArgsLenAtDash(); at < 0 && len(o.args) > 0 || at > 0 {
		return nil, usagef("unexpected argument %q", o.args[0])
	}
	// A flag given empty (from an unset shell variable) is an error, not
	// a request for the default.
	if fs.Changed("when") && o.when == "" {
		_, _, err := pattern.ParseWhen("")
		return nil, patternError(err)
	}
	if fs.Changed("start-time") && o.startTime == "" {
		_, err := parseTime("", time.UTC)
		return nil, usageError{err}
	}
	for _, name := range []string{"suffix", "tz", "size", "max-age", "symlink", "post-rotate", "timestamp", "compress", "user", "metrics"} {
		if f := fs.Lookup(name); f.Changed && f.Value.String() == "" {
			return nil, usagef("--%s needs a value", name)
		}
	}
	return o, nil
}

// config is what the options mean, checked.
type config struct {
	pat         *pattern.Pattern
	loc         *time.Location
	mode        uint32
	dirMode     uint32
	user        *credential // --user, nil for none
	dropBuffer  int64       // --on-block drop: the --buffer size; 0 for wait
	metrics     string      // --metrics directory, "" for none
	maxLine     int
	lockTimeout time.Duration
	drain       time.Duration // --drain-timeout; 0: until end of input
	offset      time.Duration // --start-time minus the real clock
	maxSize     int64         // --size, 0 for none
	stamp       *stamper      // --timestamp, nil for none
	keep        rotator.Housekeeping
	symlink     string
	fsync       bool // --fsync
	tee         bool // --tee
	verbose     bool // -v
}

// flagOf names the flag that sets each field of pattern.Options.
var flagOf = map[string]string{"When": "--when", "Interval": "--interval", "Suffix": "--suffix"}

// patternError says what is wrong with a pattern in the words of the
// command line.
func patternError(err error) error {
	var oe *pattern.OptionError
	if errors.As(err, &oe) {
		return usagef("%s: %v", flagOf[oe.Field], oe.Err)
	}
	return usageError{err}
}

// maxInterval bounds --interval, far beyond use, so period arithmetic
// cannot overflow.
const maxInterval = 1_000_000

// maxOffset bounds how far --start-time may be from the real clock: the
// offset is a time.Duration, which holds about 292 years.
const maxOffset = 290 * 365 * 24 * time.Hour

// defaultStampFlag is what -t alone sets --timestamp to.
const defaultStampFlag = "rfc3339"

func (o *options) config(realNow time.Time) (*config, error) {
	c := &config{loc: time.Local, fsync: o.fsync, tee: o.tee, verbose: o.verbose}
	if o.path == "" {
		return nil, usagef("missing --path")
	}
	switch {
	case o.utc && o.tz != "":
		return nil, usagef("--utc and --tz exclude each other")
	case o.utc:
		c.loc = time.UTC
	case o.tz != "":
		loc, err := time.LoadLocation(o.tz)
		if err != nil || o.tz == "Local" {
			return nil, usagef("--tz: unknown time zone %q", o.tz)
		}
		c.loc = loc
	}
	if o.interval < 1 || o.interval > maxInterval {
		return nil, usagef("--interval: %d is not a number from 1 to %d", o.interval, maxInterval)
	}
	var err error
	c.pat, err = pattern.Compile(o.path, pattern.Options{
		When: o.when, Interval: o.interval, Suffix: o.suffix, Location: c.loc,
	})
	if err != nil {
		return nil, patternError(err)
	}
	m, err := strconv.ParseUint(o.mode, 8, 32)
	if err != nil || m > 0o777 {
		return nil, usagef("--mode: %q is not an octal mode like 0644", o.mode)
	}
	if m == 0 {
		return nil, usagef("--mode: 0 would make files nobody can read; give the bits, like 0600")
	}
	c.mode = uint32(m)
	dm, err := strconv.ParseUint(o.dirMode, 8, 32)
	if err != nil || dm > 0o777 {
		return nil, usagef("--dir-mode: %q is not an octal mode like 0755", o.dirMode)
	}
	if dm&0o700 != 0o700 {
		return nil, usagef("--dir-mode: %s would make directories rotlog cannot use; give at least 0700", o.dirMode)
	}
	c.dirMode = uint32(dm)
	if o.user != "" {
		if c.user, err = lookupCredential(o.user); err != nil {
			return nil, usagef("--user: %v", err)
		}
	}
	buf, err := parseSize(o.buffer)
	if err != nil || buf < 1<<10 || buf > 1<<40 {
		return nil, usagef("--buffer: %q is not a size from 1K to 1T, like 64M", o.buffer)
	}
	switch o.onBlock {
	case "wait":
	case "drop":
		c.dropBuffer = buf
	default:
		return nil, usagef("--on-block: %q is neither wait nor drop", o.onBlock)
	}
	if o.metrics != "" {
		if fi, err := os.Stat(o.metrics); err != nil {
			return nil, usagef("--metrics: %v", err)
		} else if !fi.IsDir() {
			return nil, usagef("--metrics: %s is not a directory", o.metrics)
		}
		c.metrics = o.metrics
	}
	ml, err := parseSize(o.maxLine)
	if err != nil || ml < 1 || ml > 1<<30 {
		return nil, usagef("--max-line: %q is not a size from 1 to 1G", o.maxLine)
	}
	c.maxLine = int(ml)
	c.lockTimeout, err = parseDuration(o.lockTimeout)
	if err != nil || c.lockTimeout <= 0 {
		return nil, usagef("--lock-timeout: %q is not a positive duration like 10s", o.lockTimeout)
	}
	if c.drain, err = parseDuration(o.drainTimeout); err != nil || c.drain < 0 {
		return nil, usagef("--drain-timeout: %q is not a duration like 5s (0: until end of input)", o.drainTimeout)
	}
	if o.size != "" {
		if c.maxSize, err = parseSize(o.size); err != nil || c.maxSize < 1 {
			return nil, usagef("--size: %q is not a size like 500K, 100M or 2G", o.size)
		}
	}
	if o.backupCount < 0 {
		return nil, usagef("--backup-count: %d is negative", o.backupCount)
	}
	c.keep.BackupCount = o.backupCount
	if o.maxAge != "" {
		if c.keep.MaxAge, err = parseDuration(o.maxAge); err != nil || c.keep.MaxAge <= 0 {
			return nil, usagef("--max-age: %q is not a positive duration like 36h, 7d or 4w", o.maxAge)
		}
	}
	if o.compress != "" {
		if c.keep.Codec = rotator.LookupCodec(o.compress); c.keep.Codec == nil {
			return nil, usagef("--compress: unknown codec %q (want %s)", o.compress, strings.Join(rotator.CodecNames(), " or "))
		}
	}
	if c.keep.HookTimeout, err = parseDuration(o.hookTimeout); err != nil || c.keep.HookTimeout <= 0 {
		return nil, usagef("--post-rotate-timeout: %q is not a positive duration", o.hookTimeout)
	}
	c.keep.PostRotate = o.postRotate
	c.symlink = o.symlink
	if o.symlink != "" && (o.symlink == c.pat.String() || !c.pat.Template() && samePath(o.symlink, c.pat.Path(time.Time{}))) {
		return nil, usagef("--symlink: %q is the target itself", o.symlink)
	}
	if o.timestamp != "" {
		f := o.timestamp
		if f == defaultStampFlag {
			f = ""
		}
		if c.stamp, err = newStamper(f, c.loc); err != nil {
			return nil, usagef("--timestamp: %v", err)
		}
	}
	if o.startTime != "" {
		t, err := parseTime(o.startTime, c.loc)
		if err != nil {
			return nil, usageError{err}
		}
		c.offset = t.Sub(realNow)
		if c.offset > maxOffset || c.offset < -maxOffset {
			return nil, usagef("--start-time: %q is more than 290 years away", o.startTime)
		}
	}
	return c, nil
}

// samePath reports whether two paths name the same place, spelled apart.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// parseSize reads 500K, 100M, 2G (binary multiples) or a byte count.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if t != "" {
		if i := strings.IndexByte("KMGT", t[len(t)-1]); i >= 0 {
			mult = 1 << (10 * (i + 1))
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// parseDuration reads Go durations plus whole days and weeks: 36h, 7d, 4w.
func parseDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseUint(n, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(v) * u.d, nil
		}
	}
	return time.ParseDuration(s)
}

// parseTime reads --start-time: RFC 3339, a local date and time, or @UNIX.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		sec, err := strconv.ParseFloat(rest, 64)
		if err == nil && math.Abs(sec) < 1e12 {
			whole, frac := math.Modf(sec)
			return time.Unix(int64(whole), int64(frac*1e9)), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02",
	} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("--start-time: " + strconv.Quote(s) + ` is not a time like "2026-11-24 23:59:58", RFC 3339 or @UNIXSECONDS`)
}
