package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rotlog/rotlog/rotator"
)

// tickEvery bounds the time between Ticks, so an idle rotlog notices a
// boundary or a moved file within about a second.
const tickEvery = time.Second

// The stop policy, in one place. A stop is TERM or INT; in exec mode the
// command's exit, or a second TERM or INT (the first is the command's to
// act on). A stop
//
//   - ends at once waits for work not yet taken: a tick or a SIGALRM
//     rotation waiting for the lock (a later write rotates if need be), a
//     housekeeping pass (a running post-rotate command is killed, and runs
//     again at a later pass);
//   - stops reading new work, not writing accepted work: each source reads
//     on until end of input, for up to --drain-timeout (0: no limit), then
//     takes what its input already holds without waiting. A further TERM or
//     INT ends the drain at once; in exec mode the second one bounds it by
//     --drain-timeout even when that is 0, and the command's process group
//     is killed if it is still running when that time is up.
//
// When the drain is over, a failing write is not retried any more (its data
// is reported as unwritten), and data already read may wait for a lock
// lockGrace longer than --lock-timeout: long enough for a dead owner's lock
// to be broken.
const lockGrace = time.Second

// app is one running pipeline: the control loop (signals, ticks,
// housekeeping) around the sources and the output they share.
type app struct {
	cfg    *config
	log    *logger
	out    *output
	keeper *rotator.Keeper

	housekeep chan struct{} // a housekeeping pass is wanted

	// See the stop policy.
	stopped  context.Context // done at a stop
	stop     func()
	drained  context.Context // done when the drain is over
	endDrain func()
	stopMu   sync.Mutex
	stopAt   time.Time // when stopped, for the report
	killAt   time.Time // exec mode: when to kill the command's group; zero: never

	stoppedCommand bool        // exec mode: rotlog ended the command, as writing failed
	writeFailed    atomic.Bool // --on-block drop: the writer met a permanent error
}

// newApp returns the pipeline c describes, reporting to stderr and, with
// --tee, copying input to stdout.
func newApp(c *config, stdout, stderr io.Writer) *app {
	log := &logger{w: stderr, verbose: c.verbose}
	stopped, stop := context.WithCancel(context.Background())
	drained, endDrain := context.WithCancel(context.Background())
	if c.drain > 0 {
		context.AfterFunc(stopped, func() { time.AfterFunc(c.drain, endDrain) })
	}
	locks, endLocks := context.WithCancel(context.Background())
	context.AfterFunc(drained, func() { time.AfterFunc(c.lockTimeout+lockGrace, endLocks) })
	out := &output{log: log, stop: drained, locks: locks}
	if c.tee {
		out.tee = newTeeCopy(stdout, log)
	}
	if c.metrics != "" {
		out.stats = &stats{}
	}
	if c.dropBuffer > 0 {
		out.queue = newDropQueue(out, c.dropBuffer)
	}
	out.rot = rotator.New(rotator.Config{
		Pattern:      c.pat,
		Mode:         os.FileMode(c.mode),
		Fsync:        c.fsync,
		LockTimeout:  c.lockTimeout,
		MaxSize:      c.maxSize,
		Symlink:      c.symlink,
		MarkHook:     c.keep.PostRotate != "",
		MarkManifest: c.keep.Manifest,
		Logf:         log.warnf,
		Verbosef:     log.verbosef,
		Locked:       lockedHook,
		Now:          func() time.Time { return time.Now().Add(c.offset) },
		DirMode:      os.FileMode(c.dirMode),
		LockWait:     out.stats.lockWaited, // nil-safe: no --metrics, nothing counted
	})
	if c.keep.Budget.Active() {
		out.budget = rotator.NewKeeper(c.pat, c.keep, log.warnf, log.verbosef)
	}
	a := &app{
		cfg:       c,
		log:       log,
		out:       out,
		keeper:    rotator.NewKeeper(c.pat, c.keep, log.warnf, log.verbosef),
		housekeep: make(chan struct{}, 1),
		stopped:   stopped,
		stop:      stop,
		drained:   drained,
		endDrain:  endDrain,
	}
	if out.queue != nil {
		out.queue.onPermanent = func() {
			// Nothing more can be written: reading on would only drop.
			a.writeFailed.Store(true)
			a.stopNow()
			a.endDrain()
		}
	}
	return a
}

// stopNow stops rotlog (see the stop policy); again, it ends the drain.
func (a *app) stopNow() {
	a.stopMu.Lock()
	defer a.stopMu.Unlock()
	a.stopLocked()
}

func (a *app) stopLocked() {
	if a.stopped.Err() != nil {
		a.endDrain()
		return
	}
	a.stopAt = time.Now()
	a.stop()
}

// stopUnlessStopped stops rotlog if no stop is under way; it never ends a
// drain.
func (a *app) stopUnlessStopped() {
	a.stopMu.Lock()
	defer a.stopMu.Unlock()
	if a.stopped.Err() == nil {
		a.stopLocked()
	}
}

