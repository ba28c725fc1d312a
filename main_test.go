package main

import (
	"os"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes the test binary double as rotlog (on PATH for scripts and
// for the multi-process tests), and as rotlog-holdlock: rotlog that, the
// first time it holds a rotation lock, creates the file named by
// ROTLOG_HOLDLOCK_READY and then hangs, to be killed there.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"rotlog": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"rotlog-holdlock": func() {
			lockedHook = func() {
				os.WriteFile(os.Getenv("ROTLOG_HOLDLOCK_READY"), nil, 0o644)
				for {
					time.Sleep(time.Hour)
				}
			}
			os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
		"rotlog-producer": producer,
	})
}

func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("ROTLOG_UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			// testscript does not pass TZ through; scripts expect UTC
			// unless they set TZ themselves.
			env.Setenv("TZ", "UTC")
			env.Setenv("GORACE", "atexit_sleep_ms=10")
			return nil
		},
		Cmds: scriptCmds,
	})
}
