package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/router"
)

// testTx: a transaction keeps all it did when fn returns nil and nothing
// when fn fails, and returns fn's error with its kind.
func testTx(t *testing.T, e *env) {
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		ret  error
		kind kontor.Kind // of the error Tx returns
	}{
		{"commit", nil, 0},
		{"plain error", errBoom, kontor.Internal},
		{"kontor error", kontor.Errorf(kontor.Conflict, "storetest", "stop"), kontor.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev, sender := e.ids.Next(), e.ids.Next()
			old, added := e.entry(dev, "old"), e.entry(dev, "new")
			e.insert(old)
			ref := e.ids.Next()
			err := e.db.Tx(e.ctx, func(tx router.Tx) error {
				if err := tx.Insert([]router.Entry{added}); err != nil {
					return err
				}
				if _, _, err := tx.ClaimRef(sender, "ref", ref, 1); err != nil {
					return err
				}
				if gone, err := tx.Delete(dev, []kontor.ID{old.ID}); err != nil || len(gone) != 1 {
					return fmt.Errorf("tx.Delete = %v, %v; want the old entry", describe(gone), err)
				}
				return tt.ret
			})
			if tt.ret == nil {
				if err != nil {
					t.Fatalf("Tx: %v", err)
				}
				e.checkQueue("committed", dev, added)
				if id, fresh := e.claim(sender, "ref", e.ids.Next(), 2); fresh || id != ref {
					t.Errorf("ClaimRef after commit = %v, fresh %v; want %v claimed before", id, fresh, ref)
				}
				return
			}
			if !errors.Is(err, tt.ret) {
				t.Errorf("Tx returned %v, want %v", err, tt.ret)
			}
			wantKind(t, "Tx", err, tt.kind)
			e.checkQueue("rolled back", dev, old)
			if _, fresh := e.claim(sender, "ref", e.ids.Next(), 2); !fresh {
				t.Errorf("ClaimRef after rollback: the ref was kept")
			}
		})
	}
}

// testInsert: Insert stores every field of every entry, for batches below,
// at and above the rows one INSERT carries.
func testInsert(t *testing.T, e *env) {
	kinds := []router.EntryKind{router.KindMessage, router.KindSync, router.KindReceipt}
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, n := range []int{1, 63, 64, 65, 128, 129, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			devs := []kontor.ID{e.ids.Next(), e.ids.Next(), e.ids.Next()}
			var all []router.Entry
			want := map[kontor.ID][]router.Entry{}
			for i := range n {
				en := router.Entry{Device: devs[i%3], ID: e.ids.Next(), Kind: kinds[i%3], FromAccount: kontor.ID(1000 + i),
					From: phoneB, FromDevice: 1 + i%5, TS: t0.UnixMilli() + int64(i), Expires: t0.UnixMilli() + 3_600_000 + int64(i),
					Body: []byte{byte(i), 0, byte(i >> 8), '\''}}
				if en.Kind == router.KindSync {
					en.To = phoneC
				}
				if i == 0 {
					en.Body = big
				}
				all = append(all, en)
				want[en.Device] = append(want[en.Device], en)
			}
			// All in one call, the way a group commit inserts.
			e.insert(all...)
			for _, d := range devs {
				e.checkQueue("after Insert", d, want[d]...)
			}
		})
	}
	t.Run("two calls in one Tx", func(t *testing.T) {
		dev := e.ids.Next()
		var all []router.Entry
		for i := range 70 {
			all = append(all, e.entry(dev, fmt.Sprint(i)))
		}
		e.tx(func(tx router.Tx) error {
			if err := tx.Insert(all[:66]); err != nil {
				return err
			}
			return tx.Insert(all[66:])
		})
		e.checkQueue("after two Inserts", dev, all...)
	})
	t.Run("none", func(t *testing.T) {
		e.tx(func(tx router.Tx) error { return tx.Insert(nil) })
	})
}

