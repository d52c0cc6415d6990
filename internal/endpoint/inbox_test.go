package endpoint

import (
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/wire"
)

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        wire.Content
		typ, txt string
	}{
		{"text", wire.Content{Type: wire.ContentText, Text: " Hallo "}, "text", "Hallo"},
		{"image with caption", wire.Content{Type: wire.ContentImage, Text: "Der Strauß", Media: &wire.Media{}}, "image", "[image] Der Strauß"},
		{"document", wire.Content{Type: wire.ContentDocument, Media: &wire.Media{FileName: "rechnung.pdf"}}, "document", "[document] rechnung.pdf"},
		{"reaction", wire.Content{Type: wire.ContentReaction, Reaction: &wire.Reaction{Emoji: "🌷"}}, "reaction", "[reaction] 🌷"},
		{"reaction removed", wire.Content{Type: wire.ContentReaction, Reaction: &wire.Reaction{}}, "reaction", "[reaction removed]"},
		{"button reply", wire.Content{Type: wire.ContentInteractiveReply, InteractiveReply: &wire.InteractiveReply{Type: "button_reply", Title: "Ja"}}, "interactive", "Ja"},
		{"template button", wire.Content{Type: wire.ContentInteractiveReply, InteractiveReply: &wire.InteractiveReply{Type: "quick_reply", Title: "Danke"}}, "button", "Danke"},
		{"template", wire.Content{Type: wire.ContentTemplate, Template: &wire.Template{Name: "t", Header: &wire.Header{Type: "text", Text: "Bestellung #5"}, Body: "Hallo Ben", Footer: "Blumen"}},
			"template", "Bestellung #5\nHallo Ben\nBlumen"},
		{"order", wire.Content{Type: wire.ContentOrder, Order: &wire.Order{Items: []wire.OrderItem{{Quantity: 2}, {Quantity: 3}}}}, "order", "[order] 5 item(s)"},
		{"unknown", wire.Content{Type: "hologram"}, "hologram", "[hologram]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, txt := Summary(tc.c)
			if typ != tc.typ || txt != tc.txt {
				t.Fatalf("Summary = %q, %q; want %q, %q", typ, txt, tc.typ, tc.txt)
			}
		})
	}
	_, long := Summary(wire.Content{Type: wire.ContentText, Text: strings.Repeat("ü", maxInboxText)})
	if len(long) > maxInboxText+len("…") || !strings.HasSuffix(long, "…") || !strings.HasPrefix(long, "üü") {
		t.Fatalf("a long text is not clipped on a rune boundary: %d bytes", len(long))
	}
}
