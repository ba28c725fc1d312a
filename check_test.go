package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// checkArgs returns what the start-up checks say about rotlog ARGS, run
// in dir.
func checkArgs(t *testing.T, dir string, args ...string) error {
	t.Helper()
	t.Chdir(dir)
	o, err := parseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	c, err := o.config(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.checkTarget(time.Now().Add(c.offset))
}

func TestCheckTarget(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	deep := strings.Repeat(long(200)+"/", 21) + "x.log" // 4226 bytes
	tests := []struct {
		name  string
		setup func(t *testing.T)
		args  []string
		want  string // a regexp the error matches; "" for none
	}{
		// Names that fit, and their neighbours that do not. The default
		// suffix of -when never is 19 bytes, of -when D 10.
		{name: "active 230", args: []string{"-p", long(230)}},
		{name: "active 245", args: []string{"-p", long(245)},
			want: `^--path: the name of a rotated file would be 269 bytes long \(a{20}\.\.\.a{12}\.\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.999\), over this file system's limit of 255$`},
		{name: "active 232", args: []string{"-p", long(232)},
			want: `rotated file would be 256 bytes long`},
		{name: "active 230 -z", args: []string{"-p", long(230), "-z"},
			want: `rotated file would be 261 bytes long .*\.999\.gz\.tmp\), over`},
		{name: "active 223 -z zstd", args: []string{"-p", long(223), "-z=zstd"}},
		{name: "active 224 -z zstd", args: []string{"-p", long(224), "-z=zstd"},
			want: `rotated file would be 256 bytes long .*\.999\.zst\.tmp\), over`},
		{name: "active 240 daily", args: []string{"-p", long(240), "-w", "D"}},
		{name: "active 241 daily", args: []string{"-p", long(241), "-w", "D"},
			want: `rotated file would be 256 bytes long`},
		{name: "active long suffix", args: []string{"-p", "app.log", "--suffix", long(240) + "%Y"},
			want: `rotated file would be 256 bytes long`},
		{name: "month names", args: []string{"-p", long(242), "--suffix", "%B"},
			want: `rotated file would be 256 bytes long .*September\.999\)`},
		{name: "active 251", args: []string{"-p", long(251), "--suffix", "%Y"},
			want: `^--path: the name of its lock file would be 256 bytes long`},
		{name: "active 256", args: []string{"-p", long(256)},
			want: `^--path: the name of the file would be 256 bytes long`},
		{name: "template 250", args: []string{"-p", long(246) + "%Y"}},
		{name: "template 251", args: []string{"-p", long(247) + "%Y"},
			want: `^--path: the name of its lock file would be 256 bytes long`},
		{name: "template 248 -z", args: []string{"-p", long(244) + "%Y", "-z"},
			want: `^--path: the name of a rotated file would be 259 bytes long \(.*\.999\.gz\.tmp\)`},
		{name: "template directory", args: []string{"-p", long(251) + "%Y/x.log"}},
		{name: "template directory too long", args: []string{"-p", long(252) + "%Y/x.log"},
			want: `^--path: the name of the file would be 256 bytes long`},
		{name: "path too long", args: []string{"-p", deep},
			want: `^--path: the path of the file would be 4226 bytes long \(.*/x\.log\), over the limit of 4095 for a path$`},
		{name: "symlink too long", args: []string{"-p", "a.log", "-l", long(230)},
			want: `^--symlink: the name of the link while it is replaced would be 256 bytes long \(.*\.tmp-4294967295-4294967295\)`},
		{name: "symlink 229", args: []string{"-p", "a.log", "-l", long(229)}},

		// Names the target uses (-l).
		{name: "link on lock", args: []string{"-p", "app.log", "-l", "app.log.lock"},
			want: `^--symlink: "app\.log\.lock" is the name of the target's lock file$`},
		{name: "link on lock spelled apart", args: []string{"-p", "logs/app.log", "-l", "./logs/../logs/app.log.lock"},
			want: `is the name of the target's lock file$`},
		{name: "link on rotated", args: []string{"-p", "app.log", "-w", "D", "-l", "app.log.2026-11-24"},
			want: `^--symlink: "app\.log\.2026-11-24" is a name of the target's files$`},
		{name: "link on variant", args: []string{"-p", "app.log", "-w", "D", "-l", "app.log.2026-11-24.3"},
			want: `is a name of the target's files$`},
		{name: "link on compressed", args: []string{"-p", "app.log", "-w", "D", "-l", "app.log.2026-11-24.1.zst"},
			want: `is a name of the target's files$`},
		{name: "link on compression temp", args: []string{"-p", "app.log", "-w", "D", "-l", "app.log.2026-11-24.gz.tmp"},
			want: `is a name of the target's files$`},
		{name: "link on template file", args: []string{"-p", "logs/%Y-%m-%d.log", "-l", "logs/2020-01-01.log"},
			want: `^--symlink: "logs/2020-01-01\.log" is a name of the target's files$`},
		{name: "link on template lock", args: []string{"-p", "logs/%Y-%m-%d.log", "-l", "logs/2020-01-01.log.lock"},
			want: `^--symlink: "logs/2020-01-01\.log\.lock" is the name of a lock file of the target$`},
		{name: "link beside", args: []string{"-p", "app.log", "-w", "D", "-l", "app.log.current"}},
		{name: "link beside template", args: []string{"-p", "logs/%Y-%m-%d.log", "-l", "logs/current.log"}},
		{name: "link elsewhere", args: []string{"-p", "app.log", "-w", "D", "-l", "other/app.log.2026-11-24"}},

		// What is there.
		{name: "directory", setup: mkdir("app.log"), args: []string{"-p", "app.log"},
			want: `^--path: app\.log is a directory$`},
		{name: "device", args: []string{"-p", "/dev/null"},
			want: `^--path: /dev/null is a character device$`},
		{name: "through a file", setup: touch("f"), args: []string{"-p", "f/%Y/app.log"}}, // retried: it can be put right
		{name: "lock directory", setup: mkdir("app.log.lock"), args: []string{"-p", "app.log"},
			want: `^--path: the lock file app\.log\.lock is a directory; remove it$`},
		{name: "dot", args: []string{"-p", "logs/."},
			want: `^--path: "logs/\." names a directory, not a file$`},
		{name: "dot dot", args: []string{"-p", "%Y/.."},
			want: `^--path: "%Y/\.\." names a directory, not a file$`},
		{name: "missing directories", args: []string{"-p", "a/b/c/%Y/app.log", "-l", "x/y/cur"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				t.Chdir(dir)
				tt.setup(t)
			}
			err := checkArgs(t, dir, tt.args...)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("rotlog %q: %v", tt.args, err)
			case tt.want != "" && err == nil:
				t.Errorf("rotlog %q: no error, want one matching %s", tt.args, tt.want)
			case tt.want != "" && !regexp.MustCompile(tt.want).MatchString(err.Error()):
				t.Errorf("rotlog %q: %v\nwant a match for %s", tt.args, err, tt.want)
			case err != nil:
				if _, ok := err.(usageError); !ok {
					t.Errorf("rotlog %q: %v is not a usage error (exit 2)", tt.args, err)
				}
			}
		})
	}
}

