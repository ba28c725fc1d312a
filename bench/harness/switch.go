//go:build linux

package main

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stampLayout is rotlog's default --timestamp with TZ=UTC.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

// tailed is one file the tailer follows.
type tailed struct {
	f       *os.File
	name    string
	partial []byte
	periods map[int64]int          // lines in it, by period (Unix seconds) of their --timestamp
	who     map[int64]map[int]bool // pipelines that wrote them
	idle    int                    // polls in a row that found nothing new
}

// tailer follows the files of a target, polling every millisecond, and
// notes when each pipeline's first line of each period is first seen.
type tailer struct {
	dir      string
	template bool
	files    map[uint64]*tailed // by inode
	buf      []byte

	// first[period][pipeline] is when the pipeline's first line read in
	// that period was seen in a file; read[period][pipeline] is when
	// rotlog read it (its --timestamp).
	first, read map[int64]map[int]time.Time
	lines       int
	bad         int // lines that could not be parsed
	misfiled    int // lines in files let go of that hold another period (misfiledIn)
}

// period returns the start (Unix seconds) of the period the file holds:
// for a template, from its name; for an active file, as rotlog recorded it
// on the file (the extended attribute user.rotlog.start), read through the
// open descriptor, whatever the file is called now. ok is false if that
// cannot be told.
func (t *tailer) period(tf *tailed) (int64, bool) {
	if t.template {
		at, err := time.Parse("20060102-150405.log", filepath.Base(tf.name))
		return at.Unix(), err == nil
	}
	var buf [64]byte
	n, err := unix.Fgetxattr(int(tf.f.Fd()), "user.rotlog.start", buf[:])
	if err != nil {
		return 0, false
	}
	ns, err := strconv.ParseInt(string(buf[:n]), 10, 64)
	return time.Unix(0, ns).Unix(), err == nil
}

// misfiledIn counts the lines in tf read (their --timestamp) in another
// period than the one the file holds; all of them if that cannot be told.
func (t *tailer) misfiledIn(tf *tailed) int {
	held, ok := t.period(tf)
	n := 0
	for p, c := range tf.periods {
		if !ok || p != held {
			n += c
		}
	}
	return n
}

func newTailer(dir string, template bool) *tailer {
	return &tailer{dir: dir, template: template, files: map[uint64]*tailed{}, buf: make([]byte, 1<<20),
		first: map[int64]map[int]time.Time{}, read: map[int64]map[int]time.Time{}}
}

func templatePath(dir string, t time.Time) string {
	return filepath.Join(dir, t.UTC().Format("20060102-150405")+".log")
}

// poll opens the files that now hold the target and reads what is new.
func (t *tailer) poll() {
	var candidates []string
	if t.template {
		now := time.Now()
		candidates = []string{templatePath(t.dir, now), templatePath(t.dir, now.Add(-time.Second))}
	} else {
		candidates = []string{filepath.Join(t.dir, "app.log")}
	}
	for _, p := range candidates {
		var st syscall.Stat_t
		if syscall.Lstat(p, &st) != nil || t.files[st.Ino] != nil {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		t.files[st.Ino] = &tailed{f: f, name: p, periods: map[int64]int{}, who: map[int64]map[int]bool{}}
	}
	for ino, tf := range t.files {
		n, _ := tf.f.Read(t.buf)
		if n == 0 {
			// Left alone for a few seconds, an old file is done with.
			if tf.idle++; tf.idle > 3000 && len(tf.partial) == 0 {
				t.misfiled += t.misfiledIn(tf)
				tf.f.Close()
				delete(t.files, ino)
			}
			continue
		}
		tf.idle = 0
		seen := time.Now()
		data := append(tf.partial, t.buf[:n]...)
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			t.line(tf, data[:i], seen)
			data = data[i+1:]
		}
		tf.partial = append(tf.partial[:0], data...)
	}
}

