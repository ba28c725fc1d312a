package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// nobody returns the user nobody's IDs, or skips the test when rotlog
// cannot change user here (not root, or no such user).
func nobody(t *testing.T) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_ROOT", "--user needs root")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_ROOT", "no user nobody: %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// openTo makes dir and its parents up to the temporary directory's root
// reachable by everyone, and dir owned by uid, gid.
func openTo(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	for d := dir; d != os.TempDir() && d != "/" && d != "."; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func owner(t *testing.T, path string) (uid, gid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid), fi.Mode()
}

// --user: the files and directories rotlog creates belong to the user,
// exec mode's command and --post-rotate run as the user with its group
// only, and where the user cannot write the error says so.
func TestUser(t *testing.T) {
	t.Parallel()
	uid, gid := nobody(t)
	dir := t.TempDir()
	openTo(t, dir, uid, gid)

	t.Run("exec", func(t *testing.T) {
		cmd := rotlogCmd(t, dir, "rotlog", nil, "--user", "nobody", "--dir-mode", "0750", "-p", "logs/sub/exec.log",
			"--", "sh", "-c", "id -u; id -g; id -G")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		want := fmt.Sprintf("%d\n%d\n%d\n", uid, gid, gid)
		if got := readFile(t, filepath.Join(dir, "logs/sub/exec.log")); got != want {
			t.Errorf("the command printed %q, want %q (uid, gid, groups of nobody)", got, want)
		}
		for _, p := range []string{"logs", "logs/sub", "logs/sub/exec.log"} {
			u, g, mode := owner(t, filepath.Join(dir, p))
			if u != uid || g != gid {
				t.Errorf("%s is owned by %d:%d, want %d:%d", p, u, g, uid, gid)
			}
			if mode.IsDir() && mode.Perm()&^0o750 != 0 {
				t.Errorf("%s has mode %v, want at most 0750 (--dir-mode)", p, mode.Perm())
			}
		}
	})

	t.Run("numbers", func(t *testing.T) {
		// By number: nobody's user ID (its group the primary one), and a
		// user and group the user database does not know.
		const unknown = 54321
		for i, tc := range []struct {
			arg      string
			uid, gid int
		}{
			{strconv.Itoa(uid), uid, gid},
			{fmt.Sprintf("%d:%d", unknown, unknown), unknown, unknown},
		} {
			sub := filepath.Join(dir, fmt.Sprintf("numbers%d", i))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			openTo(t, sub, tc.uid, tc.gid)
			cmd := rotlogCmd(t, sub, "rotlog", nil, "--user", tc.arg, "-p", "exec.log", "--", "sh", "-c", "id -u; id -g; id -G")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("--user %s: %v: %s", tc.arg, err, out)
			}
			want := fmt.Sprintf("%d\n%d\n%d\n", tc.uid, tc.gid, tc.gid)
			if got := readFile(t, filepath.Join(sub, "exec.log")); got != want {
				t.Errorf("--user %s: the command printed %q, want %q (uid, gid, groups)", tc.arg, got, want)
			}
			if u, g, _ := owner(t, filepath.Join(sub, "exec.log")); u != tc.uid || g != tc.gid {
				t.Errorf("--user %s: exec.log is owned by %d:%d, want %d:%d", tc.arg, u, g, tc.uid, tc.gid)
			}
		}
	})

	t.Run("hook", func(t *testing.T) {
		p := startRotlog(t, dir, "rotlog", nil, "--user", "nobody", "-p", "hook.log", "-w", "midnight",
			"--start-time", "2026-11-24 23:59:59", "--post-rotate", "id -u > hook.out; true")
		fmt.Fprintln(p.stdin, "before midnight")
		waitFor(t, "the post-rotate hook", func() bool { return readFileQuiet(filepath.Join(dir, "hook.out")) != "" })
		p.wait(t)
		if got, want := readFile(t, filepath.Join(dir, "hook.out")), fmt.Sprintf("%d\n", uid); got != want {
			t.Errorf("the hook ran as %q, want %q", got, want)
		}
		if u, _, _ := owner(t, filepath.Join(dir, "hook.log.2026-11-24")); u != uid {
			t.Errorf("the rotated file is owned by %d, want %d", u, uid)
		}
	})

	t.Run("cannot write", func(t *testing.T) {
		root := filepath.Join(dir, "root-only")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		p := startRotlog(t, dir, "rotlog", nil, "--user", "nobody", "-p", "root-only/app.log")
		fmt.Fprintln(p.stdin, "a line")
		waitFor(t, "a permission error", func() bool {
			s := p.stderr.String()
			return strings.Contains(s, "root-only/app.log") && strings.Contains(s, "permission denied")
		})
	})

	t.Run("refused", func(t *testing.T) {
		// The rotlog on PATH sits in a directory only root may enter: run
		// a copy nobody can run too.
		src, err := exec.LookPath("rotlog")
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "bin", "rotlog")
		os.Mkdir(filepath.Dir(bin), 0o755)
		if data, err := os.ReadFile(src); err != nil || os.WriteFile(bin, data, 0o755) != nil {
			t.Fatalf("copying rotlog: %v", err)
		}
		for _, tc := range []struct {
			args []string
			as   *syscall.Credential
			want string
		}{
			{[]string{"--user", "rotlog-no-such-user"}, nil, `--user: no user "rotlog-no-such-user"`},
			{[]string{"--user", "nobody:rotlog-no-such-group"}, nil, `--user: no group "rotlog-no-such-group"`},
			{[]string{"--user", "nobody"}, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, "not root"},
		} {
			cmd := rotlogCmd(t, dir, "rotlog", nil, append(tc.args, "-p", "refused.log")...)
			cmd.Path, cmd.Args[0] = bin, bin
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: tc.as}
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
				t.Errorf("rotlog %v: %v, %s; want exit 2 and %q", tc.args, err, out, tc.want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "refused.log")); err == nil {
			t.Error("a refused run created its file")
		}
	})
}

