// Package client is the Go SDK for kontor devices: it registers or links a
// device, keeps its state in a profile directory, and holds its WebSocket
// connection to the server. kontor chat, kontor client, the web chat, tests
// and the load generator are built on it. docs/protocol.md describes the
// protocol it speaks; package wire holds the frames. The connection is a
// Conn: the WebSocket, or what Options.Dial opens (a server links its hosted
// business endpoints in process), with one code path above it.
//
// # Model
//
// A device is one phone number's device on one server. Register (a new
// number, or moving one to this device) or Link (another device of an
// account) writes its Account into a profile directory; Open opens the
// profile and connects in the background, reconnecting with exponential
// backoff and jitter after drops, until Close. Only ErrUnauthenticated (the
// device was removed), ErrReplaced (a newer connection of the same device)
// and ErrUnsupported stop it for good.
//
// The profile is the client's truth. Messages arrive as msg frames; each is
// opened with the Sealer, recorded durably in its conversation and only
// then acknowledged, so a message is never lost; the server delivers at
// least once, and the client drops what it has recorded before, across
// restarts. Receipts move the status of sent messages: pending (in the
// outbox) → sent (committed) → delivered → read, or failed.
//
// Sending puts a message in the outbox, inside the profile. The client
// seals it for every current device of the recipient and every other
// device of its own account (device lists are cached in the profile and
// fetched again when the server answers devices_mismatch) and sends it with
// a ref. The ref stays the same for every try — after a reconnect or a
// restart, messages not yet answered are sent again — and the server
// commits each ref once. Withdraw takes a send out of the outbox for good
// (a business endpoint's send whose caller stopped waiting), and says
// whether the server may have committed a copy of it before. SendNoted
// keeps the caller's note with a send in the outbox and hands it back in
// the send's Sent event, on whichever client of the profile sends it (a
// business endpoint records a send committed after its call from it).
//
// Events (messages, receipts, send outcomes, typing, presence, connection
// state) come in order on one channel, which never blocks the connection.
//
// # Profile layout
//
//	DIR/                     mode 0700
//	  device.json            the Account: server, phone, device id, credential (0600)
//	  state.json             read receipts not yet sent, cached device lists; replaced atomically
//	  conversations/+E164.jsonl
//	                         one append-only log per peer: messages (with ref or id)
//	                         and status changes (with the receipt frame's id);
//	                         one write and fsync per batch, a torn last line is cut off
//	                         on open, long logs are rewritten compactly
//	  lock                   flock held while a Client has the profile open
//
// The profile's files go through a Storage: DirStorage is the directory
// above; package client/idb keeps the same files as IndexedDB records in a
// browser (the web chat), and MemStorage in memory. A DirStorage is also a
// LocalStorage: the profile then keeps up to 64 conversation logs open for
// appending (one write, and an fsync unless Options.NoSync, per batch), and
// package e2e keeps its session records in one journal file; other
// Storages get AppendFile and WriteFile.
//
// The outbox is every outgoing message of this device whose status is still
// pending; the seen-set for dropping redelivered frames is rebuilt from the
// logs (the newest 20,000 ids).
//
// # Goroutines and locks
//
// Open starts two goroutines, stopped by Close (or Open's ctx) and waited
// for: the event dispatcher and the connection loop. Each connection adds
// a reader and a sender (the outbox), which end with the connection.
//
// Lock order: Client.flushMu, then profile.mu; Client.mu, then session.mu
// (a send claimed for writing, or withdrawn, sees the connection's refs in
// flight); profile.mu, then session.mu (the outbox skips those in flight).
// session.mu, eventQueue.mu and profile.mu are otherwise leaves: never held
// while taking another lock. No lock is held over Sealer calls, HTTP calls or a blocking channel
// operation; profile.mu is held while writing the profile's files, and
// flushMu (which only keeps read receipts from going out twice) while
// writing read frames.
//
// Package client never imports the server's packages.
package client
