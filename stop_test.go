package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rotlog/rotlog/pattern"
)

// Tests of how rotlog stops (SPEC "Signals and exit", "Stopping without
// losing a line"): real processes, self-checking lines, and waits on events
// with a generous limit. No test asserts how long anything takes.

// stopLimit is how long a test waits for something that a correct rotlog
// does in a few seconds at most.
const stopLimit = 30 * time.Second

// pollUntil polls cond until it holds or limit has passed, and says which.
func pollUntil(limit time.Duration, cond func() bool) bool {
	for end := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// started is a process started by a test, waited for by one goroutine.
type started struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser // nil unless asked for
	stderr *syncBuffer
	done   chan struct{} // closed once it has exited
	err    error         // of Wait, once done is closed
}

// start starts cmd with stderr captured (and a stdin pipe if withStdin), and
// kills it at the end of the test if it is still running: its process group
// too if it has one of its own.
func start(t *testing.T, cmd *exec.Cmd, withStdin bool) *started {
	t.Helper()
	p := &started{cmd: cmd, done: make(chan struct{})}
	if cmd.Stderr == nil {
		p.stderr = new(syncBuffer)
		cmd.Stderr = p.stderr
	}
	if withStdin {
		var err error
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	// A descendant left holding stderr must not keep Wait from returning.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid {
			pgid := cmd.Process.Pid
			if cmd.SysProcAttr.Pgid != 0 {
				pgid = cmd.SysProcAttr.Pgid
			}
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// exited waits up to limit for p to exit, and says whether it did.
func (p *started) exited(limit time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(limit):
		return false
	}
}

// gone reports whether p has exited already.
func (p *started) gone() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// status is p's exit status once it has exited: its code, or -1 when a
// signal killed it.
func (p *started) status() int {
	<-p.done
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		return -2
	}
	return 0
}

// procsWith lists the live processes (zombies aside) other than this one
// whose command line contains s.
func procsWith(s string) map[int]string {
	found := map[int]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(b), s) {
			continue
		}
		if !alive(pid) {
			continue
		}
		found[pid] = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	}
	return found
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && !strings.HasPrefix(string(b[i+1:]), " Z")
}

// killProcsWith kills, at the end of the test, whatever still runs with s
// in its command line, and fails the test if anything did.
func killProcsWith(t *testing.T, s string) {
	t.Cleanup(func() {
		left := procsWith(s)
		for pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if len(left) > 0 {
			t.Errorf("left running (now killed): %v", left)
		}
	})
}

// producerLines reads the lines of rotlog-producer runs in files: for each
// run, the sequence numbers found, in order. Anything else is reported.
func producerLines(t *testing.T, files []string) map[string][]int {
	t.Helper()
	got := map[string][]int{}
	for _, f := range files {
		if strings.HasSuffix(f, ".lock") {
			t.Errorf("lock left behind: %s", f)
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if l == "" {
				continue
			}
			fs := strings.Fields(l)
			if len(fs) != 3 || fs[2] != "padding-padding-padding" || !strings.HasSuffix(l, "\n") {
				t.Errorf("%s: torn line %q", f, l)
				continue
			}
			n, _ := strconv.Atoi(fs[1])
			got[fs[0]] = append(got[fs[0]], n)
		}
	}
	return got
}

// readRecord reads a producer's record: the lines it wrote, and whether a
// write failed with EPIPE (its reader gone before it was done).
func readRecord(t *testing.T, path string) (n int, epipe bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := strings.Fields(string(b))
	n, _ = strconv.Atoi(fs[0])
	return n, len(fs) > 1 && fs[1] == "epipe"
}

// checkSeqs checks that seqs is 0..n-1, each once, in order.
func checkSeqs(t *testing.T, what string, seqs []int, n int) {
	t.Helper()
	bad := 0
	for i, s := range seqs {
		if s != i {
			bad++
		}
	}
	if len(seqs) != n || bad > 0 {
		t.Errorf("%s: wrote %d lines, the log holds %d (%d out of place)", what, n, len(seqs), bad)
	}
}