// line takes "STAMP pID SEQ".
func (t *tailer) line(tf *tailed, l []byte, seen time.Time) {
	t.lines++
	fields := strings.Fields(string(l))
	if len(fields) != 3 || !strings.HasPrefix(fields[1], "p") {
		t.bad++
		return
	}
	ts, err := time.Parse(stampLayout, fields[0])
	id, err2 := strconv.Atoi(fields[1][1:])
	if err != nil || err2 != nil {
		t.bad++
		return
	}
	period := ts.Unix()
	tf.periods[period]++
	if tf.who[period] == nil {
		tf.who[period] = map[int]bool{}
	}
	tf.who[period][id] = true
	if t.first[period] == nil {
		t.first[period] = map[int]time.Time{}
		t.read[period] = map[int]time.Time{}
	}
	if _, ok := t.first[period][id]; !ok {
		t.first[period][id] = seen
		t.read[period][id] = ts
	}
}

func switchMain(args []string) {
	fs := flag.NewFlagSet("switch", flag.ExitOnError)
	var h common
	h.register(fs)
	n := fs.Int("n", 64, "pipelines")
	boundaries := fs.Int("boundaries", 5, "boundaries to measure, after one to warm up")
	every := fs.Duration("every", 10*time.Millisecond, "each pipeline's producer writes a line this often")
	targets := fs.String("targets", "active,template", "targets: active (-p out/app.log -when S), template (-p 'out/%Y%m%d-%H%M%S.log')")
	fs.Parse(args)
	h.check()
	for _, target := range splitList(*targets) {
		switchRun(&h, target, *n, *boundaries, *every)
	}
}