// awaitCommand waits, once nothing more is read, for exec mode's command to
// exit, forwarding signals meanwhile (catch goes on). The command decides
// when, unless rotlog must end: after a second TERM or INT, or when writing
// failed for good (then the group gets TERM). Then, once --drain-timeout
// (at least a second) is over, whatever is left of the command's process
// group is killed.
func (a *app) awaitCommand(kid child, control <-chan os.Signal, failed bool) {
	if failed {
		select {
		case <-kid.exited():
		default:
			a.log.warnf("stopping the command (PID %d): its output cannot be written", kid.pid())
			a.stoppedCommand = true
			kid.signal(syscall.SIGTERM)
			a.stopMu.Lock()
			a.killAt = time.Now().Add(max(a.cfg.drain, time.Second))
			a.stopMu.Unlock()
		}
	}
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	exited, gone, killed := kid.exited(), false, false
	for {
		_, killAt := a.stopTimes()
		due := !killAt.IsZero() && !time.Now().Before(killAt)
		if due && !killed && kid.groupAlive() {
			a.log.warnf("the command's process group (PID %d) still runs after --drain-timeout; killing it", kid.pid())
			kid.signal(syscall.SIGKILL)
			killed = true
		}
		// Once the command is gone: done, unless a bounded stop gives what
		// is left of its group until killAt.
		if gone && (killAt.IsZero() || killed || !kid.groupAlive()) {
			return
		}
		select {
		case <-exited:
			gone, exited = true, nil
		case sig := <-control:
			a.onSignal(sig)
		case <-poll.C:
		}
	}
}

// stopBounded stops rotlog in exec mode at a second TERM or INT: the drain
// lasts --drain-timeout at most, even when that is 0, and then the
// command's group is killed if it still runs.
func (a *app) stopBounded() {
	a.stopMu.Lock()
	defer a.stopMu.Unlock()
	a.killAt = time.Now().Add(a.cfg.drain)
	if a.stopped.Err() == nil {
		a.stopLocked()
	}
	if a.cfg.drain == 0 {
		a.endDrain()
	}
}

// stopTimes returns when rotlog stopped and when exec mode's command is to
// be killed (zero: never).
func (a *app) stopTimes() (stopAt, killAt time.Time) {
	a.stopMu.Lock()
	defer a.stopMu.Unlock()
	return a.stopAt, a.killAt
}

// now is rotlog's only clock: wall time shifted by --start-time.
func (a *app) now() time.Time { return time.Now().Add(a.cfg.offset) }

// source returns a source reading in (and copying it to --tee).
func (a *app) source(in *os.File) *source {
	return newSource(in, a.cfg.newBatcher(a.out.sink()), a.now)
}

// child is the command of exec mode, if any.
type child interface {
	signal(os.Signal) // to its process group
	exited() <-chan struct{}
	groupAlive() bool
	pid() int
}

// serve copies the sources to the target until each reaches end of input,
// or, after a stop, until each has written what it read. Signals meant for
// a child are forwarded to it.
func (a *app) serve(sources []*source, kid child) error {
	sigc := make(chan os.Signal, 16)
	sigs := []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGALRM, syscall.SIGPIPE}
	if kid != nil {
		sigs = append(sigs, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	}
	signal.Notify(sigc, sigs...)
	control := make(chan os.Signal, 16)
	defer func() {
		signal.Stop(sigc)
		close(sigc)
	}()
	defer a.stop()
	defer a.endDrain()

	if a.keeper.Active() {
		last, kept := make(chan struct{}), make(chan struct{})
		go a.keep(last, kept)
		defer func() {
			// At end of input a last pass finishes what this pipeline
			// rotated; after a stop the pass is cut short.
			close(last)
			<-kept
		}()
	}
	go a.catch(sigc, control, kid)
	// Restart safety: rotate what an earlier run left before reading, and
	// finish what it left to housekeeping.
	a.tick(a.now())
	a.wantHousekeeping()
	errc := make(chan error, len(sources))
	for _, s := range sources {
		go func() { errc <- s.run(a.stopped, a.drained) }()
	}
	timer := time.NewTimer(a.untilTick())
	defer timer.Stop()
	var errs []error
	var exited <-chan struct{}
	if kid != nil {
		exited = kid.exited()
	}
	for running := len(sources); running > 0; {
		select {
		case <-exited:
			// What the command wrote is in the pipes: read it, and what the
			// rest of its group writes until they close them, then stop.
			// (If a stop is under way already, its drain goes on.)
			exited = nil
			a.stopUnlessStopped()
		case err := <-errc:
			running--
			errs = append(errs, err)
			if ue := (*unwrittenError)(nil); errors.As(err, &ue) && ue.permanent {
				a.stopNow() // the other source, in exec mode: nothing more can be written
			}
		case sig := <-control:
			a.onSignal(sig)
		case <-timer.C:
			a.tick(a.now())
			timer.Reset(a.untilTick())
		}
	}
	if kid != nil {
		a.awaitCommand(kid, control, errors.Join(errs...) != nil || a.writeFailed.Load())
	}
	a.reportOpen(sources)
	if a.out.tee != nil {
		a.out.tee.close(time.Second)
	}
	return errors.Join(append(errs, a.out.close())...)
}

