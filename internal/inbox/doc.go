// Package inbox is what the business console does with a number's
// conversations: lists them (newest first, searched, by who is assigned),
// reads their messages, marks them read, assigns them to a console user,
// keeps notes on them and the business's quick replies. The messages
// themselves are the endpoint's inbox log (endpoint.InboxMessage), written
// where the endpoint writes its records: the platform's store for hosted
// endpoints, the local store of a self-hosted one. Sending goes through
// the endpoint, never around it.
//
// The package never imports HTTP or the store; it owns the rules of what
// is valid (lengths, what may be empty) and says what went wrong in words.
//
// The log is written by internal/endpoint (endpoint.InboxWrites, in the
// transaction of its records and webhooks); this package only reads it and
// adds what the console keeps beside it. It holds no locks.
package inbox
