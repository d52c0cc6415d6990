package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// pub makes a well-formed public key whose bytes carry n.
func pub(n int) []byte {
	b := make([]byte, wire.PublicKeySize)
	b[0] = 0x05
	b[1], b[2], b[3] = byte(n>>16), byte(n>>8), byte(n)
	return b
}

func fullUpload(reg uint32, seed, prekeys int) wire.KeysUpload {
	up := wire.KeysUpload{IdentityKey: pub(seed), RegistrationID: reg,
		SignedPreKey: &wire.SignedPreKey{ID: 1, PublicKey: pub(seed + 1), Signature: make([]byte, wire.SignatureSize)}}
	for i := 1; i <= prekeys; i++ {
		up.PreKeys = append(up.PreKeys, wire.PreKey{ID: uint32(i), PublicKey: pub(seed + 100 + i)})
	}
	return up
}

func TestKeyDirectory(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		ann := s.Account(t, "+4915100000001")
		bob := s.Account(t, "+4915100000002")

		// Bob has no keys yet: his account exists but has no bundles.
		var br wire.BundlesResponse
		if code := s.Call(t, http.MethodGet, "/v1/keys/"+string(bob.Phone), ann.Credential, nil, &br); code != 200 || len(br.Devices) != 0 {
			t.Fatalf("bundles before upload: %d %+v", code, br)
		}
		var st wire.KeysStatus
		if code := s.Call(t, http.MethodPut, "/v1/keys", bob.Credential, fullUpload(42, 1000, 3), &st); code != 200 || st.PreKeys != 3 || st.SignedPreKeyID != 1 {
			t.Fatalf("upload: %d %+v", code, st)
		}
		// Each fetch takes the lowest remaining one-time prekey, once.
		for want := 1; want <= 3; want++ {
			br = wire.BundlesResponse{}
			if code := s.Call(t, http.MethodGet, "/v1/keys/"+string(bob.Phone), ann.Credential, nil, &br); code != 200 || len(br.Devices) != 1 {
				t.Fatalf("fetch %d: %d %+v", want, code, br)
			}
			b := br.Devices[0]
			if b.DeviceID != 1 || b.RegistrationID != 42 || !bytes.Equal(b.IdentityKey, pub(1000)) || b.SignedPreKey.ID != 1 ||
				b.PreKey == nil || b.PreKey.ID != uint32(want) || !bytes.Equal(b.PreKey.PublicKey, pub(1100+want)) {
				t.Fatalf("fetch %d: bundle %+v", want, b)
			}
		}
		// The pool is empty: the bundle comes without a one-time prekey.
		br = wire.BundlesResponse{}
		if code := s.Call(t, http.MethodGet, "/v1/keys/"+string(bob.Phone)+"/1", ann.Credential, nil, &br); code != 200 || len(br.Devices) != 1 || br.Devices[0].PreKey != nil {
			t.Fatalf("empty pool: %d %+v", code, br)
		}
		if code := s.Call(t, http.MethodGet, "/v1/keys", bob.Credential, nil, &st); code != 200 || st.PreKeys != 0 {
			t.Fatalf("status: %d %+v", code, st)
		}
		// Replenishing adds to the pool without the identity key.
		if code := s.Call(t, http.MethodPut, "/v1/keys", bob.Credential, wire.KeysUpload{PreKeys: []wire.PreKey{{ID: 7, PublicKey: pub(7)}}}, &st); code != 200 || st.PreKeys != 1 {
			t.Fatalf("replenish: %d %+v", code, st)
		}

		var apiErr wire.APIError
		for _, c := range []struct {
			name   string
			method string
			path   string
			cred   string
			body   any
			status int
			code   string
		}{
			{"another identity key", http.MethodPut, "/v1/keys", bob.Credential, fullUpload(42, 5000, 0), 409, "conflict"},
			{"first upload without identity", http.MethodPut, "/v1/keys", ann.Credential, wire.KeysUpload{PreKeys: []wire.PreKey{{ID: 1, PublicKey: pub(1)}}}, 400, "invalid"},
			{"short key", http.MethodPut, "/v1/keys", ann.Credential, wire.KeysUpload{IdentityKey: []byte{5, 1}, RegistrationID: 1}, 400, "invalid"},
			{"empty upload", http.MethodPut, "/v1/keys", bob.Credential, wire.KeysUpload{}, 400, "invalid"},
			{"unknown field", http.MethodPut, "/v1/keys", bob.Credential, map[string]any{"identity": "x"}, 400, "invalid"},
			{"no credential", http.MethodPut, "/v1/keys", "", fullUpload(1, 1, 1), 401, "unauthenticated"},
			{"unknown phone", http.MethodGet, "/v1/keys/+4915199999999", ann.Credential, nil, 404, "not_found"},
			{"bad phone", http.MethodGet, "/v1/keys/12345", ann.Credential, nil, 400, "invalid"},
			{"no such device", http.MethodGet, "/v1/keys/" + string(bob.Phone) + "/3", ann.Credential, nil, 404, "not_found"},
			{"bad device", http.MethodGet, "/v1/keys/" + string(bob.Phone) + "/x", ann.Credential, nil, 400, "invalid"},
		} {
			apiErr = wire.APIError{}
			if code := s.Call(t, c.method, c.path, c.cred, c.body, &apiErr); code != c.status || apiErr.Error.Code != c.code || apiErr.Error.Message == "" {
				t.Errorf("%s: %d %+v, want %d %s", c.name, code, apiErr, c.status, c.code)
			}
		}

		// Too many prekeys in the pool are refused as a whole.
		ups := 0
		for id := 100; ; id += wire.MaxPreKeysPerUpload {
			up := wire.KeysUpload{}
			for i := range wire.MaxPreKeysPerUpload {
				up.PreKeys = append(up.PreKeys, wire.PreKey{ID: uint32(id + i), PublicKey: pub(id + i)})
			}
			code := s.Call(t, http.MethodPut, "/v1/keys", bob.Credential, up, &st)
			if code == 400 {
				break
			}
			if code != 200 || ups > 10 {
				t.Fatalf("filling the pool: %d after %d uploads", code, ups)
			}
			ups++
		}
		if s.Call(t, http.MethodGet, "/v1/keys", bob.Credential, nil, &st); st.PreKeys > wire.MaxPreKeysStored {
			t.Fatalf("pool holds %d", st.PreKeys)
		}
	})
}

