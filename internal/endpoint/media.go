package endpoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/wire"
)

// MediaFiles keeps an endpoint's media files (decrypted) somewhere else
// than in a directory: a hosted endpoint of a cluster keeps them in the
// shared database, so that they survive its node and any node that takes
// the endpoint over serves them.
type MediaFiles interface {
	// PutMedia keeps the file id, read from r to its end (an error of r
	// keeps nothing), and returns its size.
	PutMedia(ctx context.Context, id kontor.ID, r io.Reader) (int64, error)
	// OpenMedia reads the file id.
	OpenMedia(ctx context.Context, id kontor.ID) (io.ReadCloser, error)
	// RemoveMedia deletes the file id; a missing one is no error.
	RemoveMedia(ctx context.Context, id kontor.ID) error
}

// mediaTimeout bounds one call of a MediaFiles.
const mediaTimeout = 10 * time.Minute

// files keeps an endpoint's media files, decrypted, one file per media id:
// in dir, or in ext when set.
type files struct {
	dir string
	ext MediaFiles
}

func openFiles(dir string, ext MediaFiles) (*files, error) {
	if ext != nil {
		return &files{ext: ext}, nil
	}
	if dir == "" {
		return nil, errors.New("endpoint: no media directory")
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	return &files{dir: dir}, nil
}

func (f *files) path(id kontor.ID) string { return filepath.Join(f.dir, id.String()) }

// limited reads at most left bytes of r and then fails with errTooLarge.
type limited struct {
	r    io.Reader
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// put writes r (at most max bytes) as id and returns its size and SHA-256.
func (f *files) put(id kontor.ID, r io.Reader, max int64) (int64, string, error) {
	h := sha256.New()
	if f.ext != nil {
		ctx, cancel := context.WithTimeout(context.Background(), mediaTimeout)
		defer cancel()
		lr := &limited{r: r, left: max}
		n, err := f.ext.PutMedia(ctx, id, io.TeeReader(lr, h))
		if errors.Is(err, errTooLarge) {
			return 0, "", errTooLarge
		}
		if err != nil {
			return 0, "", err
		}
		return n, hex.EncodeToString(h.Sum(nil)), nil
	}
	tmp, err := os.CreateTemp(filepath.Join(f.dir, "tmp"), id.String()+".*")
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err != nil {
		tmp.Close()
		return 0, "", err
	}
	if n > max {
		tmp.Close()
		return 0, "", errTooLarge
	}
	if err := tmp.Close(); err != nil {
		return 0, "", err
	}
	if err := os.Rename(tmp.Name(), f.path(id)); err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

var errTooLarge = errors.New("too large")

func (f *files) open(id kontor.ID) (io.ReadCloser, error) {
	if f.ext != nil {
		// The reader outlives this call: the caller's reads bound it.
		return f.ext.OpenMedia(context.Background(), id)
	}
	return os.Open(f.path(id))
}

func (f *files) remove(id kontor.ID) {
	if f.ext != nil {
		ctx, cancel := context.WithTimeout(context.Background(), mediaTimeout)
		defer cancel()
		_ = f.ext.RemoveMedia(ctx, id) // an orphaned file is only space
		return
	}
	if err := os.Remove(f.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		_ = err
	}
}

// Public media limits, by kind.
var mediaLimits = map[string]int64{
	wire.ContentImage:    5 << 20,
	wire.ContentVideo:    16 << 20,
	wire.ContentAudio:    16 << 20,
	wire.ContentDocument: 100 << 20,
	wire.ContentSticker:  500 << 10,
}

// MediaLimit is the most bytes a file of kind (wire.ContentImage, …) may
// have, as the Cloud API's media upload allows; 0 for no media kind.
func MediaLimit(kind string) int64 { return mediaLimits[kind] }

// MediaKind says which kind of media message a file of mimeType uploads
// as, which decides its limit: image (JPEG, PNG), video (MP4, 3GPP), audio
// (audio/*), sticker (WebP) or document (anything else).
func MediaKind(mimeType string) string {
	switch {
	case mimeType == "image/webp":
		return wire.ContentSticker
	case mimeType == "image/jpeg", mimeType == "image/png":
		return wire.ContentImage
	case mimeType == "video/mp4", mimeType == "video/3gpp":
		return wire.ContentVideo
	case strings.HasPrefix(mimeType, "audio/"):
		return wire.ContentAudio
	}
	return wire.ContentDocument
}

// UploadMedia takes a multipart upload: file, type, messaging_product.
// As everywhere in Graph, type and messaging_product may also come in the
// query string (whatsapp-api-js sends messaging_product there); the form
// wins. Without type, the file part's Content-Type says it.
func (e *Endpoint) UploadMedia(ctx context.Context, r *http.Request) (any, *cloudapi.Error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, cloudapi.Invalid("file", "send the file as multipart/form-data with the fields file, type and messaging_product")
	}
	q := r.URL.Query()
	product, mimeType := q.Get("messaging_product"), q.Get("type")
	var fileName string
	id := e.ids.Next()
	stored := false
	var size int64
	var sum string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cloudapi.Invalid("file", "the multipart body could not be read")
		}
		switch part.FormName() {
		case "messaging_product":
			product = formValue(part)
		case "type":
			mimeType = formValue(part)
		case "file":
			if stored {
				return nil, cloudapi.Invalid("file", "one file per upload")
			}
			fileName = part.FileName()
			mt := mimeType
			if mt == "" {
				mt = part.Header.Get("Content-Type")
			}
			size, sum, err = e.files.put(id, part, mediaLimits[MediaKind(mt)]+1) // the limit is checked below, by the final type
			if err != nil {
				if errors.Is(err, errTooLarge) {
					return nil, cloudapi.Errorf(cloudapi.CodeMediaUpload, "The file is larger than the limit of its type.")
				}
				return nil, cloudapi.NewError(cloudapi.CodeMediaUpload, "The file could not be stored.")
			}
			stored = true
			if mimeType == "" {
				mimeType = part.Header.Get("Content-Type")
			}
		}
		part.Close()
	}
	fail := func(ce *cloudapi.Error) (any, *cloudapi.Error) {
		if stored {
			e.files.remove(id)
		}
		return nil, ce
	}
	if product != "whatsapp" {
		return fail(cloudapi.Missing("messaging_product"))
	}
	if !stored {
		return fail(cloudapi.Missing("file"))
	}
	if mimeType == "" {
		return fail(cloudapi.Missing("type"))
	}
	if mt, _, err := mime.ParseMediaType(mimeType); err != nil || mt != mimeType {
		return fail(cloudapi.Invalid("type", "not a MIME type"))
	}
	if size == 0 {
		return fail(cloudapi.Invalid("file", "the file is empty"))
	}
	if max := mediaLimits[MediaKind(mimeType)]; size > max {
		return fail(cloudapi.Errorf(cloudapi.CodeMediaUpload, "The file has %d bytes; %s files may have at most %d.", size, mimeType, max))
	}
	now := e.clock.Now()
	rec := MediaRecord{ID: id, Number: e.cfg.Number, MimeType: mimeType, SHA256: sum, Size: size, FileName: fileName, Created: now, Expires: now.Add(e.cfg.MediaTTL)}
	if err := e.store.PutEndpointMedia(ctx, rec); err != nil {
		return fail(cloudapi.Internal())
	}
	return map[string]string{"id": id.String()}, nil
}