// A producer that takes 2 s to stop, stopped together with rotlog as a
// process group is (by systemd, supervisord's stopasgroup, a shell's ^C):
// with --drain-timeout longer than that, rotlog reads until the producer has
// finished, so the producer never meets EPIPE, every line it wrote is
// logged, and rotlog exits 0 without a word. With a drain shorter than the
// producer, rotlog still exits 0, takes what the pipe holds (every line the
// producer wrote is logged), and says that its input was still open.
func TestStopDrainsProducer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, drain, linger string
		open                bool
	}{
		{"drained", "5s", "2s", false},
		{"still-open", "500ms", "20s", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			records := filepath.Join(t.TempDir(), "records")
			os.Mkdir(records, 0o755)
			producerBin, err := exec.LookPath("rotlog-producer")
			if err != nil {
				t.Fatal(err)
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			// producer 2>&1 | rotlog, one process group, as a shell makes it.
			prod := exec.Command(producerBin, "slow", records)
			prod.Env = append(os.Environ(), "ROTLOG_PRODUCER_LINGER="+tc.linger)
			prod.Stdout, prod.Stderr = w, w
			prod.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			pp := start(t, prod, false)
			pgid := prod.Process.Pid
			rl := bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--drain-timeout", tc.drain)
			rl.Stdin = r
			rl.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
			rp := start(t, rl, false)
			r.Close()
			w.Close()

			app := filepath.Join(dir, "app.log")
			if !pollUntil(stopLimit, func() bool { return strings.Count(readFileQuiet(app), "\n") >= 100 || rp.gone() }) || rp.gone() {
				t.Fatalf("no lines logged; rotlog stderr: %s", rp.stderr)
			}
			syscall.Kill(-pgid, syscall.SIGTERM)
			if !rp.exited(stopLimit) {
				t.Fatalf("rotlog still running %s after TERM; stderr: %s", stopLimit, rp.stderr)
			}
			if st := rp.status(); st != 0 {
				t.Errorf("rotlog exit status %d (%v), want 0; stderr: %s", st, rp.err, rp.stderr)
			}
			if !pp.exited(stopLimit) {
				t.Fatal("the producer is still running")
			}
			ents, _ := os.ReadDir(records)
			if len(ents) != 1 {
				t.Fatalf("%d producer records, want 1", len(ents))
			}
			n, epipe := readRecord(t, filepath.Join(records, ents[0].Name()))
			got := producerLines(t, []string{app})
			seqs := got[ents[0].Name()]
			if tc.open && len(seqs) < n && n-len(seqs) <= 5 {
				// rotlog closes the pipe right after taking what it holds;
				// a write landing in between (one burst of the producer at
				// most) is the writer's loss, not a line rotlog had read.
				n = len(seqs)
			}
			checkSeqs(t, ents[0].Name(), seqs, n)
			stderr := rp.stderr.String()
			if tc.open {
				if !strings.Contains(stderr, "still open") {
					t.Errorf("stderr does not say that input was still open at exit: %q", stderr)
				}
			} else {
				if epipe {
					t.Errorf("the producer met EPIPE after %d lines: rotlog stopped reading before it had finished", n)
				}
				if stderr != "" {
					t.Errorf("stderr after a complete drain: %q", stderr)
				}
			}
			t.Logf("producer wrote %d lines (epipe: %v), %d found in the log", n, epipe, len(got[ents[0].Name()]))
		})
	}
}

// childScript is a worker of a forking server: "sh child.sh ID RECORDS"
// writes lines "wID SEQ" to stdout; on TERM it records that it got it, goes
// on writing 300 more lines (a worker finishing its requests), records how
// many it wrote and exits. It stops at once if a write fails (EPIPE: nobody
// reads the log any more).
const childScript = `trap '' PIPE
id=$1 rec=$2
stop=0
trap 'stop=1; : >"$rec/term-$id"' TERM
: >"$rec/started-$id"
n=0 extra=0
while :; do
	echo "w$id $n" || break
	n=$((n+1))
	if [ $stop = 1 ]; then
		extra=$((extra+1))
		[ $extra -ge 300 ] && break
		sleep 0.01
	elif [ $((n % 50)) = 0 ]; then
		sleep 0.01
	fi
done
echo $n >"$rec/.count-$id" && mv "$rec/.count-$id" "$rec/count-$id"
`

