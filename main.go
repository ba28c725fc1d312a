// Command rotlog reads lines from standard input and writes them to log
// files named by a strftime pattern, rotating at clock-aligned boundaries,
// safely with any number of rotlog processes writing the same target.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"
	_ "time/tzdata" // zones work without the system's zone files

	"github.com/rotlog/rotlog/pattern"
	"github.com/rotlog/rotlog/rotator"
)

// version, commit and date are set with -ldflags "-X main.version=...
// -X main.commit=... -X main.date=..." (see .goreleaser.yaml).
var version, commit, date string

// lockedHook, if set, runs while a rotation lock is held. Only TestMain
// sets it, before run is called.
var lockedHook func()

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is rotlog without a process around it. It returns the exit code: 0,
// 2 for a bad command line (found before any input is read), 1 otherwise.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	clean := false // served to the end without an error: --metrics removes its file
	o, err := parseArgs(args)
	if err != nil {
		return fail(stderr, err)
	}
	switch {
	case o.help:
		io.WriteString(stdout, usage)
		return 0
	case o.version:
		fmt.Fprintln(stdout, "rotlog", versionString())
		return 0
	}
	c, err := o.config(time.Now())
	if err != nil {
		return fail(stderr, err)
	}
	if o.dryRun {
		dryRun(stdout, c.pat, time.Now().Add(c.offset))
		if c.keep.Budget.Active() {
			dryRunBudget(stdout, c, time.Now().Add(c.offset))
		}
		return 0
	}
	if err := c.checkTarget(time.Now().Add(c.offset)); err != nil {
		return fail(stderr, err)
	}
	if err := c.checkDescriptors(len(o.args) > 0); err != nil {
		return fail(stderr, err)
	}
	if dir := existingDir(c.pat.Path(time.Now().Add(c.offset))); sharedFS(dir) != "" {
		fmt.Fprintf(stderr, "rotlog: warning: %s is on a %s file system: appends from several hosts to one file are not atomic there; let one host write each file (a target per host, or a collector)\n", dir, sharedFS(dir))
	}
	if c.user != nil {
		// Before any file is opened and before exec mode's command starts.
		if err := c.user.become(); err != nil {
			return fail(stderr, err)
		}
	}
	a := newApp(c, stdout, stderr)
	settingsCtx, cancel := context.WithTimeout(context.Background(), 2*c.lockTimeout)
	err = a.out.rot.CheckSettings(settingsCtx)
	cancel()
	if err != nil {
		return fail(stderr, usageError{err})
	}
	if c.metrics != "" {
		m := newMetricsFile(metricsName(c.metrics, c.pat.String(), os.Getpid()), c.pat.String(), a.out.stats, a.log)
		defer func() { m.close(clean) }()
	}
	if len(o.args) == 0 {
		in, keep := stdin, (*os.File)(nil)
		if c.input != "" {
			if in, keep, err = openFIFO(c.input, c.mode); err != nil {
				return fail(stderr, err)
			}
			defer in.Close()
		}
		src := a.source(in)
		src.keep = keep
		if err := a.serve([]*source{src}, nil); err != nil {
			return fail(stderr, err)
		}
		clean = true
		return 0
	}
	kid, pipes, err := startCommand(o.args)
	if err != nil {
		fmt.Fprintf(stderr, "rotlog: error: %v\n", err)
		if notExecutable(err) {
			return 126
		}
		return 127
	}
	sources := []*source{a.source(pipes[0]), a.source(pipes[1])}
	err = a.serve(sources, kid)
	for _, p := range pipes {
		p.Close()
	}
	status := kid.wait() // serve returns once it has exited
	if err != nil {
		fail(stderr, err)
		if status == 0 || a.stoppedCommand {
			status = 1 // rotlog's failure, not the command's
		}
	}
	clean = err == nil
	return status
}

// fail prints err in rotlog's voice, a line each for joined errors, and
// returns its exit code.
func fail(stderr io.Writer, err error) int {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "rotlog: error: %s\n", line)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "rotlog: hint: see rotlog --help")
		return 2
	}
	return 1
}

func dryRun(w io.Writer, p *pattern.Pattern, now time.Time) {
	fmt.Fprintf(w, "file: %s\n", p.Path(now))
	next := p.Next(now)
	if next.Equal(pattern.EndOfTime) {
		fmt.Fprintln(w, "next boundary: never")
		return
	}
	fmt.Fprintf(w, "next boundary: %s\n", next.In(p.Location).Format(time.RFC3339))
	if p.Template() {
		fmt.Fprintf(w, "next file: %s\n", p.Path(next))
	} else {
		fmt.Fprintf(w, "rotates to: %s\n", p.RotatedName(p.Start(now)))
	}
}

// dryRunBudget prints what housekeeping would remove now for retention
// and the disk budget, oldest first.
func dryRunBudget(w io.Writer, c *config, now time.Time) {
	k := rotator.NewKeeper(c.pat, c.keep, nil, nil)
	plan, total := k.Plan(now)
	fmt.Fprintf(w, "rotated files take: %s\n", formatSize(total))
	if len(plan) == 0 {
		fmt.Fprintln(w, "would remove: nothing")
	}
	for _, r := range plan {
		why := r.Why
		if why == "" {
			why = "beyond --backup-count or --max-age"
		}
		if r.Owed != "" {
			why = "before its " + r.Owed + " was done: " + why
		}
		fmt.Fprintf(w, "would remove: %s (%s): %s\n", r.Path, formatSize(r.Disk), why)
	}
}

// versionString is what --version prints after "rotlog ": the version,
// then the commit and date where known ("v1.2.3 (commit abc1234, built
// 2026-11-25T10:00:00Z)"). What -ldflags did not set comes from the build
// information the go command records, if any.
func versionString() string {
	v, c, d := version, commit, ""
	if date != "" {
		d = "built " + date
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value[:min(len(s.Value), 12)]
			case s.Key == "vcs.time" && d == "":
				d = "committed " + s.Value
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	var more []string
	if c != "" {
		more = append(more, "commit "+c)
	}
	if d != "" {
		more = append(more, d)
	}
	if len(more) > 0 {
		v += " (" + strings.Join(more, ", ") + ")"
	}
	return v
}
