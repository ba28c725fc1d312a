package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rotlog/rotlog/rotator"
)

// tickEvery bounds the time between Ticks, so an idle rotlog notices a
// boundary or a moved file within about a second.
const tickEvery = time.Second

// The stop policy, in one place. A stop (TERM or INT; in exec mode the
// command's exit, or a second TERM or INT):
//
//   - ends at once every wait for work not yet taken: a tick, rotation or
//     housekeeping pass waiting for a lock, a housekeeping pass under way,
//     and the backoff of a failing write (whose data is then reported as
//     unwritten);
//   - lets each source read on what its input holds, until end of input or
//     for drainFor, and write it;
//   - lets data already read wait for a lock for lockGrace longer than
//     --lock-timeout: long enough for a dead owner's lock to be broken.
const (
	drainFor  = time.Second
	lockGrace = time.Second
)

// app is one running pipeline: the control loop (signals, ticks,
// housekeeping) around the sources and the output they share.
type app struct {
	cfg    *config
	log    *logger
	out    *output
	keeper *rotator.Keeper

	housekeep chan struct{} // a housekeeping pass is wanted

	stopped context.Context // done once rotlog stops (see the stop policy)
	stop    func()
}

// newApp returns the pipeline c describes, reporting to stderr and, with
// --tee, copying input to stdout.
func newApp(c *config, stdout, stderr io.Writer) *app {
	log := &logger{w: stderr, verbose: c.verbose}
	stopped, stop := context.WithCancel(context.Background())
	locks, endLocks := context.WithCancel(context.Background())
	context.AfterFunc(stopped, func() { time.AfterFunc(c.lockTimeout+lockGrace, endLocks) })
	out := &output{log: log, stop: stopped, locks: locks}
	if c.tee {
		out.tee = stdout
	}
	out.rot = rotator.New(rotator.Config{
		Pattern:     c.pat,
		Mode:        os.FileMode(c.mode),
		Fsync:       c.fsync,
		LockTimeout: c.lockTimeout,
		MaxSize:     c.maxSize,
		Symlink:     c.symlink,
		MarkHook:    c.keep.PostRotate != "",
		Logf:        log.warnf,
		Verbosef:    log.verbosef,
		Locked:      lockedHook,
	})
	return &app{
		cfg:       c,
		log:       log,
		out:       out,
		keeper:    rotator.NewKeeper(c.pat, c.keep, log.warnf, log.verbosef),
		housekeep: make(chan struct{}, 1),
		stopped:   stopped,
		stop:      stop,
	}
}

// now is rotlog's only clock: wall time shifted by --start-time.
func (a *app) now() time.Time { return time.Now().Add(a.cfg.offset) }

// source returns a source reading in (and copying it to --tee).
func (a *app) source(in *os.File) *source {
	return newSource(in, a.cfg.newBatcher(a.out), a.now)
}

// child is the command of exec mode, if any.
type child interface {
	signal(os.Signal)
	exited() <-chan struct{}
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
		go func() { errc <- s.run(a.stopped, drainFor) }()
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
			// What the command wrote is in the pipes: read it, then stop,
			// even if a descendant holds them open.
			exited = nil
			a.stop()
		case err := <-errc:
			running--
			errs = append(errs, err)
		case sig := <-control:
			a.onSignal(sig)
		case <-timer.C:
			a.tick(a.now())
			timer.Reset(a.untilTick())
		}
	}
	return errors.Join(append(errs, a.out.close())...)
}

// catch acts on stop signals at once, whatever the rest is doing (it may
// be waiting for a lock, which a stop ends), forwards signals to a child,
// and passes HUP and ALRM on to the control loop.
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
				}
			}
			a.stop()
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
	if err != nil {
		a.log.warnf("error: %v", err)
	}
	if ev.Boundary || ev.Rotations > 0 {
		a.wantHousekeeping()
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