// TestPreKeysOnce fetches one device's bundles from many goroutines at once
// (on two nodes when PostgreSQL is there): no one-time prekey is handed out
// twice, and none is left out while the pool lasts.
func TestPreKeysOnce(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		nodes := []*kontortest.Server{kontortest.Start(t, opts...)}
		if len(opts) > 0 { // PostgreSQL: a second node on the same database
			nodes = append(nodes, kontortest.Start(t, opts...))
		}
		bob := nodes[0].Account(t, "+4915100000002")
		const pool, fetchers, each = 150, 10, 20 // 200 fetches for 150 prekeys
		up := fullUpload(9, 2000, pool)
		if code := nodes[0].Call(t, http.MethodPut, "/v1/keys", bob.Credential, up, nil); code != 200 {
			t.Fatalf("upload: %d", code)
		}
		var mu sync.Mutex
		got := map[uint32]int{}
		empty := 0
		var wg sync.WaitGroup
		for f := range fetchers {
			s := nodes[f%len(nodes)]
			c := s.Account(t, fmt.Sprintf("+49151000001%02d", f))
			wg.Go(func() {
				for range each {
					var br wire.BundlesResponse
					if code := s.Call(t, http.MethodGet, "/v1/keys/"+string(bob.Phone), c.Credential, nil, &br); code != 200 || len(br.Devices) != 1 {
						t.Errorf("fetch: %d %+v", code, br)
						return
					}
					mu.Lock()
					if pk := br.Devices[0].PreKey; pk != nil {
						got[pk.ID]++
					} else {
						empty++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for id, n := range got {
			if n != 1 {
				t.Errorf("prekey %d handed out %d times", id, n)
			}
		}
		if len(got) != pool || empty != fetchers*each-pool {
			t.Fatalf("%d distinct prekeys and %d empty bundles; want %d and %d", len(got), empty, pool, fetchers*each-pool)
		}
	})
}

// TestKeysGoWithDevice: removing a device removes its keys.
func TestKeysGoWithDevice(t *testing.T) {
	s := kontortest.Start(t)
	ann := s.Account(t, "+4915100000001")
	bob := s.Account(t, "+4915100000002")
	if code := s.Call(t, http.MethodPut, "/v1/keys", bob.Credential, fullUpload(3, 10, 5), nil); code != 200 {
		t.Fatalf("upload: %d", code)
	}
	if code := s.Call(t, http.MethodDelete, "/v1/account", bob.Credential, nil, nil); code != 200 && code != 204 {
		t.Fatalf("delete account: %d", code)
	}
	// The same number registered again starts with no keys.
	bob2 := s.Account(t, string(bob.Phone))
	var br wire.BundlesResponse
	if code := s.Call(t, http.MethodGet, "/v1/keys/"+string(bob2.Phone), ann.Credential, nil, &br); code != 200 || len(br.Devices) != 0 {
		t.Fatalf("bundles after delete: %d %+v", code, br)
	}
}
