package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fifoWriter starts a shell that opens the named pipe path, writes one
// self-checking line and closes it, n times (as a cron job or a restarted
// program does), each line "NAME SEQ PADDING".
func fifoWriter(t *testing.T, path, name string, n int) *started {
	t.Helper()
	script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do printf '%%s %%d %%s\n' %s $i %s > '%s' || exit 1; i=$((i+1)); done`,
		n, name, strings.Repeat(name, 40), path)
	return start(t, exec.Command("sh", "-c", script), false)
}

// checkFIFOLines checks that text holds, for each writer name, lines 0 to
// n-1 exactly once each, in order, whole.
func checkFIFOLines(t *testing.T, text string, names []string, n int) {
	t.Helper()
	re := regexp.MustCompile(`^(\w+) (\d+) (\w+)$`)
	next := map[string]int{}
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil || m[3] != strings.Repeat(m[1], 40) {
			t.Fatalf("line %d torn or mixed: %q", i+1, l)
		}
		if want := fmt.Sprint(next[m[1]]); m[2] != want {
			t.Fatalf("line %d: %s's line %s, want %s", i+1, m[1], m[2], want)
		}
		next[m[1]]++
	}
	for _, name := range names {
		if next[name] != n {
			t.Errorf("%s: %d lines of %d", name, next[name], n)
		}
	}
}

// TestFIFOWritersComeAndGo checks --input: rotlog makes the named pipe
// (with --mode), and two writers that each open, write one line to and
// close it 200 times lose nothing; a stop with no writer left ends rotlog
// at once, exit 0.
func TestFIFOWritersComeAndGo(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.fifo")
	cmd := rotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "--input", fifo, "--mode", "0640", "--drain-timeout", "0")
	r := start(t, cmd, false)
	waitFor(t, "the named pipe", func() bool { return exists(fifo) })
	fi, err := os.Stat(fifo)
	if err != nil || fi.Mode().Type() != os.ModeNamedPipe || fi.Mode().Perm() != 0o640&^umaskNow() {
		t.Fatalf("%s: %v %v; want a named pipe, mode 0640 less umask", fifo, fi.Mode(), err)
	}
	names := []string{"a", "b"}
	var ws []*started
	for _, name := range names {
		ws = append(ws, fifoWriter(t, fifo, name, 200))
	}
	for i, w := range ws {
		if !w.exited(time.Minute) || w.status() != 0 {
			t.Fatalf("writer %s: %v %s", names[i], w.err, w.stderr)
		}
	}
	waitFor(t, "400 lines", func() bool { return strings.Count(readFileQuiet(filepath.Join(dir, "app.log")), "\n") >= 400 })
	cmd.Process.Signal(syscall.SIGTERM)
	// --drain-timeout 0 reads until the writers are gone: they are, so
	// the stop ends reading (it would wait for good if rotlog still held
	// its own write end).
	if !r.exited(time.Minute) || r.status() != 0 {
		t.Fatalf("rotlog after TERM: exited %v, status %d; stderr:\n%s", r.gone(), r.status(), r.stderr)
	}
	if r.stderr.String() != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	checkFIFOLines(t, readFile(t, filepath.Join(dir, "app.log")), names, 200)
}

// TestFIFOTwoPipelines checks two pipelines reading their own named pipes
// into one target, with -when S and writers that come and go.
func TestFIFOTwoPipelines(t *testing.T) {
	dir := t.TempDir()
	var rs []*started
	var cmds []*exec.Cmd
	var ws []*started
	names := []string{"a", "b", "c", "d"}
	for i := range 2 {
		fifo := filepath.Join(dir, fmt.Sprintf("in%d.fifo", i))
		cmd := rotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "-when", "S", "--input", fifo)
		cmds = append(cmds, cmd)
		rs = append(rs, start(t, cmd, false))
		waitFor(t, "the named pipe", func() bool { return exists(fifo) })
		for _, name := range names[2*i : 2*i+2] {
			ws = append(ws, fifoWriter(t, fifo, name, 200))
		}
	}
	for i, w := range ws {
		if !w.exited(time.Minute) || w.status() != 0 {
			t.Fatalf("writer %s: %v %s", names[i], w.err, w.stderr)
		}
	}
	for i, cmd := range cmds {
		cmd.Process.Signal(syscall.SIGTERM)
		if !rs[i].exited(time.Minute) || rs[i].status() != 0 {
			t.Fatalf("rotlog %d after TERM: status %d; stderr:\n%s", i, rs[i].status(), rs[i].stderr)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "app.log*"))
	sort.Strings(files) // app.log, then app.log.DATE in time order
	files = append(files[1:], files[0])
	var all strings.Builder
	for _, f := range files {
		all.WriteString(readFile(t, f))
	}
	checkFIFOLines(t, all.String(), names, 200)
}

// umaskNow returns the process umask.
func umaskNow() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
