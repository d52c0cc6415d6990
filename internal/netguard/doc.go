// Package netguard keeps the connections the platform opens on a
// business's say-so — media sent by link, webhook URLs and their
// verification handshake — off the operator's own network: loopback,
// private (RFC 1918, unique-local), carrier-grade NAT, link-local (cloud
// metadata at 169.254.169.254), multicast, unspecified and reserved
// addresses, also when written as IPv4-mapped, NAT64 or 6to4 IPv6.
//
// The check runs on the address a connection is actually made to, after
// DNS resolution (net.Dialer.Control), so a public name that resolves to
// 127.0.0.1, a name that changes its answer between a check and the dial
// (DNS rebinding), and a redirect to a private address are all refused. A
// Guard's transport uses no proxy from the environment: a proxy would make
// the connection on the guard's behalf, to anywhere.
//
// The operator may allow networks (Guard's allow list, `kontor serve
// --allow-networks`); an allowed network is reachable whatever the rules
// say about it. URLs the operator configures itself (the SMS gateway,
// Stripe, the database, NATS) never go through a Guard.
//
// The package owns only addresses and dialing: it never logs, keeps no
// state but its allow list, and imports nothing of kontor's.
package netguard
