package bizapi_test

import (
	"net/http"
	"testing"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestSendToNoOne: a template to a number no one uses on kontor answers
// 131026 at once: a send refused for good is no send that ran out of
// time (131016), whose withdrawal would tell the business to try again.
func TestSendToNoOne(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		biz := newBusiness(t, s, map[string]any{"name": "Blumen Nora", "phone": "+4930222229"})
		if code, out := api(t, s, http.MethodPost, "/v21.0/"+biz.WABA+"/message_templates", biz.Token, orderReady("de")); code != 200 || out["status"] != "APPROVED" {
			t.Fatalf("create template: %d %v", code, out)
		}
		code, out := api(t, s, http.MethodPost, "/v21.0/"+biz.Number+"/messages", biz.Token, sendOrderReady("4915100000077", "Nora", "#42"))
		if code != http.StatusBadRequest || errCode(out) != cloudapi.CodeUndeliverable {
			t.Fatalf("send to a number not on kontor: %d %v; want 400 with code 131026", code, out)
		}
	})
}
