package media

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/kontor-chat/kontor"
)

// Dir keeps blobs as files in a directory: DIR/ab/abcdef… (the first two
// characters of the id fan the files out). Uploads are written to DIR/tmp
// and renamed into place once complete and synced, so a reader never sees
// half a blob. Several nodes can share Dir only over a shared file system.
type Dir struct {
	root string
}

// NewDir makes the directory if needed.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o700); err != nil {
		return nil, err
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(id string) string { return filepath.Join(d.root, id[:2], id) }

// Put stores a blob.
func (d *Dir) Put(ctx context.Context, id string, r io.Reader, max int64) (int64, error) {
	const op = "media.Put"
	if !ValidID(id) {
		return 0, kontor.Errorf(kontor.Invalid, op, "bad media id")
	}
	f, err := os.CreateTemp(filepath.Join(d.root, "tmp"), id+".*")
	if err != nil {
		return 0, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	fail := func(err error) (int64, error) {
		f.Close()
		os.Remove(f.Name())
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, max+1))
	if err != nil {
		var ke *kontor.Error
		if errors.As(err, &ke) {
			return fail(err)
		}
		return fail(&kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "the upload could not be read to its end", Err: err})
	}
	if n > max {
		return fail(tooLarge(op, max))
	}
	if err := f.Sync(); err != nil {
		return fail(&kontor.Error{Kind: kontor.Internal, Op: op, Err: err})
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return 0, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	if err := os.MkdirAll(filepath.Dir(d.path(id)), 0o700); err != nil {
		os.Remove(f.Name())
		return 0, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	if err := os.Rename(f.Name(), d.path(id)); err != nil {
		os.Remove(f.Name())
		return 0, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	return n, nil
}

// Open opens a blob.
func (d *Dir) Open(_ context.Context, id string) (io.ReadCloser, error) {
	if !ValidID(id) {
		return nil, kontor.Errorf(kontor.NotFound, "media.Open", "no media %s", id)
	}
	f, err := os.Open(d.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, kontor.Errorf(kontor.NotFound, "media.Open", "no media %s", id)
	}
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Internal, Op: "media.Open", Err: err}
	}
	return f, nil
}

// Delete removes a blob.
func (d *Dir) Delete(_ context.Context, id string) error {
	if !ValidID(id) {
		return nil
	}
	if err := os.Remove(d.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &kontor.Error{Kind: kontor.Internal, Op: "media.Delete", Err: err}
	}
	return nil
}

// File is a blob file a Dir keeps.
type File struct {
	ID       string
	Modified time.Time
}

// List returns up to limit of the blobs d keeps, in id order, after the id
// after ("" from the first). Names that are not blob ids are passed over.
func (d *Dir) List(after string, limit int) ([]File, error) {
	fans, err := os.ReadDir(d.root)
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Internal, Op: "media.List", Err: err}
	}
	var out []File
	for _, fan := range fans { // in name order
		name := fan.Name()
		if !fan.IsDir() || len(name) != 2 || !isHex(name) || (after != "" && name < after[:2]) {
			continue // tmp, or before the cursor's directory
		}
		es, err := os.ReadDir(filepath.Join(d.root, name))
		if err != nil {
			return out, &kontor.Error{Kind: kontor.Internal, Op: "media.List", Err: err}
		}
		for _, e := range es {
			id := e.Name()
			if !e.Type().IsRegular() || !ValidID(id) || id[:2] != name || id <= after {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // deleted meanwhile
			}
			out = append(out, File{ID: id, Modified: info.ModTime()})
			if len(out) == limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// PruneTmp deletes the unfinished uploads left in DIR/tmp (a process that
// died during an upload) last written before t, and returns how many.
func (d *Dir) PruneTmp(t time.Time) (int, error) {
	es, err := os.ReadDir(filepath.Join(d.root, "tmp"))
	if err != nil {
		return 0, &kontor.Error{Kind: kontor.Internal, Op: "media.PruneTmp", Err: err}
	}
	n := 0
	for _, e := range es {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !info.ModTime().Before(t) {
			continue
		}
		if err := os.Remove(filepath.Join(d.root, "tmp", e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
