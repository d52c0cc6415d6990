package storetest

import (
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/wire"
)

// testHeldDelivery: HeldDelivery finds a delivered receipt naming a
// message that is still queued for a device of the number's account
// (among other receipts and entries), with who sent it and when; not a
// read receipt, not another account's, not once it is acknowledged.
func testHeldDelivery(t *testing.T, e *env) {
	const business kontor.Phone = "+4930999990"
	_, dev := e.register(business)
	_, other := e.register(phoneB)
	msg, msg2, elsewhere := e.ids.Next(), e.ids.Next(), e.ids.Next()
	receipt := func(device kontor.ID, from kontor.Phone, status string, ts time.Time, ids ...kontor.ID) router.Entry {
		return router.Entry{Device: device, ID: e.ids.Next(), Kind: router.KindReceipt, From: from, TS: ts.UnixMilli(),
			Expires: t0.Add(time.Hour).UnixMilli(), Body: router.EncodeReceipt(router.Receipt{Status: status, IDs: ids})}
	}
	delivered := receipt(dev.ID, phoneA, wire.StatusDelivered, t0.Add(time.Second), e.ids.Next(), msg)
	e.insert(e.entry(dev.ID, "a person's message"),
		receipt(dev.ID, phoneA, wire.StatusRead, t0.Add(2*time.Second), msg2),
		delivered,
		receipt(other.ID, phoneA, wire.StatusDelivered, t0, elsewhere))
	for _, tc := range []struct {
		name string
		id   kontor.ID
		ok   bool
	}{
		{"delivered, held", msg, true},
		{"only read", msg2, false},
		{"another account's", elsewhere, false},
		{"never sent", e.ids.Next(), false},
	} {
		from, at, ok, err := e.db.HeldDelivery(e.ctx, business, tc.id)
		if err != nil || ok != tc.ok || (ok && (from != phoneA || !at.Equal(t0.Add(time.Second)))) {
			t.Errorf("%s: HeldDelivery = %s, %v, %v, %v", tc.name, from, at, ok, err)
		}
	}
	e.tx(func(tx router.Tx) error { _, err := tx.Delete(dev.ID, []kontor.ID{delivered.ID}); return err })
	if _, _, ok, err := e.db.HeldDelivery(e.ctx, business, msg); ok || err != nil {
		t.Errorf("HeldDelivery after the ack = %v, %v", ok, err)
	}
}
