package rotator

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newLock returns a Lock in a fresh directory, its path and its log.
func newLock(t *testing.T, timeout time.Duration) (*Lock, string, *logRec) {
	t.Helper()
	lr := &logRec{}
	path := filepath.Join(t.TempDir(), "app.log.lock")
	return &Lock{Path: path, Timeout: timeout, Logf: lr.logf}, path, lr
}

// holdLock plays a live owner: it creates the lock file and holds its flock
// on a descriptor of its own. The returned function releases it the way an
// owner does, removing the name before closing.
func holdLock(t *testing.T, path string, mtime time.Time) (release func()) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fd, []byte("slowhost 4242 2026-01-01T00:00:00Z\n")); err != nil {
		t.Fatal(err)
	}
	setMtime(t, path, mtime)
	var once sync.Once
	release = func() {
		once.Do(func() {
			os.Remove(path)
			unix.Close(fd)
		})
	}
	t.Cleanup(release)
	return release
}

// plantStale leaves a lock file as a killed owner would: no flock holder,
// an old mtime.
func plantStale(tb testing.TB, path, content string) {
	tb.Helper()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		tb.Fatalf("plant stale lock: %v", err)
	}
	if content != "" {
		if _, err := unix.Write(fd, []byte(content)); err != nil {
			tb.Fatal(err)
		}
	}
	unix.Close(fd)
	setMtime(tb, path, time.Now().Add(-time.Hour))
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatalf("lock file: %v", err)
	}
	return st.Ino
}

// TestLockLiveOwner checks that a lock whose owner is alive is never
// broken, however old it looks, and is taken as soon as the owner lets go.
func TestLockLiveOwner(t *testing.T) {
	t.Parallel()
	const timeout = 50 * time.Millisecond
	l, path, lr := newLock(t, timeout)
	release := holdLock(t, path, time.Now().Add(-24*time.Hour))
	ino := inode(t, path)

	l.breakStale()
	if got := inode(t, path); got != ino {
		t.Fatalf("breakStale replaced a lock held by a live owner")
	}

	type result struct {
		unlock func()
		err    error
	}
	done := make(chan result, 1)
	go func() {
		unlock, err := l.Acquire(bg)
		done <- result{unlock, err}
	}()
	select {
	case res := <-done:
		if res.unlock != nil {
			res.unlock()
		}
		t.Fatalf("lock() returned (err %v) while a live owner held the lock", res.err)
	case <-time.After(3 * timeout):
	}
	if got := inode(t, path); got != ino {
		t.Fatalf("the live owner's lock file was replaced while it was held")
	}
	if m := lr.matching("broke stale lock"); len(m) != 0 {
		t.Errorf("a live owner's lock was reported broken: %q", m)
	}
	if m := lr.matching("waiting for lock"); len(m) != 1 {
		t.Errorf("waiting longer than LockTimeout logged %q, want one warning", m)
	} else if !strings.Contains(m[0], "slowhost 4242") {
		t.Errorf("the warning %q does not name the owner", m[0])
	}

	release()
	var res result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("lock() still waiting 10s after the owner released the lock")
	}
	if res.err != nil {
		t.Fatalf("lock() after release: %v", res.err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("lock file after lock(): %v", err)
	}
	if want := " " + strconv.Itoa(os.Getpid()) + " "; !strings.Contains(string(b), want) {
		t.Errorf("lock file holds %q, want this process's host, PID and time", b)
	}
	res.unlock()
	wantNoFile(t, path)
	if m := lr.matching("broke stale lock"); len(m) != 0 {
		t.Errorf("a released lock was reported broken: %q", m)
	}
}

// TestLockStale checks that a lock left by a dead owner is broken once,
// reported once, and then taken.
func TestLockStale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, mention string
	}{
		{"empty", "", "empty lock file"},
		{"garbage", "\x00\xff\x01garbage", "garbage"},
		{"owner text", "otherhost 123 2026-01-01T00:00:00Z\n", "otherhost 123 2026-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, path, lr := newLock(t, 100*time.Millisecond)
			plantStale(t, path, tt.content)

			unlock, err := l.Acquire(bg)
			if err != nil {
				t.Fatalf("lock() over a stale lock: %v", err)
			}
			broke := lr.matching("broke stale lock")
			if len(broke) != 1 {
				t.Errorf("log %q, want exactly one \"broke stale lock\"", lr.matching(""))
			} else if !strings.Contains(broke[0], tt.mention) {
				t.Errorf("message %q does not mention %q", broke[0], tt.mention)
			}
			unlock()
			wantNoFile(t, path)
		})
	}
}

// TestLockYoung checks that a lock with no flock holder is left alone until
// it is older than LockTimeout (its owner may be between create and flock).
func TestLockYoung(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	l, path, lr := newLock(t, timeout)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ino := inode(t, path)
	l.breakStale()
	if got := inode(t, path); got != ino {
		t.Fatal("breakStale removed a lock younger than LockTimeout")
	}
	if m := lr.matching(""); len(m) != 0 {
		t.Errorf("unexpected log %q", m)
	}

	// Once it is older than LockTimeout (real clock), it is broken.
	time.Sleep(timeout + 20*time.Millisecond)
	l.breakStale()
	wantNoFile(t, path)
	if m := lr.matching("broke stale lock"); len(m) != 1 {
		t.Errorf("log %q, want one \"broke stale lock\"", lr.matching(""))
	}
}

