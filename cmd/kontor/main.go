// Command kontor is the kontor business messaging platform in one binary:
// the server, its admin tool, the terminal chat, the scripting client and the
// load generator. Run "kontor help" for the sub-commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kontor-chat/kontor/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
