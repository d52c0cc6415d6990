// Package cli holds kontor's sub-commands: it parses flags into configuration
// and runs the server, the admin tool or a client. It is the only package
// cmd/kontor imports.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
)

// Env is what a sub-command gets: its arguments and the standard streams.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (os.Getenv in main; a map in tests).
	Getenv func(string) string
}

type command struct {
	run     func(ctx context.Context, env Env) error
	summary string
}

func commands() map[string]command {
	return map[string]command{
		"serve":    {runServe, "run the kontor server"},
		"client":   {runClient, "scriptable client sub-commands with JSON output"},
		"chat":     {runChat, "interactive terminal chat"},
		"bench":    {runBench, "load generator: throughput, latency, memory"},
		"admin":    {runAdmin, "operator tasks against a running server"},
		"endpoint": {runEndpoint, "a self-hosted business endpoint: the Business API with the keys at the business"},
	}
}

// errUsage marks an error whose usage text was printed already.
var errUsage = errors.New("usage")

// Run runs the sub-command named by args[0] and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return RunEnv(ctx, Env{Args: args, Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: osGetenv})
}

// RunEnv is Run with the whole environment given.
func RunEnv(ctx context.Context, env Env) int {
	cmds := commands()
	if len(env.Args) == 0 || env.Args[0] == "help" || env.Args[0] == "-h" || env.Args[0] == "--help" {
		usage(env.Stdout, cmds)
		return 0
	}
	c, ok := cmds[env.Args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "kontor: unknown command %q\n\n", env.Args[0])
		usage(env.Stderr, cmds)
		return 2
	}
	sub := env
	sub.Args = env.Args[1:]
	if sub.Getenv == nil {
		sub.Getenv = func(string) string { return "" }
	}
	err := c.run(ctx, sub)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(env.Stderr, "kontor %s: %v\n", env.Args[0], err)
		return 1
	}
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "kontor — business messaging platform\n\nUsage: kontor COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"kontor COMMAND -h\" for a command's flags.")
}
