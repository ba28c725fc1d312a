//go:build linux

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/bench/internal/size"
)

// consumer is one command measured reading a pipe.
type consumer struct {
	name    string // for -cmds
	display string // the command as a user would type it, for tables
	bin     string // the program, looked up on PATH unless it is rotlog
	// args are the arguments after the program, for the target directory dir.
	args func(dir string) []string
	// stdout is "" (none), "trunc" or "append": standard output goes to
	// dir/out.log, as cat > out.log and cat >> out.log.
	stdout string
	setup  func(dir string) error
	note   string // printed under the table when the consumer is used
	okExit int    // an exit status that is not a failure (cronolog ends with 3 at EOF)
}

var consumers = []consumer{
	{name: "cat", display: "cat > out.log", bin: "cat", stdout: "trunc",
		args: func(string) []string { return nil }},
	{name: "cat-append", display: "cat >> out.log", bin: "cat", stdout: "append",
		args: func(string) []string { return nil }},
	{name: "rotlog-active", display: "rotlog -p out/app.log -when H", bin: "rotlog",
		args: func(d string) []string { return []string{"-p", d + "/app.log", "-when", "H"} }},
	{name: "rotlog-template", display: "rotlog -p 'out/%Y/%m/%d/%H.log'", bin: "rotlog",
		args: func(d string) []string { return []string{"-p", d + "/%Y/%m/%d/%H.log"} }},
	{name: "rotlog-timestamp", display: "rotlog -p out/app.log -when H --timestamp", bin: "rotlog",
		args: func(d string) []string { return []string{"-p", d + "/app.log", "-when", "H", "--timestamp"} }},
	{name: "rotlog-timestamp-long", display: "rotlog -p out/app.log -when H --timestamp='%Y-%m-%d ' (16 times: 176 bytes)", bin: "rotlog",
		args: func(d string) []string {
			return []string{"-p", d + "/app.log", "-when", "H", "--timestamp=" + strings.Repeat("%Y-%m-%d ", 16)}
		}},
	{name: "rotlog-fsync", display: "rotlog -p out/app.log -when H --fsync", bin: "rotlog",
		args: func(d string) []string { return []string{"-p", d + "/app.log", "-when", "H", "--fsync"} }},
	{name: "rotlog-multiline", display: "rotlog -p out/app.log -when H --multiline-start '^\\S'", bin: "rotlog",
		args: func(d string) []string { return []string{"-p", d + "/app.log", "-when", "H", `--multiline-start=^\S`} }},
	{name: "rotlog-S", display: "rotlog -p out/app.log -when S", bin: "rotlog",
		args: func(d string) []string { return []string{"-p", d + "/app.log", "-when", "S"} }},
	{name: "rotlog-many", display: "rotlog -p out/app.log -when H -s 10M -n 20000 (10,000 rotated files, 1,000 others)", bin: "rotlog",
		args: func(d string) []string {
			return []string{"-p", d + "/app.log", "-when", "H", "-s", "10M", "-n", "20000"}
		},
		setup: manyRotated},
	{name: "rotlog-budget", display: "rotlog -p out/app.log -when H -s 10M -n 20000 --max-total 1T (the same files)", bin: "rotlog",
		args: func(d string) []string {
			return []string{"-p", d + "/app.log", "-when", "H", "-s", "10M", "-n", "20000", "--max-total", "1T"}
		},
		setup: manyRotated},
	{name: "cronolog", display: "cronolog 'out/%Y/%m/%d/%H.log'", bin: "cronolog", okExit: 3,
		args: func(d string) []string { return []string{d + "/%Y/%m/%d/%H.log"} }},
	{name: "rotatelogs", display: "rotatelogs -l -D 'out/%Y/%m/%d/%H.log' 3600", bin: "rotatelogs",
		args: func(d string) []string { return []string{"-l", "-D", d + "/%Y/%m/%d/%H.log", "3600"} }},
	{name: "multilog", display: "multilog s16777215 n1000 ./out", bin: "multilog",
		args: func(d string) []string { return []string{"s16777215", "n1000", d + "/multilog"} },
		note: "multilog rotates by size only, at most 16 MiB (its limit), with an fsync at each rotation."},
	{name: "svlogd", display: "svlogd -b 131072 ./out (config: s0)", bin: "svlogd",
		args: func(d string) []string { return []string{"-b", "131072", d + "/svlogd"} },
		setup: func(d string) error {
			// s0: no size rotation (the default rotates every 1 MB and
			// keeps 10 files, deleting data).
			if err := os.MkdirAll(d+"/svlogd", 0o755); err != nil {
				return err
			}
			return os.WriteFile(d+"/svlogd/config", []byte("s0\n"), 0o644)
		},
		note: "svlogd is given a 128 KiB buffer (default 1 KiB) and `s0` (no size rotation; its default rotates every 1 MB and deletes past 10 files)."},
	{name: "s6-log", display: "s6-log -b -l 0 n1000 s268435455 ./out", bin: "s6-log",
		args: func(d string) []string { return []string{"-b", "-l", "0", "n1000", "s268435455", d + "/s6"} },
		note: "s6-log is given its largest file size (256 MiB) and no line limit."},
}

