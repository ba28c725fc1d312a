package rotator

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
)

// Extended attributes rotlog keeps on the files it makes.
const (
	// startAttr records the start of the period a file holds (encodeStart).
	startAttr = "user.rotlog.start"
	// settingsAttr records the settings of the pipeline that created an
	// active file (pattern.Settings).
	settingsAttr = "user.rotlog.settings"
	// hookAttr marks, on a file made with a post-rotate command configured,
	// whether the command is still to run ("pending") or was run ("done");
	// the mark moves to the compressed file.
	hookAttr = "user.rotlog.hook"
	// sourceAttr records on a compressed file which file it was made from
	// (identity).
	sourceAttr = "user.rotlog.source"
)

// Values of hookAttr.
const (
	hookPending = "pending"
	hookDone    = "done"
)
