package main

import "golang.org/x/sys/unix"

// pathMax is the size of the longest path the kernel takes, its NUL
// included.
const pathMax = unix.PathMax

// nameMax returns the longest file name the file system holding dir
// allows (255 on most; fewer on some, such as eCryptfs).
func nameMax(dir string) int {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Namelen <= 0 {
		return unix.NAME_MAX
	}
	return int(st.Namelen)
}

// sharedFS names the kind of file system holding dir when it is one that
// several hosts may mount (network file systems) or that passes writes to a
// program (FUSE, which sshfs, GlusterFS and bindfs use): there, appends from
// several hosts to one file are not atomic. "" for a local file system, or
// when it cannot be told.
func sharedFS(dir string) string {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return ""
	}
	switch uint32(st.Type) {
	case unix.NFS_SUPER_MAGIC:
		return "NFS"
	case unix.SMB_SUPER_MAGIC, unix.SMB2_SUPER_MAGIC, unix.CIFS_SUPER_MAGIC:
		return "SMB/CIFS"
	case unix.V9FS_MAGIC:
		return "9p"
	case unix.CEPH_SUPER_MAGIC:
		return "Ceph"
	case unix.FUSE_SUPER_MAGIC:
		return "FUSE (sshfs, GlusterFS, bindfs, ...)"
	case unix.AFS_SUPER_MAGIC, unix.AFS_FS_MAGIC:
		return "AFS"
	case unix.CODA_SUPER_MAGIC:
		return "Coda"
	}
	return ""
}

// mountID returns the ID of the mount that holds path, and whether the
// kernel told it (statx's STATX_MNT_ID, Linux 5.8 and later). Two bind
// mounts of one filesystem share a device number, yet a rename from one to
// the other fails with EXDEV: only the mount tells them apart.
func mountID(path string) (uint64, bool) {
	var stx unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, path, unix.AT_STATX_SYNC_AS_STAT, unix.STATX_MNT_ID, &stx) != nil || stx.Mask&unix.STATX_MNT_ID == 0 {
		return 0, false
	}
	return stx.Mnt_id, true
}
