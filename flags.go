package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
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
                              (default by unit, e.g. %Y-%m-%d for D); short
                              for --rotate-to PATH.FMT
        --rotate-to PATTERN   rotated path of an active file, a strftime pattern
                              expanded at the start of its period, relative to
                              the active file's directory ('app.log-%Y%m%d',
                              'app-%Y-%m-%d.log', 'archive/%Y/%m/app.log.%d')
    -s, --size SIZE           also rotate when the file reaches SIZE (500K, 100M, 2G)
        --utc                 cut periods and names in UTC
        --tz ZONE             cut periods and names in an IANA zone (default:
                              local time, TZ honoured)
    -n, --backup-count N      keep at most N rotated files of this target (0: all)
        --max-age DURATION    remove rotated files older than this (36h, 7d, 4w)
        --max-total SIZE      remove the oldest rotated files while they take
                              more than SIZE on disk (compressed as they are)
        --keep-free SIZE|N%   remove the oldest rotated files while less than
                              SIZE (or N% of the filesystem) is free, and when
                              the disk is full
    -z, --compress[=CODEC[:LEVEL]]
                              compress rotated files once nobody writes them:
                              gzip (default; levels 1-9) or zstd (1-22)
        --compress-delay DURATION
                              finish (compress, manifest, post-rotate) a rotated
                              file only once its period ended this long ago
    -l, --symlink LINK        keep LINK pointing at the file being written
        --post-rotate CMD     run CMD with each finished rotated file's path
                              appended (after compression), retried with backoff
                              until it succeeds: CMD must be idempotent
        --post-rotate-timeout DURATION
                              kill a post-rotate command running longer (default 1m)
        --manifest            append a JSON line describing each finished file
                              (name, period, bytes, lines, sha256) to
                              TARGET.manifest
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
        --multiline-start REGEX
                              a line matching REGEX (RE2) starts a record; other
                              lines continue it; a record is written whole, to
                              the file of its first line's period
        --multiline-timeout DUR
                              write a record held back after this long without
                              input (default 500ms)
        --input FIFO          read the named pipe FIFO (made with --mode if
                              missing) instead of standard input; writers may
                              come and go
        --start-time TIME     pretend the clock reads TIME at start
                              ("2026-11-24 23:59:58", RFC 3339 or @UNIXSECONDS)
        --dry-run             print the file written now, the next boundary and
                              the rotated name (with --max-total or --keep-free,
                              what they would remove now), then exit
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
	rotateTo, compressDelay     string
	manifest                    bool
	multilineStart              string
	multilineTimeout, input     string
	user, dirMode, onBlock      string
	buffer, metrics             string
	maxTotal, keepFree          string
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
	fs.StringVar(&o.rotateTo, "rotate-to", "", "")
	fs.StringVarP(&o.size, "size", "s", "", "")
	fs.BoolVar(&o.utc, "utc", false, "")
	fs.StringVar(&o.tz, "tz", "", "")
	fs.IntVarP(&o.backupCount, "backup-count", "n", 0, "")
	fs.StringVar(&o.maxAge, "max-age", "", "")
	fs.StringVar(&o.maxTotal, "max-total", "", "")
	fs.StringVar(&o.keepFree, "keep-free", "", "")
	fs.StringVarP(&o.compress, "compress", "z", "", "")
	fs.Lookup("compress").NoOptDefVal = rotator.DefaultCodec().Name
	fs.StringVar(&o.compressDelay, "compress-delay", "", "")
	fs.StringVarP(&o.symlink, "symlink", "l", "", "")
	fs.StringVar(&o.postRotate, "post-rotate", "", "")
	fs.StringVar(&o.hookTimeout, "post-rotate-timeout", "1m", "")
	fs.BoolVar(&o.manifest, "manifest", false, "")
	fs.StringVarP(&o.timestamp, "timestamp", "t", "", "")
	fs.Lookup("timestamp").NoOptDefVal = defaultStampFlag
	fs.BoolVar(&o.tee, "tee", false, "")
	fs.StringVar(&o.mode, "mode", "0644", "")
	fs.StringVar(&o.dirMode, "dir-mode", "0755", "")
	fs.BoolVar(&o.fsync, "fsync", false, "")
	fs.StringVar(&o.maxLine, "max-line", "1M", "")
	fs.StringVar(&o.lockTimeout, "lock-timeout", "10s", "")
	fs.StringVar(&o.drainTimeout, "drain-timeout", "5s", "")
	fs.StringVar(&o.multilineStart, "multiline-start", "", "")
	fs.StringVar(&o.multilineTimeout, "multiline-timeout", "500ms", "")
	fs.StringVar(&o.input, "input", "", "")
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
	for _, name := range []string{"suffix", "rotate-to", "compress-delay", "tz", "size", "max-age", "symlink", "post-rotate", "timestamp", "compress", "multiline-start", "input", "user", "metrics", "max-total", "keep-free"} {
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

	multiline        *regexp.Regexp // --multiline-start; nil for none
	multilineTimeout time.Duration  // --multiline-timeout
	input            string         // --input: a named pipe to read; "" for standard input
}

