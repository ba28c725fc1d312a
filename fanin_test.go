package main

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rotlog/rotlog/pattern"
)

// fanInRecipe returns the collector and sender commands of the README's
// "Several hosts" section, as written there: the lines that start with
// "socat -u TCP-LISTEN:" and that pipe into "socat -u - TCP:".
func fanInRecipe(t *testing.T) (collector, sender string) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Several hosts\n")
	if !ok {
		t.Fatal(`README.md has no "## Several hosts" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	for _, l := range strings.Split(sec, "\n") {
		switch {
		case strings.HasPrefix(l, "socat -u TCP-LISTEN:"):
			collector = l
		case strings.Contains(l, "| socat -u - TCP:"):
			_, sender, _ = strings.Cut(l, "| ")
		}
	}
	if collector == "" || sender == "" {
		t.Fatalf("the Several hosts section has no collector (%q) or no sender (%q) command", collector, sender)
	}
	return collector, sender
}

// TestFanInSocat runs the README's fan-in recipe (Several hosts) on
// loopback: a collector, socat listening with fork and starting one rotlog
// per connection, all on one target rotating every second; and 6 senders,
// each a socat sending a program's output (self-checking lines, some of
// 100 KB, in batches that split lines anywhere) over its own connection.
// Every line of every sender must be in the target once, whole, in order,
// and no rotlog may be left running once the senders are done.
//
// The commands are read from the README and changed only where a test must:
// the port, the target's path, -when S instead of H, 127.0.0.1 for the
// collector's host name.
//
// .ci/run installs socat and sets ROTLOG_REQUIRE_SOCAT=1.
func TestFanInSocat(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_SOCAT", "socat is not installed (apt-get install socat)")
	}
	t.Parallel()
	collector, sender := fanInRecipe(t)
	dir := t.TempDir()
	killProcsWith(t, dir)
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(freePort(t))
	for _, r := range [][2]string{{"5140", port}, {"/var/log/fanin/app.log", filepath.Join(logs, "app.log")}, {"-when H", "-when S"}} {
		if !strings.Contains(collector, r[0]) {
			t.Fatalf("the README's collector %q has no %q", collector, r[0])
		}
		collector = strings.ReplaceAll(collector, r[0], r[1])
	}
	for _, r := range [][2]string{{"collector.example.com", "127.0.0.1"}, {"5140", port}} {
		if !strings.Contains(sender, r[0]) {
			t.Fatalf("the README's sender %q has no %q", sender, r[0])
		}
		sender = strings.ReplaceAll(sender, r[0], r[1])
	}
	t.Logf("collector: %s\nsender: %s", collector, sender)

	// The collector in a process group of its own: the clean-up kills it
	// and whatever it started.
	ccmd := exec.Command("sh", "-c", "exec "+collector)
	ccmd.Dir = dir
	ccmd.Env = append(os.Environ(), "TZ=UTC", "GORACE=atexit_sleep_ms=10")
	ccmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c := start(t, ccmd, false)
	// A connection that sends nothing: its rotlog makes nothing.
	listening := func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	if !pollUntil(stopLimit, listening) {
		t.Fatalf("socat does not listen on %s; stderr:\n%s", port, c.stderr)
	}

	const senders = 6
	sent := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			s := exec.Command("sh", "-c", "exec "+sender)
			s.Dir = dir
			p := start(t, s, true)
			k, err := feed(p.stdin, i, 4*time.Second, rand.New(rand.NewPCG(uint64(i), 13)))
			if err != nil {
				t.Errorf("sender %d: %v", i, err)
			}
			p.stdin.Close()
			if !p.exited(stopLimit) || p.status() != 0 {
				t.Errorf("sender %d: exited %v, status %d; stderr:\n%s", i, p.gone(), p.status(), p.stderr)
			}
			mu.Lock()
			sent[i] = k
			mu.Unlock()
		})
	}
	wg.Wait()

	// Each connection's rotlog exits at its end of input.
	rotlogs := func() map[int]string {
		m := procsWith(filepath.Join(logs, "app.log"))
		delete(m, ccmd.Process.Pid)
		for pid, cl := range m {
			if !strings.HasPrefix(cl, "rotlog ") && !strings.Contains(cl, "/rotlog ") {
				delete(m, pid) // socat's children on their way out
			}
		}
		return m
	}
	total := 0
	for _, k := range sent {
		total += k
	}
	// A sender is done once the kernel has its data: the lines are in
	// the target once every line is there and no rotlog runs (read now
	// and then, not every 20 ms: the files are large).
	lines := func() int {
		n := 0
		files, _ := filepath.Glob(filepath.Join(logs, "app.log*"))
		for _, f := range files {
			n += strings.Count(readFileQuiet(f), "\n")
		}
		return n
	}
	for end := time.Now().Add(2 * stopLimit); len(rotlogs()) > 0 || lines() < total; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(end) {
			t.Errorf("after %s: %d of %d lines in the target; rotlog running: %v", 2*stopLimit, lines(), total, rotlogs())
			break
		}
	}
	if s := c.stderr.String(); s != "" {
		t.Errorf("collector stderr (rotlog's too):\n%s", s)
	}
	pat, err := pattern.Compile("app.log", pattern.Options{When: "S", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	files := checkTarget(t, logs, pat, sent)
	t.Logf("%d senders sent %d lines; the target has %d files", senders, total, len(files))
}
