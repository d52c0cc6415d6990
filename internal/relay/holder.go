package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/bus"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

const (
	subjPrefix = "kontor.v1.endpoint."
	queue      = "kontor.endpoint"
	// idle ends a chunked exchange whose other side has said nothing for
	// this long.
	idle = 30 * time.Second
	// maxChunk bounds the body bytes of one frame, whatever the NATS
	// server takes.
	maxChunk = 1 << 20
	// maxTimeout bounds how long a holder works on one call.
	maxTimeout = 15 * time.Minute
	// maxSendBody bounds the body of a send the holder takes (the
	// Business API takes at most 1 MB).
	maxSendBody = 4 << 20
)

// Ops of a call.
const (
	opSend     = "send"
	opUpload   = "upload"
	opInfo     = "info"
	opDelete   = "delete"
	opDownload = "download"
)

func subject(number kontor.ID) string { return subjPrefix + number.String() }

// chunkSize is how many body bytes one frame carries on b: a little less
// than the largest message, for the head.
func chunkSize(b *bus.Bus) int {
	return min(max(b.MaxPayload()-8<<10, 4<<10), maxChunk)
}

var (
	errClosed = errors.New("relay: closed")
	errIdle   = errors.New("relay: the caller went quiet")
	errGaveUp = errors.New("relay: the caller gave up")
	errEnded  = errors.New("relay: the call ended")
)

// DefaultGrace is how long Holder.Close lets the calls in flight finish.
const DefaultGrace = 5 * time.Second

// Holder serves the endpoints this node runs to the other nodes.
type Holder struct {
	// Grace is how long Close lets the calls in flight finish before it
	// ends their contexts (DefaultGrace when 0).
	Grace time.Duration

	bus   *bus.Bus
	log   *slog.Logger
	chunk int
	bufs  *sync.Pool // of chunk-sized buffers

	ctx    context.Context // ends the calls in flight at Close
	cancel context.CancelFunc
	calls  sync.WaitGroup
	closed atomic.Bool

	mu     sync.Mutex
	served map[kontor.ID]*served
	blobs  []*served // ServeBlobs
}

// served is one number served.
type served struct {
	gone atomic.Bool // stopping: calls are told so
	stop func()
}

// NewHolder returns a Holder that serves on b.
func NewHolder(b *bus.Bus, log *slog.Logger) *Holder {
	ctx, cancel := context.WithCancel(context.Background())
	chunk := chunkSize(b)
	return &Holder{bus: b, log: log, chunk: chunk, bufs: newPool(chunk), ctx: ctx, cancel: cancel, served: map[kontor.ID]*served{}}
}

// Serve answers the calls the other nodes forward to number with e, until
// Stop(number) or Close.
func (h *Holder) Serve(number kontor.ID, e bizapi.Endpoint) error {
	if h.closed.Load() {
		return errClosed
	}
	h.Stop(number)
	s := &served{}
	stop, err := h.bus.Serve(subject(number), queue, func(c bus.Call) {
		if s.gone.Load() || !h.enter() {
			_ = c.Reply(encode(head{Gone: true}, nil))
			return
		}
		go func() {
			defer h.calls.Done()
			h.call(e, c)
		}()
	})
	if err != nil {
		return err
	}
	s.stop = stop
	h.mu.Lock()
	if h.closed.Load() { // Close ran meanwhile and did not see s
		h.mu.Unlock()
		s.gone.Store(true)
		stop()
		return errClosed
	}
	old, raced := h.served[number] // a second Serve raced this one
	h.served[number] = s
	h.mu.Unlock()
	if raced {
		old.gone.Store(true)
		old.stop()
	}
	return nil
}

// enter counts a call in, unless the holder is closed.
func (h *Holder) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return false
	}
	h.calls.Add(1)
	return true
}

// Stop stops serving number; calls that come meanwhile are told to ask
// again (another node may serve it).
func (h *Holder) Stop(number kontor.ID) {
	h.mu.Lock()
	s, ok := h.served[number]
	delete(h.served, number)
	h.mu.Unlock()
	if ok {
		s.gone.Store(true)
		s.stop()
	}
}

// Close stops serving every number and waits for the calls in flight:
// for Grace, then it ends their contexts.
func (h *Holder) Close() {
	h.mu.Lock()
	h.closed.Store(true) // under mu: no call enters after it
	all := h.served
	h.served = map[kontor.ID]*served{}
	blobs := h.blobs
	h.blobs = nil
	h.mu.Unlock()
	for _, s := range all {
		s.gone.Store(true)
		s.stop() // after it, no call starts
	}
	for _, s := range blobs {
		s.gone.Store(true)
		s.stop()
	}
	done := make(chan struct{})
	go func() {
		h.calls.Wait()
		close(done)
	}()
	t := time.NewTimer(or(h.Grace, DefaultGrace))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	h.cancel()
	<-done
}

