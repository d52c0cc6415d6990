package relay

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// A frame is one NATS message of an exchange: the length of the head
// (a uvarint), the head as JSON, then up to one chunk of body bytes.
//
//	call     → kontor.v1.endpoint.{number}: head{Op, …, More} + the body's first chunk
//	  (More) ← head{Ack, Stream}; then each further chunk → Stream, ← head{Ack} or the answer
//	answer   ← head{Err | Header, More, Stream} + the answer's first chunk
//	  (More) → Stream head{}, ← head{More} + the next chunk, until More is false;
//	           → Stream head{Stop} gives up the rest
//
// The head is JSON because only forwarded calls pay for it; the body is
// raw bytes (Cloud API JSON, a multipart upload, a media file).
type head struct {
	Op    string    `json:"op,omitempty"` // a call: send, upload, info, delete, download
	Media kontor.ID `json:"media,omitempty"`
	Base  string    `json:"base,omitempty"`  // info: the base of the download URL
	Sig   string    `json:"sig,omitempty"`   // download: the URL's signature
	Query string    `json:"query,omitempty"` // upload: the raw query string
	Type  string    `json:"type,omitempty"`  // upload: the request's Content-Type
	Blob  string    `json:"blob,omitempty"`  // a person's media blob (blobs.go)
	// Timeout is how long the caller waits for the answer, in ms: the
	// holder's call ends then.
	Timeout int64 `json:"timeout,omitempty"`

	More   bool   `json:"more,omitempty"`   // more of the body follows on Stream
	Stream string `json:"stream,omitempty"` // the subject of the rest of the exchange
	Ack    bool   `json:"ack,omitempty"`    // a chunk of the call's body was taken
	Stop   bool   `json:"stop,omitempty"`   // the caller gives up the answer's rest
	// Gone says that the endpoint does not run here (any more): nothing
	// was done, the caller asks again.
	Gone bool `json:"gone,omitempty"`

	Err    *apiError         `json:"err,omitempty"`    // the endpoint's refusal
	Header map[string]string `json:"header,omitempty"` // download: the answer's headers
}

// apiError is a cloudapi.Error as it crosses the bus, every field kept.
type apiError struct {
	Message, Type, Details, FBTraceID string
	Code, Subcode, HTTPStatus         int
}

func toWire(e *cloudapi.Error) *apiError {
	if e == nil {
		return nil
	}
	return &apiError{Message: e.Message, Type: e.Type, Details: e.Details, FBTraceID: e.FBTraceID, Code: e.Code, Subcode: e.Subcode, HTTPStatus: e.HTTPStatus}
}

func (e *apiError) cloud() *cloudapi.Error {
	if e == nil {
		return nil
	}
	status := e.HTTPStatus
	if status == 0 {
		status = http.StatusInternalServerError
	}
	return &cloudapi.Error{Message: e.Message, Type: e.Type, Details: e.Details, FBTraceID: e.FBTraceID, Code: e.Code, Subcode: e.Subcode, HTTPStatus: status}
}

// encode makes a frame of h and chunk.
func encode(h head, chunk []byte) []byte {
	hj, err := json.Marshal(h)
	if err != nil {
		panic(err) // strings, numbers and a map of strings always marshal
	}
	b := make([]byte, 0, binary.MaxVarintLen32+len(hj)+len(chunk))
	b = binary.AppendUvarint(b, uint64(len(hj)))
	b = append(b, hj...)
	return append(b, chunk...)
}

var errFrame = errors.New("relay: damaged frame")

// decode splits a frame; chunk aliases b.
func decode(b []byte) (head, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return head{}, nil, errFrame
	}
	var h head
	if err := json.Unmarshal(b[k:k+int(n)], &h); err != nil {
		return head{}, nil, fmt.Errorf("%w: %v", errFrame, err)
	}
	return h, b[k+int(n):], nil
}
