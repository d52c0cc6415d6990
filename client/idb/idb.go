//go:build js && wasm

package idb

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall/js"

	"github.com/kontor-chat/kontor/client"
)

const objectStore = "files"

// Storage is a client.Storage in one IndexedDB database.
type Storage struct {
	name string
	db   js.Value

	mu    sync.Mutex // leaf; not held while waiting for the browser
	files map[string][]byte
	next  map[string]int // the n of a file's next appended record
}

var _ client.Storage = (*Storage)(nil)

// Open opens, creating it if need be, the IndexedDB database name and
// reads it.
func Open(name string) (*Storage, error) {
	idb := js.Global().Get("indexedDB")
	if idb.IsUndefined() || idb.IsNull() {
		return nil, errors.New("idb: this browser has no IndexedDB (or it is turned off, as in some private windows)")
	}
	req := idb.Call("open", name, 1)
	upgrade := js.FuncOf(func(this js.Value, args []js.Value) any {
		db := req.Get("result")
		if !db.Get("objectStoreNames").Call("contains", objectStore).Bool() {
			db.Call("createObjectStore", objectStore)
		}
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	db, err := wait(req, "opening the database")
	if err != nil {
		return nil, err
	}
	s := &Storage{name: name, db: db, files: map[string][]byte{}, next: map[string]int{}}
	if err := s.load(); err != nil {
		db.Call("close")
		return nil, err
	}
	return s, nil
}

// load reads every record into memory.
func (s *Storage) load() error {
	tx := s.db.Call("transaction", objectStore, "readonly")
	st := tx.Call("objectStore", objectStore)
	keysReq, valsReq := st.Call("getAllKeys"), st.Call("getAll")
	keys, err := wait(keysReq, "reading the database")
	if err != nil {
		return err
	}
	vals, err := wait(valsReq, "reading the database")
	if err != nil {
		return err
	}
	type part struct {
		n int
		b []byte
	}
	parts := map[string][]part{}
	for i := range keys.Length() {
		k := keys.Index(i)
		if k.Type() != js.TypeObject || k.Length() != 2 || k.Index(0).Type() != js.TypeString || k.Index(1).Type() != js.TypeNumber {
			continue // not ours
		}
		name, n := k.Index(0).String(), k.Index(1).Int()
		parts[name] = append(parts[name], part{n, bytesOf(vals.Index(i))})
	}
	for name, ps := range parts {
		sort.Slice(ps, func(i, j int) bool { return ps[i].n < ps[j].n })
		var b []byte
		for _, p := range ps {
			b = append(b, p.b...)
		}
		s.files[name] = b
		s.next[name] = ps[len(ps)-1].n + 1
	}
	return nil
}

// ReadFile returns a copy of the file.
func (s *Storage) ReadFile(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[name]
	if !ok {
		return nil, fmt.Errorf("idb: reading %s: %w", name, fs.ErrNotExist)
	}
	return slices.Clone(b), nil
}

// WriteFile replaces the file's records by one, in one transaction.
func (s *Storage) WriteFile(name string, b []byte) error {
	err := s.do("writing "+name, func(st js.Value) {
		st.Call("delete", fileRange(name))
		st.Call("put", jsBytes(b), key(name, 0))
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.files[name], s.next[name] = slices.Clone(b), 1
	s.mu.Unlock()
	return nil
}

// AppendFile adds one record to the file.
func (s *Storage) AppendFile(name string, b []byte) error {
	s.mu.Lock()
	n := s.next[name]
	s.mu.Unlock()
	if err := s.do("appending to "+name, func(st js.Value) { st.Call("put", jsBytes(b), key(name, n)) }); err != nil {
		return err
	}
	s.mu.Lock()
	s.files[name] = append(s.files[name], b...)
	s.next[name] = n + 1
	s.mu.Unlock()
	return nil
}

// List lists the files directly in dir.
func (s *Storage) List(dir string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.files {
		if path.Dir(name) == path.Clean("./"+dir) {
			names = append(names, path.Base(name))
		}
	}
	slices.Sort(names)
	return names, nil
}

// Remove deletes the file's records.
func (s *Storage) Remove(name string) error {
	if err := s.do("removing "+name, func(st js.Value) { st.Call("delete", fileRange(name)) }); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.files, name)
	delete(s.next, name)
	s.mu.Unlock()
	return nil
}

// Lock takes the Web Lock "kontor/DATABASE/name" if no other tab holds it.
func (s *Storage) Lock(name string) (func(), error) {
	locks := js.Global().Get("navigator").Get("locks")
	if locks.IsUndefined() || locks.IsNull() {
		return func() {}, nil // no Web Locks outside a secure context: see the package doc
	}
	got := make(chan bool, 1)
	var release js.Value // resolves the promise that holds the lock
	var executor js.Func
	cb := js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) == 0 || args[0].IsNull() {
			got <- false
			return nil
		}
		p := js.Global().Get("Promise").New(executor)
		got <- true
		return p
	})
	executor = js.FuncOf(func(this js.Value, args []js.Value) any {
		release = args[0]
		return nil
	})
	full := "kontor/" + s.name + "/" + name
	opts := js.Global().Get("Object").New()
	opts.Set("ifAvailable", true)
	locks.Call("request", full, opts, cb)
	ok := <-got
	cb.Release()
	if !ok {
		executor.Release()
		return nil, fmt.Errorf("%w: kontor is open in another tab or window of this browser (%s)", client.ErrProfileInUse, full)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			release.Invoke()
			executor.Release()
		})
	}, nil
}