// parseMetrics reads a --metrics file with the Prometheus text parser.
func parseMetrics(path string) (map[string]*dto.MetricFamily, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(f)
}

// --metrics: the file parses, is labelled with the target, counts what was
// written and rotated, is never seen half written, and goes at a clean exit.
func TestMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mdir := filepath.Join(dir, "metrics")
	os.Mkdir(mdir, 0o755)
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-z", "--metrics", mdir)
	path := filepath.Join(mdir, fmt.Sprintf("rotlog_app_log_%d.prom", p.cmd.Process.Pid))
	const n = 1000
	var in bytes.Buffer
	for i := range n {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	p.stdin.Write(in.Bytes())
	waitFor(t, "the lines written in app.log", func() bool { return len(readFileQuiet(filepath.Join(dir, "app.log"))) == in.Len() })
	p.cmd.Process.Signal(syscall.SIGALRM)
	value := func(mfs map[string]*dto.MetricFamily, name string) float64 {
		mf := mfs[name]
		if mf == nil || len(mf.Metric) != 1 {
			return -1
		}
		m := mf.Metric[0]
		if l := m.GetLabel(); len(l) != 1 || l[0].GetName() != "target" || l[0].GetValue() != "app.log" {
			t.Errorf("%s has labels %v, want target=app.log", name, l)
		}
		if m.Counter != nil {
			return m.Counter.GetValue()
		}
		return m.Gauge.GetValue()
	}
	var last map[string]*dto.MetricFamily
	waitFor(t, "the metrics file to count every line, the rotation and the compression", func() bool {
		mfs, err := parseMetrics(path)
		if os.IsNotExist(err) {
			return false
		}
		if err != nil {
			t.Fatalf("%s does not parse: %v", path, err)
		}
		last = mfs
		return value(mfs, "rotlog_lines_written_total") == n && value(mfs, "rotlog_rotations_total") == 1 &&
			value(mfs, "rotlog_housekeeping_compressions_total") == 1
	})
	for name, want := range map[string]float64{
		"rotlog_bytes_written_total": float64(in.Len()), "rotlog_write_errors_total": 0,
		"rotlog_lines_dropped_total": 0, "rotlog_blocked_seconds_total": 0, "rotlog_housekeeping_backlog": 0,
		"rotlog_housekeeping_hook_runs_total": 0, "rotlog_housekeeping_removals_total": 0,
	} {
		if got := value(last, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	p.wait(t)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s is still there after a clean exit (%v)", path, err)
	}
	if left, _ := os.ReadDir(mdir); len(left) != 0 {
		t.Errorf("left in the metrics directory: %v", left)
	}
}

// --metrics counts the waits for a lock another process holds, and the time
// waited: a pipeline writes while rotlog-holdlock hangs holding the lock,
// which is broken once that process is killed and the lock is older than
// --lock-timeout.
func TestMetricsLockWaits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mdir := filepath.Join(dir, "metrics")
	os.Mkdir(mdir, 0o755)
	ready := filepath.Join(dir, "ready")
	hold := startRotlog(t, dir, "rotlog-holdlock", []string{"ROTLOG_HOLDLOCK_READY=" + ready}, "-p", "app.log", "-when", "midnight")
	defer hold.cmd.Process.Kill()
	hold.stdin.Write([]byte("held\n"))
	waitFor(t, "rotlog-holdlock to hold the lock", func() bool { return exists(ready) })

	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "midnight", "--lock-timeout", "200ms", "--metrics", mdir)
	path := filepath.Join(mdir, fmt.Sprintf("rotlog_app_log_%d.prom", p.cmd.Process.Pid))
	value := func(name string) float64 {
		mfs, err := parseMetrics(path)
		if os.IsNotExist(err) {
			return -1
		}
		if err != nil {
			t.Fatalf("%s does not parse: %v", path, err)
		}
		mf := mfs[name]
		if mf == nil || len(mf.Metric) != 1 || mf.Metric[0].Counter == nil {
			t.Fatalf("%s: no single counter %s", path, name)
		}
		m := mf.Metric[0]
		if l := m.GetLabel(); len(l) != 1 || l[0].GetName() != "target" || l[0].GetValue() != "app.log" {
			t.Errorf("%s has labels %v, want target=app.log", name, l)
		}
		return m.Counter.GetValue()
	}
	waitFor(t, "the first metrics file", func() bool { return value("rotlog_lock_waits_total") >= 0 })
	if n, s := value("rotlog_lock_waits_total"), value("rotlog_lock_wait_seconds_total"); n != 0 || s != 0 {
		t.Fatalf("before any wait: rotlog_lock_waits_total %v, rotlog_lock_wait_seconds_total %v; want 0", n, s)
	}
	p.stdin.Write([]byte("waited\n"))
	waitFor(t, "rotlog to report its wait for the lock", func() bool {
		return strings.Contains(p.stderr.String(), "waiting for lock")
	})
	hold.cmd.Process.Kill()
	hold.cmd.Wait()
	waitFor(t, "the line written once the lock was broken", func() bool {
		return string(readFileQuiet(filepath.Join(dir, "app.log"))) == "waited\n"
	})
	waitFor(t, "the metrics file to count the wait", func() bool { return value("rotlog_lock_waits_total") >= 1 })
	if s := value("rotlog_lock_wait_seconds_total"); s <= 0 {
		t.Errorf("rotlog_lock_wait_seconds_total = %v after a wait, want > 0", s)
	}
	p.stdin.Close()
	p.wait(t)
}

