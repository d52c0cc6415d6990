package wire_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/wire"
)

func TestDecodeFrame(t *testing.T) {
	big := strings.Repeat("A", (wire.MaxPayload/3)*4+8) // base64 of more than MaxPayload bytes
	tests := []struct {
		name string
		in   string
		code string // "" = valid
	}{
		{"hello", `{"type":"hello","v":1,"credential":"kd_1_x"}`, ""},
		{"hello without credential", `{"type":"hello","v":1}`, wire.ErrUnauthenticated},
		{"send", `{"type":"send","ref":"r1","to":"+4915112345678","payloads":[{"device_id":1,"body":"aGk="}]}`, ""},
		{"send with sync", `{"type":"send","ref":"r1","to":"+4915112345678","payloads":[{"device_id":1,"body":"aGk="}],"sync":[{"device_id":2,"body":"aGk="}]}`, ""},
		{"send without ref", `{"type":"send","to":"+4915112345678","payloads":[{"device_id":1,"body":"aGk="}]}`, wire.ErrBadFrame},
		{"send long ref", `{"type":"send","ref":"` + strings.Repeat("r", 65) + `","to":"+4915112345678","payloads":[{"device_id":1,"body":"aGk="}]}`, wire.ErrBadFrame},
		{"send bad phone", `{"type":"send","ref":"r","to":"015112345678","payloads":[{"device_id":1,"body":"aGk="}]}`, wire.ErrBadFrame},
		{"send no payloads", `{"type":"send","ref":"r","to":"+4915112345678"}`, wire.ErrBadFrame},
		{"send empty body", `{"type":"send","ref":"r","to":"+4915112345678","payloads":[{"device_id":1,"body":""}]}`, wire.ErrBadFrame},
		{"send device 0", `{"type":"send","ref":"r","to":"+4915112345678","payloads":[{"device_id":0,"body":"aGk="}]}`, wire.ErrBadFrame},
		{"send twice same device", `{"type":"send","ref":"r","to":"+4915112345678","payloads":[{"device_id":1,"body":"aGk="},{"device_id":1,"body":"aGk="}]}`, wire.ErrBadFrame},
		{"send oversize", `{"type":"send","ref":"r","to":"+4915112345678","payloads":[{"device_id":1,"body":"` + big + `"}]}`, wire.ErrTooLarge},
		{"send bad base64", `{"type":"send","ref":"r","to":"+4915112345678","payloads":[{"device_id":1,"body":"!!"}]}`, wire.ErrBadFrame},
		{"ack", `{"type":"ack","ids":["1","2"]}`, ""},
		{"ack empty", `{"type":"ack","ids":[]}`, wire.ErrBadFrame},
		{"ack bad id", `{"type":"ack","ids":["x"]}`, wire.ErrBadFrame},
		{"ack numeric id", `{"type":"ack","ids":[5]}`, wire.ErrBadFrame},
		{"read", `{"type":"read","to":"+4915112345678","ids":["1"]}`, ""},
		{"read no to", `{"type":"read","ids":["1"]}`, wire.ErrBadFrame},
		{"typing", `{"type":"typing","to":"+4915112345678","on":true}`, ""},
		{"watch", `{"type":"watch","phones":["+4915112345678"]}`, ""},
		{"watch bad", `{"type":"watch","phones":["nope"]}`, wire.ErrBadFrame},
		{"ping", `{"type":"ping"}`, ""},
		{"no type", `{}`, wire.ErrBadFrame},
		{"unknown type", `{"type":"launch"}`, wire.ErrBadFrame},
		{"not json", `hello`, wire.ErrBadFrame},
		{"array", `[1,2]`, wire.ErrBadFrame},
		{"null", `null`, wire.ErrBadFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wire.DecodeFrame([]byte(tt.in))
			var fe *wire.FrameError
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.code != "" && (err == nil || !errors.As(err, &fe)):
				t.Fatalf("want %s, got %v", tt.code, err)
			case tt.code != "" && fe.Code != tt.code:
				t.Fatalf("code = %s (%s), want %s", fe.Code, fe.Msg, tt.code)
			}
		})
	}
}

func TestDecodeFrameTooLarge(t *testing.T) {
	_, err := wire.DecodeFrame(make([]byte, wire.MaxFrame+1))
	var fe *wire.FrameError
	if !errors.As(err, &fe) || fe.Code != wire.ErrTooLarge {
		t.Fatalf("got %v", err)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","v":1,"credential":"kd_1_abc"}`,
		`{"type":"send","ref":"r1","to":"+4915112345678","payloads":[{"device_id":1,"body":"aGk="}],"sync":[{"device_id":2,"body":"aGk="}]}`,
		`{"type":"ack","ids":["1","2"]}`,
		`{"type":"read","to":"+4915112345678","ids":["1"]}`,
		`{"type":"watch","phones":["+4915112345678"]}`,
		`{"type":"typing","to":"+1","on":true}`,
		`{"type":"ping"}`, `{`, `null`, `{"type":"send","payloads":[{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := wire.DecodeFrame(b)
		if err != nil {
			var fe *wire.FrameError
			if !errors.As(err, &fe) || fe.Code == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		// A frame that passed the checks must survive a round trip.
		out, err := json.Marshal(fr)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := wire.DecodeFrame(out); err != nil {
			t.Fatalf("re-decoding a valid frame failed: %v\n%s", err, out)
		}
	})
}

func TestContent(t *testing.T) {
	b, err := wire.EncodeContent(wire.Content{Type: "text", Text: "hallo"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := wire.DecodeContent(b)
	if err != nil || c.Text != "hallo" || c.V != wire.ContentVersion {
		t.Fatalf("round trip: %+v %v", c, err)
	}
	for _, bad := range []string{`x`, `{"type":"text"}`, `{"v":1}`, `{"v":1,"type":"text","text":"` + strings.Repeat("x", wire.MaxText+1) + `"}`} {
		if _, err := wire.DecodeContent([]byte(bad)); err == nil {
			t.Errorf("DecodeContent(%.40q) accepted", bad)
		}
	}
}
