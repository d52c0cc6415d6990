package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// fakeSender takes uploads as media 42 and answers sends with err.
type fakeSender struct {
	err     *cloudapi.Error
	sent    []string
	deleted []kontor.ID
}

func (f *fakeSender) Send(_ context.Context, body []byte) (any, *cloudapi.Error) {
	f.sent = append(f.sent, string(body))
	return nil, f.err
}

func (f *fakeSender) UploadMedia(_ context.Context, r *http.Request) (any, *cloudapi.Error) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return nil, cloudapi.Internal()
	}
	return map[string]string{"id": "42"}, nil
}

func (f *fakeSender) DeleteMedia(_ context.Context, id kontor.ID) (any, *cloudapi.Error) {
	f.deleted = append(f.deleted, id)
	return nil, nil
}

// TestSendFileUpload: the upload of a send that was refused is deleted;
// that of a send that went out, or may have (131016: sent but not
// recorded, or not known in time), is kept, or the person could not
// fetch the file of a message they have.
func TestSendFileUpload(t *testing.T) {
	tests := []struct {
		name    string
		err     *cloudapi.Error
		deleted bool
	}{
		{"sent", nil, false},
		{"window closed", cloudapi.NewError(cloudapi.CodeReengagement, "closed"), true},
		{"undeliverable", cloudapi.NewError(cloudapi.CodeUndeliverable, "not on kontor"), true},
		{"throttled", cloudapi.NewError(cloudapi.CodeThroughput, "slow down"), true},
		{"sent, not recorded", cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The message went out as wamid.X, but its record could not be stored; do not send it again."), false},
		{"not known in time", cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The message could not be stored in time; it may still go out."), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &fakeSender{err: tt.err}
			stage, cerr := sendFile(context.Background(), e, slog.New(slog.DiscardHandler), strings.NewReader("%PDF-1.4"),
				"preise.pdf", "application/pdf", "document", "Preise", "+4915112345681")
			if cerr != tt.err || (cerr != nil && stage != stageSend) {
				t.Fatalf("sendFile = %v, %v; want the send's %v", stage, cerr, tt.err)
			}
			if len(e.sent) != 1 || !strings.Contains(e.sent[0], `"document":{"caption":"Preise","id":"42"}`) {
				t.Fatalf("sent %q", e.sent)
			}
			if got := len(e.deleted) == 1 && e.deleted[0] == 42; got != tt.deleted || len(e.deleted) > 1 {
				t.Errorf("deleted %v, want the upload deleted: %v", e.deleted, tt.deleted)
			}
		})
	}
}
