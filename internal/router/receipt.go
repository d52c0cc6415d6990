package router

import (
	"encoding/json"

	"github.com/kontor-chat/kontor"
)

// Receipt is the body of a KindReceipt entry.
type Receipt struct {
	Status string      `json:"status"` // wire.StatusDelivered, StatusRead or StatusFailed
	IDs    []kontor.ID `json:"ids"`
}

// EncodeReceipt serializes r for an entry's Body.
func EncodeReceipt(r Receipt) []byte {
	b, _ := json.Marshal(r)
	return b
}

// DecodeReceipt parses a receipt entry's Body.
func DecodeReceipt(b []byte) (Receipt, error) {
	var r Receipt
	err := json.Unmarshal(b, &r)
	return r, err
}
