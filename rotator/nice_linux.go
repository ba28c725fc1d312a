package rotator

import "golang.org/x/sys/unix"

// lowerPriority sets the calling thread's nice value to 10.
func lowerPriority() { unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 10) }
