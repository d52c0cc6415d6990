package cli

import (
	"context"
	"errors"
)

// These are replaced as each command lands; see the session notes.
func runBench(ctx context.Context, env Env) error { return errors.New("not built yet") }
