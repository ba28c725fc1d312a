package rotator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Lock waits between attempts start at lockPollMin and double up to
// lockPollMax, with jitter, so that many waiters do not move in step.
const (
	lockPollMin = 100 * time.Microsecond
	lockPollMax = 5 * time.Millisecond
)

// ErrStopped is returned, wrapped, by calls that gave up waiting for a
// lock because their context was done.
var ErrStopped = errors.New("stopped while waiting for the lock")

// A Lock is the rotation lock of a target: the file Path, created with
// O_EXCL and holding an flock(2) for as long as it exists, its text naming
// the owner's host, PID and creation time. A Lock value holds no state
// between calls and may be used by several goroutines; each Acquire that
// succeeds must be followed by one call of its unlock function.
type Lock struct {
	Path    string
	Timeout time.Duration                    // a lock older than this whose owner is gone is broken
	Logf    func(format string, args ...any) // a broken stale lock, a long wait; may be nil
	// Verbosef, if set, hears when a wait begins: the lock was found held
	// and judged not breakable.
	Verbosef func(format string, args ...any)
	// Waited, if set, is called when an Acquire that found the lock held
	// returns, with how long it waited (lock times are the wall clock's).
	Waited func(d time.Duration)
}

func (l *Lock) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}

// Acquire takes the lock and returns the function that releases it. It
// waits while another process holds the lock, breaking it once it is older
// than Timeout and its owner is gone, until ctx is done: then it returns an
// error wrapping ErrStopped.
func (l *Lock) Acquire(ctx context.Context) (unlock func(), err error) {
	return l.acquireUnless(ctx, nil)
}

// acquireUnless is Acquire that, while it waits, calls done before each
// attempt after the first, and stops waiting once done reports true,
// returning a nil unlock and no error: what the lock was wanted for no
// longer needs it (another process did it). done may be nil.
func (l *Lock) acquireUnless(ctx context.Context, done func() bool) (unlock func(), err error) {
	path := l.Path
	delay := lockPollMin
	began := time.Now()
	warned, waited := false, false
	defer func() {
		if waited && l.Waited != nil {
			l.Waited(time.Since(began))
		}
	}()
	for {
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err == nil {
			// A fresh file: nobody else can hold its flock yet, and no
			// breaker looks at a lock younger than Timeout.
			if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
				// A breaker holds it: we stalled past Timeout between
				// create and flock. The name is not ours any more.
				unix.Close(fd)
				continue
			}
			if !namesFd(path, fd) {
				// Broken while we stalled between create and flock.
				unix.Close(fd)
				continue
			}
			_, _ = unix.Write(fd, []byte(owner()))
			return func() {
				// Remove before close: while the flock is held nobody can
				// break this lock, so the name is still ours.
				if namesFd(path, fd) {
					os.Remove(path)
				}
				unix.Close(fd)
			}, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return nil, &os.PathError{Op: "lock", Path: path, Err: err}
		}
		first := !waited
		waited = true
		if err := l.planted(); err != nil {
			return nil, err
		}
		l.breakStale()
		if first && l.Verbosef != nil {
			l.Verbosef("lock %s is held; waiting", path)
		}
		if !warned && time.Since(began) > l.Timeout {
			warned = true
			l.logf("waiting for lock %s held by %s", path, describeLockPath(path))
		}
		t := time.NewTimer(delay/2 + rand.N(delay))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: %w", path, ErrStopped)
		}
		// Asked before the next attempt: when the holder is done, what
		// it did (a file made, a file rotated) is taken as it is, instead
		// of every waiter taking the lock in turn.
		if done != nil && done() {
			return nil, nil
		}
		delay = min(2*delay, lockPollMax)
	}
}

// planted deals with something at the lock's name that rotlog never makes:
// anything but a regular file there (a symbolic link, a directory) is an
// error, as no lock can be taken while it is there; the caller retries and
// reports it.
func (l *Lock) planted() error {
	fi, err := os.Lstat(l.Path)
	switch {
	case err != nil, fi.Mode().IsRegular():
		return nil
	case fi.Mode()&os.ModeSymlink != 0:
		// Not removed: between a look and a remove, another waiter may have
		// removed it and a third taken the lock, whose file would go.
		dest, _ := os.Readlink(l.Path)
		return fmt.Errorf("lock %s is a symbolic link (to %s), never rotlog's; remove it", l.Path, dest)
	case fi.IsDir():
		return fmt.Errorf("lock %s is a directory; remove it", l.Path)
	default:
		return fmt.Errorf("lock %s is not a regular file (%s); remove it", l.Path, fi.Mode().Type())
	}
}

// lockAge is how old a lock last changed at mtime is. A time in the future
// (the clock was stepped back since) counts as that far in the past: only a
// lock just created is young, and its time is now.
func lockAge(mtime time.Time) time.Duration {
	age := time.Since(mtime)
	if age < 0 {
		age = -age
	}
	return age
}

// breakStale removes the lock if it is older than Timeout and nobody holds
// its flock, so its owner has exited or was killed.
func (l *Lock) breakStale() {
	path := l.Path
	fi, err := os.Lstat(path)
	if err != nil || lockAge(fi.ModTime()) < l.Timeout {
		return
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	// Judge the file opened, not the name: since the Lstat the lock may
	// have been released and a fresh one created, not yet flocked.
	var held, named unix.Stat_t
	if unix.Fstat(fd, &held) != nil ||
		lockAge(time.Unix(held.Mtim.Unix())) < l.Timeout {
		return
	}
	if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return // the owner is alive
	}
	// Holding the flock, no other breaker can get here for this file; check
	// the name still refers to it (the owner may have just released it and
	// another process created a new lock).
	if unix.Lstat(path, &named) != nil || held.Dev != named.Dev || held.Ino != named.Ino {
		return
	}
	desc := describeLock(fd)
	if unix.Unlink(path) == nil {
		l.logf("broke stale lock %s held by %s", path, desc)
	}
}

// namesFd reports whether path still names the file open as fd.
func namesFd(path string, fd int) bool {
	var a, b unix.Stat_t
	return unix.Fstat(fd, &a) == nil && unix.Lstat(path, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino
}

var hostname = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
})

// owner is the text of a lock file: host, PID and time of creation.
func owner() string {
	return fmt.Sprintf("%s %d %s\n", hostname(), os.Getpid(), time.Now().UTC().Format(time.RFC3339Nano))
}

// describeLock reads a lock file's text for a message.
func describeLock(fd int) string {
	var buf [256]byte
	n, _ := unix.Pread(fd, buf[:], 0)
	s := strings.TrimSpace(string(buf[:max(n, 0)]))
	if s == "" {
		return "an unknown owner (empty lock file)"
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' }) {
		return fmt.Sprintf("an unknown owner (lock file holds %q)", s)
	}
	return "host/pid/time " + s
}

// describeLockPath describes the lock at path, for a waiting message.
func describeLockPath(path string) string {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "a process that has just released it"
	}
	defer unix.Close(fd)
	return describeLock(fd)
}
