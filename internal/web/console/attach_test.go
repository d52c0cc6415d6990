package console_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// TestInboxAttach: an agent sends files from a conversation through the
// console's forms. A picture with a caption, a document whose type the
// browser does not say and an audio file reach the person, who decrypts
// the same bytes, and show in the thread as media; no file, an empty one,
// one larger than its kind allows, a caption on audio and one too long are
// refused at their field in words, and nothing is uploaded; after the
// window closed the send is refused with its public code and the upload
// is deleted again.
func TestInboxAttach(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		clock := &kontortest.Clock{}
		s := kontortest.Start(t, append(opts, kontortest.WithClock(clock))...)
		const bizPhone = "+4930777778"
		biz := newBusiness(t, s, "Blumen Clara", bizPhone)
		const pw = "tulips and roses in spring"
		consoleUser(t, s, biz.WABA, "dana@blumen.example", "agent", pw)
		ana := newPerson(ctx, t, s, "+4915112345681")
		if _, err := ana.C.Send(ctx, bizPhone, wire.Content{V: wire.ContentVersion, Type: wire.ContentText, Text: "Was kosten die Tulpen?"}); err != nil {
			t.Fatal(err)
		}
		// The endpoint's decrypted media files: what it keeps of uploads.
		mediaDir := filepath.Join(s.DataDir, "endpoints", biz.Number, "media")
		kept := func() int {
			t.Helper()
			es, err := os.ReadDir(mediaDir)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range es {
				if !e.IsDir() {
					n++
				}
			}
			return n
		}

		agent := newBrowser(t, s.URL)
		agent.signIn("dana@blumen.example", pw)
		convPath := "/console/inbox/" + biz.Number + "/4915112345681"
		agent.eventually(convPath, "Was kosten die Tulpen?", "Send a file", "A picture (JPEG, PNG) of up to 5 MB", "a document of up to 100 MB")
		agent.see(`enctype="multipart/form-data"`, `name="caption"`)

		// Refused before anything is uploaded.
		for _, bad := range []struct {
			what, name, typ, content, caption string
			code                              int
			says                              string
		}{
			{"no file", "", "", "", "Preise", 400, "Choose a file to send."},
			{"empty", "leer.pdf", "application/pdf", "", "", 400, "The file leer.pdf is empty."},
			{"picture too large", "gross.jpg", "image/jpeg", strings.Repeat("x", 5<<20+300<<10), "", 413, "The file gross.jpg (5.3 MB) goes as a picture, which may have at most 5 MB."},
			{"caption on audio", "gruss.ogg", "audio/ogg", "OggS audio", "Hallo", 400, "goes as an audio file, which has no caption"},
			{"caption too long", "preise.pdf", "application/pdf", "%PDF-1.4", strings.Repeat("ü", 1025), 400, "The caption is too long: at most 1,024 characters."},
		} {
			agent.want("conversation", agent.get(convPath), 200)
			agent.want(bad.what, agent.postTyped(convPath+"/attach", url.Values{"caption": {bad.caption}}, "file", bad.name, bad.typ, bad.content), bad.code)
			agent.see("The file is not sent.", bad.says, `aria-invalid="true"`)
		}
		if n := kept(); n != 0 {
			t.Fatalf("after the refused forms the endpoint keeps %d files", n)
		}

		// A picture with a caption.
		jpeg := pictureFile(t, "jpeg")
		agent.want("conversation", agent.get(convPath), 200)
		agent.want("picture", agent.postTyped(convPath+"/attach", url.Values{"caption": {"  Frische Tulpen  "}}, "file", "tulpen.jpg", "image/jpeg", jpeg), 200)
		agent.see("The file is sent.", "[image] tulpen.jpg Frische Tulpen", "· image")
		got := ana.message("the picture")
		if got.Content.Type != wire.ContentImage || got.Content.Text != "Frische Tulpen" || got.Content.Media == nil || got.Content.Media.MimeType != "image/jpeg" {
			t.Fatalf("Ana got %+v", got.Content)
		}
		fetched := func(m client.Message) string {
			t.Helper()
			b, err := ana.C.Fetch(ctx, m.Content.Media)
			if err != nil {
				t.Fatalf("fetching the %s: %v", m.Content.Type, err)
			}
			return string(b)
		}
		if fetched(got) != jpeg {
			t.Fatalf("Ana's picture is not the file the agent sent")
		}

		// A document the browser calls bytes: its start says PDF.
		pdf := "%PDF-1.4\n% Preisliste Mai\n"
		agent.want("document", agent.postTyped(convPath+"/attach", url.Values{"caption": {"Die Preisliste"}}, "file", "preise mai.pdf", "application/octet-stream", pdf), 200)
		agent.see("The file is sent.", "[document] preise mai.pdf Die Preisliste")
		got = ana.message("the document")
		if got.Content.Type != wire.ContentDocument || got.Content.Media.FileName != "preise mai.pdf" || got.Content.Media.MimeType != "application/pdf" || fetched(got) != pdf {
			t.Fatalf("Ana got %+v", got.Content)
		}

		// Audio, without a caption.
		agent.want("audio", agent.postTyped(convPath+"/attach", nil, "file", "gruss.ogg", "audio/ogg", "OggS audio"), 200)
		agent.see("The file is sent.", "[audio] gruss.ogg")
		if got = ana.message("the audio"); got.Content.Type != wire.ContentAudio || fetched(got) != "OggS audio" {
			t.Fatalf("Ana got %+v", got.Content)
		}
		if n := kept(); n != 3 {
			t.Fatalf("after three files sent the endpoint keeps %d", n)
		}

		// A day later the window is closed: the form is gone, and a send
		// of the form as it was is refused and leaves no upload behind.
		clock.Advance(25 * time.Hour)
		agent = newBrowser(t, s.URL)
		agent.signIn("dana@blumen.example", pw)
		agent.want("conversation", agent.get(convPath), 200)
		agent.see("Window closed")
		agent.notSee("Send a file")
		agent.want("after the window", agent.postTyped(convPath+"/attach", nil, "file", "tulpen.jpg", "image/jpeg", jpeg), 400)
		agent.see("only a template may go out", "(Error 131047)")
		if n := kept(); n != 3 {
			t.Fatalf("after the refused send the endpoint keeps %d files, want the 3 sent", n)
		}
	})
}
