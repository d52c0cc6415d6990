package endpoint

import (
	"log/slog"
	"testing"
)

// BenchmarkNote is the note a Business API send leaves in the outbox
// (unheard.go): made on every hosted send.
func BenchmarkNote(b *testing.B) {
	e := &Endpoint{log: slog.New(slog.DiscardHandler)}
	body := []byte(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915100000001","type":"text","text":{"preview_url":false,"body":"Your order 4711 has shipped and arrives on Tuesday."}}`)
	rec := MessageRecord{Number: 8, Peer: "+4915100000001", Outgoing: true, Category: "service"}
	in := InboxMessage{Number: 8, Peer: "+4915100000001", Outgoing: true, Type: "text", Text: "Your order 4711 has shipped and arrives on Tuesday.", JSON: body}
	b.ReportAllocs()
	for b.Loop() {
		if n := e.noteOf(rec, false, in); len(n) == 0 {
			b.Fatal("no note")
		}
	}
}
