// Package identity owns who is who: phone numbers (E.164), registration with
// one-time codes, accounts, devices and their credentials, link codes for new
// devices, and operator credentials.
//
// Secrets (one-time codes, device secrets, link codes, operator tokens) are
// stored only as SHA-256 hashes; the plain value is shown once, to its owner.
// Codes are short and low-entropy, so they are also limited in tries and in
// how often they can be asked for.
//
// identity never imports the store, the bus or transport packages: it declares
// the Store, CodeSender and Notifier it needs. It holds no locks of its own
// beyond those of its collaborators.
package identity
