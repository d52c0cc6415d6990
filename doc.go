// Package kontor holds the few words every part of kontor shares: identifiers,
// the error type with its small set of kinds, and the clock.
//
// It imports only the standard library and must stay small: a type used by one
// concept lives in that concept's package.
package kontor
