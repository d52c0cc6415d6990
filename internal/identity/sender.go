package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
)

// DevSender is the development code sender: it logs each code and keeps the
// last one per number so a development server can show it (GET /dev/otp).
// Never use it in production: anyone who reads the log can register any number.
type DevSender struct {
	log   *slog.Logger
	mu    sync.Mutex
	codes map[kontor.Phone]string
}

// NewDevSender returns a DevSender that logs to log.
func NewDevSender(log *slog.Logger) *DevSender {
	return &DevSender{log: log, codes: map[kontor.Phone]string{}}
}

// SendCode logs code and remembers it.
func (d *DevSender) SendCode(_ context.Context, phone kontor.Phone, code string) error {
	d.mu.Lock()
	d.codes[phone] = code
	d.mu.Unlock()
	d.log.Warn("development one-time code (never in production)", "phone", string(phone), "code", code)
	return nil
}

// Last returns the last code sent to phone.
func (d *DevSender) Last(phone kontor.Phone) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.codes[phone]
	return c, ok
}

// HTTPSender POSTs each code to an SMS gateway as JSON:
// {"to":"+4915…","code":"123456","text":"Your kontor code: 123456"}.
// Any 2xx answer counts as sent.
type HTTPSender struct {
	URL    string
	Token  string // sent as "Authorization: Bearer TOKEN" when set
	Client *http.Client
}

// SendCode posts the code to the gateway.
func (h *HTTPSender) SendCode(ctx context.Context, phone kontor.Phone, code string) error {
	body, _ := json.Marshal(map[string]string{"to": string(phone), "code": code, "text": "Your kontor code: " + code})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("sms gateway: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sms gateway answered %s", resp.Status)
	}
	return nil
}
