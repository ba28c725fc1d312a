package rotator

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A pipeline that finds the active file holding the period of its line
// opens it without the lock, at a boundary as in the middle of a period;
// one that finds an ended period takes the lock and rotates.
func TestOpenWithoutLock(t *testing.T) {
	dir := t.TempDir()
	needXattr(t, dir)
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	var locksA, locksB atomic.Int64
	a, _ := newRot(t, pat, func(c *Config) { c.Locked = func() { locksA.Add(1) } })
	b, _ := newRot(t, pat, func(c *Config) { c.Locked = func() { locksB.Add(1) } })

	mustWrite(t, a, "a0\n", t0.Add(100*time.Millisecond)) // creates: locked
	mustWrite(t, b, "b0\n", t0.Add(200*time.Millisecond)) // finds it: not locked
	if n := locksB.Load(); n != 0 {
		t.Errorf("B took the lock %d times to open a file of its period", n)
	}
	mustWrite(t, a, "a1\n", t1.Add(100*time.Millisecond)) // rotates: locked
	if n := locksA.Load(); n != 2 {
		t.Errorf("A took the lock %d times, want 2 (create, rotate)", n)
	}
	for _, now := range []time.Time{t1, t1.Add(100 * time.Millisecond)} {
		ev, err := b.Tick(bg, now) // nothing to rotate: not locked
		if err != nil || ev.Rotations != 0 {
			t.Fatalf("B's Tick(%s) = %+v, %v", now.Format(time.StampMilli), ev, err)
		}
	}
	mustWrite(t, b, "b1\n", t1.Add(200*time.Millisecond)) // the new file: not locked
	if n := locksB.Load(); n != 0 {
		t.Errorf("B took the lock %d times; it never needed to", n)
	}
	wantFile(t, pat.RotatedName(pat.Start(t0)), "a0\nb0\n")
	wantFile(t, pat.Path(t1), "a1\nb1\n")
}

// TestOpenWithoutLockRace runs a rotation by another pipeline at each step
// of an open without the lock (Config.Unlocked), and checks that every
// line is in a file recorded as holding the period of the instant it was
// read, exactly once.
func TestOpenWithoutLockRace(t *testing.T) {
	const ms = time.Millisecond
	type action struct {
		name string
		do   func(t *testing.T, other *Rotator)
	}
	// What the other pipeline does. Its file holds P (t0's period).
	boundary := action{"rotates at the boundary", func(t *testing.T, o *Rotator) {
		mustWrite(t, o, periodLine("o", t1.Add(50*ms)), t1.Add(50*ms))
	}}
	sizeRot := action{"rotates in the period (SIGALRM, size)", func(t *testing.T, o *Rotator) {
		if err := o.Rotate(bg, t0.Add(600*ms)); err != nil {
			t.Fatal(err)
		}
	}}
	sizeRotNew := action{"rotates in the period and writes on", func(t *testing.T, o *Rotator) {
		if err := o.Rotate(bg, t0.Add(600*ms)); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, o, periodLine("o", t0.Add(650*ms)), t0.Add(650*ms))
	}}
	for _, step := range []string{"opened", "period", "name"} {
		for _, act := range []action{boundary, sizeRot, sizeRotNew} {
			for _, at := range []time.Duration{700 * ms, 1100 * ms} { // the line read in P, in P+1
				if at > time.Second && (act.name != boundary.name || step != "opened") {
					continue // the file holds P: a line of P+1 never passes step 3
				}
				name := fmt.Sprintf("%s/%s/line at +%s", step, act.name, at)
				t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
					dir := t.TempDir()
					needXattr(t, dir)
					pat := compile(t, filepath.Join(dir, "app.log"), "S")
					armed, fired := false, 0
					var other *Rotator
					me, _ := newRot(t, pat, func(c *Config) {
						c.Unlocked = func(s string) {
							if armed && s == step && fired == 0 {
								fired++
								act.do(t, other)
							}
						}
					})
					other, _ = newRot(t, pat)
					mustWrite(t, other, periodLine("o", t0.Add(100*ms)), t0.Add(100*ms))
					// Written in P before, so a late line of P is ours.
					mustWrite(t, me, periodLine("m", t0.Add(200*ms)), t0.Add(200*ms))
					me.Reopen()
					armed = true
					now := t0.Add(at)
					mustWrite(t, me, periodLine("m", now), now)
					if fired == 0 {
						t.Fatalf("the open never reached step %q", step)
					}
					mustWrite(t, me, periodLine("m", now.Add(ms)), now.Add(ms)) // same descriptor
					me.Close()
					other.Close()
					checkPeriods(t, dir, pat.Start)
				})
			}
		}
	}
}