// testInsertExisting: an entry whose (device, id) is stored already is
// skipped, also within one call; the same id on another device is another
// entry.
func testInsertExisting(t *testing.T, e *env) {
	d1, d2 := e.ids.Next(), e.ids.Next()
	first := e.entry(d1, "first")
	e.insert(first)

	again := first
	again.Body, again.TS = []byte("second"), first.TS+1
	fresh := e.entry(d1, "fresh")
	freshDup := fresh
	freshDup.Body = []byte("fresh, again")
	fanout := first
	fanout.Device = d2
	// Spread over more than one INSERT chunk as well.
	var filler []router.Entry
	for i := range 70 {
		filler = append(filler, e.entry(d2, fmt.Sprint(i)))
	}
	batch := append([]router.Entry{again, fresh, freshDup, fanout}, filler...)
	batch = append(batch, filler[3], first)
	e.insert(batch...)

	e.checkQueue("device 1", d1, first, fresh)
	e.checkQueue("device 2", d2, append([]router.Entry{fanout}, filler...)...)
}

// testClaimRef: the first claim of a sender's ref wins; later claims, in
// the same or a later transaction, get its id back and record nothing.
func testClaimRef(t *testing.T, e *env) {
	s1, s2 := e.ids.Next(), e.ids.Next()
	ids := make([]kontor.ID, 9)
	for i := range ids {
		ids[i] = e.ids.Next()
	}
	long := strings.Repeat("ref-Zoë-📨-", 20)
	steps := []struct {
		sender kontor.ID
		ref    string
		id     kontor.ID
		want   kontor.ID
		fresh  bool
	}{
		{s1, "a", ids[0], ids[0], true},
		{s1, "a", ids[1], ids[0], false},
		{s2, "a", ids[2], ids[2], true}, // refs are per sender
		{s1, "b", ids[3], ids[3], true},
		{s1, "A", ids[4], ids[4], true}, // and case-sensitive
		{s1, long, ids[5], ids[5], true},
		{s1, long, ids[6], ids[5], false},
		{s1, "a", ids[7], ids[0], false},
		{s2, "a", ids[8], ids[2], false},
	}
	for i, s := range steps {
		got, fresh := e.claim(s.sender, s.ref, s.id, int64(i))
		if got != s.want || fresh != s.fresh {
			t.Errorf("step %d: ClaimRef(%v, %.12q, %v) = %v, %v; want %v, %v", i, s.sender, s.ref, s.id, got, fresh, s.want, s.fresh)
		}
	}

	s3, x1, x2 := e.ids.Next(), e.ids.Next(), e.ids.Next()
	e.tx(func(tx router.Tx) error {
		for i, want := range []struct {
			id    kontor.ID
			fresh bool
		}{{x1, true}, {x1, false}} {
			got, fresh, err := tx.ClaimRef(s3, "x", []kontor.ID{x1, x2}[i], 1)
			if err != nil {
				return err
			}
			if got != want.id || fresh != want.fresh {
				t.Errorf("same Tx, claim %d: ClaimRef = %v, %v; want %v, %v", i, got, fresh, want.id, want.fresh)
			}
		}
		return nil
	})
}

