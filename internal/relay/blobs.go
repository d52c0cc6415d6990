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
// streamed) and on kontor.v1.blob.open.{node} (its own: a record names
// the node that took the upload, which is asked first, and says at once
// when the blob is not there), and deletes its copy on
// kontor.v1.blob.delete.
const (
	subjBlobOpen   = "kontor.v1.blob.open"
	subjBlobDelete = "kontor.v1.blob.delete"
	// DefaultBlobWait is how long a node waits for another to say it has
	// a blob the store knows but this node does not keep.
	DefaultBlobWait = 3 * time.Second
)

// blobSubject is the subject of node's own blob requests.
func blobSubject(node string) string { return subjBlobOpen + "." + node }

// ServeBlobs hands the blobs in local to the other nodes (Remote.Blobs),
// node naming this node as its uploads' records do (media.Service.Node;
// "": none), and deletes them when another node deletes its record, until
// Close.
func (h *Holder) ServeBlobs(local media.Blobs, node string) error {
	if h.closed.Load() {
		return errClosed
	}
	s := &served{}
	open := func(c bus.Call, own bool) {
		hd, _, err := decode(c.Data)
		if err != nil || s.gone.Load() {
			return
		}
		rc, err := local.Open(h.ctx, hd.Blob)
		if err != nil {
			if own { // asked as the node that took it: say so, the caller asks everyone
				_ = c.Reply(encode(head{Gone: true}, nil))
			}
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
	}
	var stops []func()
	stop := func() {
		for _, f := range stops {
			f()
		}
	}
	subjects := map[string]func(bus.Call){
		subjBlobOpen: func(c bus.Call) { open(c, false) },
		subjBlobDelete: func(c bus.Call) {
			if hd, _, err := decode(c.Data); err == nil && hd.Blob != "" {
				if err := local.Delete(h.ctx, hd.Blob); err != nil {
					h.log.Warn("deleting a media blob another node deleted", "media", hd.Blob, "err", err)
				}
			}
		},
	}
	if node != "" {
		subjects[blobSubject(node)] = func(c bus.Call) { open(c, true) }
	}
	for subj, fn := range subjects {
		f, err := h.bus.Serve(subj, "", fn)
		if err != nil {
			stop()
			return err
		}
		stops = append(stops, f)
	}
	s.stop = stop
	h.mu.Lock()
	defer h.mu.Unlock()
	h.blobs = append(h.blobs, s)
	return nil
}

// Blobs returns local with the blobs the other nodes keep: Open asks them
// for a blob local does not have, Delete deletes every node's copy.
func (r *Remote) Blobs(local media.Blobs) media.Blobs { return &clusterBlobs{r: r, local: local} }

var _ media.Located = (*clusterBlobs)(nil)

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
	return b.OpenOn(ctx, id, "")
}

// OpenOn opens the blob here, else asks node (the one that took the
// upload, "": not known) for it, else every node: node may have lost it
// (its data directory on another node number) or be gone.
func (b *clusterBlobs) OpenOn(ctx context.Context, id, node string) (io.ReadCloser, error) {
	rc, err := b.local.Open(ctx, id)
	if err == nil || kontor.KindOf(err) != kontor.NotFound {
		return rc, err
	}
	if node != "" {
		if rc, ok := b.from(ctx, blobSubject(node), id); ok {
			return rc, nil
		}
	}
	if rc, ok := b.from(ctx, subjBlobOpen, id); ok {
		return rc, nil
	}
	return nil, err // no node has it: the NotFound of here
}

// from asks for blob id on subj; false when no node there has it.
func (b *clusterBlobs) from(ctx context.Context, subj, id string) (io.ReadCloser, bool) {
	timeout := or(b.r.MediaTimeout, DefaultMediaTimeout)
	reply, err := b.r.request(ctx, subj, encode(head{Blob: id, Timeout: timeout.Milliseconds()}, nil), or(b.r.BlobWait, DefaultBlobWait))
	if err != nil {
		return nil, false
	}
	hd, data, err := decode(reply)
	if err != nil || hd.Err != nil || hd.Gone {
		return nil, false
	}
	p := &puller{r: b.r, timeout: timeout}
	if hd.More {
		p.stream = hd.Stream
	}
	return &blobReader{ctx: ctx, buf: data, p: p}, true
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
