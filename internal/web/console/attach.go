package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/wire"
)

// An agent's file goes to the person as the Business API would send it:
// uploaded to the number's endpoint (POST /{phone-number-id}/media, whose
// types and limits decide), then sent as a media message with the upload's
// id; the send is refused as a reply would be (the window, the credit), and
// its upload is deleted then. The console checks first only what it can
// tell in words before anything moves: the caption, an empty file, one
// larger than its kind's limit.

// attachLimit bounds the attach form's file: the largest kind's limit.
var attachLimit = endpoint.MediaLimit(wire.ContentDocument)

// attachHint says what may be attached, from the endpoint's limits.
var attachHint = fmt.Sprintf("A picture (JPEG, PNG) of up to %s, a video (MP4, 3GPP) or audio file of up to %s, a sticker (WebP) of up to %s, or any other file as a document of up to %s. Audio and stickers go without a caption.",
	sizeText(endpoint.MediaLimit(wire.ContentImage)), sizeText(endpoint.MediaLimit(wire.ContentVideo)),
	sizeText(endpoint.MediaLimit(wire.ContentSticker)), sizeText(endpoint.MediaLimit(wire.ContentDocument)))

// attachTooLarge answers a form larger than any file may be.
var attachTooLarge = "The file is too large: no file may have more than " + sizeText(attachLimit) + ". " + attachHint

// kindText names a kind of media for a person.
var kindText = map[string]string{
	wire.ContentImage:    "a picture",
	wire.ContentVideo:    "a video",
	wire.ContentAudio:    "an audio file",
	wire.ContentSticker:  "a sticker",
	wire.ContentDocument: "a document",
}

// sizeText says a number of bytes as a person reads it: "5 MB", "500 KB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+1<<10-1)>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fileType is the MIME type of an attached file: what the browser says,
// or, when it says nothing more than "bytes", what the file's start shows.
func fileType(declared string, f io.ReadSeeker) string {
	mt, _, err := mime.ParseMediaType(declared)
	if err == nil && mt != "application/octet-stream" {
		return mt
	}
	var head [512]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "application/octet-stream"
	}
	mt, _, _ = mime.ParseMediaType(http.DetectContentType(head[:n]))
	return mt
}

func (in *Inbox) attach(rq *req, n business.Number, cv inbox.Conversation) {
	ctx := rq.r.Context()
	caption := rq.r.PostForm.Get("caption")
	d := convData{Caption: caption}
	problem := func(status int, field, msg string) {
		d.Fields = business.FieldErrors{{Field: field, Msg: msg}}
		in.conversationPage(rq, status, n, cv, d, nil, "The file is not sent.")
	}
	if err := inbox.CheckCaption(caption); err != nil {
		problem(http.StatusBadRequest, "caption", kontor.MessageOf(err))
		return
	}
	caption = strings.TrimSpace(caption)
	f, h, err := rq.r.FormFile("file")
	if err != nil {
		problem(http.StatusBadRequest, "file", "Choose a file to send.")
		return
	}
	defer f.Close()
	mimeType := fileType(h.Header.Get("Content-Type"), f)
	kind := endpoint.MediaKind(mimeType)
	switch max := endpoint.MediaLimit(kind); {
	case h.Size == 0:
		problem(http.StatusBadRequest, "file", "The file "+h.Filename+" is empty.")
		return
	case h.Size > max:
		problem(http.StatusRequestEntityTooLarge, "file", fmt.Sprintf("The file %s (%s) goes as %s, which may have at most %s.", h.Filename, sizeText(h.Size), kindText[kind], sizeText(max)))
		return
	case caption != "" && (kind == wire.ContentAudio || kind == wire.ContentSticker):
		problem(http.StatusBadRequest, "caption", fmt.Sprintf("The file %s goes as %s, which has no caption: leave the caption empty and send the text as a reply of its own.", h.Filename, kindText[kind]))
		return
	}
	e, msg := in.endpoint(rq, n)
	if msg != "" {
		in.conversationPage(rq, http.StatusBadRequest, n, cv, d, nil, msg)
		return
	}
	stage, cerr := sendFile(ctx, e, in.c.log, f, h.Filename, mimeType, kind, caption, cv.Peer)
	switch {
	case cerr != nil && stage == stageUpload:
		problem(http.StatusBadRequest, "file", fmt.Sprintf("The file %s could not be attached: %s (Error %d)", h.Filename, strings.TrimSuffix(or(cerr.Details, cerr.Message), "."), cerr.Code))
		return
	case cerr != nil:
		in.conversationPage(rq, http.StatusBadRequest, n, cv, d, nil, sendProblem(cerr))
		return
	}
	in.c.log.Info("console attachment", "business", rq.biz.ID, "user", rq.user.ID, "number", n.ID, "kind", kind, "bytes", h.Size)
	rq.redirect(peerPath(n.ID, cv.Peer), "file-sent")
}

