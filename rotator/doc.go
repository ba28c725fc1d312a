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
// For an active-file target the file is only ever created, and rotated,
// under the target's Lock: a file named path + ".lock", created with O_EXCL
// and holding an flock(2) for as long as it exists, with the owner's host,
// PID and creation time as its text. Under the lock a process
//
//  1. looks at the active file and finds the period it holds: the period
//     start recorded by its creator (user.rotlog.start, in an extended
//     attribute or a sidecar: see Records), or, where that is missing (a
//     file rotlog did not create), the period of its mtime;
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
// # Opening without the lock
//
// Taking the lock is the slow part of a boundary when many processes write
// one target: each would take it in turn. So a process first tries to open
// the file that already holds the period of the line to write without the
// lock (Rotator.openCurrent), and takes the lock only when that fails:
//
//  1. open the active path O_WRONLY|O_APPEND|O_NOFOLLOW, without O_CREAT;
//  2. take the file's shared flock, without waiting;
//  3. read the period recorded on the opened file, through its descriptor
//     (fgetxattr; or its sidecar, believed only if about the descriptor's
//     file), and require it to be the period of the line: now's;
//  4. require the path to still name the opened file (lstat, same inode).
//
// Anything else (no file, no record, another period, a housekeeper's
// exclusive flock, a name that moved) closes the file and takes the lock as
// above. While it waits for the lock, the process tries these steps again
// between attempts, so the pipelines behind the one that creates the new
// period's file open it as soon as it exists instead of queueing; and at a
// boundary (Tick) a process takes the lock to rotate only if the file it
// sees holds an ended period, and stops waiting once it does not: exactly
// one process renames the file of an ended period, the first to take the
// lock, because under the lock the check is made again. (A Rotator's first
// Tick, at start, takes the lock whatever it finds: it waits for a rotation
// under way and breaks a stale lock a crashed process left.)
//
// Why this is safe against a rotation running at the same time. What is
// written goes to the file opened in step 1, whatever its name is by then,
// and the period it holds is a property of that file, not of its name: the
// record is made once, by the file's creator, under the lock and right after
// the O_EXCL create, and renames keep it. Step 3 reads it from the
// descriptor, so it judges the file that will be written, never whatever
// the name refers to a moment later. Hence a line goes only to a file
// recorded as holding its period (guarantee 3), whichever renames happen
// around steps 1 to 4:
//
//   - the file is rotated at a boundary (renamed to its rotated name, a new
//     active file created) between step 1 and step 3: if the line was read
//     in the new period, step 3 sees the old record and the lock is taken;
//     if it was read in the old period, step 3 accepts the file, which is
//     now the old period's rotated file: the right one; step 4 then fails
//     and the lock is taken, and under it the line is a late line of the
//     old period (lateFile) and goes to the same rotated file;
//   - the file is rotated after step 4: that can only happen once the
//     rotating process is past the boundary, so the line (read before it,
//     since step 3 saw the old period as current) goes on into the file of
//     its period under its rotated name, as any line read before a boundary
//     does;
//   - a file created for a period between step 1 and step 3 has no record
//     until its creator writes it (under the lock): step 3 fails, and the
//     lock waits for the creator;
//   - a size rotation (MaxSize) or a Rotate call renames a file of the
//     current period under the lock, at any time. Before step 4 it makes
//     step 4 fail. After step 4 the process writes on into the renamed
//     file: a numbered variant of the same period, so still the file of
//     the line's period. That is exactly the state the locked path leaves
//     too (a process that opened under the lock and let go of it writes
//     into a file that another process renames a moment later), and it
//     lasts until the next Write finds the file full, or the next Tick
//     finds the name moved, as before. Lines are never torn by it: each
//     batch is one write(2) to one descriptor with O_APPEND.
//
// Step 4 also keeps housekeeping off the file, as share does for the
// locked path: a housekeeper takes only a file at a rotated name, and only
// with its exclusive flock. A file still at the active name once the shared
// flock is held cannot be taken until it is let go of; one renamed (and
// perhaps compressed and removed) before that fails step 4.
//
// So opening without the lock reaches only states the locked path also
// reaches, and the lock still serialises everything that renames or
// creates the active file: creates (with their record) and renames. Where
// there is no record (a file rotlog did not create) every open takes the
// lock, as step 3 fails.
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
// lock, temporary and sidecar names, the extended attributes) is in names.go;
// the compressions a rotated file may have are the rows of codecs.
//
// # Disk budget
//
// A Keeper with a Budget removes the target's oldest rotated files while
// they take more than MaxTotal, or while less than KeepFree is free; Free
// does so at once for a write that found the disk full. The rules of
// housekeeping hold: a file is removed only by the process holding its
// exclusive flock, after checking the name still refers to it, so never
// one a pipeline still writes, and once. Pipelines count and remove in
// turn, holding the exclusive flock of the directory of the rotated files
// (waiting at most a few seconds, then going on without it): otherwise a
// removal under way would look to another pipeline like a writer, and
// both would remove a file for the same excess. Files of one period are
// ordered by creation time (statx), since a removed name is taken again by
// the next rotation of that period.
//
// # Filesystem
//
// The guarantees need a local POSIX filesystem: atomic O_APPEND writes,
// O_EXCL, flock and rename. Where neither renameat2(RENAME_NOREPLACE) nor
// link exists (FAT, exFAT), a rename is made after checking that the new
// name is free: safe among rotlog pipelines, which rename only under a
// lock. Linux gives RENAME_NOREPLACE and user xattrs on ext4, xfs, btrfs and
// tmpfs; where there are no user xattrs, the records are kept in sidecar
// files (below), and every feature works as with them.
//
// # Records
//
// rotlog records on each file it makes what the name cannot say (names.go
// lists them): the period an active file holds and the settings it was
// made with, recorded by its creator under the lock right after the O_EXCL
// create, with the post-rotate and manifest marks, in one step; the marks
// as housekeeping moves them on; and on a compressed file the counts of
// what it holds and the identity of the file it was made from. A meta
// (one per Rotator and per Keeper) keeps them in one of two places.
//
// Where the filesystem has user extended attributes (Linux: ext4, xfs,
// btrfs, tmpfs; macOS; FreeBSD's user namespace, through extattr), each
// record is an attribute of the file: set through its descriptor, read
// through it or by name, kept across renames, gone with the file.
//
// Where it has not (FAT and exFAT, NFSv3, sshfs, bindfs and other FUSE
// filesystems, ext4 mounted without user_xattr, older tmpfs, and other
// systems than the three above), the first attribute call there fails
// with ENOTSUP (EOPNOTSUPP, ENOSYS): that call is the probe. The directory
// is then in sidecar mode for the process, no attribute is tried there
// again, and the records of a file NAME go to its sidecar, .NAME.rotlog in
// the same directory. Every process decides from what the filesystem
// does, so all agree, and nothing is created to probe. A read tries the
// attribute and, if it is missing, the sidecar: a filesystem that reads
// attributes but refuses to set them, or an attribute refused as too big,
// still finds its record.
//
// A sidecar is:
//
//   - Text. A first line names the format and the file it is about,
//     "rotlog-sidecar 1 ino=INODE birth=NANOSECONDS"; then one line per
//     record: the attribute's name, a space, its value as a Go string
//     literal.
//   - Atomic and crash-safe. It is written whole to
//     .NAME.rotlog.tmp-PID-RANDOM, synced, and renamed over the sidecar,
//     so a reader finds the old one or the new one, never a part. A record
//     rewrites the whole sidecar (read, add, write); the records of one
//     file are made by one process at a time, under the locks that order
//     the attribute sets too: the creator holds the rotation lock (or made
//     the file with O_EXCL), housekeeping holds the file's exclusive flock.
//   - Tied to its file. The identity is the inode and the birth time
//     (statx on Linux, st_birthtime on macOS and FreeBSD; 0 where the
//     filesystem keeps none), not the device number, which changes when a
//     FUSE or network filesystem is mounted again. A sidecar is believed
//     only about the file at its name now (a read through a descriptor:
//     about that descriptor's file, as fgetxattr would be), so one left
//     under a name that now holds another file is ignored, and replaced by
//     the new file's first record.
//   - Never taken for a log. Beside its file rather than in a directory
//     of its own per target: its name says which file it is about, ls -a
//     shows it there, a template's many directories need no extra
//     directory each (with modes and owners of their own), and it moves by
//     the same no-replace rename as its file. The leading dot keeps it out
//     of the pattern's matches; housekeeping sets sidecar names aside
//     before it looks for rotated files (unless the pattern itself makes
//     the name: then it is a log).
//   - Moved with its file. A rename (rotation, size rotation, a
//     compression moving a file aside) first writes the sidecar at the new
//     name, without replacing one there, then renames the file without
//     replacing, then removes the old sidecar. The new sidecar is a
//     reservation: a young sidecar without its file belongs to another
//     rename to that name under way, so the name is taken and the next
//     numbered variant is tried; an old one without its file, or one about
//     this very file (a rename killed before), is replaced. Killed after
//     the first step, the file still has its records at its old name, and
//     the new sidecar is an orphan; after the second, the file has them at
//     its new name, and the old sidecar is about a file no longer there.
//     No instant finds the file without its records. A compression writes
//     the sidecar of NAME.gz (with NAME's identity) before it renames
//     NAME.gz.tmp to NAME.gz, so a compression killed before it removes
//     NAME is finished by the next pass, not done again: exactly once, as
//     with attributes.
//   - Removed with its file. Retention and compression remove the file,
//     then its sidecar (if it is about that file).
//   - Swept. Each housekeeping pass removes a sidecar of a name of the
//     target (active, rotated, compressed, being compressed) that is about
//     no file at its name and older than ten minutes by the real clock (a
//     file's age, as a lock's); and sidecar temporary files of that age.
//     Young ones may be a creation or a rename under way. What is judged
//     is what is removed: the sidecar is renamed aside, judged again, and
//     put back if someone wrote it meanwhile.
//   - Off the hot path. Writes never touch it. It is written when a file
//     is created (once, under the lock, for all its records), renamed, or
//     finished by housekeeping, and read when a file is opened and by
//     housekeeping. A boundary on a filesystem without attributes costs
//     the creator one small synced file under the lock.
//
// Limits: a sidecar's name is its file's and 8 bytes more, so a name
// within 8 bytes of the filesystem's limit cannot have one (the failure
// is reported: "error: recording ..."). On a filesystem without birth
// times, a file removed by hand, leaving its sidecar, whose inode number
// goes to a new file under the same name, is taken for the old one until
// the new file's first record; rotlog records on every file it creates
// when it creates it.
package rotator
