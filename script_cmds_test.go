package main

import (
	"os"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
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
			ts.Fatalf("%s holds %d entries, want %s%d", args[0], len(ents), map[bool]string{true: "not ", false: ""}[neg], want)
		}
	},
}