// TestUnlockRemoves checks that a normal unlock removes the lock file, and
// that the lock can be taken again at once.
func TestUnlockRemoves(t *testing.T) {
	t.Parallel()
	l, path, lr := newLock(t, time.Hour)
	for range 3 {
		unlock, err := l.Acquire(bg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("lock file while held: %v", err)
		}
		unlock()
		if _, err := os.Lstat(path); err == nil {
			t.Fatal("the lock file is still there after unlock") // and lock() would wait for it
		}
	}
	if _, err := os.Lstat(path); err == nil {
		t.Fatal("the lock file is still there after the last unlock")
	}
	wantNoFile(t, path)
	if m := lr.matching(""); len(m) != 0 {
		t.Errorf("unexpected log %q", m)
	}
}

// TestLockStress runs 32 Rotators (each standing for a process) on one
// target in rounds; each round is a new period, so at least one Rotator
// takes the lock to rotate and create the file (the others may find it
// made and open it without the lock), and every one takes it a few more
// times. Some rounds start from
// a stale lock. At most one holds the lock at any time, each stale lock is
// broken exactly once, and every line is in the file of its round.
func TestLockStress(t *testing.T) {
	t.Parallel()
	const (
		workers = 32
		rounds  = 16
		extra   = 2 // locked() calls per worker and round besides the Write
	)
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	lockPath := pat.Path(time.Time{}) + ".lock"

	var holders, overlaps, entries atomic.Int64
	hook := func() {
		entries.Add(1)
		if holders.Add(1) != 1 {
			overlaps.Add(1)
		}
		time.Sleep(3 * time.Microsecond)
		holders.Add(-1)
	}
	lr := &logRec{}
	rots := make([]*Rotator, workers)
	for i := range rots {
		rots[i] = New(Config{Pattern: pat, LockTimeout: 2 * time.Second, Logf: lr.logf, Locked: hook})
		t.Cleanup(func() { rots[i].Close() })
	}

	stale := []string{"", "garbage\x00", "otherhost 123 2026-01-01T00:00:00Z\n"}
	planted := 0
	for k := range rounds {
		if k%3 == 1 {
			// No Rotator is running: the lock is free and the file ours.
			plantStale(t, lockPath, stale[planted%len(stale)])
			planted++
		}
		now := t0.Add(time.Duration(k)*time.Second + 250*time.Millisecond)
		var wg sync.WaitGroup
		for g, r := range rots {
			wg.Go(func() {
				line := fmt.Sprintf("g%02d r%02d\n", g, k)
				if n, err := r.Write(bg, []byte(line), now); err != nil || n != len(line) {
					t.Errorf("worker %d round %d: Write = %d, %v", g, k, n, err)
				}
				for range extra {
					if err := r.locked(bg, r.activeLock(), func() error { return nil }); err != nil {
						t.Errorf("worker %d round %d: locked: %v", g, k, err)
					}
				}
			})
		}
		wg.Wait()
	}
	for _, r := range rots {
		r.Close()
	}

	if n := overlaps.Load(); n != 0 {
		t.Errorf("the lock was held by two Rotators at once %d times", n)
	}
	if got, want := entries.Load(), int64(rounds*(1+workers*extra)); got < want {
		t.Errorf("Locked ran %d times, want at least %d", got, want)
	}
	if got := len(lr.matching("broke stale lock")); got != planted {
		t.Errorf("%d \"broke stale lock\" messages for %d planted stale locks; log: %q", got, planted, lr.matching(""))
	}

	// Every line is in the file of its round, exactly once.
	var names []string
	for k := range rounds {
		name := "app.log"
		if k < rounds-1 {
			name = filepath.Base(pat.RotatedName(pat.Start(t0.Add(time.Duration(k) * time.Second))))
		}
		names = append(names, name)
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("round %d: %v", k, err)
			continue
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		slices.Sort(lines)
		var want []string
		for g := range workers {
			want = append(want, fmt.Sprintf("g%02d r%02d", g, k))
		}
		if !slices.Equal(lines, want) {
			t.Errorf("round %d: %s holds %q, want %q", k, name, lines, want)
		}
	}
	wantDir(t, dir, names...)
}

// TestBreakStaleRace checks that a breaker never breaks a live lock that
// took the place of the stale-looking one it looked at. An owner (a real
// lock() call) takes the lock, makes it look old (an owner slower than
// LockTimeout), checks that its lock file is still there, releases it, and
// at once takes it again, while breakers keep probing.
func TestBreakStaleRace(t *testing.T) {
	t.Parallel()
	const (
		cycles   = 2000
		breakers = 4
	)
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	path := pat.Path(time.Time{}) + ".lock"
	lr := &logRec{}
	old := time.Now().Add(-time.Hour)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range breakers {
		l := &Lock{Path: path, Timeout: time.Second, Logf: lr.logf}
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

	owner := &Lock{Path: path, Timeout: time.Second, Logf: lr.logf}
	var lockErrs, lost int
	var firstErr error
	began := time.Now()
	done := 0
	for ; done < cycles; done++ {
		if time.Since(began) > time.Second {
			break // bounds the test's time, not a result
		}
		unlock, err := owner.Acquire(bg)
		if err != nil {
			// lock() lost the flock of the file it had just created.
			lockErrs++
			firstErr = cmp.Or(firstErr, err)
			break
		}
		held, err := os.Lstat(path)
		if err == nil {
			err = os.Chtimes(path, old, old)
		}
		if now, err2 := os.Lstat(path); err != nil || err2 != nil || !os.SameFile(held, now) {
			lost++
		}
		unlock()
		if lost > 0 {
			break // once is enough: stop the breakers spinning
		}
	}
	close(stop)
	wg.Wait()
	if lockErrs != 0 || lost != 0 {
		t.Errorf("within %d cycles a breaker broke a live lock: lock() failed %d times (first: %v), a held lock file was removed %d times",
			done+1, lockErrs, firstErr, lost)
	}
	if m := lr.matching("broke stale lock"); len(m) != 0 {
		t.Errorf("%d live locks reported broken, e.g. %q", len(m), m[0])
	}
}
