// Package cloudapi is the wire format of the public WhatsApp Cloud API as
// kontor's Business API speaks it: the error shape and codes, the bodies of
// POST /{version}/{phone-number-id}/messages and their strict validation,
// the conversion between those bodies and kontor's end-to-end content
// (wire.Content) in both directions — templates filled in against their
// approved definition (TemplateDefinition) — the webhook envelopes with
// their ASCII-only encoding and signatures, message ids and versions.
//
// It is a format package: no HTTP server, no store, no clock of its own. The
// Business API handlers parse and answer with it; the business endpoint
// converts with it (ToContent for what a business sends, InboundMessage for
// what a person sends); the webhook worker encodes and signs with it. What
// needs I/O — turning a media id or link into an encrypted attachment,
// naming an attachment a person sent — is asked of small interfaces the
// caller implements (MediaResolver, MediaNamer).
//
// Errors are *Error values carrying the public code, HTTP status and
// details; every function that judges a request returns one, never a plain
// error, so a handler can write it as is.
//
// It imports only the standard library, package kontor and package wire.
// It holds no mutable state and takes no locks.
package cloudapi