// The stages of sendFile.
const (
	stageUpload = "upload"
	stageSend   = "send"
)

// sendFile uploads f to e and sends it to peer as a media message of kind
// with caption (none when ""); it returns the stage that failed and why.
// The upload of a send that was refused is deleted again; that of a send
// answered 131016 is kept, for the message may have gone out (sent but
// not recorded, or not known in time): its person must be able to fetch
// the file, and the endpoint's media expire on their own.
func sendFile(ctx context.Context, e Sender, log *slog.Logger, f io.Reader, name, mimeType, kind, caption string, peer kontor.Phone) (string, *cloudapi.Error) {
	id, cerr := uploadFile(ctx, e, f, name, mimeType)
	if cerr != nil {
		return stageUpload, cerr
	}
	media := map[string]any{"id": id}
	if caption != "" {
		media["caption"] = caption
	}
	body, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": peer.Digits(), "type": kind, kind: media})
	_, cerr = e.Send(ctx, body)
	if cerr == nil {
		return "", nil
	}
	if cerr.Code == cloudapi.CodeServiceUnavailable {
		log.Warn("an attachment's send may have gone out; its upload is kept", "media", id, "code", cerr.Code, "err", cerr.Details)
		return stageSend, cerr
	}
	if mid, err := kontor.ParseID(id); err == nil {
		if _, derr := e.DeleteMedia(ctx, mid); derr != nil {
			log.Warn("deleting an unsent attachment", "media", id, "code", derr.Code, "err", derr.Details)
		}
	}
	return stageSend, cerr
}

func or(s, t string) string {
	if s != "" {
		return s
	}
	return t
}

// uploadFile hands f to e as the Business API's media upload would
// (multipart: messaging_product, type, file), streamed through a pipe, and
// returns the media id e answers with.
func uploadFile(ctx context.Context, e Sender, f io.Reader, name, mimeType string) (string, *cloudapi.Error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		pw.CloseWithError(writeUpload(mw, f, name, mimeType))
	}()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", pr)
	if err != nil {
		pr.CloseWithError(err)
		<-wrote
		return "", cloudapi.Internal()
	}
	r.Header.Set("Content-Type", mw.FormDataContentType())
	out, cerr := e.UploadMedia(ctx, r)
	pr.CloseWithError(io.ErrClosedPipe) // the writer stops if the upload stopped reading early
	<-wrote
	if cerr != nil {
		return "", cerr
	}
	var up struct {
		ID string `json:"id"`
	}
	if b, err := json.Marshal(out); err != nil || json.Unmarshal(b, &up) != nil || up.ID == "" {
		return "", cloudapi.Internal()
	}
	return up.ID, nil
}

func writeUpload(mw *multipart.Writer, f io.Reader, name, mimeType string) error {
	if err := mw.WriteField("messaging_product", "whatsapp"); err != nil {
		return err
	}
	if err := mw.WriteField("type", mimeType); err != nil {
		return err
	}
	cd := mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name})
	if cd == "" {
		cd = `form-data; name="file"` // a name that cannot be said: the file goes without it
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", cd)
	h.Set("Content-Type", mimeType)
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		return err
	}
	return mw.Close()
}
