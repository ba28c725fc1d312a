//go:build unix && !linux

package rotator

// lowerPriority does nothing where threads have no nice value of their own.
func lowerPriority() {}
