package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/wire"
)

// keyDir is a fake key directory: PUT and GET /v1/keys and GET
// /v1/keys/{phone}[/{device}] as wire/keys.go describes them. It hands
// each one-time prekey out at most once and fails the test if it ever
// would twice.
type keyDir struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	creds     map[string]wire.DeviceAddress
	devs      map[wire.DeviceAddress]*dirEntry
	handed    map[string]bool            // "addr/id" of every prekey handed out
	fetches   map[wire.DeviceAddress]int // bundle requests by the requesting device
	uploads   map[wire.DeviceAddress]int // PUT /v1/keys by device
	noPreKeys bool                       // hand out bundles without one-time prekeys
	tamper    func(b *wire.DeviceBundle) // changes bundles on the way out
}

type dirEntry struct {
	identity []byte
	regID    uint32
	signed   *wire.SignedPreKey
	prekeys  []wire.PreKey
}

func newKeyDir(t testing.TB) *keyDir {
	kd := &keyDir{t: t, creds: map[string]wire.DeviceAddress{}, devs: map[wire.DeviceAddress]*dirEntry{},
		handed: map[string]bool{}, fetches: map[wire.DeviceAddress]int{}, uploads: map[wire.DeviceAddress]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/keys", kd.upload)
	mux.HandleFunc("GET /v1/keys", kd.status)
	mux.HandleFunc("GET /v1/keys/{phone}", kd.bundles)
	mux.HandleFunc("GET /v1/keys/{phone}/{device}", kd.bundles)
	kd.srv = httptest.NewServer(mux)
	t.Cleanup(kd.srv.Close)
	return kd
}

// api returns the device API acting as a.
func (kd *keyDir) api(a wire.DeviceAddress) *client.API {
	kd.mu.Lock()
	defer kd.mu.Unlock()
	cred := fmt.Sprintf("cred-%s-%d", a.Phone, a.DeviceID)
	kd.creds[cred] = a
	return &client.API{Server: kd.srv.URL, Credential: cred}
}

// forget drops a device's keys, as when it is registered anew.
func (kd *keyDir) forget(a wire.DeviceAddress) {
	kd.mu.Lock()
	defer kd.mu.Unlock()
	delete(kd.devs, a)
}

// pool returns how many one-time prekeys the directory holds for a.
func (kd *keyDir) pool(a wire.DeviceAddress) int {
	kd.mu.Lock()
	defer kd.mu.Unlock()
	if e := kd.devs[a]; e != nil {
		return len(e.prekeys)
	}
	return 0
}

func (kd *keyDir) fetchCount(by wire.DeviceAddress) int {
	kd.mu.Lock()
	defer kd.mu.Unlock()
	return kd.fetches[by]
}

func (kd *keyDir) set(f func(kd *keyDir)) {
	kd.mu.Lock()
	defer kd.mu.Unlock()
	f(kd)
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func refuse(w http.ResponseWriter, kind kontor.Kind, status int, msg string) {
	answer(w, status, wire.APIError{Error: wire.APIErrorBody{Code: kind.String(), Message: msg}})
}

// caller returns the device of the request's credential; mu is held.
func (kd *keyDir) caller(w http.ResponseWriter, r *http.Request) (wire.DeviceAddress, bool) {
	a, ok := kd.creds[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		refuse(w, kontor.Unauthenticated, http.StatusUnauthorized, "bad credential")
	}
	return a, ok
}

func goodKey(b []byte) bool { return len(b) == wire.PublicKeySize && b[0] == 0x05 }

func (kd *keyDir) statusOf(a wire.DeviceAddress) wire.KeysStatus {
	e := kd.devs[a]
	if e == nil {
		return wire.KeysStatus{}
	}
	st := wire.KeysStatus{PreKeys: len(e.prekeys)}
	if e.signed != nil {
		st.SignedPreKeyID = e.signed.ID
	}
	return st
}

func (kd *keyDir) status(w http.ResponseWriter, r *http.Request) {
	kd.mu.Lock()
	defer kd.mu.Unlock()
	a, ok := kd.caller(w, r)
	if !ok {
		return
	}
	answer(w, http.StatusOK, kd.statusOf(a))
}

func (kd *keyDir) upload(w http.ResponseWriter, r *http.Request) {
	kd.mu.Lock()
	defer kd.mu.Unlock()
	a, ok := kd.caller(w, r)
	if !ok {
		return
	}
	var up wire.KeysUpload
	if err := json.NewDecoder(r.Body).Decode(&up); err != nil {
		refuse(w, kontor.Invalid, http.StatusBadRequest, err.Error())
		return
	}
	kd.uploads[a]++
	e := kd.devs[a]
	switch {
	case e == nil && (!goodKey(up.IdentityKey) || up.RegistrationID == 0):
		refuse(w, kontor.Invalid, http.StatusBadRequest, "the first upload needs the identity key and registration id")
		return
	case e != nil && up.IdentityKey != nil && (!slices.Equal(up.IdentityKey, e.identity) || up.RegistrationID != e.regID):
		refuse(w, kontor.Conflict, http.StatusConflict, "the identity of a device cannot change")
		return
	case len(up.PreKeys) > wire.MaxPreKeysPerUpload:
		refuse(w, kontor.Invalid, http.StatusBadRequest, "too many prekeys")
		return
	}
	if sp := up.SignedPreKey; sp != nil && (!goodKey(sp.PublicKey) || len(sp.Signature) != wire.SignatureSize) {
		refuse(w, kontor.Invalid, http.StatusBadRequest, "bad signed prekey")
		return
	}
	for _, p := range up.PreKeys {
		if !goodKey(p.PublicKey) {
			refuse(w, kontor.Invalid, http.StatusBadRequest, "bad prekey")
			return
		}
	}
	if e == nil {
		e = &dirEntry{identity: up.IdentityKey, regID: up.RegistrationID}
		kd.devs[a] = e
	}
	if up.SignedPreKey != nil {
		sp := *up.SignedPreKey
		e.signed = &sp
	}
	for _, p := range up.PreKeys {
		e.prekeys = slices.DeleteFunc(e.prekeys, func(q wire.PreKey) bool { return q.ID == p.ID })
		e.prekeys = append(e.prekeys, p)
	}
	if over := len(e.prekeys) - wire.MaxPreKeysStored; over > 0 {
		e.prekeys = e.prekeys[over:]
	}
	answer(w, http.StatusOK, kd.statusOf(a))
}

func (kd *keyDir) bundles(w http.ResponseWriter, r *http.Request) {
	kd.mu.Lock()
	defer kd.mu.Unlock()
	by, ok := kd.caller(w, r)
	if !ok {
		return
	}
	kd.fetches[by]++
	phone := kontor.Phone(r.PathValue("phone"))
	want := 0
	if d := r.PathValue("device"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			refuse(w, kontor.Invalid, http.StatusBadRequest, "bad device id")
			return
		}
		want = n
	}
	resp := wire.BundlesResponse{Phone: phone}
	var addrs []wire.DeviceAddress
	for a := range kd.devs {
		if a.Phone == phone && (want == 0 || a.DeviceID == want) {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, func(x, y wire.DeviceAddress) int { return x.DeviceID - y.DeviceID })
	for _, a := range addrs {
		e := kd.devs[a]
		if e.signed == nil {
			continue
		}
		b := wire.DeviceBundle{DeviceID: a.DeviceID, RegistrationID: e.regID, IdentityKey: e.identity, SignedPreKey: *e.signed}
		if !kd.noPreKeys && len(e.prekeys) > 0 {
			p := e.prekeys[0]
			e.prekeys = e.prekeys[1:]
			k := fmt.Sprintf("%s/%d", a, p.ID)
			if kd.handed[k] {
				kd.t.Errorf("key directory: prekey %s handed out twice", k)
			}
			kd.handed[k] = true
			b.PreKey = &p
		}
		if kd.tamper != nil {
			b.IdentityKey = slices.Clone(b.IdentityKey)
			b.SignedPreKey.PublicKey = slices.Clone(b.SignedPreKey.PublicKey)
			b.SignedPreKey.Signature = slices.Clone(b.SignedPreKey.Signature)
			if b.PreKey != nil {
				pk := *b.PreKey
				pk.PublicKey = slices.Clone(pk.PublicKey)
				b.PreKey = &pk
			}
			kd.tamper(&b)
		}
		resp.Devices = append(resp.Devices, b)
	}
	if len(resp.Devices) == 0 {
		refuse(w, kontor.NotFound, http.StatusNotFound, "no keys for "+string(phone))
		return
	}
	answer(w, http.StatusOK, resp)
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