// reportOpen says so when a stop ended reading with input still open,
// naming the processes that hold it where it can.
func (a *app) reportOpen(sources []*source) {
	var open []*source
	for _, s := range sources {
		if s.open {
			open = append(open, s)
		}
	}
	if len(open) == 0 {
		return
	}
	seen := map[int]bool{}
	var pids []int
	for _, s := range open {
		for _, pid := range s.holders {
			if !seen[pid] {
				seen[pid] = true
				pids = append(pids, pid)
			}
		}
	}
	held := ""
	if len(pids) > 0 {
		held = fmt.Sprintf(" (held by PID %s)", joinInts(pids))
	}
	stopAt, _ := a.stopTimes()
	a.log.warnf("input was still open%s when rotlog stopped reading, %s after the stop; what is written to it from now on is lost (writers get EPIPE)",
		held, time.Since(stopAt).Round(time.Millisecond))
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// catch acts on stop signals at once, whatever the rest is doing (it may
// be waiting for a lock), forwards signals to a child, and passes HUP and
// ALRM on to the control loop.
func (a *app) catch(sigc <-chan os.Signal, control chan<- os.Signal, kid child) {
	forwarded := 0
	for sig := range sigc {
		switch sig {
		case syscall.SIGHUP, syscall.SIGALRM:
			select {
			case control <- sig:
			default: // plenty are pending already
			}
		case syscall.SIGPIPE:
			// Only --tee writes to a pipe; the failed write says so.
		default:
			stop := a.stopNow
			if kid != nil {
				// The command decides; its output is read to the end. A
				// second TERM or INT stops rotlog too (a descendant may
				// hold the pipes open forever).
				kid.signal(sig)
				if sig != syscall.SIGTERM && sig != syscall.SIGINT {
					continue
				}
				if forwarded++; forwarded < 2 {
					continue
				} else if forwarded == 2 {
					stop = a.stopBounded
				}
			}
			stop()
		}
	}
}

// onSignal handles HUP and ALRM in the control loop.
func (a *app) onSignal(sig os.Signal) {
	switch sig {
	case syscall.SIGHUP:
		a.log.verbosef("SIGHUP: reopening")
		a.out.reopen()
	case syscall.SIGALRM:
		a.log.verbosef("SIGALRM: rotating")
		if err := a.out.rotate(a.stopped, a.now()); err != nil {
			a.log.warnf("error: %v", err)
		}
		a.wantHousekeeping()
	}
}

func (a *app) untilTick() time.Duration {
	return min(tickEvery, max(a.out.nextTick().Sub(a.now()), time.Millisecond))
}

// tick lets the output do what time requires, and asks for housekeeping
// when a period ended or a file was rotated.
func (a *app) tick(now time.Time) {
	ev, err := a.out.tick(a.stopped, now)
	if err != nil && !errors.Is(err, rotator.ErrStopped) {
		a.log.warnf("error: %v", err)
	}
	if ev.Boundary || ev.Rotations > 0 {
		a.wantHousekeeping()
	}
}

// reportUnfinished says at exit which rotated files still wait for a
// successful post-rotate command: a later run tries them again.
func (a *app) reportUnfinished() {
	if files := a.keeper.Unfinished(a.now()); len(files) > 0 {
		a.log.warnf("warning: post-rotate command has not succeeded yet for: %s; tried again at the next start", strings.Join(files, ", "))
	}
}

// wantHousekeeping asks for a housekeeping pass.
func (a *app) wantHousekeeping() {
	select {
	case a.housekeep <- struct{}{}:
	default:
	}
}

// keep runs housekeeping passes when asked, again a second later while a
// file is still held by some pipeline, and every 30 s; after last is
// closed it runs one more pass and closes done. A stop cuts it short.
func (a *app) keep(last <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	defer a.reportUnfinished()
	ctx := a.stopped
	retry := time.NewTimer(30 * time.Second)
	defer retry.Stop()
	for {
		final := false
		select {
		case <-ctx.Done():
			return
		case <-last:
			final = true
		case <-a.housekeep:
		case <-retry.C:
		}
		again := a.keeper.Pass(ctx, a.now())
		if a.out.stats != nil {
			acts := a.keeper.Actions()
			if a.out.budget != nil {
				// The write path's own Keeper removes for the budget too.
				acts.Removed += a.out.budget.Actions().Removed
			}
			a.out.stats.housekept(a.keeper.Backlog(), acts)
		}
		if final {
			return
		}
		wait := 30 * time.Second
		if again {
			wait = time.Second
		}
		retry.Reset(wait)
	}
}
