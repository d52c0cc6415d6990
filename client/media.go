package client

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// MaxMedia is the largest blob a client downloads: the largest kind
// (document, 100 MiB) and what encryption adds.
const MaxMedia = 100<<20 + 64

// ErrMediaDigest: a downloaded blob is not the one the message names. It
// is never opened.
var ErrMediaDigest = errors.New("client: the downloaded media does not match its digest")

// SealAttachment encrypts a file for upload with a fresh key: AES-256-GCM
// under a random key, the random nonce in front. It returns the blob, the
// key and the SHA-256 digest of the blob; key and digest go inside the
// (end-to-end encrypted) message.
func SealAttachment(file []byte) (blob, key, digest []byte, err error) {
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, nil, err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, nil, nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(file)+gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, nil, err
	}
	blob = gcm.Seal(nonce, nonce, file, nil)
	d := sha256.Sum256(blob)
	return blob, key, d[:], nil
}

// OpenAttachment checks a downloaded blob against its digest and decrypts it.
func OpenAttachment(blob, key, digest []byte) ([]byte, error) {
	d := sha256.Sum256(blob)
	if len(digest) != len(d) || subtle.ConstantTimeCompare(d[:], digest) != 1 {
		return nil, ErrMediaDigest
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(blob) < gcm.NonceSize()+gcm.Overhead() {
		return nil, ErrMediaDigest
	}
	file, err := gcm.Open(nil, blob[:gcm.NonceSize()], blob[gcm.NonceSize():], nil)
	if err != nil {
		return nil, fmt.Errorf("client: the media could not be decrypted: %w", err)
	}
	return file, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("client: a media key is 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// UploadMedia stores an (already encrypted) blob of kind on the server for
// the conversation with to.
func (a *API) UploadMedia(ctx context.Context, kind string, to kontor.Phone, blob []byte) (wire.MediaUploaded, error) {
	const op = "client.UploadMedia"
	var up wire.MediaUploaded
	q := url.Values{"kind": {kind}, "to": {string(to)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(a.Server, "/")+"/v1/media?"+q.Encode(), bytes.NewReader(blob))
	if err != nil {
		return up, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "bad server URL", Err: err}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	b, err := a.raw(req, op, maxAnswer)
	if err != nil {
		return up, err
	}
	if err := json.Unmarshal(b, &up); err != nil {
		return up, &kontor.Error{Kind: kontor.Internal, Op: op, Msg: "the server's answer is not the expected JSON", Err: err}
	}
	return up, nil
}

// DownloadMedia fetches a blob as stored (still encrypted).
func (a *API) DownloadMedia(ctx context.Context, id string) ([]byte, error) {
	const op = "client.DownloadMedia"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(a.Server, "/")+"/v1/media/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: "bad server URL", Err: err}
	}
	return a.raw(req, op, MaxMedia)
}

// raw sends an authenticated request and returns the body of a 2xx answer.
func (a *API) raw(req *http.Request, op string, limit int64) ([]byte, error) {
	if a.Credential == "" {
		return nil, kontor.Errorf(kontor.Unauthenticated, op, "this call needs a device credential")
	}
	req.Header.Set("Authorization", "Bearer "+a.Credential)
	hc := a.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "could not reach the server at " + a.Server, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &kontor.Error{Kind: kontor.Unavailable, Op: op, Msg: "reading the server's answer", Err: err}
	}
	if resp.StatusCode/100 != 2 {
		return nil, answerError(op, resp.StatusCode, b)
	}
	if int64(len(b)) > limit {
		return nil, kontor.Errorf(kontor.Invalid, op, "the server's answer is larger than %d bytes", limit)
	}
	return b, nil
}

// Attach encrypts file and uploads it for the conversation with to, and
// returns the content to send: kind is one of wire.ContentImage, …Video,
// …Audio, …Document, …Sticker; caption may be empty.
func (c *Client) Attach(ctx context.Context, to kontor.Phone, kind, mimeType, fileName, caption string, file []byte) (wire.Content, error) {
	blob, key, digest, err := SealAttachment(file)
	if err != nil {
		return wire.Content{}, err
	}
	up, err := c.api.UploadMedia(ctx, kind, to, blob)
	if err != nil {
		return wire.Content{}, err
	}
	ct := wire.Content{V: wire.ContentVersion, Type: kind, Text: caption,
		Media: &wire.Media{ID: up.ID, MimeType: mimeType, FileName: fileName, Size: int64(len(file)), Key: key, Digest: digest}}
	return ct, ct.Check()
}

// Fetch downloads the file a media content points at, checks it against its
// digest and decrypts it.
func (c *Client) Fetch(ctx context.Context, m *wire.Media) ([]byte, error) {
	if m == nil {
		return nil, errors.New("client: no media to fetch")
	}
	blob, err := c.api.DownloadMedia(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	return OpenAttachment(blob, m.Key, m.Digest)
}
