// Package console is the business console's web interface at /console:
// pages rendered on the server with html/template and plain stylesheets,
// embedded in the binary, with nothing fetched from other sites and no
// JavaScript except the inbox's live updates (static/inbox.js, allowed by
// the CSP of the inbox pages only; every page works without it).
//
// The inbox (inbox.go, mounted by NewInbox(…).Mount) reads the endpoint's
// inbox log through inbox.Store and sends through the number's endpoint
// with Cloud API JSON, as the Business API does.
//
// It is transport only. Who may do what, sessions, passwords and links are
// consoleauth's; businesses, tokens, profiles and the app secret are
// business's; webhooks go through the webhook outbox. Every form is a POST
// that must come from a page of the same origin (http.CrossOriginProtection:
// Sec-Fetch-Site or Origin against Host) and carry the session's CSRF token
// (an HMAC of the session token); the sign-in and set-password forms carry
// one derived from a cookie of their own (double submit). Session cookies
// are HttpOnly, SameSite=Lax, limited to /console, and Secure when the
// request came over TLS (directly, or X-Forwarded-Proto: https from a
// trusted proxy, package realip).
//
// console never imports the store, the bus or database drivers.
package console