// manyRotated puts into d the 10,000 rotated files of app.log of the hours
// before 2020 (each recorded with its period, as rotlog makes them) and
// 1,000 files that are not the target's, for the cost of housekeeping
// passes (each walks them all; nothing is removed).
func manyRotated(d string) error {
	line := []byte("a line of a rotated file\n")
	end := time.Date(2020, 1, 1, 0, 0, 0, 0, time.Local)
	for i := 1; i <= 10000; i++ {
		at := end.Add(-time.Duration(i) * time.Hour)
		p := d + "/app.log." + at.Format("2006-01-02_15")
		if err := os.WriteFile(p, line, 0o644); err != nil {
			return err
		}
		unix.Setxattr(p, "user.rotlog.start", []byte(strconv.FormatInt(at.UnixNano(), 10)), 0)
	}
	for i := range 1000 {
		if err := os.WriteFile(fmt.Sprintf("%s/other-%d.txt", d, i), line, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// addConsumer adds a consumer given as NAME=COMMAND ARGS..., split at
// spaces, {dir} in the arguments standing for its target directory.
func addConsumer(spec string) error {
	name, command, ok := strings.Cut(spec, "=")
	fields := strings.Fields(command)
	if !ok || name == "" || len(fields) == 0 {
		return fmt.Errorf("%q is not NAME=COMMAND ARGS", spec)
	}
	consumers = append(consumers, consumer{
		name: name, display: command, bin: fields[0],
		args: func(dir string) []string {
			out := make([]string, len(fields)-1)
			for i, f := range fields[1:] {
				out[i] = strings.ReplaceAll(f, "{dir}", dir)
			}
			return out
		},
	})
	return nil
}

func findConsumer(name string) (consumer, bool) {
	for _, c := range consumers {
		if c.name == name {
			return c, true
		}
	}
	return consumer{}, false
}

// path resolves the consumer's program; "" if it is not installed.
func (c consumer) path(h *common) string {
	if c.bin == "rotlog" {
		return h.rotlog
	}
	p, err := exec.LookPath(c.bin)
	if err != nil {
		return ""
	}
	return p
}

// input is what the producer writes.
type input struct {
	desc string
	data []byte // the corpus, in memory
	nonl int64  // or, if data is nil, this many bytes of 'x' and no newline
}

func (in *input) size() int64 {
	if in.data != nil {
		return int64(len(in.data))
	}
	return in.nonl
}

// produce writes the input to w in chunks of chunk bytes.
func produce(w io.Writer, data []byte, nonl int64, chunk int) error {
	if data == nil {
		buf := bytes.Repeat([]byte{'x'}, chunk)
		for left := nonl; left > 0; {
			n := min(int64(len(buf)), left)
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			left -= n
		}
		return nil
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		if cutLines && n < len(data) {
			// As a logger flushing whole lines: the chunk ends at a newline.
			if i := bytes.LastIndexByte(data[:n], '\n'); i >= 0 {
				n = i + 1
			}
		}
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// loadCorpus reads the corpus, cut to limit bytes (0: all) at a newline.
func loadCorpus(path string, limit int64) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fatalf("corpus: %v", err)
	}
	if limit > 0 && int64(len(data)) > limit {
		data = data[:limit]
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i+1]
		}
	}
	return data
}

// splitLines cuts data into n parts of about equal size at newlines.
func splitLines(data []byte, n int) [][]byte {
	var parts [][]byte
	for i := n; i > 0; i-- {
		cut := len(data) / i
		if i > 1 {
			if j := bytes.IndexByte(data[cut:], '\n'); j >= 0 {
				cut += j + 1
			} else {
				cut = len(data)
			}
		} else {
			cut = len(data)
		}
		parts = append(parts, data[:cut])
		data = data[cut:]
	}
	return parts
}

// result is one measured run of one or more consumer processes.
type result struct {
	wall time.Duration
	user time.Duration // summed over the processes
	sys  time.Duration
	rss  int64 // KiB, the largest of the processes
	out  int64 // bytes in the files written
	n    int   // files written
}

func (r result) cpu() time.Duration { return r.user + r.sys }

// run starts len(feeds) processes of c, all writing the target in dir,
// writes feeds[i] (or nonl bytes without newline) into process i's
// standard input, and measures until all have exited.
func run(h *common, c consumer, dir string, feeds [][]byte, nonl int64, chunk int) (result, error) {
	if err := os.RemoveAll(dir); err != nil {
		return result{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return result{}, err
	}
	if c.setup != nil {
		if err := c.setup(dir); err != nil {
			return result{}, err
		}
	}
	prog := c.path(h)
	type proc struct {
		cmd     *exec.Cmd
		w       *os.File
		stderr  bytes.Buffer
		rssFile string
	}
	procs := make([]*proc, len(feeds))
	var closers []io.Closer
	defer func() {
		for _, f := range closers {
			f.Close()
		}
	}()
	for i := range procs {
		p := &proc{cmd: exec.Command(prog, c.args(dir)...)}
		if timeBin != "" {
			// GNU time forks the consumer from its own small process and
			// reports that child's peak RSS (see measuredRSS).
			p.rssFile = fmt.Sprintf("%s.rss%d", dir, i)
			p.cmd = exec.Command(timeBin, append([]string{"-q", "-f", "%M", "-o", p.rssFile, prog}, c.args(dir)...)...)
		}
		p.cmd.Dir = dir
		p.cmd.Env = append(os.Environ(), "TZ=UTC")
		p.cmd.Stderr = &p.stderr
		if c.stdout != "" {
			flags := os.O_WRONLY | os.O_CREATE
			if c.stdout == "append" {
				flags |= os.O_APPEND
			} else {
				flags |= os.O_TRUNC
			}
			f, err := os.OpenFile(filepath.Join(dir, "out.log"), flags, 0o644)
			if err != nil {
				return result{}, err
			}
			closers = append(closers, f)
			p.cmd.Stdout = f
		}
		procs[i] = p
	}
	start := time.Now()
	for _, p := range procs {
		r, w, err := os.Pipe()
		if err != nil {
			return result{}, err
		}
		if pipeSize > 0 {
			if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, pipeSize); err != nil {
				return result{}, fmt.Errorf("F_SETPIPE_SZ: %v", err)
			}
		}
		p.cmd.Stdin = r
		p.w = w
		err = p.cmd.Start()
		r.Close()
		if err != nil {
			w.Close()
			return result{}, err
		}
	}
	for _, f := range closers {
		f.Close()
	}
	closers = nil
	errc := make(chan error, len(procs))
	for i, p := range procs {
		go func() {
			err := produce(p.w, feeds[i], nonl, chunk)
			p.w.Close()
			errc <- err
		}()
	}
	var res result
	var errs []error
	for _, p := range procs {
		err := p.cmd.Wait()
		if err != nil && (c.okExit == 0 || p.cmd.ProcessState.ExitCode() != c.okExit) {
			errs = append(errs, fmt.Errorf("%s: %v: %s", c.name, err, strings.TrimSpace(p.stderr.String())))
		}
		// wait4's rusage of the direct child includes the children it
		// waited for: with GNU time in between, the consumer plus time's
		// own fork, exec and wait (about a millisecond).
		ru := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
		res.user += time.Duration(ru.Utime.Nano())
		res.sys += time.Duration(ru.Stime.Nano())
		res.rss = max(res.rss, measuredRSS(ru, p.rssFile))
	}
	res.wall = time.Since(start)
	for range procs {
		if err := <-errc; err != nil {
			errs = append(errs, fmt.Errorf("%s: producer: %v", c.name, err))
		}
	}
	res.out, res.n = outputSize(dir)
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// cutLines makes the producer end each write at a newline (-cut).
var cutLines = true

// pipeSize, if not 0, is set on the pipe before the consumer starts (-pipe).
var pipeSize int

// timeBin is GNU time, if installed.
var timeBin = func() string {
	p, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		return ""
	}
	return p
}()

// measuredRSS is the consumer's peak RSS in KiB. Go starts children with
// vfork (CLONE_VM), and at exec Linux folds the peak RSS of the memory the
// child shared, the harness's, into the child's ru_maxrss: the harness's
// own size would show. GNU time forks the consumer from a copy of its own
// small memory (about 1.4 MiB, the floor of the measure), so its %M is the
// consumer's. Without GNU time, the polluted ru_maxrss is all there is.
func measuredRSS(ru *syscall.Rusage, rssFile string) int64 {
	if rssFile == "" {
		return ru.Maxrss
	}
	b, err := os.ReadFile(rssFile)
	os.Remove(rssFile)
	if err != nil {
		return -1
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// outputSize adds up the log files under dir (not the tools' own lock,
// state and config files).
func outputSize(dir string) (total int64, files int) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		switch name := d.Name(); {
		case name == "lock", name == "state", name == "config", strings.HasSuffix(name, ".lock"):
			return nil
		}
		if fi, err := d.Info(); err == nil {
			total += fi.Size()
			files++
		}
		return nil
	})
	return total, files
}