// answer is what an op gives back: a head (known once the first chunk of
// body is read, or body ended) and the body; done releases what it holds.
type answer struct {
	head func() head
	body io.Reader
	done func()
}

// jsonAnswer is the answer of a JSON op.
func jsonAnswer(out any, cerr *cloudapi.Error) answer {
	a := answer{head: func() head { return head{} }, body: bytes.NewReader(nil), done: func() {}}
	if cerr != nil {
		a.head = func() head { return head{Err: toWire(cerr)} }
		return a
	}
	b, err := json.Marshal(out)
	if err != nil {
		a.head = func() head { return head{Err: toWire(cloudapi.Internal())} }
		return a
	}
	a.body = bytes.NewReader(b)
	return a
}

// call serves one forwarded call.
func (h *Holder) call(e bizapi.Endpoint, c bus.Call) {
	hd, chunk, err := decode(c.Data)
	if err != nil {
		h.log.Warn("a forwarded endpoint call", "err", err)
		_ = c.Reply(encode(head{Err: toWire(cloudapi.Internal())}, nil))
		return
	}
	timeout := time.Duration(hd.Timeout) * time.Millisecond
	if timeout <= 0 || timeout > maxTimeout {
		timeout = maxTimeout
	}
	ctx, cancel := context.WithTimeout(h.ctx, timeout)
	defer cancel()
	if !hd.More {
		h.answer(ctx, c.Reply, h.run(ctx, e, hd, bytes.NewReader(chunk)))
		return
	}
	// The body comes in chunks: the op reads them from a pipe as they come.
	stream := h.bus.Inbox()
	chunks := make(chan bus.Call, 1)
	stop, err := h.bus.Serve(stream, "", func(cc bus.Call) {
		select {
		case chunks <- cc:
		default: // one chunk at a time: a second is a caller's mistake
		}
	})
	if err != nil {
		_ = c.Reply(encode(head{Err: toWire(unavailable("the call could not be taken"))}, nil))
		return
	}
	defer stop()
	pr, pw := io.Pipe()
	res := make(chan answer, 1)
	go func() {
		a := h.run(ctx, e, hd, pr)
		pr.CloseWithError(errEnded) // a chunk still coming finds the op ended
		res <- a
	}()
	reply := h.receive(ctx, c, chunk, stream, chunks, pw)
	a := <-res
	if reply == nil {
		a.done()
		return
	}
	h.answer(ctx, reply, a)
}

// receive writes the chunks of a call's body into pw as they come and
// returns where the answer goes: the reply to the last chunk, or to the
// one the op did not take because it ended (nil: the caller left).
func (h *Holder) receive(ctx context.Context, c bus.Call, first []byte, stream string, chunks <-chan bus.Call, pw *io.PipeWriter) func([]byte) error {
	if _, err := pw.Write(first); err != nil {
		return c.Reply
	}
	_ = c.Reply(encode(head{Ack: true, Stream: stream}, nil))
	for {
		t := time.NewTimer(idle)
		select {
		case cc := <-chunks:
			t.Stop()
			ch, data, err := decode(cc.Data)
			if err != nil || ch.Stop {
				pw.CloseWithError(errGaveUp)
				return nil
			}
			if _, err := pw.Write(data); err != nil {
				return cc.Reply
			}
			if !ch.More {
				pw.Close()
				return cc.Reply
			}
			_ = cc.Reply(encode(head{Ack: true}, nil))
		case <-t.C:
			pw.CloseWithError(errIdle)
			return nil
		case <-ctx.Done():
			t.Stop()
			pw.CloseWithError(ctx.Err())
			return nil
		}
	}
}

// run carries out the op of hd with e.
func (h *Holder) run(ctx context.Context, e bizapi.Endpoint, hd head, body io.Reader) answer {
	switch hd.Op {
	case opSend:
		b, err := io.ReadAll(io.LimitReader(body, maxSendBody+1))
		if err != nil || len(b) > maxSendBody {
			return jsonAnswer(nil, cloudapi.NewError(cloudapi.CodeInvalidParameter, "The request body could not be read."))
		}
		return jsonAnswer(e.Send(ctx, b))
	case opUpload:
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/?"+hd.Query, body)
		if err != nil {
			return jsonAnswer(nil, cloudapi.Internal())
		}
		r.Header.Set("Content-Type", hd.Type)
		return jsonAnswer(e.UploadMedia(ctx, r))
	case opInfo:
		return jsonAnswer(e.MediaInfo(ctx, hd.Media, hd.Base))
	case opDelete:
		return jsonAnswer(e.DeleteMedia(ctx, hd.Media))
	case opDownload:
		return download(ctx, e, hd)
	}
	return jsonAnswer(nil, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "This node does not know the call %q; update it.", hd.Op))
}