// Exec mode with a forking server whose parent dies at once on TERM while
// its four workers finish their work (Tornado's fork_processes, a prefork
// server): every worker gets the TERM (rotlog signals the command's process
// group), rotlog reads on until the last worker has closed the pipes, so
// every line they wrote is in the log, and nothing is left running.
func TestStopExecForkingCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	work := t.TempDir() // the script and the records, found by its path
	rec := filepath.Join(work, "rec")
	os.Mkdir(rec, 0o755)
	script := filepath.Join(work, "child.sh")
	os.WriteFile(script, []byte(childScript), 0o644)
	killProcsWith(t, work)
	// Workers whose sleep the TERM kills make their shell say "Terminated"
	// on stderr: not lines of the test.
	parent := fmt.Sprintf(`for i in 1 2 3 4; do sh %s $i %s 2>/dev/null & done; wait`, script, rec)
	rp := start(t, bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--drain-timeout", "20s", "--", "sh", "-c", parent), false)
	for i := 1; i <= 4; i++ {
		started := filepath.Join(rec, fmt.Sprintf("started-%d", i))
		if !pollUntil(stopLimit, func() bool { return exists(started) || rp.gone() }) || rp.gone() {
			t.Fatalf("worker %d did not start; stderr: %s", i, rp.stderr)
		}
	}
	rp.cmd.Process.Signal(syscall.SIGTERM)
	if !rp.exited(stopLimit) {
		t.Fatalf("rotlog still running %s after TERM; stderr: %s", stopLimit, rp.stderr)
	}
	// Today's rotlog may leave workers running: they stop once they meet
	// EPIPE, and record how far they got.
	pollUntil(stopLimit, func() bool {
		m, _ := filepath.Glob(filepath.Join(rec, "count-*"))
		return len(m) == 4
	})
	got := map[string][]int{}
	log := readFile(t, filepath.Join(dir, "app.log"))
	for _, l := range strings.SplitAfter(log, "\n") {
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		n, err := strconv.Atoi(f[len(f)-1])
		if len(f) != 2 || err != nil || !strings.HasSuffix(l, "\n") {
			t.Errorf("unexpected line %q", l)
			continue
		}
		got[f[0]] = append(got[f[0]], n)
	}
	written, found := 0, 0
	for i := 1; i <= 4; i++ {
		if !exists(filepath.Join(rec, fmt.Sprintf("term-%d", i))) {
			t.Errorf("worker %d never got TERM", i)
		}
		b, err := os.ReadFile(filepath.Join(rec, fmt.Sprintf("count-%d", i)))
		if err != nil {
			t.Errorf("worker %d recorded no count (still running?)", i)
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		id := fmt.Sprintf("w%d", i)
		checkSeqs(t, "worker "+id, got[id], n)
		written += n
		found += len(got[id])
	}
	t.Logf("workers wrote %d lines, %d found in the log; rotlog exit %d, stderr: %q", written, found, rp.status(), rp.stderr)
	if left := procsWith(work); len(left) > 0 {
		t.Errorf("left running after rotlog exited: %v", left)
	}
}

// --tee never blocks logging: with standard output a pipe nobody reads,
// every line still reaches the log, the lost copy is reported once, and TERM
// ends rotlog.
func TestStopStalledTee(t *testing.T) {
	t.Parallel()
	const lines = 200000
	dir := t.TempDir()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close() // held open, never read
	cmd := bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--tee")
	cmd.Stdout = outW
	rp := start(t, cmd, true)
	outW.Close()
	sent := time.Now()
	var want int64
	for i := range lines {
		want += int64(len(line(0, i, sent, 40)))
	}
	go func() {
		bw := bufio.NewWriterSize(rp.stdin, 64<<10)
		for i := range lines {
			bw.WriteString(line(0, i, sent, 40))
		}
		bw.Flush() // stdin stays open: TERM is what ends rotlog
	}()
	app := filepath.Join(dir, "app.log")
	size := func() int64 {
		fi, err := os.Stat(app)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	if !pollUntil(stopLimit, func() bool { return size() >= want }) {
		t.Errorf("%d of %d lines in the log after %s with a stalled --tee reader", strings.Count(readFileQuiet(app), "\n"), lines, stopLimit)
	}
	rp.cmd.Process.Signal(syscall.SIGTERM)
	if !rp.exited(stopLimit) {
		t.Fatalf("rotlog still running %s after TERM, with a stalled --tee reader; stderr: %q", stopLimit, rp.stderr)
	}
	if st := rp.status(); st != 0 {
		t.Errorf("exit status %d, want 0; stderr: %s", st, rp.stderr)
	}
	if c := strings.Count(rp.stderr.String(), "--tee"); c != 1 {
		t.Errorf("%d reports of the stalled --tee reader, want 1: %q", c, rp.stderr)
	}
	checkTarget(t, dir, mustCompile(t, "app.log"), map[int]int{0: lines})
}

// Exec mode, a command that survives TERM: the first TERM is forwarded and
// rotlog waits for the command; a second TERM ends rotlog within
// --drain-timeout, whatever the command does. (Asserted: only that it ends.)
func TestStopCommandIgnoresTerm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := "ignores-term-" + filepath.Base(dir) + strconv.Itoa(os.Getpid())
	killProcsWith(t, marker)
	script := `: ` + marker + `; trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.1; done`
	rp := start(t, bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--drain-timeout", "2s", "--", "sh", "-c", script), false)
	app := filepath.Join(dir, "app.log")
	if !pollUntil(stopLimit, func() bool { return strings.Contains(readFileQuiet(app), "ready\n") || rp.gone() }) || rp.gone() {
		t.Fatalf("the command did not start; stderr: %s", rp.stderr)
	}
	rp.cmd.Process.Signal(syscall.SIGTERM)
	if !pollUntil(stopLimit, func() bool { return strings.Contains(readFileQuiet(app), "got TERM\n") }) {
		t.Fatalf("the first TERM did not reach the command; stderr: %s", rp.stderr)
	}
	select {
	case <-rp.done:
		t.Fatalf("rotlog exited after one TERM while its command runs on: %v; stderr: %s", rp.err, rp.stderr)
	default:
	}
	rp.cmd.Process.Signal(syscall.SIGTERM)
	if !rp.exited(stopLimit) {
		t.Fatalf("rotlog still running %s after a second TERM (--drain-timeout 2s); stderr: %q", stopLimit, rp.stderr)
	}
	t.Logf("exit %d; stderr: %q", rp.status(), rp.stderr)
}

// A stop cuts a running --post-rotate command short: a hook that would run
// for ten minutes is killed, rotlog says so and exits 0.
func TestStopPostRotateHook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hook := `echo $$ >hook.pid; exec sleep 600 #`
	first := bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "-w", "D", "--post-rotate", hook, "--start-time", "2026-11-24 10:00:00")
	first.Stdin = strings.NewReader("day 1\n")
	if out, err := first.CombinedOutput(); err != nil {
		t.Fatalf("first run: %v: %s", err, out)
	}
	// Restart safety rotates yesterday's file, and the hook starts for it.
	rp := start(t, bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "-w", "D", "--post-rotate", hook, "--start-time", "2026-11-25 10:00:00"), true)
	io.WriteString(rp.stdin, "day 2\n")
	pidFile := filepath.Join(dir, "hook.pid")
	var pid int
	if !pollUntil(stopLimit, func() bool {
		pid, _ = strconv.Atoi(strings.TrimSpace(readFileQuiet(pidFile)))
		return pid > 0 && alive(pid)
	}) {
		t.Fatalf("the hook did not start; stderr: %s", rp.stderr)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	rp.cmd.Process.Signal(syscall.SIGTERM)
	if !rp.exited(stopLimit) {
		t.Fatalf("rotlog still running %s after TERM, with its --post-rotate hook running; stderr: %q", stopLimit, rp.stderr)
	}
	if st := rp.status(); st != 0 {
		t.Errorf("exit status %d, want 0; stderr: %s", st, rp.stderr)
	}
	if !pollUntil(stopLimit, func() bool { return !alive(pid) }) {
		t.Errorf("the hook (pid %d) still runs after rotlog exited", pid)
	}
	if s := rp.stderr.String(); !strings.Contains(s, "post-rotate command for app.log.2026-11-24") || !strings.Contains(s, "cut short") {
		t.Errorf("stderr does not say the hook for app.log.2026-11-24 was cut short: %q", s)
	}
	if got := readFile(t, filepath.Join(dir, "app.log")); got != "day 2\n" {
		t.Errorf("app.log = %q", got)
	}
}

