package server_test

import (
	"net/http"
	"testing"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestDevAllowsLoopback: `kontor serve --dev` lets a business's webhook
// URL be on loopback (a developer's receiver on the same machine), unless
// --allow-networks says what such URLs may reach.
func TestDevAllowsLoopback(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"dev", nil, http.StatusOK},
		{"dev with allow networks", []string{"--allow-networks", "10.8.0.0/16"}, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := kontortest.StartProcess(t, "", c.args...)
			var out map[string]any
			if code := kontortest.Call(t, p.URL, http.MethodPost, "/admin/v1/businesses", p.Token(), map[string]any{
				"name": "Dev Blumen", "phone": "+4930555001", "webhook_url": "http://127.0.0.1:9/hook"}, &out); code != c.want {
				t.Fatalf("a webhook URL on loopback: HTTP %d %v, want %d", code, out, c.want)
			}
		})
	}
}
