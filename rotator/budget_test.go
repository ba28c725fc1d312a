package rotator

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// budgetDir makes dir/app.log rotated every second, with one rotated file
// of size bytes for each name (a suffix like "2026-11-25_12-00-00" or
// "2026-11-25_12-00-00.1"), and returns the pattern and each file's space
// on disk.
func budgetDir(t *testing.T, size int, suffixes ...string) (dir string, disk map[string]int64) {
	t.Helper()
	dir = t.TempDir()
	disk = map[string]int64{}
	for _, s := range suffixes {
		p := filepath.Join(dir, "app.log."+s)
		if err := os.WriteFile(p, []byte(strings.Repeat("x", size-1)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Sync() // allocated now, so that its blocks do not change
		f.Close()
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		disk["app.log."+s] = onDisk(fi)
		// The next file is made later, by the filesystem's coarse clock.
		probe := filepath.Join(dir, ".probe")
		for b := birth(p); !b.IsZero(); {
			os.WriteFile(probe, nil, 0o644)
			nb := birth(probe)
			os.Remove(probe)
			if nb.After(b) {
				break
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "app.log"), []byte("active\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, disk
}

// sec names the rotated file of the second i after t0.
func sec(i int) string { return t0.Add(time.Duration(i) * time.Second).Format("2006-01-02_15-04-05") }

// left lists the rotated files in dir, sorted.
func left(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() != "app.log" {
			out = append(out, e.Name())
		}
	}
	return out
}

func names(s ...string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = "app.log." + x
	}
	slices.Sort(out)
	return out
}

// The budget removes the oldest rotated files, by the period each holds
// and then when each was made, until the rest take at most MaxTotal; it
// reports each removal with the reason; it never touches the active file.
// Within a period, when a file was made orders it, not its number: here
// the period's first name was removed and taken again by its newest file.
func TestBudgetMaxTotalOldestFirst(t *testing.T) {
	// Made in this order: sec(0)'s name was taken again last.
	dir, disk := budgetDir(t, 8192, sec(3), sec(0)+".1", sec(0)+".2", sec(2), sec(0), sec(1))
	if birth(filepath.Join(dir, "app.log."+sec(0))).IsZero() {
		// Without creation times, by the last write.
		for i, name := range []string{sec(0) + ".1", sec(0) + ".2", sec(0)} {
			setMtime(t, filepath.Join(dir, "app.log."+name), t0.Add(time.Duration(i)*time.Millisecond))
		}
	}
	one := disk["app.log."+sec(3)]
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	lr := &logRec{}
	k := NewKeeper(pat, Housekeeping{Budget: Budget{MaxTotal: 2 * one}}, lr.logf, nil)
	if again := k.Pass(bg, t0.Add(10*time.Second)); again {
		t.Error("Pass: again, want all done")
	}
	if got, want := left(t, dir), names(sec(2), sec(3)); !slices.Equal(got, want) {
		t.Errorf("left %q, want %q", got, want)
	}
	var order []string
	for _, m := range lr.matching("removed ") {
		path, why, _ := strings.Cut(strings.TrimPrefix(m, "removed "), ": ")
		order = append(order, filepath.Base(path))
		if !strings.HasPrefix(why, "the rotated files take ") {
			t.Errorf("reason %q", why)
		}
	}
	if want := []string{"app.log." + sec(0) + ".1", "app.log." + sec(0) + ".2", "app.log." + sec(0), "app.log." + sec(1)}; !slices.Equal(order, want) {
		t.Errorf("removed in the order %q, want %q", order, want)
	}
	wantFile(t, filepath.Join(dir, "app.log"), "active\n")
}

// With -n and --max-age, whichever is strictest wins.
func TestBudgetStrictestWins(t *testing.T) {
	now := t0.Add(10 * time.Second)
	for _, tc := range []struct {
		name  string
		hk    func(one int64) Housekeeping
		kept  []string
		again bool
	}{
		{"max-total stricter than -n", func(one int64) Housekeeping {
			return Housekeeping{BackupCount: 4, Budget: Budget{MaxTotal: 2 * one}}
		}, names(sec(4), sec(5)), false},
		{"-n stricter than max-total", func(one int64) Housekeeping {
			return Housekeeping{BackupCount: 1, Budget: Budget{MaxTotal: 3 * one}}
		}, names(sec(5)), false},
		{"max-age stricter than max-total", func(one int64) Housekeeping {
			// Periods that ended more than 5 s before now: 0 to 3.
			return Housekeeping{MaxAge: 5 * time.Second, Budget: Budget{MaxTotal: 5 * one}}
		}, names(sec(4), sec(5)), false},
		{"max-total stricter than max-age", func(one int64) Housekeeping {
			return Housekeeping{MaxAge: time.Hour, Budget: Budget{MaxTotal: one + one/2}}
		}, names(sec(5)), false},
		{"keep-free stricter than all", func(one int64) Housekeeping {
			return Housekeeping{BackupCount: 4, Budget: Budget{MaxTotal: 3 * one, KeepFree: 1 << 62}}
		}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, disk := budgetDir(t, 8192, sec(0), sec(1), sec(2), sec(3), sec(4), sec(5))
			pat := compile(t, filepath.Join(dir, "app.log"), "S")
			k := NewKeeper(pat, tc.hk(disk["app.log."+sec(0)]), t.Logf, nil)
			if again := k.Pass(bg, now); again != tc.again {
				t.Errorf("Pass: again = %v", again)
			}
			if got := left(t, dir); !slices.Equal(got, tc.kept) {
				t.Errorf("left %q, want %q", got, tc.kept)
			}
		})
	}
}

// markHook marks the file at path as owed its post-rotate command.
func markHook(t *testing.T, path string) {
	t.Helper()
	if err := unix.Setxattr(path, hookAttr, []byte(hookPending), 0); err != nil {
		t.Fatal(err)
	}
}

// A file whose post-rotate command has not succeeded, or whose manifest
// line is not written, is counted but kept by --max-total: the next oldest
// goes instead. To keep free space it is removed, as an error naming it.
func TestBudgetOwedFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		hk   Housekeeping
		mark func(t *testing.T, path string)
		owed string
	}{
		{"hook", Housekeeping{PostRotate: "false"}, markHook, "post-rotate command"},
		{"manifest", Housekeeping{Manifest: true}, func(t *testing.T, path string) {
			if err := unix.Setxattr(path, manifestAttr, []byte(hookPending), 0); err != nil {
				t.Fatal(err)
			}
		}, "manifest line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, disk := budgetDir(t, 8192, sec(0), sec(1), sec(2))
			needXattr(t, dir)
			tc.mark(t, filepath.Join(dir, "app.log."+sec(0)))
			pat := compile(t, filepath.Join(dir, "app.log"), "S")
			lr := &logRec{}
			hk := tc.hk
			hk.Budget = Budget{MaxTotal: disk["app.log."+sec(0)] * 2}
			// Only the budget: a pass would run the command or write the
			// line first.
			NewKeeper(pat, hk, lr.logf, nil).Budget(bg, t0.Add(10*time.Second))
			if got, want := left(t, dir), names(sec(0), sec(2)); !slices.Equal(got, want) {
				t.Errorf("--max-total: left %q, want %q (the owed file kept, the next oldest removed)", got, want)
			}
			if m := lr.matching("error"); len(m) > 0 {
				t.Errorf("errors: %q", m)
			}
			hk.Budget = Budget{KeepFree: 1 << 62} // more than any disk has
			NewKeeper(pat, hk, lr.logf, nil).Budget(bg, t0.Add(10*time.Second))
			if got := left(t, dir); len(got) != 0 {
				t.Errorf("--keep-free: left %q, want none", got)
			}
			if m := lr.matching("error: removed " + filepath.Join(dir, "app.log."+sec(0)) + " before its " + tc.owed + " was done: "); len(m) != 1 {
				t.Errorf("no error naming the owed file: %q", lr.msgs)
			}
		})
	}
}

