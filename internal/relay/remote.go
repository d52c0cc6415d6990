package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/bus"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// Defaults of Remote.
const (
	DefaultWait         = 5 * time.Second
	DefaultTimeout      = 60 * time.Second
	DefaultMediaTimeout = 10 * time.Minute
)

// retryEvery is how often a call asks again while no node serves its number.
const retryEvery = 100 * time.Millisecond

// Remote calls the endpoints that run on other nodes.
type Remote struct {
	bus   *bus.Bus
	chunk int
	bufs  *sync.Pool // of chunk-sized buffers
	// Wait is how long a call keeps asking while no node serves its
	// number (its node restarts, or the endpoint is starting) before it
	// answers 503; DefaultWait when 0.
	Wait time.Duration
	// Timeout is how long a call waits for the holder's answer
	// (DefaultTimeout when 0); MediaTimeout the same for an upload or a
	// download, and for each of their chunks (DefaultMediaTimeout when 0).
	Timeout, MediaTimeout time.Duration
	// BlobWait is how long Blobs waits for a node that has a blob
	// (DefaultBlobWait when 0).
	BlobWait time.Duration
}

// NewRemote returns a Remote that calls over b.
func NewRemote(b *bus.Bus) *Remote {
	chunk := chunkSize(b)
	return &Remote{bus: b, chunk: chunk, bufs: newPool(chunk)}
}

// Endpoint returns the endpoint of number as the node that runs it serves
// it. It does not check that any node does: its calls answer 503 when none
// does.
func (r *Remote) Endpoint(number kontor.ID) bizapi.Endpoint { return &remote{r: r, number: number} }

// remote is an endpoint that runs on another node.
type remote struct {
	r      *Remote
	number kontor.ID
}

// Send carries out a messages call on the holder.
func (e *remote) Send(ctx context.Context, body []byte) (any, *cloudapi.Error) {
	return e.json(ctx, head{Op: opSend}, bytes.NewReader(body))
}

// UploadMedia streams the upload's body to the holder.
func (e *remote) UploadMedia(ctx context.Context, r *http.Request) (any, *cloudapi.Error) {
	return e.json(ctx, head{Op: opUpload, Query: r.URL.RawQuery, Type: r.Header.Get("Content-Type")}, r.Body)
}

// MediaInfo asks the holder for a media object's metadata.
func (e *remote) MediaInfo(ctx context.Context, id kontor.ID, downloadBase string) (any, *cloudapi.Error) {
	return e.json(ctx, head{Op: opInfo, Media: id, Base: downloadBase}, nil)
}

// DeleteMedia deletes a media object on the holder.
func (e *remote) DeleteMedia(ctx context.Context, id kontor.ID) (any, *cloudapi.Error) {
	return e.json(ctx, head{Op: opDelete, Media: id}, nil)
}

// Download streams a media file from the holder to w.
func (e *remote) Download(ctx context.Context, w http.ResponseWriter, id kontor.ID, sig string) *cloudapi.Error {
	hd, first, pull, cerr := e.call(ctx, head{Op: opDownload, Media: id, Sig: sig}, nil)
	if cerr != nil {
		return cerr
	}
	defer pull.close()
	for k, v := range hd.Header {
		w.Header().Set(k, v)
	}
	if _, err := w.Write(first); err != nil {
		return nil // the client left
	}
	for pull.more() {
		chunk, err := pull.next(ctx)
		if err != nil {
			// The status is out: the client sees a short body (its
			// Content-Length says so) and asks again.
			return nil
		}
		if _, err := w.Write(chunk); err != nil {
			return nil
		}
	}
	return nil
}

// json makes a call whose answer is Cloud API JSON.
func (e *remote) json(ctx context.Context, hd head, body io.Reader) (any, *cloudapi.Error) {
	_, first, pull, cerr := e.call(ctx, hd, body)
	if cerr != nil {
		return nil, cerr
	}
	defer pull.close()
	out := first
	if pull.more() {
		out = bytes.Clone(first)
		for pull.more() {
			chunk, err := pull.next(ctx)
			if err != nil {
				return nil, e.lost(ctx, err)
			}
			out = append(out, chunk...)
		}
	}
	if !json.Valid(out) {
		return nil, cloudapi.Internal()
	}
	return json.RawMessage(out), nil
}

