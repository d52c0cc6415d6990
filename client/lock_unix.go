//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package client

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockProfile takes an exclusive advisory lock on path, so that two
// processes never write one profile. The lock goes with the process.
func lockProfile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("client: locking the profile: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrProfileInUse, path)
		}
		return nil, fmt.Errorf("client: locking the profile: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
