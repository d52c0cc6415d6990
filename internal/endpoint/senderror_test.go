package endpoint

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/wire"
)

// TestSendError: a refused send answers the public code of why it was
// refused; a platform that could not take it is no bad parameter.
func TestSendError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		want string // in the details ("": not checked)
	}{
		{"unknown recipient", &client.SendError{Code: wire.ErrUnknownRecipient}, cloudapi.CodeUndeliverable, ""},
		{"no account", kontor.Errorf(kontor.NotFound, "test", "no account"), cloudapi.CodeUndeliverable, ""},
		{"withdrawn", fmt.Errorf("sending: %w", client.ErrWithdrawn), cloudapi.CodeServiceUnavailable, "so it was not sent; try again"},
		{"fate unknown", fmt.Errorf("sending: %w", client.ErrFateUnknown), cloudapi.CodeServiceUnavailable, "will not go out later. Do not send it again"},
		{"stopping, withdrawn", fmt.Errorf("%w: %w", errStopped, client.ErrWithdrawn), cloudapi.CodeServiceUnavailable, "so it was not sent; try again"},
		{"stopping, fate unknown", fmt.Errorf("%w: %w", errStopped, client.ErrFateUnknown), cloudapi.CodeServiceUnavailable, "will not go out later. Do not send it again"},
		{"stopping, not queued", errStopped, cloudapi.CodeServiceUnavailable, "so it was not sent; try again"},
		{"withdrawal not recorded", fmt.Errorf("%w: %w", errFateOpen, client.ErrClosed), cloudapi.CodeServiceUnavailable, "may still go out. Do not send it again"},
		{"deadline", fmt.Errorf("sending: %w", context.DeadlineExceeded), cloudapi.CodeServiceUnavailable, ""},
		{"commit failed", &client.SendError{Code: wire.ErrUnavailable, Message: "the message could not be stored; try again"}, cloudapi.CodeServiceUnavailable, ""},
		{"rate limited", &client.SendError{Code: wire.ErrRateLimited, Message: "too many frames"}, cloudapi.CodeThroughput, ""},
		{"server fault", &client.SendError{Code: wire.ErrInternal, Message: "something went wrong on the server"}, cloudapi.CodeUnknown, ""},
		{"too large", &client.SendError{Code: wire.ErrTooLarge, Message: "payload too large"}, cloudapi.CodeInvalidValue, ""},
		{"bad frame", &client.SendError{Code: wire.ErrBadFrame, Message: "bad content"}, cloudapi.CodeInvalidValue, ""},
		{"other", fmt.Errorf("connection lost"), cloudapi.CodeServiceUnavailable, "try again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sendError(tt.err); got.Code != tt.code || !strings.Contains(got.Details, tt.want) {
				t.Errorf("sendError(%v) = %d %q, want %d with %q", tt.err, got.Code, got.Details, tt.code, tt.want)
			}
		})
	}
}
