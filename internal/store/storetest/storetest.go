// Package storetest is the test suite every store backend passes: the same
// tests run on SQLite and on PostgreSQL (Tailscale's chonktest, Upspin's
// kinds). It tests the store through the methods identity and router call,
// and asserts what their interfaces promise: values that round-trip, kinds
// of errors (kontor.KindOf), what a transaction keeps or undoes, and that
// concurrent callers lose nothing and see nothing twice.
//
// Run takes an open function that gives each subtest an empty database;
// RunSchema takes the address of one, to open it more than once. Both rely
// on store having registered the "sqlite" and "pgx" database/sql drivers.
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/store"
)

// test is one test of the suite, given an empty store.
type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

// tests is the suite, by concept.
var tests = []test{
	// Accounts, devices and credentials (identity.Store).
	{"Register", testRegister},
	{"RegisterAgain", testRegisterAgain},
	{"Devices", testDevices},
	{"Credentials", testCredentials},
	{"OperatorTokens", testOperatorTokens},
	{"Codes", testCodes},
	{"CodeRequests", testCodeRequests},
	{"PruneCodes", testPruneCodes},
	{"LinkCodes", testLinkCodes},
	{"DeleteAccount", testDeleteAccount},
	{"LastSeen", testLastSeen},
	{"Privacy", testPrivacy},
	{"NotFound", testNotFound},

	// Queues (router.Store, router.Tx).
	{"Tx", testTx},
	{"Insert", testInsert},
	{"InsertExisting", testInsertExisting},
	{"ClaimRef", testClaimRef},
	{"Delete", testDelete},
	{"Pull", testPull},
	{"Expire", testExpire},
	{"TxDevices", testTxDevices},
	{"PruneRefs", testPruneRefs},
	{"Recipient", testRecipient},
	{"Isolation", testIsolation},

	// Many callers at once.
	{"ConcurrentTx", testConcurrentTx},
	{"ConcurrentClaimRef", testConcurrentClaimRef},
	{"ConcurrentDelete", testConcurrentDelete},
	{"ConcurrentExpire", testConcurrentExpire},
	{"ConcurrentAddDevice", testConcurrentAddDevice},
	{"ConcurrentRegister", testConcurrentRegister},

	// Businesses and their endpoints (business.Store, endpoint.Store).
	{"Businesses", testBusinesses},
	{"EndpointState", testEndpointState},
	{"RideTx", testRideTx},
	{"RideWebhooks", testRideWebhooks},
	{"Reach", testReach},
	{"Blocks", testBlocks},
	{"QualitySignals", testQualitySignals},
	{"QualityChange", testQualityChange},
	{"QualityChangeRace", testQualityChangeRace},
	{"NodeLeases", testNodeLeases},
	// Hosted endpoints' profiles and leases in a cluster (failover).
	{"EndpointStorage", testEndpointStorage},
	{"EndpointLeases", testEndpointLeases},
	{"EndpointFencingRace", testEndpointFencingRace},
	{"EndpointBlobs", testEndpointBlobs},
	{"EndpointMediaExpiry", testEndpointMediaExpiry},
	{"Clock", testClock},
	{"PriceSheets", testPriceSheets},
	{"Invoices", testInvoices},
	{"UsageRows", testUsageRows},
	{"PartnerInvoice", testPartnerInvoice},
	{"Credit", testCredit},
	{"CommerceFees", testCommerceFees},
	{"BillingWorkload", testBillingWorkload},
	{"NoOversell", testNoOversell},
	{"OrderCharges", testOrderCharges},
	{"OrderChargesRace", testOrderChargesRace},
	{"ChargesAndPayments", testChargesAndPayments},
	{"OrderMix", testOrderMix},
	{"OrderList", testOrderList},
	{"OrderHistory", testOrderHistory},

	// Payments (payments.Store).
	{"Payments", testPayments},
	{"ConcurrentPay", testConcurrentPay},
	{"PayRacesExpiry", testPayRacesExpiry},

	// Stock and sales.
	{"StockAdjust", testStockAdjust},
	{"StockAboveMax", testStockAboveMax},
	{"StockRace", testStockRace},
	{"StockProductEdit", testStockProductEdit},
	{"StockIdempotent", testStockIdempotent},
	{"StockAlerts", testStockAlerts},
	{"SalesReport", testSalesReport},
	{"ProductSearch", testProductSearch},
	{"SearchIndex", testSearchIndex},
	{"SearchLongWords", testSearchLongWords},

	// Console users, sessions, links and sign-in limits (consoleauth.Store).
	{"ConsoleUsers", testConsoleUsers},
	{"ConsoleOwnersRace", testConsoleOwnersRace},
	{"ConsoleSessions", testConsoleSessions},
	{"ConsoleInvites", testConsoleInvites},
	{"ConsoleLimits", testConsoleLimits},
	{"SetAppSecret", testSetAppSecret},
	// The directory cache: tokens, numbers, businesses, app secrets.
	{"DirectoryCache", testDirectoryCache},

	// Free monthly allowances (billing rules).
	{"Allowances", testAllowances},
	{"AllowanceRace", testAllowanceRace},

	// Volume tiers and rule sets imported at run time (billing rules).
	{"VolumeTiers", testVolumeTiers},
	{"VolumeTierRace", testVolumeTierRace},
	{"RuleSets", testRuleSets},

	// The inbox log and the console's inbox (endpoint.InboxStore, inbox.Store).
	{"InboxLog", testInboxLog},
	{"InboxList", testInboxList},
	{"InboxNotesAndQuickReplies", testInboxNotes},
	{"InboxBatch", testInboxBatch},
	// The router's and the endpoints' group commits and the console on
	// the same conversations at once.
	{"CommitterRace", testCommitterRace},
	{"DeadlockRetried", testDeadlockRetried},
	{"InboxSearch", testInboxSearch},
	{"InboxSearchWords", testInboxSearchWords},
	{"InboxThreads", testInboxThreads},
	// Free entry-point windows (endpoint.Store).
	{"EntryPoint", testEntryPoint},
	// The people's times noted with their messages' records.
	{"InboundNotes", testInboundNotes},
	// Self-hosted metering: a delivery's receipt still held.
	{"HeldDelivery", testHeldDelivery},
	// Product pictures kept by the platform (console catalog).
	{"CatalogImages", testCatalogImages},
	{"KnownMedia", testKnownMedia},
}