// download runs e.Download into a pipe that the answer reads.
func download(ctx context.Context, e bizapi.Endpoint, hd head) answer {
	pr, pw := io.Pipe()
	w := &pipeWriter{pw: pw, header: http.Header{}}
	finished := make(chan struct{})
	var cerr *cloudapi.Error
	go func() {
		defer close(finished)
		cerr = e.Download(ctx, w, hd.Media, hd.Sig)
		pw.Close()
	}()
	return answer{
		body: pr,
		// Called after the first chunk: either the download wrote (its
		// header is kept) or it ended (its error, or an empty file).
		head: func() head {
			if sent := w.sent(); sent != nil {
				return head{Header: sent}
			}
			<-finished
			if cerr != nil {
				return head{Err: toWire(cerr)}
			}
			w.freeze()
			return head{Header: w.sent()}
		},
		done: func() {
			pr.CloseWithError(errEnded)
			<-finished
		},
	}
}

// pipeWriter is the http.ResponseWriter of a download that is forwarded:
// the body goes into a pipe, the header is kept as it was at the first write.
type pipeWriter struct {
	pw     *io.PipeWriter
	mu     sync.Mutex
	header http.Header
	frozen map[string]string
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(int) { w.freeze() }

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.freeze()
	return w.pw.Write(b)
}

func (w *pipeWriter) freeze() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.frozen != nil {
		return
	}
	w.frozen = map[string]string{}
	for k := range w.header {
		w.frozen[k] = w.header.Get(k)
	}
}

// sent is the header as it was at the first write.
func (w *pipeWriter) sent() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frozen
}

// answer sends a's head and body to reply: the first chunk with the head,
// the rest (if any) as the caller pulls it.
func (h *Holder) answer(ctx context.Context, reply func([]byte) error, a answer) {
	defer a.done()
	ch := chunker{size: h.chunk, pool: h.bufs}
	defer ch.release()
	data, more, err := ch.next(a.body)
	hd := a.head()
	if err != nil && hd.Err == nil {
		hd = head{Err: toWire(cloudapi.Internal())}
	}
	if hd.Err != nil {
		_ = reply(encode(hd, nil))
		return
	}
	if !more {
		_ = reply(encode(hd, data))
		return
	}
	stream := h.bus.Inbox()
	pulls := make(chan bus.Call, 1)
	stop, err := h.bus.Serve(stream, "", func(c bus.Call) {
		select {
		case pulls <- c:
		default:
		}
	})
	if err != nil {
		_ = reply(encode(head{Err: toWire(unavailable("the answer could not be sent"))}, nil))
		return
	}
	defer stop()
	hd.More, hd.Stream = true, stream
	if reply(encode(hd, data)) != nil {
		return
	}
	for {
		t := time.NewTimer(idle)
		select {
		case c := <-pulls:
			t.Stop()
			if ph, _, err := decode(c.Data); err != nil || ph.Stop {
				return
			}
			data, more, err := ch.next(a.body)
			if err != nil { // the op failed in the middle: the caller ends its answer
				_ = c.Reply(encode(head{Err: toWire(cloudapi.Internal())}, nil))
				return
			}
			if c.Reply(encode(head{More: more}, data)) != nil || !more {
				return
			}
		case <-t.C:
			return
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// chunker reads the chunks of one body: a body in memory that fits in
// one chunk is taken whole, without a chunk-sized buffer (a send, every
// JSON answer); a stream reads into a buffer from pool.
type chunker struct {
	size int
	pool *sync.Pool
	buf  *[]byte
}

func newPool(size int) *sync.Pool {
	return &sync.Pool{New: func() any { b := make([]byte, size); return &b }}
}

// next returns the next chunk of r (valid until the next call) and
// whether r may have more.
func (c *chunker) next(r io.Reader) ([]byte, bool, error) {
	if br, ok := r.(*bytes.Reader); ok && br.Len() <= c.size && c.buf == nil {
		b := make([]byte, br.Len())
		_, _ = br.Read(b)
		return b, false, nil
	}
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	n, more, err := readChunk(r, *c.buf)
	return (*c.buf)[:n], more, err
}

// release gives the buffer back.
func (c *chunker) release() {
	if c.buf != nil {
		c.pool.Put(c.buf)
		c.buf = nil
	}
}

// readChunk fills buf from r: more says that buf is full and r may have
// more; err is a failure of r (not its end).
func readChunk(r io.Reader, buf []byte) (n int, more bool, err error) {
	n, err = io.ReadFull(r, buf)
	switch {
	case err == nil:
		return n, true, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return n, false, nil
	}
	return n, false, err
}

// unavailable is the Business API's 503 for a call that was not carried out.
func unavailable(why string) *cloudapi.Error {
	return cloudapi.Errorf(cloudapi.CodeServiceUnavailable, "The node running the endpoint could not take the call (%s); nothing was done. Try again in a few seconds.", why)
}
