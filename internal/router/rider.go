package router

import (
	"sync"

	"github.com/kontor-chat/kontor"
)

// A Rider writes what belongs to a send in the transaction that commits
// the send: a hosted business endpoint's record, inbox entry and "sent"
// webhook of the message, so that the message and what its sender keeps
// of it commit together, in one transaction, or not at all.
//
// Only sends over an in-process link carry riders (a device's own
// connection to its node, see Riders); a device elsewhere never does.
type Rider interface {
	// Ride is called in the transaction of the send, once its ref was
	// claimed fresh, with the id and server time (Unix ms) the send gets:
	// its writes go in tx (a Tx of the router's Store: a rider that needs
	// more of it asserts the store's own type). An error aborts the
	// transaction. Ride may be called again, in another transaction and
	// with another id, when the first one failed (a group commit is tried
	// again op by op); only the last call's writes can be committed.
	Ride(tx Tx, id kontor.ID, ts int64) error
	// Rode is called once the send's outcome is final, before its sender
	// is answered: committed says whether the writes of the last Ride are
	// committed. It is false for a send that failed, or that repeated a
	// ref claimed before (its first send carried what was to be written).
	// It must not block.
	Rode(committed bool)
}

// Riders holds the riders of one device's sends until they are
// committed, by the sends' refs: the sender adds one before it writes the
// send, the in-process link hands it to the router with the send
// (Router.SendWith). The zero value is empty and ready; a nil *Riders
// holds nothing. It is safe for concurrent use.
type Riders struct {
	mu sync.Mutex
	m  map[string]Rider
}

// Add holds r for the send with ref.
func (rs *Riders) Add(ref string, r Rider) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m = make(map[string]Rider)
	}
	rs.m[ref] = r
}

// Remove forgets the rider of ref.
func (rs *Riders) Remove(ref string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	delete(rs.m, ref)
}

// Get returns the rider of ref, or nil.
func (rs *Riders) Get(ref string) Rider {
	if rs == nil {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.m[ref]
}