// series is the runs of one consumer, with the cat runs paired with each.
type series struct {
	c     consumer
	runs  []result
	wallX []float64 // wall / paired cat's wall, per round
	cpuX  []float64
}

func (s *series) wallMedian() float64 {
	var xs []float64
	for _, r := range s.runs {
		xs = append(xs, r.wall.Seconds())
	}
	return median(xs)
}

func (s *series) med(f func(result) float64) float64 {
	var xs []float64
	for _, r := range s.runs {
		xs = append(xs, f(r))
	}
	return median(xs)
}

func pipeMain(args []string) {
	fs := flag.NewFlagSet("pipe", flag.ExitOnError)
	var h common
	h.register(fs)
	corpus := fs.String("corpus", "", "corpus file")
	limit := fs.String("limit", "", "use only the first SIZE bytes of the corpus (cut at a newline)")
	nonl := fs.String("nonl", "", "instead of a corpus, SIZE bytes of 'x' without a newline")
	cmds := fs.String("cmds", "cat,rotlog-active,rotlog-template", "consumers, cat first")
	title := fs.String("title", "One pipeline", "table title")
	chunk := fs.Int("chunk", 128<<10, "producer write size")
	fs.BoolVar(&cutLines, "cut", true, "end each producer write at a newline, as a logger flushing whole lines does (false: exactly -chunk bytes)")
	fs.IntVar(&pipeSize, "pipe", 0, "set the pipe's size to this before the consumer starts (0: the default 64 KiB)")
	var extra []string
	fs.Func("x", "an extra consumer NAME=COMMAND ARGS..., {dir} standing for its directory (repeatable; list NAME in -cmds)", func(v string) error {
		extra = append(extra, v)
		return nil
	})
	fs.Parse(args)
	h.check()
	for _, x := range extra {
		if err := addConsumer(x); err != nil {
			fatalf("-x: %v", err)
		}
	}

	in := input{}
	switch {
	case *nonl != "":
		n, err := size.Parse(*nonl)
		if err != nil {
			fatalf("-nonl: %v", err)
		}
		in.nonl = n
		in.desc = fmt.Sprintf("%s of 'x' without a newline", *nonl)
	case *corpus != "":
		var lim int64
		if *limit != "" {
			var err error
			if lim, err = size.Parse(*limit); err != nil {
				fatalf("-limit: %v", err)
			}
		}
		in.data = loadCorpus(*corpus, lim)
		in.desc = fmt.Sprintf("%s (%.1f MB)", filepath.Base(*corpus), float64(len(in.data))/1e6)
	default:
		fatalf("-corpus or -nonl is needed")
	}

	var all []*series
	var skipped []string
	for _, name := range splitList(*cmds) {
		c, ok := findConsumer(name)
		if !ok {
			fatalf("unknown consumer %q", name)
		}
		if c.path(&h) == "" {
			skipped = append(skipped, fmt.Sprintf("%s: not installed, skipped", c.bin))
			continue
		}
		all = append(all, &series{c: c})
	}
	if len(all) == 0 || all[0].c.name != "cat" {
		fatalf("-cmds must start with cat, the reference")
	}
	cat, others := all[0], all[1:]
	feeds := [][]byte{in.data}
	do := func(s *series, round int) result {
		r, err := run(&h, s.c, filepath.Join(h.work, s.c.name), feeds, in.nonl, *chunk)
		if err != nil {
			fatalf("%v", err)
		}
		logf("round %d/%d %-17s %6.3fs %7.1f MB/s cpu %.3fs (%.3fu+%.3fs) rss %5.1f MiB out %d B in %d file(s)",
			round+1, h.rounds, s.c.name, r.wall.Seconds(), float64(in.size())/r.wall.Seconds()/1e6,
			r.cpu().Seconds(), r.user.Seconds(), r.sys.Seconds(), mib(r.rss), r.out, r.n)
		s.runs = append(s.runs, r)
		return r
	}
	fmt.Fprintf(os.Stderr, "%s: %s, %d rounds, order per round: cat, X1, cat, X2, …, cat\n", *title, in.desc, h.rounds)
	for round := range h.rounds {
		before := do(cat, round)
		for _, s := range others {
			r := do(s, round)
			after := do(cat, round)
			// Paired with the mean of the cat runs just before and after.
			cw := (before.wall.Seconds() + after.wall.Seconds()) / 2
			cc := (before.cpu().Seconds() + after.cpu().Seconds()) / 2
			s.wallX = append(s.wallX, r.wall.Seconds()/cw)
			s.cpuX = append(s.cpuX, r.cpu().Seconds()/cc)
			before = after
		}
	}

	size := float64(in.size())
	catWall := cat.wallMedian()
	catCPU := cat.med(func(r result) float64 { return r.cpu().Seconds() })
	catRSS := cat.med(func(r result) float64 { return mib(r.rss) })
	t := table{head: []string{"command", "MB/s", "wall s", "wall × cat", "CPU s/GB (user+sys)", "CPU × cat", "peak RSS MiB", "RSS × cat", "bytes out"}}
	row := func(s *series, wallX, cpuX string) {
		wall := s.wallMedian()
		cpu := s.med(func(r result) float64 { return r.cpu().Seconds() })
		user := s.med(func(r result) float64 { return r.user.Seconds() })
		sys := s.med(func(r result) float64 { return r.sys.Seconds() })
		rss := s.med(func(r result) float64 { return mib(r.rss) })
		maxRSS := 0.0
		for _, r := range s.runs {
			maxRSS = max(maxRSS, mib(r.rss))
		}
		t.add("`"+s.c.display+"`", f1(size/wall/1e6), f3(wall), wallX,
			fmt.Sprintf("%.3f (%.3f+%.3f)", cpu/size*1e9, user/size*1e9, sys/size*1e9), cpuX,
			fmt.Sprintf("%.1f (max %.1f)", rss, maxRSS), ratio(rss/catRSS), outCheck(s.runs, in.size()))
	}
	row(cat, ratio(1)+fmt.Sprintf(" (%s)", ms(catWall)), ratio(1)+fmt.Sprintf(" (%.3f s)", catCPU))
	for _, s := range others {
		row(s, spread(s.wallX), spread(s.cpuX))
	}
	how := "writes of up to %d KiB, each ending at a newline"
	if !cutLines || in.data == nil {
		how = "writes of %d KiB"
	}
	fmt.Printf("### %s\n\nInput: %s, written by the harness in "+fmt.Sprintf(how, *chunk>>10)+". %d rounds; medians; "+
		"`wall ×` and `CPU ×` are medians of per-round ratios to the mean of the cat runs just before and after (range in brackets).\n\n",
		*title, in.desc, h.rounds)
	fmt.Print(t.String())
	for _, s := range others {
		if s.c.note != "" {
			fmt.Printf("\n- %s", s.c.note)
		}
	}
	for _, n := range skipped {
		fmt.Printf("\n- %s", n)
	}
	fmt.Print("\n\n")
}

