// Command chatwasm is the web chat's device: the Go client SDK (package
// client, with the Signal protocol of client/e2e and its profile in the
// browser's IndexedDB through client/idb) compiled to WebAssembly. The page
// at /chat (package web) loads it and talks to it through globalThis.kontor;
// docs/web.md lists that API.
//
// It runs only in a browser (GOOS=js GOARCH=wasm). `go generate
// ./internal/web` builds it into internal/web/chat/kontor.wasm.gz, which the
// server embeds; built for another system it only says so.
//
// Every function of the API returns a Promise and does its work on a
// goroutine of its own, never on the JavaScript callback's: the SDK waits
// on the network and on IndexedDB. Events reach the page's handler in the
// order the client delivered them. Keys, sessions and plaintext stay in
// this program and the browser's storage; only ciphertext goes to the
// server.
package main