// periodLine is a test line naming who wrote it and the instant it was read.
func periodLine(who string, now time.Time) string {
	return fmt.Sprintf("%s %d\n", who, now.UnixNano())
}

// checkPeriods checks that every line (see periodLine) in dir is in a file whose
// recorded period is that of the line's instant, and that no line is there
// twice.
func checkPeriods(t *testing.T, dir string, start func(time.Time) time.Time) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), LockSuffix) {
			t.Errorf("lock %s left", e.Name())
			continue
		}
		path := filepath.Join(dir, e.Name())
		var buf [64]byte
		n, err := unix.Lgetxattr(path, startAttr, buf[:])
		if err != nil {
			t.Errorf("%s: no recorded period: %v", e.Name(), err)
			continue
		}
		held, ok := decodeStart(buf[:n])
		if !ok {
			t.Errorf("%s: recorded period %q", e.Name(), buf[:n])
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if l == "" {
				continue
			}
			if prev, dup := seen[l]; dup {
				t.Errorf("%q is in %s and %s", l, prev, e.Name())
			}
			seen[l] = e.Name()
			f := strings.Fields(l)
			ns, err := strconv.ParseInt(f[len(f)-1], 10, 64)
			if err != nil || !strings.HasSuffix(l, "\n") {
				t.Errorf("%s: bad line %q", e.Name(), l)
				continue
			}
			if read := time.Unix(0, ns); !start(read).Equal(held) {
				t.Errorf("line read at %s is in %s, which holds the period of %s",
					read.UTC().Format(time.StampMilli), e.Name(), held.UTC().Format(time.StampMilli))
			}
		}
	}
	if len(seen) == 0 {
		t.Error("no lines found")
	}
}

// Many pipelines at one boundary: exactly one renames the ended file, and
// every line is in its period's file.
func TestOneRenamePerBoundary(t *testing.T) {
	t.Parallel()
	const workers, rounds = 16, 6
	dir := t.TempDir()
	needXattr(t, dir)
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	rots := make([]*Rotator, workers)
	for i := range rots {
		rots[i], _ = newRot(t, pat)
	}
	for k := range rounds {
		boundary := t0.Add(time.Duration(k) * time.Second)
		var rotations atomic.Int64
		var wg sync.WaitGroup
		for i, r := range rots {
			wg.Go(func() {
				// Half Tick first, half write first: both paths race.
				if i%2 == 0 {
					ev, err := r.Tick(bg, boundary)
					if err != nil {
						t.Error(err)
					}
					rotations.Add(int64(ev.Rotations))
				}
				now := boundary.Add(time.Duration(i) * time.Millisecond)
				if _, err := r.Write(bg, []byte(periodLine(fmt.Sprint("w", i), now)), now); err != nil {
					t.Error(err)
				}
				ev, err := r.Tick(bg, now)
				if err != nil {
					t.Error(err)
				}
				rotations.Add(int64(ev.Rotations))
			})
		}
		wg.Wait()
		if want := int64(min(k, 1)); rotations.Load() != want {
			t.Errorf("boundary %d: %d renames, want %d", k, rotations.Load(), want)
		}
	}
	for _, r := range rots {
		r.Close()
	}
	checkPeriods(t, dir, pat.Start)
}
