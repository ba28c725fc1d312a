package rotator

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// benchTarget makes dir/app.log rotated every second with n rotated files
// (each recorded with its period, as rotlog makes them) and other files
// the pattern does not recognise, and returns the pattern's path and the
// instant after the last file's period.
func benchTarget(b *testing.B, n, other int) (string, time.Time) {
	b.Helper()
	dir := b.TempDir()
	data := []byte("a line of a rotated file\n")
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		p := filepath.Join(dir, "app.log."+at.Format("2006-01-02_15-04-05"))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		unix.Setxattr(p, startAttr, encodeStart(at), 0)
	}
	for i := range other {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("other-%d.txt", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return filepath.Join(dir, "app.log"), t0.Add(time.Duration(n) * time.Second)
}

// A housekeeping pass over a target with 10,000 rotated files and 1,000
// unrelated files in its directory, none to remove: retention alone (-n),
// with a disk budget (--max-total, --keep-free), and the budget alone as
// a pipeline runs it right after each rotation.
func BenchmarkHousekeeping10k(b *testing.B) {
	path, now := benchTarget(b, 10000, 1000)
	pat := compile(b, path, "S")
	budget := Budget{MaxTotal: 1 << 40, KeepFree: 1}
	for _, bc := range []struct {
		name string
		run  func(k *Keeper)
		hk   Housekeeping
	}{
		{"pass/retention", func(k *Keeper) { k.Pass(bg, now) }, Housekeeping{BackupCount: 20000}},
		{"pass/retention+budget", func(k *Keeper) { k.Pass(bg, now) }, Housekeeping{BackupCount: 20000, Budget: budget}},
		{"budget", func(k *Keeper) { k.Budget(bg, now) }, Housekeeping{Budget: budget}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			k := NewKeeper(pat, bc.hk, b.Errorf, nil)
			// CPU time too: on a shared machine the wall time is the
			// scheduler's as much as the pass's.
			var before, after unix.Rusage
			unix.Getrusage(unix.RUSAGE_SELF, &before)
			for b.Loop() {
				bc.run(k)
			}
			unix.Getrusage(unix.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}
