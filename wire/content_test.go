package wire

import (
	"math"
	"strings"
	"testing"
)

func TestContentCheck(t *testing.T) {
	k32 := make([]byte, 32)
	media := &Media{ID: "0123456789abcdef0123456789abcdef", Size: 10, Key: k32, Digest: k32}
	for _, c := range []struct {
		name string
		c    Content
		ok   bool
	}{
		{"text", Content{Type: ContentText, Text: "hi"}, true},
		{"empty text", Content{Type: ContentText}, false},
		{"long text", Content{Type: ContentText, Text: strings.Repeat("x", MaxText+1)}, false},
		{"bad utf-8", Content{Type: ContentText, Text: "\xff"}, false},
		{"no type", Content{Text: "hi"}, false},
		{"unknown kind is kept", Content{Type: "hologram"}, true},
		{"reaction", Content{Type: ContentReaction, Reaction: &Reaction{MessageID: "1", Emoji: "👍"}}, true},
		{"reaction removed", Content{Type: ContentReaction, Reaction: &Reaction{MessageID: "1"}}, true},
		{"reaction without message", Content{Type: ContentReaction, Reaction: &Reaction{Emoji: "👍"}}, false},
		{"image", Content{Type: ContentImage, Media: media, Text: "caption"}, true},
		{"image without media", Content{Type: ContentImage}, false},
		{"document short key", Content{Type: ContentDocument, Media: &Media{ID: "x", Key: k32[:16], Digest: k32}}, false},
		{"location", Content{Type: ContentLocation, Location: &Location{Latitude: 52.5, Longitude: 13.4, Name: "Berlin"}}, true},
		{"location off the map", Content{Type: ContentLocation, Location: &Location{Latitude: 91}}, false},
		{"location NaN", Content{Type: ContentLocation, Location: &Location{Latitude: math.NaN()}}, false},
		{"contacts", Content{Type: ContentContacts, Contacts: []Contact{{Name: "Ann", Phones: []ContactPhone{{Phone: "+4915100000001"}}}}}, true},
		{"contact without name", Content{Type: ContentContacts, Contacts: []Contact{{}}}, false},
		{"no contacts", Content{Type: ContentContacts}, false},
	} {
		err := c.c.Check()
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.ok {
			b, err := EncodeContent(c.c)
			if err != nil {
				t.Errorf("%s: encode: %v", c.name, err)
				continue
			}
			back, err := DecodeContent(b)
			if err != nil || back.Type != c.c.Type || back.V != ContentVersion {
				t.Errorf("%s: round trip: %+v %v", c.name, back, err)
			}
		}
	}
}

// FuzzDecodeContent feeds the content decoder what a peer could send: it
// must never panic, and what it accepts must encode again and decode to the
// same kind.
func FuzzDecodeContent(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"text","text":"hallo"}`,
		`{"v":1,"type":"image","text":"cap","media":{"id":"0123456789abcdef0123456789abcdef","size":3,"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`,
		`{"v":1,"type":"location","location":{"latitude":1e308,"longitude":-0}}`,
		`{"v":1,"type":"contacts","contacts":[{"name":"A","phones":[{"phone":"+1"}]}]}`,
		`{"v":1,"type":"reaction","reaction":{"message_id":"1","emoji":""}}`,
		`{"v":2,"type":"future","whatever":[1,2,3]}`,
		`{"v":0}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeContent(b)
		if err != nil {
			return
		}
		out, err := EncodeContent(c)
		if err != nil {
			t.Fatalf("accepted content does not encode: %+v: %v", c, err)
		}
		back, err := DecodeContent(out)
		if err != nil || back.Type != c.Type {
			t.Fatalf("round trip: %+v → %s → %+v %v", c, out, back, err)
		}
	})
}