// Close closes the database.
func (s *Storage) Close() { s.db.Call("close") }

// Delete removes the database name with everything in it; no Storage of it
// may be open.
func Delete(name string) error {
	_, err := wait(js.Global().Get("indexedDB").Call("deleteDatabase", name), "deleting the database")
	return err
}

// do runs fill in a read-write transaction with strict durability and
// waits until it completed.
func (s *Storage) do(doing string, fill func(st js.Value)) error {
	opts := js.Global().Get("Object").New()
	opts.Set("durability", "strict")
	tx := s.db.Call("transaction", objectStore, "readwrite", opts)
	done := make(chan error, 1)
	complete := js.FuncOf(func(js.Value, []js.Value) any {
		done <- nil
		return nil
	})
	failed := js.FuncOf(func(js.Value, []js.Value) any {
		done <- fmt.Errorf("idb: %s: %s", doing, errorText(tx.Get("error")))
		return nil
	})
	defer complete.Release()
	defer failed.Release()
	tx.Set("oncomplete", complete)
	tx.Set("onerror", failed)
	tx.Set("onabort", failed)
	fill(tx.Call("objectStore", objectStore))
	return <-done
}

// wait waits for an IDBRequest and returns its result.
func wait(req js.Value, doing string) (js.Value, error) {
	type result struct {
		v       js.Value
		err     error
		blocked bool
	}
	done := make(chan result, 1)
	send := func(r result) {
		select {
		case done <- r:
		default: // an answer came already
		}
	}
	ok := js.FuncOf(func(js.Value, []js.Value) any {
		send(result{v: req.Get("result")})
		return nil
	})
	bad := js.FuncOf(func(js.Value, []js.Value) any {
		send(result{err: fmt.Errorf("idb: %s: %s", doing, errorText(req.Get("error")))})
		return nil
	})
	// Blocked (deleting or upgrading while another connection of the site
	// is open) is no error of the request, which goes on and may still
	// succeed or fail; its error may not be read yet.
	blocked := js.FuncOf(func(js.Value, []js.Value) any {
		send(result{blocked: true, err: fmt.Errorf("idb: %s: another tab or window of this site keeps the database open; close it and try again", doing)})
		return nil
	})
	req.Set("onsuccess", ok)
	req.Set("onerror", bad)
	req.Set("onblocked", blocked)
	r := <-done
	if !r.blocked { // else the request's later events still call them
		ok.Release()
		bad.Release()
		blocked.Release()
	}
	return r.v, r.err
}

func errorText(e js.Value) string {
	if e.IsUndefined() || e.IsNull() {
		return "failed"
	}
	if m := e.Get("message"); m.Type() == js.TypeString && m.String() != "" {
		return strings.TrimSpace(e.Get("name").String() + ": " + m.String())
	}
	return e.Call("toString").String()
}

func key(name string, n int) js.Value {
	return js.ValueOf([]any{name, n})
}

// fileRange is the key range of all of a file's records.
func fileRange(name string) js.Value {
	return js.Global().Get("IDBKeyRange").Call("bound", key(name, 0), js.ValueOf([]any{name, js.Global().Get("Infinity")}))
}

func jsBytes(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

func bytesOf(v js.Value) []byte {
	if !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return nil
	}
	b := make([]byte, v.Length())
	js.CopyBytesToGo(b, v)
	return b
}