// metricValue reads the one value of the metric name, labelled with the
// target target, from the --metrics file path; -1 while there is no file.
func metricValue(t *testing.T, path, name, target string) float64 {
	t.Helper()
	mfs, err := parseMetrics(path)
	if os.IsNotExist(err) {
		return -1
	}
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	mf := mfs[name]
	if mf == nil || len(mf.Metric) != 1 {
		t.Fatalf("%s: no single metric %s", path, name)
	}
	m := mf.Metric[0]
	if l := m.GetLabel(); len(l) != 1 || l[0].GetName() != "target" || l[0].GetValue() != target {
		t.Errorf("%s has labels %v, want target=%s", name, l, target)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// --metrics reports the housekeeping backlog: the rotated files that the
// last pass left with work to do, here a --post-rotate command that fails
// until the test lets it succeed. Three files wait: the backlog is 3 (never
// more); once the command succeeds for each, it is 0.
func TestMetricsHousekeepingBacklog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mdir := filepath.Join(dir, "metrics")
	os.Mkdir(mdir, 0o755)
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "D", "--start-time", "2026-11-25 12:00:00",
		"--metrics", mdir, "--post-rotate", "test -e ok && echo >>hooked")
	path := filepath.Join(mdir, fmt.Sprintf("rotlog_app_log_%d.prom", p.cmd.Process.Pid))
	backlog := func() float64 { return metricValue(t, path, "rotlog_housekeeping_backlog", "app.log") }
	app := filepath.Join(dir, "app.log")
	var rotated []string
	for i, name := range []string{"app.log.2026-11-25", "app.log.2026-11-25.1", "app.log.2026-11-25.2"} {
		fmt.Fprintf(p.stdin, "line %d\n", i)
		waitFor(t, fmt.Sprintf("line %d", i), func() bool { return readFileQuiet(app) == fmt.Sprintf("line %d\n", i) })
		p.cmd.Process.Signal(syscall.SIGALRM)
		waitFor(t, name, func() bool { return exists(filepath.Join(dir, name)) })
		rotated = append(rotated, name)
	}
	waitFor(t, "a backlog of 3 in the metrics file", func() bool {
		n := backlog()
		if n > 3 {
			t.Fatalf("rotlog_housekeeping_backlog = %v with 3 rotated files", n)
		}
		return n == 3
	})
	if n := metricValue(t, path, "rotlog_housekeeping_passes_total", "app.log"); n < 1 {
		t.Errorf("rotlog_housekeeping_passes_total = %v, want at least 1", n)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a backlog of 0 in the metrics file", func() bool { return backlog() == 0 })
	runs := metricValue(t, path, "rotlog_housekeeping_hook_runs_total", "app.log")
	failures := metricValue(t, path, "rotlog_housekeeping_hook_failures_total", "app.log")
	if runs-failures != 3 {
		t.Errorf("rotlog_housekeeping_hook_runs_total %v, rotlog_housekeeping_hook_failures_total %v: want 3 that succeeded", runs, failures)
	}
	got := strings.Fields(readFile(t, filepath.Join(dir, "hooked")))
	slices.Sort(got)
	if !slices.Equal(got, rotated) {
		t.Errorf("the post-rotate command succeeded for %v, want %v", got, rotated)
	}
	p.wait(t)
}

// --metrics at an exit that is not clean: the file is written one last
// time, with the failed writes, and left for the operator, with no
// temporary file beside it. The target's directory is a regular file, so
// no write works, and a stop ends the retries.
func TestMetricsAtFailedExit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mdir := filepath.Join(dir, "metrics")
	os.Mkdir(mdir, 0o755)
	os.WriteFile(filepath.Join(dir, "sub"), nil, 0o644)
	p := startRotlog(t, dir, "rotlog", nil, "-p", "sub/app.log", "--metrics", mdir, "--drain-timeout", "100ms")
	path := filepath.Join(mdir, fmt.Sprintf("rotlog_app_log_%d.prom", p.cmd.Process.Pid))
	value := func(name string) float64 { return metricValue(t, path, name, "sub/app.log") }
	// The file written at start, before any input.
	waitFor(t, "the first metrics file", func() bool { return value("rotlog_write_errors_total") >= 0 })
	io.WriteString(p.stdin, "lost 1\nlost 2\n")
	waitFor(t, "a report of the failure", func() bool { return strings.Contains(p.stderr.String(), "retrying") })
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err == nil {
		t.Fatalf("rotlog exited 0 with nothing written; stderr: %s", p.stderr)
	}
	if v := value("rotlog_write_errors_total"); v < 1 {
		t.Errorf("rotlog_write_errors_total = %v after failed writes, want at least 1 (the file was not written at exit)", v)
	}
	if v := value("rotlog_lines_written_total"); v != 0 {
		t.Errorf("rotlog_lines_written_total = %v, want 0", v)
	}
	if left, _ := os.ReadDir(mdir); len(left) != 1 {
		t.Errorf("in the metrics directory: %v, want the one file", left)
	}
}

// --metrics counts the removals the disk budget makes as a pipeline writes
// (after its own rotations), not only those of housekeeping passes.
func TestMetricsBudgetRemovals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mdir := filepath.Join(dir, "metrics")
	os.Mkdir(mdir, 0o755)
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-s", "100K", "--max-total", "300K", "--metrics", mdir)
	path := filepath.Join(mdir, fmt.Sprintf("rotlog_app_log_%d.prom", p.cmd.Process.Pid))
	line := strings.Repeat("x", 99) + "\n"
	for range 10000 { // 1 MB: about ten files of 100K, a budget of three
		io.WriteString(p.stdin, line)
	}
	waitFor(t, "removals counted in the metrics file", func() bool {
		return exists(path) && metricValue(t, path, "rotlog_housekeeping_removals_total", "app.log") > 0
	})
	p.wait(t)
	if n := strings.Count(p.stderr.String(), "rotlog: removed "); n < 1 {
		t.Errorf("stderr reports %d removals; stderr: %s", n, p.stderr)
	}
}
