package client

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// BenchmarkProfileSend records what a business endpoint's profile records
// for each message it sends, to 50 people in turn, without fsync (as
// hosted endpoints run): the queued message, then its sent status.
func BenchmarkProfileSend(b *testing.B) { benchProfileSend(b, nil) }

// BenchmarkProfileSendNoted is BenchmarkProfileSend with the note a
// Business API send leaves with the message (its record's fields and the
// request's body, as internal/endpoint writes it).
func BenchmarkProfileSendNoted(b *testing.B) {
	benchProfileSend(b, []byte(`{"c":"service","t":"text","x":"a message of ordinary length, about as long as most are",`+
		`"j":{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915100000001","type":"text","text":{"preview_url":false,"body":"a message of ordinary length, about as long as most are"}}}`))
}

func benchProfileSend(b *testing.B, note []byte) {
	dir := filepath.Join(b.TempDir(), "profile")
	a := Account{Server: "http://127.0.0.1:1", DeviceCredentials: wire.DeviceCredentials{Phone: alice, DeviceID: 1, Credential: "kd_x"}}
	if err := createProfile(dir, a); err != nil {
		b.Fatal(err)
	}
	p, err := openProfile(&DirStorage{Dir: dir, NoSync: true}, dir, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	peers := make([]kontor.Phone, 50)
	for i := range peers {
		peers[i] = kontor.Phone(fmt.Sprintf("+49151%08d", i+1))
	}
	i := 0
	for b.Loop() {
		peer := peers[i%len(peers)]
		ref := fmt.Sprint("ref", i)
		m := Message{Ref: ref, TS: int64(i), Peer: peer, From: alice, FromDevice: 1, Outgoing: true, Status: StatusPending, Note: note,
			Content: wire.Content{V: 1, Type: "text", Text: "a message of ordinary length, about as long as most are"}}
		if err := p.write([]change{{peer, record{Msg: &m}}}); err != nil {
			b.Fatal(err)
		}
		if err := p.write([]change{{peer, record{Ref: ref, ID: kontor.ID(i + 1), TS: int64(i), Status: StatusSent}}}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
