package media

import (
	"context"
	"log/slog"
	"time"

	"github.com/kontor-chat/kontor"
)

// A blob file whose record is gone is an orphan: in a cluster, a node that
// missed the hint to delete its copy (relay's blob delete is a hint, like
// everything on the bus), or a process that died between deleting a record
// and its file. Orphans finds and deletes them, a bounded batch at a time.

// Defaults of Orphans.
const (
	// DefaultOrphanGrace: an upload's file is written just before its
	// record, so a file younger than this is left alone whatever the
	// store says; so is an unfinished upload in DIR/tmp.
	DefaultOrphanGrace = time.Hour
	// DefaultOrphanBatch is how many files one Sweep looks at.
	DefaultOrphanBatch = 1000
)

// knownBatch is how many ids one store question names.
const knownBatch = 500

// Known tells which blobs have a record (internal/store).
type Known interface {
	// KnownMedia returns those of ids that have a record, in any order.
	KnownMedia(ctx context.Context, ids []string) ([]string, error)
}

// Orphans deletes the files of a Dir whose record is gone. Each Sweep looks
// at the next Batch files in id order, starting again from the first after
// the last, so a node with many blobs is swept in turns of bounded work.
// It deletes only the local file: the record is gone, and other nodes sweep
// their own.
type Orphans struct {
	dir   *Dir
	known Known
	clock kontor.Clock
	log   *slog.Logger
	// Grace is how old a file must be to go (DefaultOrphanGrace when 0).
	Grace time.Duration
	// Batch is how many files a Sweep looks at (DefaultOrphanBatch when 0).
	Batch int
	after string // the last id the previous Sweep looked at; "" from the start
}

// NewOrphans returns the sweeper of dir's orphans by the records in known.
func NewOrphans(dir *Dir, known Known, clock kontor.Clock, log *slog.Logger) *Orphans {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Orphans{dir: dir, known: known, clock: clock, log: log}
}

// Sweep looks at the next batch of files and the unfinished uploads, and
// deletes those older than the grace that no record names. It returns how
// many files it deleted; a file that cannot be deleted is logged and left
// for the next turn. Sweep is not safe for concurrent use.
func (o *Orphans) Sweep(ctx context.Context) (int, error) {
	grace, batch := o.Grace, o.Batch
	if grace <= 0 {
		grace = DefaultOrphanGrace
	}
	if batch <= 0 {
		batch = DefaultOrphanBatch
	}
	before := o.clock.Now().Add(-grace)
	removed, err := o.dir.PruneTmp(before)
	if err != nil {
		return removed, err
	}
	files, err := o.dir.List(o.after, batch)
	if err != nil {
		return removed, err
	}
	if len(files) < batch {
		o.after = "" // the end: the next turn starts again
	} else {
		o.after = files[len(files)-1].ID
	}
	for len(files) > 0 {
		part := files[:min(len(files), knownBatch)]
		files = files[len(part):]
		ids := make([]string, 0, len(part))
		for _, f := range part {
			if f.Modified.Before(before) {
				ids = append(ids, f.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		known, err := o.known.KnownMedia(ctx, ids)
		if err != nil {
			return removed, err
		}
		kept := make(map[string]bool, len(known))
		for _, id := range known {
			kept[id] = true
		}
		for _, id := range ids {
			if kept[id] {
				continue
			}
			if err := o.dir.Delete(ctx, id); err != nil {
				o.log.Warn("deleting an orphaned media blob", "media", id, "err", err)
				continue
			}
			removed++
		}
	}
	return removed, nil
}