// Run runs the suite. open must return an empty store, closed when its test
// ends (a temporary SQLite file, a fresh PostgreSQL schema); it is called
// once per subtest, and the subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newEnv(t, open(t)))
		})
	}
}

// t0 is the suite's "now". Times are stored in milliseconds, so every time
// the tests store is a whole millisecond.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// Phone numbers of the people in the tests.
const (
	phoneA  kontor.Phone = "+4915100000001"
	phoneB  kontor.Phone = "+4915100000002"
	phoneC  kontor.Phone = "+4915100000003"
	unknown kontor.Phone = "+4915199999999"
)

// env is a store with the helpers the tests share.
type env struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	ids *kontor.IDs
}

func newEnv(t *testing.T, db *store.DB) *env {
	// Real ids: 60-bit numbers, so lists of them must survive the trip
	// through SQL parameters (json_each on SQLite) without rounding.
	return &env{t: t, ctx: t.Context(), db: db, ids: kontor.NewIDs(nil, 1)}
}

// register makes an account for phone with a primary device.
func (e *env) register(phone kontor.Phone) (identity.Account, identity.Device) {
	e.t.Helper()
	a, d, err := e.db.Register(e.ctx,
		identity.Account{ID: e.ids.Next(), Phone: phone, Created: t0, LastSeenPrivacy: identity.PrivacyEveryone},
		identity.Device{ID: e.ids.Next(), Name: "primary", SecretHash: hash("primary " + string(phone)), Created: t0})
	if err != nil {
		e.t.Fatalf("Register(%s): %v", phone, err)
	}
	return a, d
}

// link adds a linked device named name to account.
func (e *env) link(account kontor.ID, name string) identity.Device {
	e.t.Helper()
	d, err := e.db.AddDevice(e.ctx, identity.Device{ID: e.ids.Next(), AccountID: account, Name: name, SecretHash: hash(name), Created: t0}, 100)
	if err != nil {
		e.t.Fatalf("AddDevice(%s): %v", name, err)
	}
	return d
}

// tx runs fn in a transaction that must commit.
func (e *env) tx(fn func(router.Tx) error) {
	e.t.Helper()
	if err := e.db.Tx(e.ctx, fn); err != nil {
		e.t.Fatalf("Tx: %v", err)
	}
}

// insert commits entries.
func (e *env) insert(es ...router.Entry) {
	e.t.Helper()
	e.tx(func(tx router.Tx) error { return tx.Insert(es) })
}

// entry makes a message entry for device with a fresh id.
func (e *env) entry(device kontor.ID, body string) router.Entry {
	return router.Entry{Device: device, ID: e.ids.Next(), Kind: router.KindMessage, FromAccount: 7, From: phoneC, FromDevice: 2,
		TS: t0.UnixMilli(), Expires: t0.Add(time.Hour).UnixMilli(), Body: []byte(body)}
}

