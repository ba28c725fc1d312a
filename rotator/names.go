package rotator

import (
	"path/filepath"
	"time"

	"github.com/rotlog/rotlog/pattern"
)

// The names rotlog writes on disk beside a target's files, all in one place.
// Changing one changes what other pipelines, older versions and users see.
// They are exported so that the command can check at start that every name
// it will make fits the file system.
const (
	// LockSuffix names a target's rotation lock: PATH.lock (see Lock).
	LockSuffix = ".lock"
	// TempSuffix names a compression under way: NAME.gz.tmp (see compress).
	TempSuffix = ".tmp"
	// SymlinkTemp names a symbolic link being made, before it is renamed
	// over the link: LINK.tmp-PID-RANDOM.
	SymlinkTemp = ".tmp-%d-%d"
	// SidecarPrefix and SidecarSuffix name the sidecar of a file NAME on
	// a filesystem without user extended attributes: .NAME.rotlog beside
	// it, holding what the attributes below would (see meta). While it is
	// written: .NAME.rotlog.tmp-PID-RANDOM.
	SidecarPrefix = "."
	SidecarSuffix = ".rotlog"
)

// Extended attributes rotlog keeps on the files it makes, or, where there
// are none, the names of the records in their sidecars.
const (
	// startAttr records the start of the period a file holds (encodeStart).
	startAttr = "user.rotlog.start"
	// settingsAttr records the settings of the pipeline that created an
	// active file (pattern.Settings).
	settingsAttr = "user.rotlog.settings"
	// hookAttr marks, on a file made with a post-rotate command configured,
	// where its command is (see hookState): still to run, running, failed
	// and to be retried, or done; the mark moves to the compressed file.
	hookAttr = "user.rotlog.hook"
	// manifestAttr marks, on a file made with a manifest configured,
	// whether its manifest line is still to be written ("pending") or was
	// ("done"); the mark moves to the compressed file.
	manifestAttr = "user.rotlog.manifest"
	// contentAttr records on a compressed file the bytes and lines of what
	// it was made from, as "BYTES LINES".
	contentAttr = "user.rotlog.content"
	// sourceAttr records on a compressed file which file it was made from
	// (identity).
	sourceAttr = "user.rotlog.source"
)

// Values of hookAttr: pending and done, or as "failed:N:UNIXSECONDS" (N
// failures, the next try not before then) and "running:N:PID:UNIXSECONDS"
// (tried by the process PID since then, after N failures); see hookState.
// manifestAttr takes pending and done.
const (
	hookPending = "pending"
	hookDone    = "done"
	hookFailed  = "failed"
	hookRunning = "running"
)

// manifestSuffix names a target's manifest: TARGET.manifest.
const manifestSuffix = ".manifest"

// ManifestPath returns where a target's manifest is: the active file's
// path, or a template's fixed prefix and last element, and ".manifest".
func ManifestPath(pat *pattern.Pattern) string {
	base := pat.String()
	if pat.Template() {
		base = pat.Prefix() + filepath.Base(base)
	} else {
		base = pat.Path(time.Time{})
	}
	return base + manifestSuffix
}