// flagOf names the flag that sets each field of pattern.Options.
var flagOf = map[string]string{"When": "--when", "Interval": "--interval", "Suffix": "--suffix", "RotateTo": "--rotate-to"}

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
	if o.suffix != "" && o.rotateTo != "" {
		return nil, usagef("--suffix and --rotate-to exclude each other (--suffix FMT is short for --rotate-to PATH.FMT)")
	}
	var err error
	c.pat, err = pattern.Compile(o.path, pattern.Options{
		When: o.when, Interval: o.interval, Suffix: o.suffix, RotateTo: o.rotateTo, Location: c.loc,
		Host: shortHostname(),
	})
	if err != nil {
		return nil, patternError(err)
	}
	if o.rotateTo != "" {
		if err := sameFilesystem(c.pat, realNow); err != nil {
			return nil, usagef("--rotate-to: %v", err)
		}
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
	if err := tooLarge("lock-timeout", o.lockTimeout, err); err != nil {
		return nil, err
	}
	if err != nil || c.lockTimeout <= 0 {
		return nil, usagef("--lock-timeout: %q is not a positive duration like 10s", o.lockTimeout)
	}
	c.drain, err = parseDuration(o.drainTimeout)
	if err := tooLarge("drain-timeout", o.drainTimeout, err); err != nil {
		return nil, err
	}
	if err != nil || c.drain < 0 {
		return nil, usagef("--drain-timeout: %q is not a duration like 5s (0: until end of input)", o.drainTimeout)
	}
	if o.size != "" {
		if c.maxSize, err = positiveSize("size", o.size, "a size like 500K, 100M or 2G"); err != nil {
			return nil, err
		}
	}
	if o.backupCount < 0 {
		return nil, usagef("--backup-count: %d is negative", o.backupCount)
	}
	c.keep.BackupCount = o.backupCount
	if o.maxAge != "" {
		c.keep.MaxAge, err = parseDuration(o.maxAge)
		if err := tooLarge("max-age", o.maxAge, err); err != nil {
			return nil, err
		}
		if err != nil || c.keep.MaxAge <= 0 {
			return nil, usagef("--max-age: %q is not a positive duration like 36h, 7d or 4w", o.maxAge)
		}
	}
	if err := o.budget(&c.keep.Budget); err != nil {
		return nil, err
	}
	if o.compress != "" {
		name, level, hasLevel := strings.Cut(o.compress, ":")
		if c.keep.Codec = rotator.LookupCodec(name); c.keep.Codec == nil {
			return nil, usagef("--compress: unknown codec %q (want %s)", name, strings.Join(rotator.CodecNames(), " or "))
		}
		if hasLevel {
			cd := c.keep.Codec
			n, err := strconv.Atoi(level)
			if err != nil || n < cd.MinLevel || n > cd.MaxLevel {
				return nil, usagef("--compress: %s level %q is not a number from %d to %d", cd.Name, level, cd.MinLevel, cd.MaxLevel)
			}
			c.keep.Level = n
		}
	}
	if o.compressDelay != "" {
		if c.keep.FinishDelay, err = parseDuration(o.compressDelay); err != nil || c.keep.FinishDelay <= 0 {
			return nil, usagef("--compress-delay: %q is not a positive duration like 30s, 5m or 1h", o.compressDelay)
		}
	}
	c.keep.Manifest = o.manifest
	if c.keep.FinishDelay > 0 && c.keep.Codec == nil && o.postRotate == "" && !o.manifest {
		return nil, usagef("--compress-delay: there is nothing to delay without --compress, --post-rotate or --manifest")
	}
	c.keep.HookTimeout, err = parseDuration(o.hookTimeout)
	if err := tooLarge("post-rotate-timeout", o.hookTimeout, err); err != nil {
		return nil, err
	}
	if err != nil || c.keep.HookTimeout <= 0 {
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
	if o.multilineStart != "" {
		if c.multiline, err = regexp.Compile(o.multilineStart); err != nil {
			return nil, usagef("--multiline-start: %v", err)
		}
	}
	if c.multilineTimeout, err = parseDuration(o.multilineTimeout); err != nil || c.multilineTimeout <= 0 {
		return nil, usagef("--multiline-timeout: %q is not a positive duration like 500ms", o.multilineTimeout)
	}
	if o.input != "" && len(o.args) > 0 {
		return nil, usagef("--input: exec mode reads the command's output, not a named pipe")
	}
	c.input = o.input
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

// budget reads --max-total and --keep-free into b.
func (o *options) budget(b *rotator.Budget) error {
	if o.maxTotal != "" {
		n, err := positiveSize("max-total", o.maxTotal, "a size like 500M or 2G")
		if err != nil {
			return err
		}
		b.MaxTotal = n
	}
	if o.keepFree != "" {
		if pc, ok := strings.CutSuffix(o.keepFree, "%"); ok {
			f, err := strconv.ParseFloat(pc, 64)
			if err != nil || !(f > 0 && f < 100) {
				return usagef("--keep-free: %q is not a share of the filesystem above 0%% and below 100%%, like 10%%", o.keepFree)
			}
			b.KeepFreePercent = f
		} else {
			n, err := positiveSize("keep-free", o.keepFree, "a size like 500M or a share like 10%")
			if err != nil {
				return err
			}
			b.KeepFree = n
		}
	}
	maxTotal, keepFree := o.maxTotal, o.keepFree
	b.Describe = func(p rotator.Pressure) string {
		switch p.Reason {
		case rotator.TooLarge:
			return fmt.Sprintf("--max-total %s exceeded (total %s)", maxTotal, formatSize(p.Total))
		case rotator.TooLittleFree:
			return fmt.Sprintf("--keep-free %s not met (%s free, want %s)", keepFree, formatSize(p.Total), formatSize(p.Limit))
		}
		return fmt.Sprintf("the disk is full (%v)", p.Err)
	}
	return nil
}

// formatSize writes a byte count as parseSize reads it, to a tenth: 1.2M.
func formatSize(n int64) string {
	const units = "KMGT"
	if n < 1<<10 {
		return strconv.FormatInt(n, 10)
	}
	v, u := float64(n)/(1<<10), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + units[u:u+1]
}

// shortHostname is the host's name up to its first dot, for %{host}; ""
// if it cannot be had.
func shortHostname() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	short, _, _ := strings.Cut(h, ".")
	return short
}

// sameFilesystem checks that an active file's rotated files would be on
// its filesystem, and on its mount: a rename cannot cross to another
// filesystem, nor between two bind mounts of one. It looks at the nearest
// existing directory of each.
func sameFilesystem(p *pattern.Pattern, now time.Time) error {
	active := p.Path(time.Time{})
	rotated := p.RotatedName(now)
	da, db := existingDir(active), existingDir(rotated)
	a, err1 := os.Stat(da)
	b, err2 := os.Stat(db)
	if err1 != nil || err2 != nil {
		return nil // the open or the rename says what is wrong
	}
	ma, ok1 := mountID(da)
	mb, ok2 := mountID(db)
	if devOf(a) != devOf(b) || ok1 && ok2 && ma != mb {
		return fmt.Errorf("%s is on another filesystem or mount than %s; a rename cannot move it there", rotated, active)
	}
	return nil
}

// devOf returns the device a file is on.
func devOf(fi fs.FileInfo) uint64 {
	return uint64(fi.Sys().(*syscall.Stat_t).Dev)
}

// samePath reports whether two paths name the same place, spelled apart.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// maxSize is the largest size a flag takes: what an int64 holds.
const maxSize = math.MaxInt64

// maxDuration is the longest duration a flag takes: 100 years of days, well
// inside what a time.Duration holds (about 292 years), so that rotlog's own
// arithmetic on it (a timeout plus a grace time) cannot overflow either.
const maxDuration = 36500 * 24 * time.Hour

// errTooLarge is a size or duration that parses but is beyond maxSize or
// maxDuration.
var errTooLarge = errors.New("too large")

// tooLarge says, in flag language, that a duration given to --name is beyond what
// rotlog takes, if err says so; otherwise it returns nil.
func tooLarge(name, value string, err error) error {
	if !errors.Is(err, errTooLarge) {
		return nil
	}
	return usagef("--%s: %q is too long: durations go up to %dd (100 years)", name, value, maxDuration/(24*time.Hour))
}

// positiveSize reads the value of --name, a size of at least one byte;
// like says what is expected, in the error ("a size like 500M or 2G").
func positiveSize(name, value, like string) (int64, error) {
	n, err := parseSize(value)
	if errors.Is(err, errTooLarge) {
		return 0, usagef("--%s: %q is too large: sizes go up to %dT", name, value, maxSize>>40)
	}
	if err != nil || n < 1 {
		return 0, usagef("--%s: %q is not %s", name, value, like)
	}
	return n, nil
}

// parseSize reads 500K, 100M, 2G (binary multiples) or a byte count. A
// value beyond maxSize is errTooLarge.
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
	switch {
	case errors.Is(err, strconv.ErrRange) && n > 0, err == nil && n > maxSize/mult:
		return 0, fmt.Errorf("size %q: %w", s, errTooLarge)
	case err != nil || n < 0:
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// goDuration is the syntax time.ParseDuration accepts, so that an error
// from it on a string of this form can only be an overflow.
var goDuration = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// parseDuration reads Go durations plus whole days and weeks: 36h, 7d, 4w.
// A value longer than maxDuration (either sign) is errTooLarge, never a
// wrapped one.
func parseDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseUint(n, 10, 64)
			switch {
			case errors.Is(err, strconv.ErrRange), err == nil && v > uint64(maxDuration/u.d):
				return 0, fmt.Errorf("duration %q: %w", s, errTooLarge)
			case err != nil:
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(v) * u.d, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil && goDuration.MatchString(s) && !strings.HasPrefix(s, "-") || err == nil && d > maxDuration {
		return 0, fmt.Errorf("duration %q: %w", s, errTooLarge)
	}
	if err != nil || d < -maxDuration {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
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
