package relay

import (
	"context"
	"io"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/bus"
	"github.com/kontor-chat/kontor/internal/media"
)

// People's attachments (media blobs) stay in the data directory of the
// node that took the upload. Every node serves the blobs it keeps on
// kontor.v1.blob.open (no queue group: every node hears each request and
// only the one that has the blob answers, streaming it as a download is
// streamed), and deletes its copy on kontor.v1.blob.delete.
const (
	subjBlobOpen   = "kontor.v1.blob.open"
	subjBlobDelete = "kontor.v1.blob.delete"
	// DefaultBlobWait is how long a node waits for another to say it has
	// a blob the store knows but this node does not keep.
	DefaultBlobWait = 3 * time.Second
)

// ServeBlobs hands the blobs in local to the other nodes (Remote.Blobs),
// and deletes them when another node deletes its record, until Close.
func (h *Holder) ServeBlobs(local media.Blobs) error {
	if h.closed.Load() {
		return errClosed
	}
	s := &served{}
	stopOpen, err := h.bus.Serve(subjBlobOpen, "", func(c bus.Call) {
		hd, _, err := decode(c.Data)
		if err != nil || s.gone.Load() {
			return
		}
		rc, err := local.Open(h.ctx, hd.Blob)
		if err != nil {
			return // not here (or unreadable here): another node may have it
		}
		if !h.enter() {
			rc.Close()
			return
		}
		go func() {
			defer h.calls.Done()
			ctx, cancel := context.WithTimeout(h.ctx, maxTimeout)
			defer cancel()
			h.answer(ctx, c.Reply, answer{head: func() head { return head{} }, body: rc, done: func() { rc.Close() }})
		}()
	})
	if err != nil {
		return err
	}
	stopDelete, err := h.bus.Serve(subjBlobDelete, "", func(c bus.Call) {
		if hd, _, err := decode(c.Data); err == nil && hd.Blob != "" {
			if err := local.Delete(h.ctx, hd.Blob); err != nil {
				h.log.Warn("deleting a media blob another node deleted", "media", hd.Blob, "err", err)
			}
		}
	})
	if err != nil {
		stopOpen()
		return err
	}
	s.stop = func() { stopOpen(); stopDelete() }
	h.mu.Lock()
	defer h.mu.Unlock()
	h.blobs = append(h.blobs, s)
	return nil
}

// Blobs returns local with the blobs the other nodes keep: Open asks them
// for a blob local does not have, Delete deletes every node's copy.
func (r *Remote) Blobs(local media.Blobs) media.Blobs { return &clusterBlobs{r: r, local: local} }

type clusterBlobs struct {
	r     *Remote
	local media.Blobs
}

// Put stores the blob here.
func (b *clusterBlobs) Put(ctx context.Context, id string, rd io.Reader, max int64) (int64, error) {
	return b.local.Put(ctx, id, rd, max)
}

// Open opens the blob here, else streams it from the node that has it.
func (b *clusterBlobs) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	rc, err := b.local.Open(ctx, id)
	if err == nil || kontor.KindOf(err) != kontor.NotFound {
		return rc, err
	}
	timeout := or(b.r.MediaTimeout, DefaultMediaTimeout)
	reply, rerr := b.r.request(ctx, subjBlobOpen, encode(head{Blob: id, Timeout: timeout.Milliseconds()}, nil), or(b.r.BlobWait, DefaultBlobWait))
	if rerr != nil {
		return nil, err // no node has it: the NotFound of here
	}
	hd, data, derr := decode(reply)
	if derr != nil || hd.Err != nil {
		return nil, err
	}
	p := &puller{r: b.r, timeout: timeout}
	if hd.More {
		p.stream = hd.Stream
	}
	return &blobReader{ctx: ctx, buf: data, p: p}, nil
}

// Delete deletes the blob here and tells the other nodes to delete their
// copy (a hint: a node that misses it keeps a file no record names).
func (b *clusterBlobs) Delete(ctx context.Context, id string) error {
	b.r.bus.Send(subjBlobDelete, encode(head{Blob: id}, nil))
	return b.local.Delete(ctx, id)
}

// blobReader reads a blob another node streams.
type blobReader struct {
	ctx context.Context
	buf []byte
	p   *puller
}

func (r *blobReader) Read(b []byte) (int, error) {
	for len(r.buf) == 0 {
		if !r.p.more() {
			return 0, io.EOF
		}
		chunk, err := r.p.next(r.ctx)
		if err != nil {
			return 0, err
		}
		r.buf = chunk
	}
	n := copy(b, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close gives up what is left.
func (r *blobReader) Close() error {
	r.p.close()
	return nil
}
