package endpoint

import (
	"context"
	"fmt"
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
	}{
		{"unknown recipient", &client.SendError{Code: wire.ErrUnknownRecipient}, cloudapi.CodeUndeliverable},
		{"no account", kontor.Errorf(kontor.NotFound, "test", "no account"), cloudapi.CodeUndeliverable},
		{"withdrawn", fmt.Errorf("sending: %w", client.ErrWithdrawn), cloudapi.CodeServiceUnavailable},
		{"fate unknown", fmt.Errorf("sending: %w", client.ErrFateUnknown), cloudapi.CodeServiceUnavailable},
		{"deadline", fmt.Errorf("sending: %w", context.DeadlineExceeded), cloudapi.CodeServiceUnavailable},
		{"commit failed", &client.SendError{Code: wire.ErrUnavailable, Message: "the message could not be stored; try again"}, cloudapi.CodeServiceUnavailable},
		{"rate limited", &client.SendError{Code: wire.ErrRateLimited, Message: "too many frames"}, cloudapi.CodeThroughput},
		{"server fault", &client.SendError{Code: wire.ErrInternal, Message: "something went wrong on the server"}, cloudapi.CodeUnknown},
		{"too large", &client.SendError{Code: wire.ErrTooLarge, Message: "payload too large"}, cloudapi.CodeInvalidValue},
		{"bad frame", &client.SendError{Code: wire.ErrBadFrame, Message: "bad content"}, cloudapi.CodeInvalidValue},
		{"other", fmt.Errorf("connection lost"), cloudapi.CodeServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sendError(tt.err); got.Code != tt.code {
				t.Errorf("sendError(%v) = %d %q, want %d", tt.err, got.Code, got.Message, tt.code)
			}
		})
	}
}