// testDelete: Delete removes and returns (without bodies) exactly the
// device's entries among the ids, and nothing the second time.
func testDelete(t *testing.T, e *env) {
	d1, d2 := e.ids.Next(), e.ids.Next()
	var mine []router.Entry
	for i := range 5 {
		mine = append(mine, e.entry(d1, fmt.Sprint("m", i)))
	}
	shared := mine[0]
	shared.Device = d2 // the same message on another device
	theirs := e.entry(d2, "theirs")
	e.insert(append(mine, shared, theirs)...)

	del := func(what string, device kontor.ID, ids []kontor.ID, want ...router.Entry) {
		t.Helper()
		var got []router.Entry
		e.tx(func(tx router.Tx) error {
			var err error
			got, err = tx.Delete(device, ids)
			return err
		})
		if !sameEntries(byID(got), byID(meta(want...))) {
			t.Errorf("%s: Delete = %s, want %s", what, describe(got), describe(meta(want...)))
		}
	}
	ask := []kontor.ID{mine[3].ID, e.ids.Next(), mine[1].ID, theirs.ID, mine[1].ID}
	del("some ids", d1, ask, mine[1], mine[3])
	del("the same again", d1, ask)
	del("no ids", d1, nil)
	e.checkQueue("device 1", d1, mine[0], mine[2], mine[4])
	e.checkQueue("device 2", d2, shared, theirs)

	del("a shared id", d1, []kontor.ID{mine[0].ID}, mine[0])
	e.checkQueue("device 2 after deleting the shared id on device 1", d2, shared, theirs)

	// Many ids at once, every other one stored.
	d3 := e.ids.Next()
	var many, gone, kept []router.Entry
	var ids []kontor.ID
	for i := range 300 {
		en := e.entry(d3, fmt.Sprint(i))
		many = append(many, en)
		if i%2 == 0 {
			gone = append(gone, en)
			ids = append(ids, en.ID)
		} else {
			kept = append(kept, en)
		}
	}
	e.insert(many...)
	del("150 of 300", d3, ids, gone...)
	e.checkQueue("after deleting 150 of 300", d3, kept...)
}

