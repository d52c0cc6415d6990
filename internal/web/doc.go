// Package web serves the browser side of kontor from files embedded in the
// binary, with nothing fetched from other sites and no build step for the
// person who runs the server. Today that is the web chat at /chat (the
// business console of docs/web.md is not built yet).
//
// # The web chat
//
// chat/ holds a plain HTML page, its CSS and JavaScript (no framework),
// Go's wasm_exec.js and kontor.wasm.gz: the Go client SDK compiled to
// WebAssembly (command chatwasm), gzip-compressed. The device runs in the
// browser — registration, the Signal protocol, the profile in IndexedDB —
// and speaks to the server only through the device API and WebSocket that
// every other device uses; this package adds no server-side API.
//
// kontor.wasm.gz and wasm_exec.js are generated (`go generate
// ./internal/web`, which runs genwasm) and committed, so that `go build`
// alone makes a complete binary; TestWasmUpToDate rebuilds them and fails
// when the committed ones are stale.
//
// # What it must never do
//
// Serve anything that loads from another origin (the Content-Security-Policy
// allows only 'self'), or take part in a conversation: it hands out files.
package web
