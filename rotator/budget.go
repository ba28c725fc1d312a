package rotator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Budget bounds the disk space a target's rotated files take. The Keeper
// removes the oldest rotated files (by the period each holds, then when
// each was made; see born) until the bounds hold, together with BackupCount and
// MaxAge: whichever is strictest wins. It never removes the active file,
// the current period's file of a template, a file any pipeline still has
// open for writing (its shared flock), or anything the pattern does not
// recognise.
//
// Sizes are the space a file takes on disk (see onDisk), compressed files
// as they are; the temporary file of a compression under way counts with
// the file being compressed, which cannot be removed until it is done.
type Budget struct {
	// MaxTotal bounds the rotated files' total, in bytes; 0 for no bound.
	// A file whose post-rotate command or manifest line is still owed is
	// counted, but never removed for it.
	MaxTotal int64
	// KeepFree is how many bytes to keep free on the target's filesystem,
	// and KeepFreePercent how much of its size (0 to 100); 0 for none.
	// The larger of the two holds. To keep it, files owed a post-rotate
	// command or a manifest line are removed too, each reported as an
	// error.
	KeepFree        int64
	KeepFreePercent float64
	// Describe, if set, says why files are removed (for reports), in the
	// caller's words; by default, in bytes.
	Describe func(Pressure) string
}

// Active reports whether the budget bounds anything.
func (b Budget) Active() bool { return b.MaxTotal > 0 || b.KeepFree > 0 || b.KeepFreePercent > 0 }

// A Pressure is why the budget removes files.
type Pressure struct {
	Reason Reason
	Total  int64 // TooLarge: the rotated files' total; TooLittleFree: the free space
	Limit  int64 // TooLarge: MaxTotal; TooLittleFree: the free space wanted
	Err    error // DiskFull: the error of the write that failed
}

// Reason says which bound a removal keeps.
type Reason int

const (
	TooLarge      Reason = iota + 1 // the rotated files total more than MaxTotal
	TooLittleFree                   // less is free than KeepFree or KeepFreePercent ask
	DiskFull                        // a write failed for want of space (Keeper.Free)
)

func (b Budget) describe(p Pressure) string {
	if b.Describe != nil {
		return b.Describe(p)
	}
	switch p.Reason {
	case TooLarge:
		return fmt.Sprintf("the rotated files take %d bytes, more than %d", p.Total, p.Limit)
	case TooLittleFree:
		return fmt.Sprintf("%d bytes are free, fewer than %d", p.Total, p.Limit)
	}
	return fmt.Sprintf("a write failed: %v", p.Err)
}

// onDisk is the space a file takes from its filesystem: its allocated
// blocks (st_blocks, in 512-byte units), which is what removing it frees
// and what df and du count, page rounding and sparse holes included;
// where a filesystem reports no blocks for a file with data (some network
// and FUSE filesystems), its size.
func onDisk(fi fs.FileInfo) int64 {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.Size()
	}
	if b := int64(st.Blocks) * 512; b > 0 || fi.Size() == 0 {
		return b
	}
	return fi.Size()
}

// need is what the budget still asks for during a pass.
type need struct {
	over  int64    // bytes the rotated files are over MaxTotal (> 0: too many)
	short int64    // bytes missing from the free space wanted (> 0: too few)
	why   Pressure // what short is for: TooLittleFree or DiskFull
	total int64    // the rotated files' total, for reports
	owed  bool     // short may remove files still owed a command or a line
}

func (n need) met() bool { return n.over <= 0 && n.short <= 0 }

// budgetEntry is a rotated file as the budget sees it.
type budgetEntry struct {
	rotated
	expired bool // retention removes it anyway
}

// entries lists the target's rotated files oldest first, each with the
// temporary file of a compression under way counted in its size (when
// compressing: pipelines of a target compress alike), and the rotated
// files' total.
func (k *Keeper) entries(now time.Time) (out []budgetEntry, total int64) {
	return k.entriesOf(k.list(now), now)
}

// refresh returns the files of an earlier list that are still there, with
// their size now: one lstat each instead of a walk. A file compressed
// since is gone from it (the caller's list names the compressed file).
func refresh(files []rotated) []rotated {
	out := files[:0:0]
	for _, f := range files {
		fi, err := os.Lstat(f.path)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		f.disk, f.mod = onDisk(fi), fi.ModTime()
		out = append(out, f)
	}
	return out
}

