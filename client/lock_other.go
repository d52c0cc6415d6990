//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package client

// lockProfile does nothing where flock is missing: the caller must not open
// one profile from two processes.
func lockProfile(string) (unlock func(), err error) { return func() {}, nil }