func mustCompile(t *testing.T, pat string) *pattern.Pattern {
	t.Helper()
	p, err := pattern.Compile(pat, pattern.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Exec mode, writing fails for good (a directory appears where the log
// goes): rotlog says so, stops the command's group (TERM, then KILL) and
// exits 1, instead of waiting for a command that runs on.
func TestStopExecPermanentError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := "permanent-" + filepath.Base(dir)
	killProcsWith(t, marker)
	script := `: ` + marker + `; trap '' TERM; echo a; while [ ! -e go ]; do sleep 0.05; done; echo b; exec sleep 1000 # ` + marker
	rp := start(t, bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--drain-timeout", "1s", "--", "sh", "-c", script), false)
	app := filepath.Join(dir, "app.log")
	if !pollUntil(stopLimit, func() bool { return readFileQuiet(app) == "a\n" || rp.gone() }) || rp.gone() {
		t.Fatalf("the command did not start; stderr: %s", rp.stderr)
	}
	os.Remove(app)
	os.Mkdir(app, 0o755)
	os.WriteFile(filepath.Join(dir, "go"), nil, 0o644)
	if !rp.exited(stopLimit) {
		t.Fatalf("rotlog still running %s after its writes failed for good; stderr: %s", stopLimit, rp.stderr)
	}
	if st := rp.status(); st != 1 {
		t.Errorf("exit status %d, want 1; stderr: %s", st, rp.stderr)
	}
	if !strings.Contains(rp.stderr.String(), "cannot succeed") {
		t.Errorf("stderr does not say the write cannot succeed: %s", rp.stderr)
	}
	if !pollUntil(stopLimit, func() bool { return len(procsWith(marker)) == 0 }) {
		t.Errorf("left running: %v", procsWith(marker))
	}
}

// Exec mode: the command exits at the second TERM (which stops rotlog too)
// while a process of its group, ignoring TERM, still writes for a while:
// the command's exit does not cut the drain short; every line is logged.
func TestStopExecExitDuringDrain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := "exitdrain-" + filepath.Base(dir)
	killProcsWith(t, marker)
	script := `: ` + marker + `; (trap '' TERM; for i in $(seq 1 20); do echo g$i; sleep 0.1; done) & n=0; trap 'n=$((n+1)); [ $n -ge 2 ] && exit 4' TERM; echo ready; while :; do wait; done`
	rp := start(t, bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--drain-timeout", "20s", "--", "sh", "-c", script), false)
	app := filepath.Join(dir, "app.log")
	if !pollUntil(stopLimit, func() bool { return strings.Contains(readFileQuiet(app), "g2\n") || rp.gone() }) || rp.gone() {
		t.Fatalf("the command did not start; stderr: %s", rp.stderr)
	}
	rp.cmd.Process.Signal(syscall.SIGTERM)
	pollUntil(stopLimit, func() bool { return strings.Contains(readFileQuiet(app), "g4\n") })
	rp.cmd.Process.Signal(syscall.SIGTERM)
	if !rp.exited(stopLimit) {
		t.Fatalf("rotlog still running %s after two TERMs; stderr: %s", stopLimit, rp.stderr)
	}
	for i := 1; i <= 20; i++ {
		if !strings.Contains(readFileQuiet(app), fmt.Sprintf("g%d\n", i)) {
			t.Errorf("g%d missing: the drain was cut short when the command exited; log %q, stderr %s", i, readFileQuiet(app), rp.stderr)
			break
		}
	}
}
