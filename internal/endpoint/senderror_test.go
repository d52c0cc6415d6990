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
		name     string
		err      error
		code     int
		want     string // in the details ("": not checked)
		noOpaque bool   // the request set no biz_opaque_callback_data
	}{
		{"unknown recipient", &client.SendError{Code: wire.ErrUnknownRecipient}, cloudapi.CodeUndeliverable, "", false},
		{"no account", kontor.Errorf(kontor.NotFound, "test", "no account"), cloudapi.CodeUndeliverable, "", false},
		{"withdrawn", fmt.Errorf("sending: %w", client.ErrWithdrawn), cloudapi.CodeServiceUnavailable, "so it was not sent; try again", false},
		{"fate unknown", fmt.Errorf("sending: %w", client.ErrFateUnknown), cloudapi.CodeServiceUnavailable, "will not go out later. Do not send it again", false},
		{"stopping, withdrawn", fmt.Errorf("%w: %w", errStopped, client.ErrWithdrawn), cloudapi.CodeServiceUnavailable, "so it was not sent; try again", false},
		{"stopping, fate unknown", fmt.Errorf("%w: %w", errStopped, client.ErrFateUnknown), cloudapi.CodeServiceUnavailable, "will not go out later. Do not send it again", false},
		{"stopping, not queued", errStopped, cloudapi.CodeServiceUnavailable, "so it was not sent; try again", false},
		{"withdrawal not recorded", fmt.Errorf("%w: %w", errFateOpen, client.ErrClosed), cloudapi.CodeServiceUnavailable, "may still go out. Do not send it again", false},
		{"fate unknown: how to match it", fmt.Errorf("sending: %w", client.ErrFateUnknown), cloudapi.CodeServiceUnavailable, "carries the biz_opaque_callback_data", false},
		{"withdrawal not recorded: how to match it", fmt.Errorf("%w: %w", errFateOpen, client.ErrClosed), cloudapi.CodeServiceUnavailable, "or goes out after the takeover, carries the biz_opaque_callback_data", false},
		{"fate unknown, no callback data", fmt.Errorf("sending: %w", client.ErrFateUnknown), cloudapi.CodeServiceUnavailable, "this request set no biz_opaque_callback_data", true},
		{"withdrawal not recorded, no callback data", fmt.Errorf("%w: %w", errFateOpen, client.ErrClosed), cloudapi.CodeServiceUnavailable, "this request set no biz_opaque_callback_data", true},
		{"deadline", fmt.Errorf("sending: %w", context.DeadlineExceeded), cloudapi.CodeServiceUnavailable, "", false},
		{"commit failed", &client.SendError{Code: wire.ErrUnavailable, Message: "the message could not be stored; try again"}, cloudapi.CodeServiceUnavailable, "", false},
		{"rate limited", &client.SendError{Code: wire.ErrRateLimited, Message: "too many frames"}, cloudapi.CodeThroughput, "", false},
		{"server fault", &client.SendError{Code: wire.ErrInternal, Message: "something went wrong on the server"}, cloudapi.CodeUnknown, "", false},
		{"too large", &client.SendError{Code: wire.ErrTooLarge, Message: "payload too large"}, cloudapi.CodeInvalidValue, "", false},
		{"bad frame", &client.SendError{Code: wire.ErrBadFrame, Message: "bad content"}, cloudapi.CodeInvalidValue, "", false},
		{"other", fmt.Errorf("connection lost"), cloudapi.CodeServiceUnavailable, "try again", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sendError(tt.err, !tt.noOpaque); got.Code != tt.code || !strings.Contains(got.Details, tt.want) {
				t.Errorf("sendError(%v) = %d %q, want %d with %q", tt.err, got.Code, got.Details, tt.code, tt.want)
			}
		})
	}
}

// TestCommittedUnheard: a send whose fate the device could not learn is
// answered with its id when its writes rode the router's committed
// transaction of it, and only then; a send withdrawn before any copy
// reached the platform, or refused, is never taken for sent.
func TestCommittedUnheard(t *testing.T) {
	const id = kontor.ID(4711)
	committed := &ride{done: true, pend: &TxWrites{Msgs: []MessageRecord{{ID: id, Peer: "+4915100000001"}}}}
	declined := &ride{} // its transaction failed, or the writes follow the send
	tests := []struct {
		name string
		err  error
		rd   *ride
		ok   bool
	}{
		{"fate unknown, committed", fmt.Errorf("sending: %w", client.ErrFateUnknown), committed, true},
		{"stopping, fate unknown, committed", fmt.Errorf("%w: %w", errStopped, client.ErrFateUnknown), committed, true},
		{"withdrawal not recorded, committed", fmt.Errorf("%w: %w", errFateOpen, client.ErrClosed), committed, true},
		{"fate unknown, not committed", fmt.Errorf("sending: %w", client.ErrFateUnknown), declined, false},
		{"fate unknown, no rider", fmt.Errorf("sending: %w", client.ErrFateUnknown), nil, false},
		{"withdrawal not recorded, no rider", fmt.Errorf("%w: %w", errFateOpen, client.ErrClosed), nil, false},
		{"withdrawn", fmt.Errorf("sending: %w", client.ErrWithdrawn), committed, false},
		{"stopping, not queued", errStopped, committed, false},
		{"refused", &client.SendError{Code: wire.ErrBadFrame, Message: "bad content"}, committed, false},
		{"sent", nil, committed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, ok := committedUnheard(tt.err, tt.rd)
			if ok != tt.ok || (ok && rec.ID != id) {
				t.Errorf("committedUnheard(%v) = %d, %v; want ok %v (id %d)", tt.err, rec.ID, ok, tt.ok, id)
			}
		})
	}
}

// TestRidesLate: only a send whose copy may still be committed keeps its
// rider after the call answered; one committed, refused or withdrawn
// before any copy reached the platform does not.
func TestRidesLate(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"committed", nil, false},
		{"fate unknown", fmt.Errorf("sending: %w", client.ErrFateUnknown), true},
		{"stopping, fate unknown", fmt.Errorf("%w: %w", errStopped, client.ErrFateUnknown), true},
		{"withdrawal not recorded", fmt.Errorf("%w: %w", errFateOpen, client.ErrClosed), true},
		{"withdrawn", fmt.Errorf("sending: %w", client.ErrWithdrawn), false},
		{"stopping, not queued", errStopped, false},
		{"refused", &client.SendError{Code: wire.ErrUnknownRecipient}, false},
	}
	for _, tt := range tests {
		if got := ridesLate(tt.err); got != tt.want {
			t.Errorf("%s: ridesLate(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