// testPull: Pull pages through a device's entries by id.
func testPull(t *testing.T, e *env) {
	d1, d2 := e.ids.Next(), e.ids.Next()
	byNum := map[int64]router.Entry{}
	var stored []router.Entry
	// Ids 10, 20 … 100 on device 1, stored out of order; 15, 25 … on device 2.
	for _, n := range []int64{50, 10, 100, 30, 20, 90, 40, 80, 60, 70} {
		en := e.entry(d1, fmt.Sprint(n))
		en.ID = kontor.ID(n)
		byNum[n] = en
		other := e.entry(d2, "other")
		other.ID = kontor.ID(n + 5)
		stored = append(stored, en, other)
	}
	e.insert(stored...)
	want := func(ns ...int64) []router.Entry {
		out := []router.Entry{}
		for _, n := range ns {
			out = append(out, byNum[n])
		}
		return out
	}
	tests := []struct {
		after kontor.ID
		limit int
		want  []router.Entry
	}{
		{0, 100, want(10, 20, 30, 40, 50, 60, 70, 80, 90, 100)},
		{0, 3, want(10, 20, 30)},
		{30, 3, want(40, 50, 60)},
		{35, 2, want(40, 50)}, // after an id that is not stored
		{90, 10, want(100)},
		{100, 10, nil},
		{0, 0, nil},
	}
	for _, tt := range tests {
		got, err := e.db.Pull(e.ctx, d1, tt.after, tt.limit)
		if err != nil {
			t.Fatalf("Pull(after %d, limit %d): %v", tt.after, tt.limit, err)
		}
		if !sameEntries(got, tt.want) {
			t.Errorf("Pull(after %d, limit %d) = %s, want %s", tt.after, tt.limit, describe(got), describe(tt.want))
		}
	}

	// Paging the way a device catches up.
	var paged []router.Entry
	for after, pages := kontor.ID(0), 0; ; pages++ {
		if pages > 10 {
			t.Fatalf("paging by 3 has not ended after %d pages: %s", pages, describe(paged))
		}
		page, err := e.db.Pull(e.ctx, d1, after, 3)
		if err != nil {
			t.Fatalf("Pull: %v", err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].ID
	}
	if w := want(10, 20, 30, 40, 50, 60, 70, 80, 90, 100); !sameEntries(paged, w) {
		t.Errorf("paging by 3 gave %s, want %s", describe(paged), describe(w))
	}
	e.checkQueue("unknown device", e.ids.Next())
}

// testExpire: Expire removes and returns (without bodies) at most limit
// entries whose expiry is before now, each once, across devices.
func testExpire(t *testing.T, e *env) {
	d1, d2 := e.ids.Next(), e.ids.Next()
	const now = 500
	var expired, kept []router.Entry
	for i, exp := range []int64{300, 100, 499, 200, 400, now, 1000, now + 1} {
		en := e.entry([]kontor.ID{d1, d2}[i%2], fmt.Sprint(exp))
		en.Expires = exp
		if exp < now {
			expired = append(expired, en)
		} else {
			kept = append(kept, en)
		}
	}
	e.insert(append(slices.Clone(kept), expired...)...)

	var got []router.Entry
	for _, limit := range []int{2, 2, 10, 10} {
		e.tx(func(tx router.Tx) error {
			es, err := tx.Expire(now, limit)
			if err != nil {
				return err
			}
			if len(es) > limit {
				t.Errorf("Expire(limit %d) returned %d entries", limit, len(es))
			}
			got = append(got, es...)
			return nil
		})
	}
	if !sameEntries(byID(got), byID(meta(expired...))) {
		t.Errorf("Expire returned %s, want each of %s once", describe(byID(got)), describe(byID(meta(expired...))))
	}
	var left []router.Entry
	for _, d := range []kontor.ID{d1, d2} {
		left = append(left, e.queue(d)...)
	}
	if !sameEntries(byID(left), byID(kept)) {
		t.Errorf("after Expire the queues hold %s, want %s", describe(left), describe(kept))
	}
}

// testTxDevices: Tx.Devices lists an account's current devices by number.
func testTxDevices(t *testing.T, e *env) {
	a, d1 := e.register(phoneA)
	d2 := e.link(a.ID, "laptop")
	d3 := e.link(a.ID, "tablet")
	_, bd := e.register(phoneB)
	if err := e.db.RemoveDevice(e.ctx, d2.ID); err != nil {
		t.Fatalf("RemoveDevice: %v", err)
	}
	tests := []struct {
		name    string
		account kontor.ID
		want    []router.DeviceRef
	}{
		{"account", a.ID, []router.DeviceRef{{ID: d1.ID, Num: 1}, {ID: d3.ID, Num: 3}}},
		{"other account", bd.AccountID, []router.DeviceRef{{ID: bd.ID, Num: 1}}},
		{"unknown account", e.ids.Next(), nil},
	}
	e.tx(func(tx router.Tx) error {
		for _, tt := range tests {
			got, err := tx.Devices(tt.account)
			if err != nil {
				return err
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !slices.Equal(got, tt.want)) {
				t.Errorf("%s: Devices = %v, want %v", tt.name, got, tt.want)
			}
		}
		return nil
	})
}

// testPruneRefs: PruneRefs forgets the refs claimed before a time, and
// nothing else.
func testPruneRefs(t *testing.T, e *env) {
	s := e.ids.Next()
	oldID, newID := e.ids.Next(), e.ids.Next()
	e.claim(s, "old", oldID, 100)
	e.claim(s, "new", newID, 200)
	en := e.entry(e.ids.Next(), "stays")
	e.insert(en)

	e.tx(func(tx router.Tx) error { return tx.PruneRefs(200) })

	if id, fresh := e.claim(s, "old", e.ids.Next(), 300); !fresh || id == oldID {
		t.Errorf("ClaimRef of a pruned ref = %v, fresh %v; want a fresh claim", id, fresh)
	}
	if id, fresh := e.claim(s, "new", e.ids.Next(), 300); fresh || id != newID {
		t.Errorf("ClaimRef of a ref claimed at the cut = %v, fresh %v; want %v kept", id, fresh, newID)
	}
	e.checkQueue("queue after PruneRefs", en.Device, en)
}

// testRecipient: Recipient and RecipientByAccount give an account with its
// current devices by number, also when it has none left.
func testRecipient(t *testing.T, e *env) {
	a, d1 := e.register(phoneA)
	d2 := e.link(a.ID, "laptop")
	d3 := e.link(a.ID, "tablet")
	e.register(phoneB)
	if err := e.db.RemoveDevice(e.ctx, d2.ID); err != nil {
		t.Fatalf("RemoveDevice: %v", err)
	}
	check := func(what string, want router.Recipient) {
		t.Helper()
		for _, get := range []struct {
			name string
			fn   func() (router.Recipient, error)
		}{
			{"Recipient", func() (router.Recipient, error) { return e.db.Recipient(e.ctx, phoneA) }},
			{"RecipientByAccount", func() (router.Recipient, error) { return e.db.RecipientByAccount(e.ctx, a.ID) }},
		} {
			got, err := get.fn()
			if err != nil {
				t.Fatalf("%s: %s: %v", what, get.name, err)
			}
			if got.Account != want.Account || got.Phone != want.Phone || len(got.Devices) != len(want.Devices) ||
				(len(got.Devices) > 0 && !slices.Equal(got.Devices, want.Devices)) {
				t.Errorf("%s: %s = %+v, want %+v", what, get.name, got, want)
			}
		}
	}
	check("two devices", router.Recipient{Account: a.ID, Phone: phoneA, Devices: []router.DeviceRef{{ID: d1.ID, Num: 1}, {ID: d3.ID, Num: 3}}})
	for _, d := range []kontor.ID{d1.ID, d3.ID} {
		if err := e.db.RemoveDevice(e.ctx, d); err != nil {
			t.Fatalf("RemoveDevice: %v", err)
		}
	}
	check("no devices", router.Recipient{Account: a.ID, Phone: phoneA})
}

// testIsolation: one account never sees, acknowledges or loses another's
// queue entries, even for the same message id.
func testIsolation(t *testing.T, e *env) {
	a, a1 := e.register(phoneA)
	a2 := e.link(a.ID, "laptop")
	b, b1 := e.register(phoneB)
	_, c1 := e.register(phoneC)

	// A sends m to B, with a sync copy to A's laptop; C sends n to B.
	m := router.Entry{Device: b1.ID, ID: e.ids.Next(), Kind: router.KindMessage, FromAccount: a.ID, From: phoneA, FromDevice: 1, TS: 1, Expires: 9e12, Body: []byte("m")}
	mSync := m
	mSync.Device, mSync.Kind, mSync.To, mSync.Body = a2.ID, router.KindSync, phoneB, []byte("m for me")
	n := e.entry(b1.ID, "n")
	e.insert(m, mSync, n)

	e.checkQueue("sender's own device", a1.ID)
	e.checkQueue("sender's other device", a2.ID, mSync)
	e.checkQueue("recipient", b1.ID, m, n)
	e.checkQueue("bystander", c1.ID)
	if got, _ := e.db.Pull(e.ctx, a2.ID, 0, 100); len(got) == 1 && string(got[0].Body) != "m for me" {
		t.Errorf("A's sync copy has B's body %q", got[0].Body)
	}

	// Acks name the acking device: A's devices cannot remove B's entries.
	e.tx(func(tx router.Tx) error {
		for _, d := range []kontor.ID{a1.ID, a2.ID, c1.ID} {
			gone, err := tx.Delete(d, []kontor.ID{n.ID, m.ID})
			if err != nil {
				return err
			}
			if d != a2.ID && len(gone) != 0 {
				t.Errorf("Delete by device %d removed %s of another account", d, describe(gone))
			}
		}
		return nil
	})
	e.checkQueue("recipient after others' acks", b1.ID, m, n)
	e.checkQueue("sender's device after its ack", a2.ID)

	// Removing and deleting A leaves B's queue alone.
	if err := e.db.RemoveDevice(e.ctx, a1.ID); err != nil {
		t.Fatalf("RemoveDevice: %v", err)
	}
	if err := e.db.DeleteAccount(e.ctx, a.ID); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	e.checkQueue("recipient after the sender's account went", b1.ID, m, n)
	e.tx(func(tx router.Tx) error {
		ds, err := tx.Devices(b.ID)
		if err != nil || len(ds) != 1 || ds[0].ID != b1.ID {
			t.Errorf("Tx.Devices(B) = %v, %v; want only B's device", ds, err)
		}
		return err
	})
}