func formValue(p *multipart.Part) string {
	b, _ := io.ReadAll(io.LimitReader(p, 1024))
	return strings.TrimSpace(string(b))
}

// MediaInfo answers GET /{media-id}: where to download it, for a few minutes.
func (e *Endpoint) MediaInfo(ctx context.Context, id kontor.ID, base string) (any, *cloudapi.Error) {
	rec, err := e.store.EndpointMedia(ctx, e.cfg.Number, id)
	if err != nil {
		return nil, mediaNotFound(id)
	}
	exp := e.clock.Now().Add(5 * time.Minute).Unix()
	url := base + "/media-download/" + id.String() + "?sig=" + e.urlSig(id, exp)
	return map[string]any{"messaging_product": "whatsapp", "url": url, "mime_type": rec.MimeType, "sha256": rec.SHA256,
		"file_size": rec.Size, "id": id.String()}, nil
}

// DeleteMedia deletes a media object.
func (e *Endpoint) DeleteMedia(ctx context.Context, id kontor.ID) (any, *cloudapi.Error) {
	if err := e.store.DeleteEndpointMedia(ctx, e.cfg.Number, id); err != nil {
		return nil, mediaNotFound(id)
	}
	e.files.remove(id)
	return cloudapi.SuccessResponse{Success: true}, nil
}

// Download writes a media file, if sig is a valid download signature.
func (e *Endpoint) Download(ctx context.Context, w http.ResponseWriter, id kontor.ID, sig string) *cloudapi.Error {
	if !e.checkSig(id, sig) {
		return cloudapi.NewError(cloudapi.CodeAccessDenied, "The download URL is not valid or has expired; ask GET /{media-id} for a new one.")
	}
	rec, err := e.store.EndpointMedia(ctx, e.cfg.Number, id)
	if err != nil {
		return mediaNotFound(id)
	}
	f, err := e.files.open(id)
	if err != nil {
		return mediaNotFound(id)
	}
	defer f.Close()
	w.Header().Set("Content-Type", rec.MimeType)
	w.Header().Set("Content-Length", strconv.FormatInt(rec.Size, 10))
	if rec.FileName != "" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rec.FileName}))
	}
	_, _ = io.Copy(w, f)
	return nil
}

