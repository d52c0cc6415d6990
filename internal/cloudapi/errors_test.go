package cloudapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
)

func TestErrorJSON(t *testing.T) {
	e := NewError(CodeReengagement, "More than 24 hours have passed since the recipient last replied.")
	e.FBTraceID = "Az8or2yhqkZfEZ-_4Qn_Bam"
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,` +
		`"error_data":{"messaging_product":"whatsapp","details":"More than 24 hours have passed since the recipient last replied."},` +
		`"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`
	if string(b) != want {
		t.Errorf("\n got %s\nwant %s", b, want)
	}
	e.Subcode = 2494010
	b, _ = json.Marshal(*e) // a value marshals the same way
	if !strings.Contains(string(b), `"error_subcode":2494010`) {
		t.Errorf("subcode missing: %s", b)
	}
	if !strings.Contains(e.Error(), "131047") || !strings.Contains(e.Error(), "24 hours") {
		t.Errorf("Error() = %q", e.Error())
	}
	// A bare Error still writes the whole shape.
	b, _ = json.Marshal(&Error{Code: CodeThroughput})
	var back struct {
		Error struct {
			Message   string `json:"message"`
			Type      string `json:"type"`
			Code      int    `json:"code"`
			ErrorData struct {
				MessagingProduct string `json:"messaging_product"`
				Details          string `json:"details"`
			} `json:"error_data"`
			FBTraceID string `json:"fbtrace_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Error.Message != "(#130429) Rate limit hit" || back.Error.Type != "OAuthException" || back.Error.Code != 130429 ||
		back.Error.ErrorData.MessagingProduct != "whatsapp" || back.Error.ErrorData.Details == "" || back.Error.FBTraceID == "" {
		t.Errorf("bare error: %s", b)
	}
}

func TestErrorCodes(t *testing.T) {
	for _, c := range []struct {
		code, status int
	}{
		{0, 401}, {190, 401}, {10, 403}, {200, 403}, {100, 400}, {131000, 500}, {131005, 403}, {131008, 400}, {131009, 400},
		{131021, 400}, {131026, 400}, {131030, 400}, {131045, 400}, {131047, 400}, {131051, 400}, {131052, 400},
		{131053, 400}, {131056, 429}, {130429, 429}, {132000, 400}, {132001, 404}, {132012, 400}, {132015, 400},
		{132016, 400}, {133010, 400}, {80007, 429}, {4, 429}, {131016, 503},
	} {
		e := NewError(c.code, "d")
		if e.HTTPStatus != c.status || e.Status() != c.status {
			t.Errorf("code %d: status %d, want %d", c.code, e.HTTPStatus, c.status)
		}
		if e.Message != fmt.Sprintf("(#%d) %s", c.code, Title(c.code)) || Title(c.code) == "Unknown error" {
			t.Errorf("code %d: message %q", c.code, e.Message)
		}
	}
	// Only our own faults and outages answer 5xx.
	for code, info := range codes {
		if info.status >= 500 && code != CodeUnknown && code != CodeServiceUnavailable && code != CodeMaintenance {
			t.Errorf("code %d answers %d", code, info.status)
		}
	}
	if e := NewError(999999, "x"); e.HTTPStatus != 400 || Title(999999) != "Unknown error" {
		t.Errorf("unknown code: %+v", e)
	}
	if a, b := NewError(100, "x"), NewError(100, "x"); a.FBTraceID == b.FBTraceID || len(a.FBTraceID) != 23 {
		t.Errorf("trace ids %q %q", a.FBTraceID, b.FBTraceID)
	}
	var err error = Missing("text.body")
	var e *Error
	if !errors.As(err, &e) || e.Code != 131008 || e.Details != "The parameter text.body is required." {
		t.Errorf("Missing: %+v", e)
	}
	if e := Internal(); e.Code != 131000 || e.HTTPStatus != http.StatusInternalServerError {
		t.Errorf("Internal: %+v", e)
	}
	if w := NewError(CodeMediaDownload, "too big").WebhookError(); w.Code != 131052 || w.Title != "Media download error" || w.ErrorData.Details != "too big" {
		t.Errorf("WebhookError: %+v", w)
	}
}

func TestFromKind(t *testing.T) {
	for _, c := range []struct {
		kind         kontor.Kind
		code, status int
	}{
		{kontor.Invalid, 100, 400}, {kontor.NotFound, 100, 404}, {kontor.Conflict, 100, 400}, {kontor.Unauthenticated, 190, 401},
		{kontor.Forbidden, 10, 403}, {kontor.RateLimited, 130429, 429}, {kontor.Unavailable, 131016, 503}, {kontor.Internal, 131000, 500},
	} {
		e := FromKind(c.kind, "")
		if e.Code != c.code || e.HTTPStatus != c.status || e.Details == "" {
			t.Errorf("%v: %+v", c.kind, e)
		}
	}
	if e := FromKind(kontor.Internal, "secret path /var/x"); strings.Contains(e.Details, "secret") {
		t.Errorf("internal details shown: %q", e.Details)
	}
}
