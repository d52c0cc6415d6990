package e2e

import (
	"bytes"
	"encoding/json"
	"testing"

	"go.mau.fi/libsignal/keys/chain"
	"go.mau.fi/libsignal/keys/message"
	"go.mau.fi/libsignal/serialize"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/util/optional"
)

// A conversation with earlier states, receiver chains and skipped message
// keys: every part of a record the codec writes.
func richSession(t *testing.T) (a, b *party) {
	t.Helper()
	kd := newKeyDir(t)
	a, b = kd.join(t, alice, t.TempDir()), kd.join(t, bob, t.TempDir())
	b.recv(a, a.send(b, "one"), "one")
	a.recv(b, b.send(a, "two"), "two")
	skipped := a.send(b, "skipped")
	b.recv(a, a.send(b, "after the skipped one"), "after the skipped one")
	a.recv(b, b.send(a, "three"), "three")
	b.recv(a, skipped, "skipped")
	return a, b
}

func TestSessionCodecRoundTrip(t *testing.T) {
	_, b := richSession(t)
	stored := sessionBytes(t, b, alice)
	rec, _, ok := parseStored(stored)
	if !ok || rec[0] != codecMagic {
		t.Fatalf("stored session is not in the binary form: % x", stored[:min(8, len(stored))])
	}
	var c sessionCodec
	st, err := c.Deserialize(rec)
	if err != nil {
		t.Fatal(err)
	}
	if st.SessionState == nil || st.SessionState.SenderChain == nil || len(st.SessionState.ReceiverChains) == 0 {
		t.Fatalf("the record lacks parts the test means to cover: %+v", st.SessionState)
	}
	// Through libsignal's JSON and back: nothing is lost either way.
	js := (&serialize.JSONSessionSerializer{}).Serialize(st)
	st2, err := c.Deserialize(js)
	if err != nil {
		t.Fatalf("a JSON record: %v", err)
	}
	if again := c.Serialize(st2); !bytes.Equal(again, rec) {
		t.Fatalf("binary → JSON → binary changed the record:\n% x\n% x", rec, again)
	}
}

// Records written by earlier versions (libsignal's JSON in a JSON wrapper)
// are read, and the conversation goes on with them.
func TestSessionCodecReadsJSONRecords(t *testing.T) {
	a, b := richSession(t)
	for _, p := range []*party{a, b} {
		peer := bob
		if p == b {
			peer = alice
		}
		rec, _, _ := parseStored(sessionBytes(t, p, peer))
		st, err := sessionCodec{}.Deserialize(rec)
		if err != nil {
			t.Fatal(err)
		}
		old, err := json.Marshal(sessionRecord{Record: (&serialize.JSONSessionSerializer{}).Serialize(st)})
		if err != nil {
			t.Fatal(err)
		}
		setSession(t, p, peer, old)
		p.restart()
	}
	b.recv(a, a.send(b, "after the upgrade"), "after the upgrade")
	a.recv(b, b.send(a, "both ways"), "both ways")
	if rec, _, _ := parseStored(sessionBytes(t, a, bob)); rec[0] != codecMagic {
		t.Fatal("the session was not written back in the binary form")
	}
}

func FuzzSessionCodec(f *testing.F) {
	var c sessionCodec
	f.Add([]byte{codecMagic, codecVersion, 0, 0})
	f.Add([]byte(`{"SessionState":null,"PreviousStates":[]}`))
	f.Add(c.Serialize(&sessionStructureSample))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := c.Deserialize(b)
		if err != nil || len(b) == 0 || b[0] == '{' {
			return
		}
		// What reads writes back in a form that reads the same (varints
		// may be written longer than needed in the input).
		once := c.Serialize(st)
		st2, err := c.Deserialize(once)
		if err != nil {
			t.Fatalf("reading what was written: %v", err)
		}
		if twice := c.Serialize(st2); !bytes.Equal(once, twice) {
			t.Fatalf("read and written again: % x, was % x", twice, once)
		}
	})
}

var sessionStructureSample = func() record.SessionStructure {
	k := []byte{5, 1, 2, 3}
	ch := &record.ChainStructure{SenderRatchetKeyPublic: k, SenderRatchetKeyPrivate: []byte{},
		ChainKey: &chain.KeyStructure{Key: k, Index: 7}, MessageKeys: []*message.KeysStructure{{CipherKey: k, MacKey: k, IV: k, Index: 3}, nil}}
	st := &record.StateStructure{LocalIdentityPublic: k, LocalRegistrationID: 9, NeedsRefresh: true,
		PendingKeyExchange: &record.PendingKeyExchangeStructure{Sequence: 2, LocalBaseKeyPublic: k},
		PendingPreKey:      &record.PendingPreKeyStructure{PreKeyID: optional.NewOptionalUint32(4), SignedPreKeyID: 5, BaseKey: k},
		PreviousCounter:    6, ReceiverChains: []*record.ChainStructure{ch, nil}, RemoteIdentityPublic: k, RemoteRegistrationID: 8,
		RootKey: k, SenderBaseKey: k, SenderChain: ch, SessionVersion: 3}
	return record.SessionStructure{SessionState: st, PreviousStates: []*record.StateStructure{st, nil}}
}()