func mediaNotFound(id kontor.ID) *cloudapi.Error {
	ce := cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id)
	ce.Subcode = 33
	return ce
}

// resolver turns the media of a send (an uploaded id or a link) into an
// encrypted attachment for the person to.
type resolver struct {
	e  *Endpoint
	to kontor.Phone
}

// ResolveMedia reads the file, encrypts it and uploads the blob.
func (r *resolver) ResolveMedia(ctx context.Context, kind string, m cloudapi.MediaObject) (wire.Media, error) {
	var data []byte
	var mimeType, name string
	switch {
	case m.ID != "":
		id, err := kontor.ParseID(m.ID)
		if err != nil {
			return wire.Media{}, cloudapi.Invalid(kind+".id", "not a media id")
		}
		rec, err := r.e.store.EndpointMedia(ctx, r.e.cfg.Number, id)
		if err != nil {
			return wire.Media{}, cloudapi.Invalid(kind+".id", "no media with this id (uploaded media lives 30 days)")
		}
		f, err := r.e.files.open(id)
		if err != nil {
			return wire.Media{}, cloudapi.NewError(cloudapi.CodeMediaDownload, "The media file is gone.")
		}
		data, err = io.ReadAll(f)
		f.Close()
		if err != nil {
			return wire.Media{}, cloudapi.NewError(cloudapi.CodeMediaDownload, "The media file could not be read.")
		}
		mimeType, name = rec.MimeType, rec.FileName
	case m.Link != "":
		var err error
		if data, mimeType, err = fetchLink(ctx, r.e.cfg.LinkClient, m.Link, mediaLimits[kind]); err != nil {
			return wire.Media{}, cloudapi.Errorf(cloudapi.CodeMediaDownload, "The media at %s could not be fetched: %v.", m.Link, err)
		}
	default:
		return wire.Media{}, cloudapi.Missing(kind + ".id")
	}
	if max := mediaLimits[kind]; int64(len(data)) > max {
		return wire.Media{}, cloudapi.Errorf(cloudapi.CodeMediaUpload, "The %s has %d bytes; the limit is %d.", kind, len(data), max)
	}
	if m.Filename != "" {
		name = m.Filename
	}
	blob, key, digest, err := client.SealAttachment(data)
	if err != nil {
		return wire.Media{}, err
	}
	up, err := r.e.dev.API().UploadMedia(ctx, kind, r.to, blob)
	if err != nil {
		if kontor.KindOf(err) == kontor.NotFound {
			return wire.Media{}, cloudapi.NewError(cloudapi.CodeUndeliverable, "The recipient is not on kontor.")
		}
		return wire.Media{}, cloudapi.NewError(cloudapi.CodeMediaUpload, "The encrypted media could not be stored: "+kontor.MessageOf(err))
	}
	return wire.Media{ID: up.ID, MimeType: mimeType, FileName: name, Size: int64(len(data)), Key: key, Digest: digest}, nil
}

// fetchLink downloads a media link with client (nil: http.DefaultClient),
// bounded in size and time.
func fetchLink(ctx context.Context, client *http.Client, link string, max int64) ([]byte, string, error) {
	if !strings.HasPrefix(link, "https://") && !strings.HasPrefix(link, "http://") {
		return nil, "", errors.New("not an http(s) URL")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, "", err
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the link is in the message already
		}
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, "", err
	}
	if int64(len(b)) > max {
		return nil, "", fmt.Errorf("larger than %d bytes", max)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return b, mt, nil
}

// namer keeps a person's attachment at the endpoint, decrypted, under a
// media id the business can fetch.
type namer struct {
	e    *Endpoint
	from kontor.Phone
}

// NameMedia downloads, checks and decrypts a person's attachment.
func (n *namer) NameMedia(ctx context.Context, kind string, m wire.Media) (string, string, error) {
	data, err := n.e.dev.Fetch(ctx, &m)
	if err != nil {
		return "", "", err
	}
	id := n.e.ids.Next()
	size, sum, err := n.e.files.put(id, strings.NewReader(string(data)), int64(len(data)))
	if err != nil {
		return "", "", err
	}
	now := n.e.clock.Now()
	mt := m.MimeType
	if mt == "" {
		mt = "application/octet-stream"
	}
	rec := MediaRecord{ID: id, Number: n.e.cfg.Number, MimeType: mt, SHA256: sum, Size: size, FileName: m.FileName, Created: now, Expires: now.Add(n.e.cfg.MediaTTL)}
	if err := n.e.store.PutEndpointMedia(ctx, rec); err != nil {
		n.e.files.remove(id)
		return "", "", err
	}
	return id.String(), sum, nil
}
