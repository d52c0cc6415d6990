package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/server"
)

func runServe(ctx context.Context, env Env) error {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("kontor serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg.Flags(fs, env.Getenv)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: kontor serve [flags]\n\nRuns a kontor node. With no flags: SQLite and an embedded NATS in ./kontor-data, on 127.0.0.1:8080.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(env.Args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "kontor serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat)
	s, err := server.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