func mkdir(name string) func(t *testing.T) {
	return func(t *testing.T) {
		if err := os.MkdirAll(name, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func touch(name string) func(t *testing.T) {
	return func(t *testing.T) {
		if err := os.WriteFile(filepath.Clean(name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDescriptorLimit runs the real rotlog binary (the test binary's
// init, through a test dependency, already needs more descriptors than
// this) with ulimit -n of 7 and less: it says so and exits 1, where the Go
// runtime used to abort with exit status 2. With enough it works.
func TestDescriptorLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rotlog")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("needs sh")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rotlog")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // no dynamic loader to need descriptors
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, n := range []int{4, 5, 6, 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			cmd := exec.Command(sh, "-c", fmt.Sprintf("ulimit -n %d && exec %s -p a.log -z --post-rotate true", n, bin))
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader("x\n")
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\n%s", err, out)
			}
			want := fmt.Sprintf(`\Arotlog: error: too few file descriptors: the limit \(ulimit -n\) is %d; rotlog needs at least \d+ here \(\d+ more\); raise it\n\z`, n)
			if !regexp.MustCompile(want).Match(out) {
				t.Errorf("output %q, want a match for %s", out, want)
			}
			if _, err := os.Lstat(filepath.Join(dir, "a.log")); err == nil {
				t.Error("a.log was made")
			}
		})
	}
	cmd := exec.Command(sh, "-c", fmt.Sprintf("ulimit -n 64 && exec %s -p a.log -z --post-rotate true", bin))
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("x\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("with ulimit -n 64: %v\n%s", err, out)
	}
}
