package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// scriptCmds are the commands scripts get beyond testscript's own.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// mtime FILE TIME sets FILE's modification time (RFC 3339).
	"mtime": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: mtime FILE RFC3339-TIME")
		}
		t, err := time.Parse(time.RFC3339, args[1])
		ts.Check(err)
		ts.Check(os.Chtimes(ts.MkAbs(args[0]), t, t))
	},
	// nfiles DIR N checks DIR holds exactly N entries.
	"nfiles": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: nfiles DIR N")
		}
		ents, err := os.ReadDir(ts.MkAbs(args[0]))
		ts.Check(err)
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		if (len(ents) == want) == neg {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			ts.Fatalf("%s holds %d entries %q, want %s%d", args[0], len(ents), names, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	},
	// exitcode N PROGRAM [ARGS...] runs PROGRAM like exec (with the stdin
	// set by the stdin command; stdout and stderr can be checked after)
	// and checks that it exits with status N.
	"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: exitcode N PROGRAM [ARGS...]")
		}
		want, err := strconv.Atoi(args[0])
		ts.Check(err)
		got := 0
		if err := ts.Exec(args[1], args[2:]...); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				ts.Fatalf("%s: %v", args[1], err)
			}
			got = ee.ExitCode()
		}
		if got != want {
			ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
		}
	},
	// perm FILE MODE checks FILE's permission bits are MODE (octal) with
	// the process umask applied, as open(2) and mkdir(2) apply it.
	"perm": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: perm FILE OCTAL-MODE")
		}
		m, err := strconv.ParseUint(args[1], 8, 32)
		ts.Check(err)
		want := os.FileMode(m) &^ umask(ts)
		fi, err := os.Lstat(ts.MkAbs(args[0]))
		ts.Check(err)
		if (fi.Mode().Perm() == want) == neg {
			ts.Fatalf("%s has mode %04o, want %s%04o (%s with umask %04o)", args[0], fi.Mode().Perm(), map[bool]string{true: "not ", false: ""}[neg], want, args[1], umask(ts))
		}
	},
	// age FILE DURATION sets FILE's modification time to DURATION ago.
	"age": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: age FILE DURATION")
		}
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		t := time.Now().Add(-d)
		ts.Check(os.Chtimes(ts.MkAbs(args[0]), t, t))
	},
	// genbytes FILE ITEM... writes FILE made of the items in order:
	//   binary     lines holding every byte value, NULs, invalid UTF-8, CR
	//   line N     N bytes without a newline, then a newline
	//   partial N  N bytes without a newline
	//   text S     the text S, Go escapes such as \n and \x00 interpreted
	"genbytes": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: genbytes FILE (binary | line N | partial N | text S)...")
		}
		var b bytes.Buffer
		for items := args[1:]; len(items) > 0; {
			switch kind := items[0]; kind {
			case "binary":
				items = items[1:]
				b.WriteString("nul\x00in\x00the\x00middle\n")
				b.WriteString("\x00\x00\x00\n")
				b.WriteString("invalid utf-8: \xff\xfe \xc3\x28 \xa0\xa1 \xe2\x28\xa1 \xf0\x28\x8c\xbc \xed\xa0\x80\n")
				b.WriteString("crlf\r\n")
				b.WriteString("lone cr\rmid line\n")
				for i := 0; i < 256; i++ {
					if i != '\n' {
						b.WriteByte(byte(i))
					}
				}
				b.WriteString("\n\n\n")
				b.WriteString("last line without newline \x00\xff")
			case "line", "partial":
				if len(items) < 2 {
					ts.Fatalf("genbytes: %s needs a length", kind)
				}
				n, err := strconv.Atoi(items[1])
				ts.Check(err)
				items = items[2:]
				for i := 0; i < n; i++ {
					b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[i%36])
				}
				if kind == "line" {
					b.WriteByte('\n')
				}
			case "text":
				if len(items) < 2 {
					ts.Fatalf("genbytes: text needs a string")
				}
				t, err := strconv.Unquote(`"` + items[1] + `"`)
				ts.Check(err)
				b.WriteString(t)
				items = items[2:]
			default:
				ts.Fatalf("genbytes: unknown item %q", kind)
			}
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o644))
	},
	// feed [-exit N] [-timeout DUR] STEP... -- PROGRAM [ARGS...] runs PROGRAM and feeds
	// its standard input step by step, then closes it and checks that
	// PROGRAM exits with status N (default 0). A STEP is
	//   FILE                  write FILE's content
	//   sleep=DURATION        wait: only for time that must pass (a clock
	//                         crossing a boundary), never to let PROGRAM
	//                         get somewhere; wait for evidence instead
	//   cmp=ACTUAL:EXPECTED   check, while PROGRAM runs, that file ACTUAL
	//                         has the content of file EXPECTED
	//   waitcmp=ACTUAL:EXPECTED  wait until file ACTUAL has the content of
	//                         file EXPECTED (a missing file is not there
	//                         yet), e.g. so that the next FILE is read as a
	//                         batch of its own
	//   waitstderr=REGEXP     wait until what PROGRAM wrote to its standard
	//                         error matches REGEXP (multi-line mode, as the
	//                         stderr command)
	//   signal=SIG            send SIG (TERM, INT, HUP or ALRM) to PROGRAM
	// Each wait gives up, failing feed, after waitTimeout. A signal must
	// come after a wait that proves rotlog runs its control loop (it has
	// written a line, or reported a retry): before that, rotlog may not yet
	// handle the signal, and dies of it.
	// PROGRAM must then exit within DUR (default 10s), or it is killed and
	// feed fails.
	// stdout and stderr can be checked after. The script's TZ, HOME,
	// TMPDIR, GORACE and ROTLOG_HOLDLOCK_READY are passed on.
	"feed": func(ts *testscript.TestScript, neg bool, args []string) {
		want, timeout := 0, 10*time.Second
		for len(args) > 1 && (args[0] == "-exit" || args[0] == "-timeout") {
			var err error
			if args[0] == "-exit" {
				want, err = strconv.Atoi(args[1])
			} else {
				timeout, err = time.ParseDuration(args[1])
			}
			ts.Check(err)
			args = args[2:]
		}
		dash := slices.Index(args, "--")
		if neg || dash < 1 || dash == len(args)-1 {
			ts.Fatalf("usage: feed [-exit N] [-timeout DURATION] (FILE | sleep=DURATION | cmp=ACTUAL:EXPECTED | waitcmp=ACTUAL:EXPECTED | waitstderr=REGEXP | signal=SIG)... -- PROGRAM [ARGS...]")
		}
		steps, prog := args[:dash], args[dash+1:]
		path, err := exec.LookPath(prog[0]) // testscript.Main put its commands on PATH
		ts.Check(err)
		cmd := exec.Command(path, prog[1:]...)
		cmd.Dir = ts.MkAbs(".")
		cmd.Env = os.Environ()
		for _, k := range []string{"TZ", "HOME", "TMPDIR", "GORACE", "ROTLOG_HOLDLOCK_READY"} {
			cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
		}
		stderr := new(syncBuffer) // a copy to wait on
		cmd.Stdout, cmd.Stderr = ts.Stdout(), io.MultiWriter(ts.Stderr(), stderr)
		in, err := cmd.StdinPipe()
		ts.Check(err)
		ts.Check(cmd.Start())
		defer func() { // if a step fails
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		}()
		for _, step := range steps {
			switch {
			case strings.HasPrefix(step, "sleep="):
				d, err := time.ParseDuration(step[len("sleep="):])
				ts.Check(err)
				time.Sleep(d)
			case strings.HasPrefix(step, "signal="):
				sig, ok := map[string]os.Signal{
					"TERM": unix.SIGTERM, "INT": unix.SIGINT, "HUP": unix.SIGHUP, "ALRM": unix.SIGALRM,
				}[step[len("signal="):]]
				if !ok {
					ts.Fatalf("feed: unknown signal in %q", step)
				}
				ts.Check(cmd.Process.Signal(sig))
			case strings.HasPrefix(step, "waitcmp="):
				actual, expected, ok := strings.Cut(step[len("waitcmp="):], ":")
				if !ok {
					ts.Fatalf("feed: want waitcmp=ACTUAL:EXPECTED, have %q", step)
				}
				exp := ts.ReadFile(expected)
				waitUntil(ts, fmt.Sprintf("%s to hold %q (%s)", actual, exp, expected), func() (bool, string) {
					got, err := os.ReadFile(ts.MkAbs(actual))
					if err != nil {
						return false, err.Error()
					}
					return string(got) == exp, fmt.Sprintf("it holds %q", got)
				})
			case strings.HasPrefix(step, "waitstderr="):
				re, err := regexp.Compile("(?m)" + step[len("waitstderr="):])
				ts.Check(err)
				waitUntil(ts, fmt.Sprintf("%s's stderr to match %q", prog[0], re), func() (bool, string) {
					got := stderr.String()
					return re.MatchString(got), fmt.Sprintf("it holds %q", got)
				})
			case strings.HasPrefix(step, "cmp="):
				actual, expected, ok := strings.Cut(step[len("cmp="):], ":")
				if !ok {
					ts.Fatalf("feed: want cmp=ACTUAL:EXPECTED, have %q", step)
				}
				got, err := os.ReadFile(ts.MkAbs(actual))
				ts.Check(err)
				if exp := ts.ReadFile(expected); string(got) != exp {
					ts.Fatalf("feed: while %s runs, %s holds %q, want %q (%s)", prog[0], actual, got, exp, expected)
				}
			default:
				if _, err := in.Write([]byte(ts.ReadFile(step))); err != nil {
					ts.Logf("feed: writing %s: %v", step, err)
				}
			}
		}
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var waitErr error
		select {
		case waitErr = <-done:
		case <-time.After(timeout):
			cmd.Process.Kill()
			<-done
			ts.Fatalf("%s did not exit within %s of its last step; killed", prog[0], timeout)
		}
		got := 0
		if waitErr != nil {
			var ee *exec.ExitError
			if !errors.As(waitErr, &ee) {
				ts.Fatalf("%s: %v", prog[0], waitErr)
			}
			got = ee.ExitCode()
		}
		if got != want {
			ts.Fatalf("%s exited with status %d, want %d", prog[0], got, want)
		}
	},
	// decompress FILE OUT decompresses FILE, gzip if its name ends in .gz,
	// zstd if in .zst, into OUT; the whole stream must be valid.
	"decompress": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: decompress FILE.gz|FILE.zst OUT")
		}
		f, err := os.Open(ts.MkAbs(args[0]))
		ts.Check(err)
		defer f.Close()
		var r io.Reader
		switch {
		case strings.HasSuffix(args[0], ".gz"):
			zr, err := gzip.NewReader(f)
			ts.Check(err)
			defer zr.Close()
			r = zr
		case strings.HasSuffix(args[0], ".zst"):
			zr, err := zstd.NewReader(f)
			ts.Check(err)
			defer zr.Close()
			r = zr
		default:
			ts.Fatalf("decompress: %s ends in neither .gz nor .zst", args[0])
		}
		b, err := io.ReadAll(r)
		if err != nil {
			ts.Fatalf("decompress %s: %v", args[0], err)
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
	},
	// sleep DURATION waits that long (a Go duration): only for time that
	// must pass, never to let a process get somewhere (waitfile, waitgrep
	// and feed's wait steps wait for the evidence instead).
	"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: sleep DURATION")
		}
		d, err := time.ParseDuration(args[0])
		ts.Check(err)
		time.Sleep(d)
	},
	// waitfile FILE waits until FILE exists.
	"waitfile": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: waitfile FILE")
		}
		waitUntil(ts, args[0]+" to exist", func() (bool, string) {
			_, err := os.Lstat(ts.MkAbs(args[0]))
			return err == nil, fmt.Sprint(err)
		})
	},
	// waitgrep REGEXP FILE waits until FILE's content matches REGEXP
	// (multi-line mode, as grep). For a process in the background, whose
	// stderr the script cannot see until it is waited for, write stderr to
	// a file (sh -c 'exec rotlog ... 2>FILE') and wait on that.
	"waitgrep": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: waitgrep REGEXP FILE")
		}
		re, err := regexp.Compile("(?m)" + args[0])
		ts.Check(err)
		waitUntil(ts, fmt.Sprintf("%s to match %q", args[1], re), func() (bool, string) {
			got, err := os.ReadFile(ts.MkAbs(args[1]))
			if err != nil {
				return false, err.Error()
			}
			return re.Match(got), fmt.Sprintf("it holds %q", got)
		})
	},
	// xattr FILE NAME checks FILE has the extended attribute NAME; with !,
	// that it has not.
	// With REGEXP, the value must match it.
	"xattr": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 && (len(args) != 3 || neg) {
			ts.Fatalf("usage: xattr FILE NAME [REGEXP]")
		}
		var buf [4096]byte
		n, err := unix.Lgetxattr(ts.MkAbs(args[0]), args[1], buf[:])
		switch {
		case err == nil && neg:
			ts.Fatalf("%s has attribute %s = %q", args[0], args[1], buf[:n])
		case err != nil && !neg:
			ts.Fatalf("%s has no attribute %s: %v", args[0], args[1], err)
		case len(args) == 3 && !regexp.MustCompile(args[2]).Match(buf[:n]):
			ts.Fatalf("%s has attribute %s = %q, not matching %s", args[0], args[1], buf[:n], args[2])
		}
	},
	// islink FILE TARGET checks FILE is a symbolic link to TARGET.
	"islink": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: islink FILE TARGET")
		}
		got, err := os.Readlink(ts.MkAbs(args[0]))
		ts.Check(err)
		if got != args[1] {
			ts.Fatalf("%s links to %q, want %q", args[0], got, args[1])
		}
	},
}

// waitTimeout bounds every wait of a script: generous, so that only a
// broken rotlog (or a machine stalled for half a minute) reaches it. No
// script asserts how fast anything happens.
const waitTimeout = 30 * time.Second

// waitUntil polls cond until it holds, or fails the script after
// waitTimeout saying what it waited for and the state last seen.
func waitUntil(ts *testscript.TestScript, what string, cond func() (ok bool, state string)) {
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("gave up after %s waiting for %s: %s", waitTimeout, what, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// umask reads the process umask without changing it.
func umask(ts *testscript.TestScript) os.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	ts.Check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			ts.Check(err)
			return os.FileMode(m)
		}
	}
	ts.Fatalf("no Umask in /proc/self/status")
	return 0
}
