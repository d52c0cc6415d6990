package server_test

import (
	"os/exec"
	"testing"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

func runKontor(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(kontortest.Binary(t), args...).CombinedOutput()
	return string(out), err
}