// A compressed file counts at its size on disk, and a compression under
// way counts with the file being compressed (which cannot be removed while
// the compressor holds it): the next oldest goes instead.
func TestBudgetCompressionUnderWay(t *testing.T) {
	dir, disk := budgetDir(t, 8192, sec(0), sec(1), sec(2)+".gz", sec(3))
	one := disk["app.log."+sec(0)]
	gz := disk["app.log."+sec(2)+".gz"]
	tmp := filepath.Join(dir, "app.log."+sec(0)+".gz"+TempSuffix)
	if err := os.WriteFile(tmp, make([]byte, 3*8192), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Lstat(tmp)
	// The compressor holds the original's exclusive flock.
	f, err := os.Open(filepath.Join(dir, "app.log."+sec(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	k := NewKeeper(pat, Housekeeping{Codec: DefaultCodec(), Budget: Budget{MaxTotal: one + onDisk(fi) + gz + one}}, t.Logf, nil)
	plan, total := k.Plan(t0.Add(10 * time.Second))
	if want := 3*one + gz + onDisk(fi); total != want {
		t.Errorf("Plan: total %d, want %d (the temporary file counted)", total, want)
	}
	if len(plan) != 1 || filepath.Base(plan[0].Path) != "app.log."+sec(0) {
		t.Errorf("Plan: %+v, want the oldest file", plan)
	}
	if again := k.Budget(bg, t0.Add(10*time.Second)); !again {
		t.Error("Budget: not again, with the file to remove being compressed")
	}
	if got, want := left(t, dir), append(names(sec(0), sec(2)+".gz", sec(3)), filepath.Base(tmp)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("left %q, want %q", got, want)
	}
}

// A rotated file another pipeline still writes (its shared flock) is never
// removed: the budget skips it, and asks to be run again.
func TestBudgetSkipsFilesInUse(t *testing.T) {
	dir, disk := budgetDir(t, 8192, sec(0), sec(1), sec(2))
	f, err := os.OpenFile(filepath.Join(dir, "app.log."+sec(0)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	k := NewKeeper(pat, Housekeeping{Budget: Budget{MaxTotal: disk["app.log."+sec(0)]}}, t.Logf, nil)
	if again := k.Pass(bg, t0.Add(10*time.Second)); !again {
		t.Error("Pass: not again, with a file in use")
	}
	if got, want := left(t, dir), names(sec(0)); !slices.Equal(got, want) {
		t.Errorf("left %q, want %q", got, want)
	}
}

// Keepers of many pipelines at once remove each file once: one report per
// file, and the budget holds after.
func TestBudgetExactlyOnce(t *testing.T) {
	var suffixes []string
	for i := range 60 {
		suffixes = append(suffixes, sec(i))
	}
	dir, disk := budgetDir(t, 4096, suffixes...)
	one := disk["app.log."+sec(0)]
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	lr := &logRec{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			NewKeeper(pat, Housekeeping{Budget: Budget{MaxTotal: 10 * one}}, lr.logf, nil).Budget(bg, t0.Add(time.Minute))
		})
	}
	wg.Wait()
	got := left(t, dir)
	if len(got) != 10 || got[0] != "app.log."+sec(50) {
		t.Errorf("left %d files from %q, want the 10 newest", len(got), got[0])
	}
	count := map[string]int{}
	for _, m := range lr.matching("removed ") {
		path, _, _ := strings.Cut(strings.TrimPrefix(m, "removed "), ": ")
		count[path]++
	}
	if len(count) != 50 {
		t.Errorf("%d removals reported, want 50", len(count))
	}
	for p, n := range count {
		if n != 1 {
			t.Errorf("%s reported removed %d times", p, n)
		}
	}
}

// On a full disk, Free removes the oldest files until what was asked for
// is freed, at least one; files owed a command stay unless free space is
// kept; with nothing left, it frees nothing.
func TestBudgetFree(t *testing.T) {
	dir, disk := budgetDir(t, 8192, sec(0), sec(1), sec(2), sec(3))
	needXattr(t, dir)
	markHook(t, filepath.Join(dir, "app.log."+sec(1)))
	one := disk["app.log."+sec(0)]
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	lr := &logRec{}
	k := NewKeeper(pat, Housekeeping{PostRotate: "true", Budget: Budget{MaxTotal: 1 << 40}}, lr.logf, nil)
	now := t0.Add(10 * time.Second)
	full := fmt.Errorf("write: %w", syscall.ENOSPC)
	if freed := k.Free(bg, now, 1, full); freed != one {
		t.Errorf("Free(1) freed %d, want one file, %d", freed, one)
	}
	if freed := k.Free(bg, now, one+1, full); freed != 2*one {
		t.Errorf("Free(one+1) freed %d, want two files", freed)
	}
	if got, want := left(t, dir), names(sec(1)); !slices.Equal(got, want) {
		t.Errorf("left %q, want %q (the owed file kept)", got, want)
	}
	if freed := k.Free(bg, now, 1, full); freed != 0 {
		t.Errorf("Free with only an owed file left freed %d", freed)
	}
	if m := lr.matching("a write failed: write: no space left on device"); len(m) != 3 {
		t.Errorf("reports: %q", lr.msgs)
	}
	k = NewKeeper(pat, Housekeeping{PostRotate: "true", Budget: Budget{KeepFree: 1}}, lr.logf, nil)
	if freed := k.Free(bg, now, 1, full); freed != one {
		t.Errorf("with KeepFree, Free freed %d, want the owed file", freed)
	}
	if m := lr.matching("error: removed "); len(m) != 1 {
		t.Errorf("reports: %q", lr.msgs)
	}
	if freed := k.Free(bg, now, 1, full); freed != 0 {
		t.Errorf("with nothing left, Free freed %d", freed)
	}
}
