package rotator

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestBreakStaleSwappedName is TestBreakStaleRace made likely: the lock's
// name flips (RENAME_EXCHANGE) between an old lock held by a live owner and
// a young lock whose creator has not taken its flock yet (the moment
// between lock()'s O_EXCL create and its flock). Neither may ever be broken:
// the first is held, the second is younger than LockTimeout. A breaker that
// judges the age of one file and then flocks and removes another breaks it.
func TestBreakStaleSwappedName(t *testing.T) {
	t.Parallel()
	const (
		swaps    = 20000
		breakers = 4
	)
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	path := pat.Path(time.Time{}) + ".lock"
	side := filepath.Join(dir, "young")
	holdLock(t, path, time.Now().Add(-time.Hour))          // old, held
	if err := os.WriteFile(side, nil, 0o644); err != nil { // young, not held
		t.Fatal(err)
	}
	lr := &logRec{}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range breakers {
		l := &Lock{Path: path, Timeout: time.Minute, Logf: lr.logf}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					l.breakStale()
				}
			}
		})
	}
	var swapErr error
	began := time.Now()
	for i := 0; i < swaps && time.Since(began) < 500*time.Millisecond; i++ {
		if swapErr = unix.Renameat2(unix.AT_FDCWD, side, unix.AT_FDCWD, path, unix.RENAME_EXCHANGE); swapErr != nil {
			break
		}
	}
	close(stop)
	wg.Wait()
	if errors.Is(swapErr, unix.EINVAL) || errors.Is(swapErr, unix.ENOSYS) {
		t.Skipf("no RENAME_EXCHANGE here: %v", swapErr)
	}
	if swapErr != nil {
		t.Errorf("a lock file vanished (%v): a breaker removed a lock that was held or young", swapErr)
	}
	if m := lr.matching("broke stale lock"); len(m) != 0 {
		t.Errorf("%d locks that were held or young reported broken, e.g. %q", len(m), m[0])
	}
}
