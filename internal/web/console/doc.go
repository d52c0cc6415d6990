// Package console is the business console's web interface at /console:
// pages rendered on the server with html/template and one plain stylesheet,
// embedded in the binary, with no JavaScript and nothing fetched from other
// sites.
//
// It is transport only. Who may do what, sessions, passwords and links are
// consoleauth's; businesses, tokens, profiles and the app secret are
// business's; webhooks go through the webhook outbox. Every form is a POST
// that must come from a page of the same origin (http.CrossOriginProtection:
// Sec-Fetch-Site or Origin against Host) and carry the session's CSRF token
// (an HMAC of the session token); the sign-in and set-password forms carry
// one derived from a cookie of their own (double submit). Session cookies
// are HttpOnly, SameSite=Lax, limited to /console, and Secure when the
// request came over TLS (directly or as X-Forwarded-Proto: https).
//
// console never imports the store, the bus or database drivers.
package console
