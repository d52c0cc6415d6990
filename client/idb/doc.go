// Package idb is a client.Storage in a browser's IndexedDB, for the web
// chat: the Go client SDK compiled to WebAssembly keeps its profile —
// account, conversations, and the Signal keys and sessions of package e2e —
// in the browser, never on the server. It builds only for GOOS=js
// GOARCH=wasm.
//
// # Model
//
// One IndexedDB database per profile, with one object store, "files".
// A file is one or more records keyed [name, n]: WriteFile replaces all of
// a file's records by one with n = 0 in one transaction; AppendFile adds
// the record n+1, so an append costs one small write however long the
// conversation log. Every transaction asks for strict durability (the
// browser flushes it to disk before it completes), like the fsyncs of
// client.DirStorage. Open reads the whole database into memory; reads are
// served from there, and writes update it once their transaction
// completed.
//
// Lock uses the Web Locks API, so a profile is open in one tab at a time;
// where the page is not a secure context (a plain-http address other than
// localhost) the API is missing, and Lock cannot keep a second tab out.
//
// # Goroutines
//
// Methods wait for the browser's callbacks on channels, so they must not
// be called on the goroutine of a JavaScript callback (js.FuncOf): call
// them from a goroutine of their own, as the web chat's API does. The
// package starts no goroutines.
package idb