// outCheck compares the bytes written with the input.
func outCheck(runs []result, in int64) string {
	for _, r := range runs {
		if r.out != in {
			d := r.out - in
			return fmt.Sprintf("%+d B (%+.2f%%)", d, float64(d)/float64(in)*100)
		}
	}
	return "= in"
}

func multiMain(args []string) {
	fs := flag.NewFlagSet("multi", flag.ExitOnError)
	var h common
	h.register(fs)
	corpus := fs.String("corpus", "", "corpus file")
	limit := fs.String("limit", "", "use only the first SIZE bytes of the corpus")
	n := fs.Int("n", 8, "pipelines writing one target")
	cmds := fs.String("cmds", "cat-append,rotlog-S", "the reference, then the consumer measured")
	fs.BoolVar(&cutLines, "cut", true, "end each producer write at a newline")
	chunk := fs.Int("chunk", 128<<10, "producer write size")
	fs.Parse(args)
	h.check()
	var lim int64
	if *limit != "" {
		var err error
		if lim, err = size.Parse(*limit); err != nil {
			fatalf("-limit: %v", err)
		}
	}
	data := loadCorpus(*corpus, lim)
	feeds := splitLines(data, *n)
	var all []*series
	for _, name := range splitList(*cmds) {
		c, ok := findConsumer(name)
		if !ok {
			fatalf("unknown consumer %q", name)
		}
		all = append(all, &series{c: c})
	}
	if len(all) != 2 {
		fatalf("-cmds takes two consumers")
	}
	ref, x := all[0], all[1]
	fmt.Fprintf(os.Stderr, "%d pipelines, one target: %.1f MB split in %d, %d rounds, order per round: %s, %s\n",
		*n, float64(len(data))/1e6, *n, h.rounds, ref.c.name, x.c.name)
	do := func(s *series, round int) result {
		r, err := run(&h, s.c, filepath.Join(h.work, "multi-"+s.c.name), feeds, 0, *chunk)
		if err != nil {
			fatalf("%v", err)
		}
		logf("round %d/%d %d × %-12s %6.3fs %7.1f MB/s cpu %.3fs (%.3fu+%.3fs) max rss %5.1f MiB out %d B in %d file(s)",
			round+1, h.rounds, *n, s.c.name, r.wall.Seconds(), float64(len(data))/r.wall.Seconds()/1e6,
			r.cpu().Seconds(), r.user.Seconds(), r.sys.Seconds(), mib(r.rss), r.out, r.n)
		s.runs = append(s.runs, r)
		return r
	}
	for round := range h.rounds {
		a := do(ref, round)
		b := do(x, round)
		// Throughput ratio: ref's wall over x's.
		x.wallX = append(x.wallX, a.wall.Seconds()/b.wall.Seconds())
		x.cpuX = append(x.cpuX, b.cpu().Seconds()/a.cpu().Seconds())
	}
	size := float64(len(data))
	t := table{head: []string{"pipelines", "aggregate MB/s", "wall s", "throughput × cat", "CPU s/GB (all, user+sys)", "CPU × cat", "peak RSS MiB (largest)", "files", "bytes out"}}
	row := func(s *series, tx, cx string) {
		wall := s.wallMedian()
		cpu := s.med(func(r result) float64 { return r.cpu().Seconds() })
		user := s.med(func(r result) float64 { return r.user.Seconds() })
		sys := s.med(func(r result) float64 { return r.sys.Seconds() })
		rss := s.med(func(r result) float64 { return mib(r.rss) })
		files := s.med(func(r result) float64 { return float64(r.n) })
		t.add(fmt.Sprintf("%d × `%s`", *n, s.c.display), f1(size/wall/1e6), f3(wall), tx,
			fmt.Sprintf("%.3f (%.3f+%.3f)", cpu/size*1e9, user/size*1e9, sys/size*1e9), cx,
			f1(rss), fmt.Sprintf("%.0f", files), outCheck(s.runs, int64(len(data))))
	}
	row(ref, ratio(1), ratio(1))
	row(x, spread(x.wallX), spread(x.cpuX))
	fmt.Printf("### %d pipelines, one target\n\n%.1f MB of corpus split at newlines into %d parts, each written by the harness into one pipeline; "+
		"wall is from the first start to the last exit. %d rounds alternating %s and %s; medians; `throughput × cat` is the median of per-round "+
		"ratios cat wall / rotlog wall (≥ 1 is faster than cat).\n\n", *n, size/1e6, *n, h.rounds, ref.c.name, x.c.name)
	fmt.Print(t.String())
	fmt.Print("\n")
}
