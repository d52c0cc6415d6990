// Package e2e is the end-to-end encryption of the Go client SDK: a
// client.Sealer that encrypts every payload for one peer device with the
// Signal protocol (X3DH to start a session, the Double Ratchet after), using
// go.mau.fi/libsignal. The server sees only ciphertext. docs/e2e.md
// describes the design and its known gaps.
//
// # Model
//
// Each device has its own identity key pair and registration id, made when
// its key store is first opened, a signed prekey and a pool of one-time
// prekeys. Maintain keeps them in the server's key directory: 100 one-time
// prekeys, topped up when fewer than 20 are left; the signed prekey
// replaced weekly, the replaced one kept 30 days for sessions begun from
// older bundles.
//
// Seal with a device it has no session with fetches that device's bundle
// (client.API.Bundles), checks its signature, and starts a session; its
// messages carry what the peer needs to start its side (prekey messages)
// until the peer answers. Open builds the session from such a message,
// and removes the one-time prekey it used. The payload is an envelope:
// byte 0 the envelope version (1), byte 1 the kind (3 prekey message, 2
// message of a session), then libsignal's serialised message; the plaintext
// inside is padded to a multiple of 160 bytes.
//
// Every error of Open matches ErrUndecryptable; the client keeps such a
// message with the error as its problem, so the person sees it. When a new
// session would mend the failure (no session here, a lost key, a message
// that does not match), the session is marked stale: the next Seal fetches
// a fresh bundle and starts a new session, and the old states stay for
// messages already on the way. A damaged session file is moved aside.
// Nothing a failed Open did is written (see op): a tampered or replayed
// message changes no state.
//
// Peer identity keys are trusted on first use and recorded. A changed key
// does not stop the conversation: it records a Notice (Notices,
// Options.OnNotice) and drops a verification. SafetyNumber gives the 60-digit
// number of a conversation; Verify records that the person checked it.
//
// # Files
//
//	PROFILE/e2e/               mode 0700, files 0600; .json ones replaced atomically
//	  identity.json            this device's identity key pair, registration id
//	  prekeys.json             one-time and signed prekeys with private halves
//	  peers.json               peers' identity keys, verifications, notices
//	  sessions.log             the session records, one append per change (journal.go)
//	  sessions/                damaged session records, set aside
//	  lock                     flock held while a Sealer has the store open
//
// The files go through a client.Storage (e2e.OpenStorage): the profile
// directory, or the web chat's IndexedDB, where the lock is a Web Lock.
// The session journal needs a directory (client.LocalStorage); in another
// Storage each session record is a file of its own, sessions/+E164.N.json.
//
// # Goroutines and locks
//
// The package starts no goroutines. libsignal has no locking of its own:
// every operation with one peer device runs under that device's mutex
// (device.mu), so the ratchet of one device never moves in two places at
// once, while different devices proceed in parallel.
//
// Lock order: Sealer.maintainMu, then keysMu; device.mu, then keysMu,
// peersMu, the journal's mu or Sealer.mu (keepSession). Sealer.mu, keysMu,
// peersMu and the journal's mu are leaves.
//
// Seal encrypts with libsignal's parts but not its Cipher.Encrypt (seal.go:
// the same steps, without a debug line per message and with the symmetric
// ratchet's HMACs on the stack, kdf.go), and with the session record it
// keeps parsed from the last Seal to that device (device.session; at most
// keptSessions per sealer), so that most Seals do not parse the record. device.mu is held over the key directory fetch of a new
// session (bounded by ctx and the API client's timeout); no other lock is
// held over network calls or OnNotice.
//
// # What it must never do
//
// It never logs or returns key material or plaintext, never writes a
// private key outside PROFILE/e2e, and never lets libsignal's logger print
// (the package replaces it at init; nothing else in kontor may set it).
package e2e
