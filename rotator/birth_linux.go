package rotator

import (
	"time"

	"golang.org/x/sys/unix"
)

// birth returns when the file at path was created (statx's btime), or the
// zero Time where the filesystem does not record it.
func birth(path string) time.Time {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BTIME, &st); err != nil || st.Mask&unix.STATX_BTIME == 0 {
		return time.Time{}
	}
	return time.Unix(st.Btime.Sec, int64(st.Btime.Nsec))
}
