// Package wire defines what devices and the server say to each other: the
// WebSocket frames of the device protocol, the JSON bodies of the device HTTP
// API, and the content schema that travels inside a message payload.
//
// It is public: the Go client SDK exposes these types. docs/protocol.md is the
// prose version of this package; change both together and note the change in
// Changelog.
//
// wire imports only the standard library and package kontor.
package wire
