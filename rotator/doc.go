// Package rotator writes batches of whole lines to the files of one rotlog
// target and rotates them, correctly when any number of processes write the
// same target at once.
//
// # One process
//
// A Rotator belongs to one goroutine: it is not safe for concurrent use.
// Time is an argument: Write(ctx, p, now) writes p, a batch of whole lines
// read at now, to the file of now's period, and Tick(ctx, now) does what time
// alone requires (letting go of a finished file, rotating) and returns the
// Events since the previous Tick: whether a period ended, how many files were
// rotated. The Rotator never reads a clock for periods; only lock ages use
// the real clock. Every call that may wait (for the lock, which is the only
// wait) takes a context and returns an error wrapping ErrStopped when the
// context ends the wait; the caller decides when that is. A Lock can be used
// on its own. A Keeper's Pass stops compressing and starts no hook once its
// context is done.
//
// Each Write is one write(2) of the whole batch to a descriptor opened with
// O_WRONLY|O_APPEND|O_NOFOLLOW (created lazily, never truncated), so on a
// local filesystem a batch from one process is never interleaved with a
// batch from another. A Write that fails reports how much was written; the
// caller retries the rest. A batch written in part (a disk that filled up
// mid-write) is finished in the same file before anything else, whatever
// the time; a full disk keeps the file open, so retries create no files;
// other failures close it, and the retry reopens. A process whose writes
// failed writes again only where the file ends at a line end (or after
// LockTimeout): another process may be finishing its batch there.
//
// # Many processes
//
// For an active-file target the file is only ever opened, and rotated,
// under the target's Lock: a file named path + ".lock", created with O_EXCL
// and holding an flock(2) for as long as it exists, with the owner's host,
// PID and creation time as its text. Under the lock a process
//
//  1. looks at the active file and finds the period it holds: the period
//     start recorded by its creator in the extended attribute
//     user.rotlog.start, or, where that is missing (a file rotlog did not
//     create, a filesystem without user xattrs), the period of its mtime;
//  2. if that period has ended, renames the file to its rotated name without
//     replacing anything (renameat2 RENAME_NOREPLACE, else link and unlink),
//     trying name.1, name.2, ... while the name is taken;
//  3. opens the active file for append, creating it (and recording its
//     period) if it does not exist;
//  4. removes the lock.
//
// So whichever process comes first after a boundary rotates, and every later
// one sees a file of the current period and appends to it. A process keeps
// writing lines read before a boundary through the descriptor it already
// has, so they land in the file of their period even after it was renamed.
// Recording the period at creation, instead of trusting the mtime, keeps a
// late write of an old line from making an old file look current.
//
// A lock whose owner is gone is broken once it is older than LockTimeout:
// the breaker must first take the lock file's flock (held by a live owner,
// released by the kernel when the owner dies) and check that the name still
// refers to the same file, so two processes can never both break one lock,
// and a live owner, however slow, is never broken.
//
// A template target needs no lock for time rotation: each period has its
// own path, opened for append with missing directories created.
//
// Every name rotlog writes on disk besides the log files themselves (the
// lock and temporary suffixes, the extended attributes) is in names.go;
// the compressions a rotated file may have are the rows of codecs.
//
// # Filesystem
//
// The guarantees need a local POSIX filesystem: atomic O_APPEND writes,
// O_EXCL, flock and rename. Where neither renameat2(RENAME_NOREPLACE) nor
// link exists (FAT, exFAT), a rename is made after checking that the new
// name is free: safe among rotlog pipelines, which rename only under a
// lock. Linux gives RENAME_NOREPLACE and user xattrs on ext4, xfs, btrfs and
// tmpfs; without xattrs rotation falls back to mtimes, whose coarse clock
// can misjudge a file written within a few milliseconds of a boundary.
package rotator
