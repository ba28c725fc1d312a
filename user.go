package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// credential is who rotlog runs as after --user: a user ID and one group,
// with no supplementary groups.
type credential struct {
	name     string // as given, for messages
	uid, gid int
}

// lookupCredential resolves --user's USER[:GROUP], names or numbers. The
// group defaults to the user's primary group. A number not in the user
// database is taken as it is when a group is given too. Changing user
// needs root: rotlog refuses otherwise, rather than go on as someone else
// than asked.
func lookupCredential(spec string) (*credential, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" || hasGroup && groupPart == "" {
		return nil, fmt.Errorf("%q is not USER or USER:GROUP", spec)
	}
	c := &credential{name: spec}
	primary := ""
	u, err := lookupUser(userPart)
	switch {
	case err == nil:
		c.uid, _ = strconv.Atoi(u.Uid)
		primary = u.Gid
	case isID(userPart) && hasGroup:
		c.uid, _ = strconv.Atoi(userPart)
	default:
		return nil, fmt.Errorf("no user %q", userPart)
	}
	if hasGroup {
		g, err := lookupGroup(groupPart)
		switch {
		case err == nil:
			c.gid, _ = strconv.Atoi(g.Gid)
		case isID(groupPart):
			c.gid, _ = strconv.Atoi(groupPart)
		default:
			return nil, fmt.Errorf("no group %q", groupPart)
		}
	} else {
		c.gid, _ = strconv.Atoi(primary)
	}
	if euid := os.Geteuid(); euid != 0 {
		return nil, fmt.Errorf("rotlog runs as user ID %d, not root: it cannot become %s", euid, spec)
	}
	return c, nil
}

// lookupUser finds a user by name, or by number.
func lookupUser(s string) (*user.User, error) {
	if isID(s) {
		if u, err := user.LookupId(s); err == nil {
			return u, nil
		}
	}
	return user.Lookup(s)
}

// lookupGroup finds a group by name, or by number.
func lookupGroup(s string) (*user.Group, error) {
	if isID(s) {
		if g, err := user.LookupGroupId(s); err == nil {
			return g, nil
		}
	}
	return user.LookupGroup(s)
}

func isID(s string) bool {
	n, err := strconv.ParseUint(s, 10, 31)
	return err == nil && n < 1<<31-1
}

// become drops root for c: the supplementary groups first, then the group,
// then the user (after which nothing else can be changed). Since Go 1.16
// these apply to every thread of the process on Linux, and exec mode's
// command and --post-rotate commands inherit them. It checks the result.
func (c *credential) become() error {
	if err := syscall.Setgroups([]int{c.gid}); err != nil {
		return fmt.Errorf("--user: setgroups: %w", err)
	}
	if err := syscall.Setgid(c.gid); err != nil {
		return fmt.Errorf("--user: setgid %d: %w", c.gid, err)
	}
	if err := syscall.Setuid(c.uid); err != nil {
		return fmt.Errorf("--user: setuid %d: %w", c.uid, err)
	}
	if os.Getuid() != c.uid || os.Geteuid() != c.uid || os.Getgid() != c.gid || os.Getegid() != c.gid {
		return fmt.Errorf("--user: still running as user %d group %d after changing to %s", os.Geteuid(), os.Getegid(), c.name)
	}
	return nil
}
