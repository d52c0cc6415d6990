package cloudapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestSendResponseAppendJSON: the hand-written encoding of the answer to a
// send is byte for byte what json.Encoder writes, escapes included.
func TestSendResponseAppendJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    SendResponse
	}{
		{"text", NewSendResponse(SendRequest{Type: TypeText, To: "4915100000001"}, "wamid.HBgNNDkxNTEwMDAwMDAwMRUCABEYEjEyMzQ1Njc4OTAxMjM=")},
		{"template", NewSendResponse(SendRequest{Type: TypeTemplate, To: "+49 151 0000 0001"}, "wamid.X")},
		{"empty", SendResponse{}},
		{"empty lists", SendResponse{MessagingProduct: "whatsapp", Contacts: []ResponseContact{}, Messages: []ResponseMessage{}}},
		{"several", SendResponse{MessagingProduct: "whatsapp",
			Contacts: []ResponseContact{{Input: "1", WaID: "1"}, {Input: "2", WaID: "2"}},
			Messages: []ResponseMessage{{ID: "a"}, {ID: "b", MessageStatus: "paused"}}}},
		{"escapes", SendResponse{MessagingProduct: "what\"s\\app",
			Contacts: []ResponseContact{{Input: "<b>&</b>", WaID: "tab\there\nü\u2028\x7f"}},
			Messages: []ResponseMessage{{ID: "\x01\xff", MessageStatus: "ok"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(tc.r); err != nil {
				t.Fatal(err)
			}
			got := tc.r.AppendJSON([]byte("prefix"))
			if !bytes.Equal(got, append([]byte("prefix"), want.Bytes()...)) {
				t.Errorf("AppendJSON:\n got %q\nwant %q", got, "prefix"+want.String())
			}
		})
	}
}
