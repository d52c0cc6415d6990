package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
)

// device is a profile opened with end-to-end encryption: every payload it
// sends or receives goes through the Signal-protocol sealer.
type device struct {
	*client.Client
	Sealer *e2e.Sealer
	stop   context.CancelFunc
	done   chan struct{}
}

// openDevice opens a profile's keys and its client. It first publishes the
// device's keys (and tops its one-time prekeys up); when the server cannot
// be reached for that, it carries on with what is published already.
// onNotice, when given, hears of peers' identity key changes.
func openDevice(ctx context.Context, profile string, opts client.Options, warn io.Writer, onNotice ...func(e2e.Notice)) (*device, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	eo := e2e.Options{Logger: log}
	if len(onNotice) > 0 {
		eo.OnNotice = onNotice[0]
	}
	s, err := e2e.OpenProfile(profile, opts.HTTPClient, eo)
	if err != nil {
		return nil, err
	}
	mctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	_, merr := s.Maintain(mctx)
	cancel()
	if merr != nil && warn != nil {
		fmt.Fprintf(warn, "warning: could not publish this device's keys: %v\n", merr)
	}
	opts.Sealer = s
	c, err := client.Open(ctx, profile, opts)
	if err != nil {
		s.Close()
		return nil, err
	}
	mctx, stop := context.WithCancel(context.Background())
	d := &device{Client: c, Sealer: s, stop: stop, done: make(chan struct{})}
	go d.maintain(mctx, log)
	return d, nil
}

// maintain keeps the device's keys published while it runs: the one-time
// prekeys others use up, and the weekly signed prekey.
func (d *device) maintain(ctx context.Context, log *slog.Logger) {
	defer close(d.done)
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mctx, cancel := context.WithTimeout(ctx, time.Minute)
			if _, err := d.Sealer.Maintain(mctx); err != nil && ctx.Err() == nil {
				log.Warn("publishing keys failed", "err", err)
			}
			cancel()
		}
	}
}

// Close closes the client, then the keys.
func (d *device) Close() error {
	d.stop()
	<-d.done
	err := d.Client.Close()
	d.Sealer.Close()
	return err
}

// publishKeys makes a new profile's keys and publishes them, so that people
// can write to the device before it first connects.
func publishKeys(ctx context.Context, profile string) error {
	s, err := e2e.OpenProfile(profile, nil, e2e.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	_, err = s.Maintain(ctx)
	return err
}