// timeout is how long a call of hd waits for each answer.
func (e *remote) timeout(hd head) time.Duration {
	if hd.Op == opUpload || hd.Op == opDownload {
		return or(e.r.MediaTimeout, DefaultMediaTimeout)
	}
	return or(e.r.Timeout, DefaultTimeout)
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// call sends hd and body to the holder and returns the head and first
// chunk of its answer, and pull for the rest of the answer's body.
func (e *remote) call(ctx context.Context, hd head, body io.Reader) (head, []byte, *puller, *cloudapi.Error) {
	timeout := e.timeout(hd)
	hd.Timeout = timeout.Milliseconds()
	if body == nil {
		body = bytes.NewReader(nil)
	}
	ch := chunker{size: e.r.chunk, pool: e.r.bufs}
	defer ch.release()
	data, more, err := ch.next(body)
	if err != nil {
		return head{}, nil, nil, cloudapi.NewError(cloudapi.CodeInvalidParameter, "The request body could not be read.")
	}
	hd.More = more
	reply, cerr := e.first(ctx, encode(hd, data), timeout)
	if cerr != nil {
		return head{}, nil, nil, cerr
	}
	rh, answer, err := decode(reply)
	stream := rh.Stream
	for err == nil && rh.Ack { // the holder takes the next chunk
		if !more {
			err = errFrame
			break
		}
		data, more, err = ch.next(body)
		if err != nil {
			e.r.bus.Send(stream, encode(head{Stop: true}, nil))
			return head{}, nil, nil, cloudapi.NewError(cloudapi.CodeInvalidParameter, "The request body could not be read.")
		}
		if reply, err = e.request(ctx, stream, encode(head{More: more}, data), timeout); err != nil {
			break
		}
		rh, answer, err = decode(reply)
	}
	if err != nil {
		return head{}, nil, nil, e.lost(ctx, err)
	}
	if rh.Err != nil {
		return head{}, nil, nil, rh.Err.cloud()
	}
	p := &puller{r: e.r, timeout: timeout}
	if rh.More {
		p.stream = rh.Stream
	}
	return rh, answer, p, nil
}

// first sends a call's first frame; while no node serves the number it
// asks again, for Wait at most.
func (e *remote) first(ctx context.Context, frame []byte, timeout time.Duration) ([]byte, *cloudapi.Error) {
	deadline := time.Now().Add(or(e.r.Wait, DefaultWait))
	for {
		reply, err := e.request(ctx, subject(e.number), frame, timeout)
		if err == nil {
			if h, _, derr := decode(reply); derr != nil || !h.Gone {
				return reply, nil
			}
			err = bus.ErrNoResponders // it stopped serving the number as the call came
		}
		if !errors.Is(err, bus.ErrNoResponders) {
			return nil, e.lost(ctx, err)
		}
		if !time.Now().Before(deadline) {
			return nil, cloudapi.Errorf(cloudapi.CodeServiceUnavailable, "The endpoint of phone number %s is not running on any server just now (it is starting, or its server is down); nothing was sent. Try again in a few seconds.", e.number)
		}
		t := time.NewTimer(retryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, cloudapi.Errorf(cloudapi.CodeServiceUnavailable, "The call ended before the endpoint of phone number %s started; nothing was sent.", e.number)
		case <-t.C:
		}
	}
}

// request sends one frame and waits for its answer, for timeout at most.
func (e *remote) request(ctx context.Context, subj string, frame []byte, timeout time.Duration) ([]byte, error) {
	return e.r.request(ctx, subj, frame, timeout)
}

func (r *Remote) request(ctx context.Context, subj string, frame []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return r.bus.Request(ctx, subj, frame)
}

// lost is the error of a call whose holder took it and did not answer:
// it may have been carried out.
func (e *remote) lost(ctx context.Context, err error) *cloudapi.Error {
	why := "did not answer in time"
	switch {
	case ctx.Err() != nil:
		why = "was left by the caller"
	case errors.Is(err, bus.ErrNoResponders):
		why = "stopped in the middle of the call"
	case errors.Is(err, errFrame):
		why = "answered something this server does not understand"
	}
	return cloudapi.Errorf(cloudapi.CodeServiceUnavailable, "The server running the endpoint of phone number %s %s; the call may have been carried out (a message may have been sent: look for its status webhook before sending it again).", e.number, why)
}

// puller pulls the rest of an answer's body from the holder.
type puller struct {
	r       *Remote
	stream  string // "": no more
	timeout time.Duration
}

func (p *puller) more() bool { return p != nil && p.stream != "" }

// next returns the next chunk.
func (p *puller) next(ctx context.Context) ([]byte, error) {
	reply, err := p.r.request(ctx, p.stream, encode(head{}, nil), p.timeout)
	if err != nil {
		p.stream = ""
		return nil, err
	}
	h, data, err := decode(reply)
	if err == nil && h.Err != nil {
		err = errors.New(h.Err.Details)
	}
	if err != nil || !h.More {
		p.stream = ""
	}
	return data, err
}

// close gives up what is left of the answer.
func (p *puller) close() {
	if p.more() {
		p.r.bus.Send(p.stream, encode(head{Stop: true}, nil))
		p.stream = ""
	}
}