// queue returns all entries of device.
func (e *env) queue(device kontor.ID) []router.Entry {
	e.t.Helper()
	es, err := e.db.Pull(e.ctx, device, 0, 1_000_000)
	if err != nil {
		e.t.Fatalf("Pull(%d): %v", device, err)
	}
	return es
}

// checkQueue fails the test unless device's queue is exactly want.
func (e *env) checkQueue(what string, device kontor.ID, want ...router.Entry) {
	e.t.Helper()
	if got := e.queue(device); !sameEntries(got, want) {
		e.t.Errorf("%s: queue of device %d = %s, want %s", what, device, describe(got), describe(want))
	}
}

// claim runs ClaimRef in a transaction of its own.
func (e *env) claim(sender kontor.ID, ref string, id kontor.ID, at int64) (kontor.ID, bool) {
	e.t.Helper()
	var got kontor.ID
	var fresh bool
	e.tx(func(tx router.Tx) error {
		var err error
		got, fresh, err = tx.ClaimRef(sender, ref, id, at)
		return err
	})
	return got, fresh
}

// hash stands for a SHA-256 credential hash: 32 bytes of any value.
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// wantKind fails the test unless err has the given kind.
func wantKind(t *testing.T, what string, err error, kind kontor.Kind) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want kind %v", what, kind)
		return
	}
	if got := kontor.KindOf(err); got != kind {
		t.Errorf("%s: error %q has kind %v, want %v", what, err, got, kind)
	}
}

func checkAccount(t *testing.T, what string, got, want identity.Account) {
	t.Helper()
	if got.ID != want.ID || got.Phone != want.Phone || !got.Created.Equal(want.Created) ||
		!got.LastSeen.Equal(want.LastSeen) || got.LastSeenPrivacy != want.LastSeenPrivacy {
		t.Errorf("%s: account = %+v, want %+v", what, got, want)
	}
}

func checkDevice(t *testing.T, what string, got, want identity.Device) {
	t.Helper()
	if got.ID != want.ID || got.AccountID != want.AccountID || got.Num != want.Num || got.Name != want.Name ||
		!bytes.Equal(got.SecretHash, want.SecretHash) || got.Primary != want.Primary ||
		!got.Created.Equal(want.Created) || !got.LastSeen.Equal(want.LastSeen) {
		t.Errorf("%s: device = %+v, want %+v", what, got, want)
	}
}

func checkDevices(t *testing.T, what string, got, want []identity.Device) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d devices %v, want %d %v", what, len(got), nums(got), len(want), nums(want))
		return
	}
	for i := range got {
		checkDevice(t, fmt.Sprintf("%s: device %d", what, i), got[i], want[i])
	}
}

func nums(ds []identity.Device) []int {
	out := make([]int, len(ds))
	for i, d := range ds {
		out[i] = d.Num
	}
	return out
}

// meta is e without its Body, as Delete and Expire return entries.
func meta(es ...router.Entry) []router.Entry {
	out := make([]router.Entry, len(es))
	for i, e := range es {
		e.Body = nil
		out[i] = e
	}
	return out
}

// sameEntries reports whether got and want hold the same entries in the
// same order; an empty Body equals a nil one.
func sameEntries(got, want []router.Entry) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !bytes.Equal(g.Body, w.Body) {
			return false
		}
		g.Body, w.Body = nil, nil
		if !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

// byID sorts entries by device, then id (for results in no set order).
func byID(es []router.Entry) []router.Entry {
	slices.SortFunc(es, func(a, b router.Entry) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.ID, b.ID))
	})
	return es
}

// describe prints entries briefly: device/id, kind, expiry and body size.
func describe(es []router.Entry) string {
	if len(es) == 0 {
		return "[]"
	}
	var sb strings.Builder
	sb.WriteByte('[')
	for i, e := range es {
		if i > 0 {
			sb.WriteString(", ")
		}
		if i == 8 && len(es) > 10 {
			fmt.Fprintf(&sb, "… %d more", len(es)-i)
			break
		}
		fmt.Fprintf(&sb, "%d/%d kind=%d from=%d/%s/%d to=%q ts=%d exp=%d body=%dB",
			e.Device, e.ID, e.Kind, e.FromAccount, e.From, e.FromDevice, e.To, e.TS, e.Expires, len(e.Body))
	}
	sb.WriteByte(']')
	return sb.String()
}