// entriesOf is entries for the files listed.
func (k *Keeper) entriesOf(files []rotated, now time.Time) (out []budgetEntry, total int64) {
	for i := range files {
		f := &files[i]
		if f.codec == nil && k.hk.Codec != nil {
			if fi, err := os.Lstat(f.path + k.hk.Codec.Ext + TempSuffix); err == nil {
				f.disk += onDisk(fi)
			}
		}
		total += f.disk
	}
	// Newest first, as retention counts them.
	sort.SliceStable(files, func(i, j int) bool { return k.newer(files[i], files[j]) })
	seen := map[string]int{}
	for _, f := range files {
		if _, ok := seen[f.stem]; !ok {
			seen[f.stem] = len(seen)
		}
		out = append(out, budgetEntry{rotated: f, expired: k.expired(seen[f.stem], f, now)})
	}
	made := make([]time.Time, len(out))
	for i := range out {
		made[i] = k.made(out[i].rotated)
	}
	sort.Sort(byAge{out, made})
	// Files of one period: by when each was made (see born).
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && made[j].Equal(made[i]) {
			j++
		}
		if j-i > 1 {
			run := out[i:j]
			born := make([]time.Time, len(run))
			for n := range run {
				born[n] = k.born(run[n].rotated)
			}
			sort.Stable(byBirth{run, born})
		}
		i = j
	}
	return out, total
}

// byAge sorts rotated files by the period each holds (see made).
type byAge struct {
	e    []budgetEntry
	made []time.Time
}

func (s byAge) Len() int           { return len(s.e) }
func (s byAge) Less(i, j int) bool { return s.made[i].Before(s.made[j]) }
func (s byAge) Swap(i, j int) {
	s.e[i], s.e[j] = s.e[j], s.e[i]
	s.made[i], s.made[j] = s.made[j], s.made[i]
}

// byBirth sorts the rotated files of one period by when each was made,
// then by numbered variant.
type byBirth struct {
	e    []budgetEntry
	born []time.Time
}

func (s byBirth) Len() int { return len(s.e) }
func (s byBirth) Less(i, j int) bool {
	if !s.born[i].Equal(s.born[j]) {
		return s.born[i].Before(s.born[j])
	}
	return s.e[i].m.Seq < s.e[j].m.Seq
}
func (s byBirth) Swap(i, j int) {
	s.e[i], s.e[j] = s.e[j], s.e[i]
	s.born[i], s.born[j] = s.born[j], s.born[i]
}

// born returns when a rotated file was made, to order the files of one
// period: the numbered variant alone cannot, since once the budget
// removed a period's first file the next rotation in that period takes
// its name again, and the newest file has the lowest number. It is the
// file's creation time where the filesystem records it (statx), which
// for a compressed file is when its compression began; else, and for a
// compressed file if earlier, its last write (which compression keeps):
// for a file nobody writes any more, about when it was rotated.
func (k *Keeper) born(f rotated) time.Time {
	b := birth(f.path)
	if b.IsZero() || f.codec != nil && f.mod.Before(b) {
		return f.mod
	}
	return b
}

// needs says what the budget asks of rotated files totalling total.
func (k *Keeper) needs(total int64) need {
	b := k.hk.Budget
	n := need{total: total, owed: true}
	if b.MaxTotal > 0 {
		n.over = total - b.MaxTotal
	}
	if b.KeepFree > 0 || b.KeepFreePercent > 0 {
		free, size, err := k.space()
		if err != nil {
			k.logf("error: free space of %s: %v", k.root(), err)
			return n
		}
		want := max(b.KeepFree, int64(b.KeepFreePercent/100*float64(size)))
		n.short = want - free
		n.why = Pressure{Reason: TooLittleFree, Total: free, Limit: want}
	}
	return n
}

// root is the directory where the target's rotated files are.
func (k *Keeper) root() string {
	prefix, _ := k.pat.RotatedDir()
	if prefix == "" {
		return "."
	}
	return prefix
}

