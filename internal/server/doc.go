// Package server wires kontor together: it locks the data directory, opens
// the store and the bus, builds the services, mounts the HTTP handlers and
// runs until its context ends, then shuts down in order (stop accepting,
// close connections, flush commits, close the bus and the store).
//
// server imports everything and nothing imports server except cli and tests.
package server