func switchRun(h *common, target string, n, boundaries int, every time.Duration) {
	dir := filepath.Join(h.work, "switch-"+target)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(dir)
	var rotArgs []string
	var display string
	switch target {
	case "active":
		rotArgs = []string{"-p", dir + "/app.log", "-when", "S", "--timestamp"}
		display = "rotlog -p out/app.log -when S --timestamp"
	case "template":
		rotArgs = []string{"-p", dir + "/%Y%m%d-%H%M%S.log", "--timestamp"}
		display = "rotlog -p 'out/%Y%m%d-%H%M%S.log' --timestamp"
	default:
		fatalf("unknown target %q", target)
	}
	type pipeline struct {
		cmd     *exec.Cmd
		w       *os.File
		stderr  bytes.Buffer
		rssFile string
	}
	ps := make([]*pipeline, n)
	for i := range ps {
		p := &pipeline{cmd: exec.Command(h.rotlog, rotArgs...)}
		if timeBin != "" {
			p.rssFile = fmt.Sprintf("%s.rss%d", dir, i)
			p.cmd = exec.Command(timeBin, append([]string{"-q", "-f", "%M", "-o", p.rssFile, h.rotlog}, rotArgs...)...)
		}
		p.cmd.Env = append(os.Environ(), "TZ=UTC")
		p.cmd.Stderr = &p.stderr
		r, w, err := os.Pipe()
		if err != nil {
			fatalf("%v", err)
		}
		p.cmd.Stdin, p.w = r, w
		if err := p.cmd.Start(); err != nil {
			fatalf("%v", err)
		}
		r.Close()
		ps[i] = p
	}
	// Measure whole periods: from the second boundary after the start.
	start := time.Now()
	first := start.Truncate(time.Second).Add(2 * time.Second)
	last := first.Add(time.Duration(boundaries-1) * time.Second)
	stopAt := last.Add(600 * time.Millisecond)
	fmt.Fprintf(os.Stderr, "switch %s: %d pipelines, a line every %s each, boundaries %s to %s\n",
		target, n, every, first.Format("15:04:05"), last.Format("15:04:05"))

	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.w.Close()
			// Spread the writers over the interval.
			time.Sleep(time.Duration(rand.Int64N(int64(every))))
			tick := time.NewTicker(every)
			defer tick.Stop()
			for seq := 0; ; seq++ {
				if _, err := fmt.Fprintf(p.w, "p%d %d\n", i, seq); err != nil {
					return
				}
				if (<-tick.C).After(stopAt) {
					return
				}
			}
		}()
	}
	tl := newTailer(dir, target == "template")
	for time.Now().Before(stopAt.Add(200 * time.Millisecond)) {
		tl.poll()
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	var cpu time.Duration
	var rss int64
	var failed []string
	for i, p := range ps {
		if err := p.cmd.Wait(); err != nil || p.stderr.Len() > 0 {
			failed = append(failed, fmt.Sprintf("pipeline %d: %v %s", i, err, strings.TrimSpace(p.stderr.String())))
		}
		ru := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		rss = max(rss, measuredRSS(ru, p.rssFile))
	}
	elapsed := time.Since(start)
	// Read the rest: late lines of the last periods.
	for range 3 {
		tl.poll()
	}
	// Every file should hold the lines of one period: a line lands in the
	// file of the period in which rotlog read it.
	mixed := 0
	var mixedNotes []string
	for _, tf := range tl.files {
		tl.misfiled += tl.misfiledIn(tf)
		if len(tf.periods) > 1 {
			mixed++
			name, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", tf.f.Fd()))
			var parts []string
			for p, c := range tf.periods {
				ids := slices.Sorted(maps.Keys(tf.who[p]))
				if len(ids) > 8 {
					ids = ids[:8]
				}
				parts = append(parts, fmt.Sprintf("%d line(s) read in %s (pipelines %v)", c, time.Unix(p, 0).UTC().Format("15:04:05"), ids))
			}
			slices.Sort(parts)
			mixedNotes = append(mixedNotes, fmt.Sprintf("%s holds %s", filepath.Base(name), strings.Join(parts, "; ")))
		}
		tf.f.Close()
	}

	t := table{head: []string{"boundary", "pipelines seen", "last in new file", "median", "last read (--timestamp)", "max read → in file"}}
	var worst []float64
	for b := first; !b.After(last); b = b.Add(time.Second) {
		seen := tl.first[b.Unix()]
		var lat, rd, gap []float64
		for id, at := range seen {
			lat = append(lat, at.Sub(b).Seconds())
			r := tl.read[b.Unix()][id]
			rd = append(rd, r.Sub(b).Seconds())
			gap = append(gap, at.Sub(r).Seconds())
		}
		if len(lat) == 0 {
			t.add(b.Format("15:04:05"), "0", "-", "-", "-", "-")
			worst = append(worst, 99)
			continue
		}
		_, hi := minMax(lat)
		_, rdHi := minMax(rd)
		_, gapHi := minMax(gap)
		worst = append(worst, hi)
		t.add(b.Format("15:04:05"), fmt.Sprintf("%d/%d", len(lat), n), ms(hi), ms(median(lat)), ms(rdHi), ms(gapHi))
	}
	fmt.Printf("### %d pipelines switching files: `%s`\n\n"+
		"Each pipeline gets a line every %s. The harness follows the target's files, polling every millisecond, and notes when each "+
		"pipeline's first line of a period shows up in a file; the time is counted from the boundary. `last read` is the latest "+
		"--timestamp among those lines (when rotlog read it: at most one write interval after the boundary, plus any wait "+
		"while rotlog was busy); `read → in file` is from that to the line being seen in the file (rotation, lock waits, poll).\n\n",
		n, display, every)
	fmt.Print(t.String())
	fmt.Printf("\nSlowest boundary: %s; median of the boundaries' last: %s. Lines read: %d (%d unparsable); lines misfiled (in a file of another period than the one they were read in): %d; files holding more than one period: %d. "+
		"CPU of all %d rotlog processes: %.2f s over %.1f s (%.1f%% of one core); largest peak RSS %.1f MiB.\n\n",
		ms(slices0Max(worst)), ms(median(worst)), tl.lines, tl.bad, tl.misfiled, mixed, n, cpu.Seconds(), elapsed.Seconds(),
		cpu.Seconds()/elapsed.Seconds()*100, mib(rss))
	for _, f := range mixedNotes {
		fmt.Printf("- file with lines of two periods: %s\n", f)
	}
	for _, f := range failed {
		fmt.Printf("- %s\n", f)
	}
	if len(failed)+len(mixedNotes) > 0 {
		fmt.Println()
	}
}

func slices0Max(xs []float64) float64 {
	_, hi := minMax(xs)
	return hi
}