// space returns the bytes free (for users other than root) on the
// filesystem of the target's rotated files, and its size: of the nearest
// directory that exists.
func (k *Keeper) space() (free, size int64, err error) {
	dir := filepath.Clean(k.root())
	for {
		free, size, err = statSpace(dir)
		if !errors.Is(err, fs.ErrNotExist) {
			return free, size, err
		}
		up := filepath.Dir(dir)
		if up == dir {
			return free, size, err
		}
		dir = up
	}
}

// serialize takes the exclusive flock of the directory of the target's
// rotated files, so that one pipeline at a time counts and removes them
// for the budget: another's pass that holds a file's flock to remove it
// would otherwise look like a writer's, and both would remove a file for
// the same excess. It waits up to maxSerialWait (a holder may be stopped,
// SIGSTOP) or until ctx is done, then goes on without it: pipelines
// still never remove a file twice nor one in use, but may together
// remove more than the budget needs. The returned function lets go.
func (k *Keeper) serialize(ctx context.Context) (unlock func()) {
	d, err := os.Open(k.root())
	if err != nil {
		return func() {}
	}
	wait := time.Millisecond
	for end := time.Now().Add(maxSerialWait); ; {
		err := flockFile(d, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { d.Close() }
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || !time.Now().Before(end) {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			d.Close()
			return func() {}
		case <-t.C:
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
	d.Close()
	k.verbosef("counting the rotated files in %s without waiting longer for another pipeline's count", k.root())
	return func() {}
}

// maxSerialWait bounds a wait in serialize.
const maxSerialWait = 2 * time.Second

// budget removes the oldest rotated files until the budget holds, and
// reports whether a file it should have removed is still in use (to try
// again soon). It adds such files' stems to left.
//
// listed, if not nil, is the pass's list of the target's rotated files,
// to count again without walking the directory (a file rotated since is
// the rotating pipeline's to count, right after the rotation).
func (k *Keeper) budget(ctx context.Context, now time.Time, left map[string]bool, listed []rotated) (again bool) {
	if !k.hk.Budget.Active() {
		return false
	}
	defer k.serialize(ctx)()
	var files []budgetEntry
	var total int64
	if listed != nil {
		files, total = k.entriesOf(refresh(listed), now)
	} else {
		files, total = k.entries(now)
	}
	k.spend(files, k.needs(total), func(e budgetEntry, p Pressure, owedP *Pressure) (int64, bool) {
		freed, busy := k.removeFor(e, p, owedP)
		if busy {
			again = true
			left[e.stem] = true
		}
		return freed, busy
	})
	return again
}

// Budget removes the oldest rotated files until the budget holds, as a
// Pass does, and nothing else: for the caller to run right after a
// rotation. It reports whether a file it should have removed is still in
// use. It waits (ended by ctx) only for another pipeline's count.
//
// With KeepFree alone, the directory is walked only when too little is
// free.
func (k *Keeper) Budget(ctx context.Context, now time.Time) (again bool) {
	b := k.hk.Budget
	if b.MaxTotal == 0 && b.Active() {
		if n := k.needs(0); n.met() {
			return false
		}
	}
	return k.budget(ctx, now, map[string]bool{}, nil)
}

// Free removes the target's oldest rotated files, at least one and until
// at least want bytes are freed, after a write failed with err for want of
// space (ENOSPC, EDQUOT). Files owed a post-rotate command or a manifest
// line are removed only when the budget keeps free space (KeepFree), each
// reported as an error. It returns how many bytes it freed: 0 when nothing
// of the target is left that could be removed. It waits as Budget does.
func (k *Keeper) Free(ctx context.Context, now time.Time, want int64, err error) (freed int64) {
	defer k.serialize(ctx)()
	files, total := k.entries(now)
	n := need{
		short: max(want, 1),
		why:   Pressure{Reason: DiskFull, Err: err},
		total: total,
		owed:  k.hk.Budget.KeepFree > 0 || k.hk.Budget.KeepFreePercent > 0,
	}
	k.spend(files, n, func(e budgetEntry, p Pressure, owedP *Pressure) (int64, bool) {
		f, busy := k.removeFor(e, p, owedP)
		freed += f
		return f, busy
	})
	return freed
}

// A Removal is a file the budget would remove now (see Plan).
type Removal struct {
	Path string
	Disk int64  // the space it takes
	Why  string // as Budget.Describe says it
	Owed string // what is still owed to it ("post-rotate command", "manifest line"); "" for nothing
}

// Plan returns what a Pass's retention and budget would remove now, oldest
// first, without removing anything, and the rotated files' total before;
// Why is "" for what retention removes. Files in use are listed as if
// they could be removed.
func (k *Keeper) Plan(now time.Time) (out []Removal, total int64) {
	files, all := k.entries(now)
	total = all
	var kept []budgetEntry
	for _, f := range files {
		if f.expired && k.owed(f.path) == "" {
			out = append(out, Removal{Path: f.path, Disk: f.disk})
			total -= f.disk
			continue
		}
		kept = append(kept, f)
	}
	if k.hk.Budget.Active() {
		k.spend(kept, k.needs(total), func(e budgetEntry, p Pressure, owedP *Pressure) (int64, bool) {
			owed := k.owed(e.path)
			if owed != "" {
				if owedP == nil {
					return 0, true
				}
				p = *owedP
			}
			out = append(out, Removal{Path: e.path, Disk: e.disk, Why: k.hk.Budget.describe(p), Owed: owed})
			return e.disk, false
		})
	}
	return out, all
}

// spend walks files oldest first and calls remove for each that the budget
// n needs gone, until it needs none, with the pressure of the removal, and
// the pressure that lets a file owed a command or a line go (nil: such a
// file stays). remove returns the bytes that no longer count (the file's,
// once it is gone, whoever removed it) and whether it was in use or kept
// for what it is owed.
func (k *Keeper) spend(files []budgetEntry, n need, remove func(e budgetEntry, p Pressure, owedP *Pressure) (freed int64, kept bool)) {
	b := k.hk.Budget
	for _, f := range files {
		if n.met() {
			return
		}
		var owedP *Pressure
		if n.short > 0 && n.owed {
			why := n.why
			owedP = &why
		}
		p := n.why
		if n.over > 0 {
			p = Pressure{Reason: TooLarge, Total: n.total, Limit: b.MaxTotal}
		}
		freed, _ := remove(f, p, owedP)
		n.over -= freed
		n.short -= freed
		n.total -= freed
		if n.why.Reason == TooLittleFree {
			n.why.Total += freed
		}
	}
}

// owed says what is still owed to the rotated file at path: "post-rotate
// command", "manifest line", or "" for nothing.
func (k *Keeper) owed(path string) string {
	switch {
	case k.hk.PostRotate != "" && parseHook(k.meta.get(path, hookAttr)).owed():
		return "post-rotate command"
	case k.hk.Manifest && string(k.meta.get(path, manifestAttr)) == hookPending:
		return "manifest line"
	}
	return ""
}

// removeFor removes the rotated file e for the budget, holding its exclusive
// flock (so no writer has it open, and one pipeline removes it), and
// reports it with p. A file owed a command or a line is kept unless owedP
// says why it must go, and its removal is an error. freed is the space e
// no longer takes, whoever removed it; kept, that it is in use or was
// kept.
//
// A file compressed since it was listed is gone: its compressed copy is
// removed instead.
func (k *Keeper) removeFor(e budgetEntry, p Pressure, owedP *Pressure) (freed int64, kept bool) {
	path, disk := e.path, e.disk
	f, busy, err := lockFile(path)
	if f == nil && !busy && err == nil && e.codec == nil {
		for _, c := range codecs {
			if fi, err2 := os.Lstat(path + c.Ext); err2 == nil {
				path, disk = path+c.Ext, onDisk(fi)
				f, busy, err = lockFile(path)
				break
			}
		}
	}
	if f == nil {
		if err != nil {
			k.logf("error: remove %s: %v", path, err)
		}
		if busy || err != nil {
			return e.disk - disk, true
		}
		return e.disk, false // gone: another pipeline removed it
	}
	defer f.Close()
	owed := k.owed(path)
	if owed != "" {
		if owedP == nil {
			return e.disk - disk, true
		}
		p = *owedP
	}
	if err := k.remove(f, path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return e.disk, false
		}
		k.logf("error: remove %s: %v", path, err)
		return e.disk - disk, true
	}
	k.actions.removed.Add(1)
	why := k.hk.Budget.describe(p)
	if owed != "" {
		k.logf("error: removed %s before its %s was done: %s", path, owed, why)
	} else {
		k.logf("removed %s: %s", path, why)
	}
	return e.disk, false
}
