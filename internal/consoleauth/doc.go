// Package consoleauth owns who may use the business console: console users
// (an email and a password, belonging to one business, with the role owner,
// admin or agent), their sessions, the invitations and set-password links
// that bring new users in, and the lockout after repeated failed sign-ins.
//
// Secrets are never stored in the clear: passwords as argon2id hashes (PHC
// strings, golang.org/x/crypto/argon2), session tokens and invitation tokens
// as SHA-256 hashes; the plain token exists only in the user's cookie or
// link. Comparisons of secrets run in constant time, and signing in with an
// unknown email costs the same argon2id work as a wrong password and says
// the same words, so the console does not tell which emails have accounts.
//
// The CSRF token of a session is derived from the session token (an HMAC),
// so it needs no storage and dies with the session.
//
// What each role may do is decided here (Can), not in the transport: the
// console's handlers ask before they show or change anything.
//
// consoleauth never imports the store, the bus or transport packages: it
// declares the Store it needs. It holds no locks.
package consoleauth
