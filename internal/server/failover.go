package server

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/internal/store"
)

// Failover of hosted endpoints in a cluster. A hosted endpoint's profile
// (device credential, Signal keys and sessions, conversations) is in the
// shared store (store.EndpointStorage), and exactly one node runs it: the
// one holding its lease in endpoint_leases. The holder renews its leases
// every quarter of --endpoint-lease; every write of the profile is fenced
// by the lease's epoch, so a node that lost the lease (paused, cut off)
// can never write Signal state after another took over, and it closes the
// endpoint at once when a write is refused or a renewal finds the lease
// gone. Each node looks for endpoints whose lease ran out on the same
// tick, claims a few (its fair share first, see pickUp), opens them and
// serves them to the other nodes through the relay. On one node (SQLite,
// or no external NATS) profiles stay in --data/endpoints: faster (a
// session record is one append to a local journal, not a database
// transaction), and there is no other node to fail over to.

// clustered tells whether hosted endpoints keep their profiles in the
// store and fail over: a PostgreSQL store shared over an external NATS.
func (s *Server) clustered() bool {
	return s.db.Dialect() == "postgres" && s.bus != nil && !s.bus.Embedded()
}

// endpointLease is how long a node holds a hosted endpoint unrenewed.
func (s *Server) endpointLease() time.Duration {
	if s.cfg.EndpointLease > 0 {
		return s.cfg.EndpointLease
	}
	return 20 * time.Second
}

// maxTakeovers bounds how many endpoints one node claims on one tick, so
// that the endpoints of a dead node spread over the others.
const maxTakeovers = 8

// leaseNewEndpoint leases the endpoint of a new hosted number to this
// node and returns its (empty) profile in the store.
func (s *Server) leaseNewEndpoint(ctx context.Context, number kontor.ID) (*store.EndpointStorage, error) {
	now := time.Now()
	l, _, ok, err := s.db.ClaimEndpoint(ctx, number, s.holder, now, now.Add(s.endpointLease()))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, kontor.Errorf(kontor.Conflict, "server.leaseNewEndpoint", "the endpoint of %s is leased to another node", number)
	}
	return s.endpointStorage(l), nil
}

// endpointStorage is the profile of l's endpoint, which closes the
// endpoint here when a write is refused for a lost lease.
func (s *Server) endpointStorage(l store.EndpointLease) *store.EndpointStorage {
	st := s.db.EndpointStorage(l)
	st.OnLost = func() { s.hosted.lost(l.Number, st, "a write of its profile was refused") }
	return st
}

// importEndpoint moves the profile of a hosted endpoint from this node's
// data directory into the store (an upgrade from a cluster whose profiles
// were kept on one node each) and runs it here. A profile the store has
// already is not imported again: the directory is stale, and
// keepEndpoints runs the store's.
func (s *Server) importEndpoint(ctx context.Context, number kontor.ID) error {
	_, err := s.db.EndpointFile(ctx, number, "device.json")
	if err == nil {
		s.log.Info("a hosted endpoint's profile is in the store already; its directory is not used", "number", number, "dir", s.endpointDir(number))
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	st, err := s.leaseNewEndpoint(ctx, number)
	if err != nil {
		return err
	}
	// Media first: the profile's device.json in the store marks the
	// import done.
	media, err := s.importMedia(ctx, number)
	var files map[string][]byte
	if err == nil {
		files, err = e2e.ProfileFiles(s.endpointDir(number), "media")
	}
	if err == nil {
		err = s.db.WriteEndpointFiles(ctx, st.Lease(), files)
	}
	if err != nil {
		s.hosted.release(st)
		return err
	}
	s.log.Info("imported a hosted endpoint's profile into the store", "number", number, "files", len(files), "media", media, "dir", s.endpointDir(number))
	return s.startEndpoint(ctx, number, st)
}

// importMedia copies the endpoint's media files from its directory into
// the store (again, if an import was cut short).
func (s *Server) importMedia(ctx context.Context, number kontor.ID) (int, error) {
	dir := filepath.Join(s.endpointDir(number), "media")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	k := 0
	for _, ent := range ents {
		id, err := kontor.ParseID(ent.Name())
		if err != nil || !ent.Type().IsRegular() {
			continue // tmp/
		}
		f, err := os.Open(filepath.Join(dir, ent.Name()))
		if err != nil {
			return k, err
		}
		err = s.db.DeleteEndpointBlob(ctx, number, id)
		if err == nil {
			_, err = s.db.PutEndpointBlob(ctx, number, id, f)
		}
		f.Close()
		if err != nil {
			return k, err
		}
		k++
	}
	return k, nil
}

// keepEndpoints renews this node's endpoint leases and takes over the
// endpoints whose lease ran out, until ctx ends.
func (s *Server) keepEndpoints(ctx context.Context) {
	lease := s.endpointLease()
	every := lease / 4
	lastOK := time.Now()
	retry := map[kontor.ID]time.Time{} // endpoints that failed to open here: not before
	skew := newSkewWatch(lease, s.metrics.reg, s.log)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		skew.run(ctx, every, s.db.Clock)
	}()
	defer wg.Wait()
	for first := true; ; first = false {
		if !first {
			// ±20% so that the nodes' ticks drift apart.
			d := every*4/5 + rand.N(every*2/5+1)
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			return
		}
		held := s.hosted.held()
		now := time.Now()
		rctx, cancel := context.WithTimeout(ctx, every)
		kept, err := s.db.RenewEndpoints(rctx, s.holder, held, now, now.Add(lease))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if time.Since(lastOK) > lease-every {
				for n := range held {
					s.hosted.lostNumber(n, "its lease could not be renewed in time: "+err.Error())
				}
			} else {
				s.log.Warn("renewing the hosted endpoints' leases failed; retrying", "err", err)
			}
			continue
		}
		lastOK = now
		skew.trigger() // read in skew.run: never holds up the next renewal
		for n := range held {
			if !kept[n] {
				s.hosted.lostNumber(n, "another node took it over")
			}
		}
		s.pickUp(ctx, retry)
	}
}

// lostNumber is lost for whatever profile the endpoint of number has.
func (h *hostedEndpoints) lostNumber(number kontor.ID, why string) {
	h.mu.Lock()
	st := h.leases[number]
	h.mu.Unlock()
	if st != nil {
		h.lost(number, st, why)
	}
}

// pickUp claims endpoints whose lease ran out (and this node's own, back
// after a crash) and opens them. No thundering herd: a node takes at most
// maxTakeovers on one tick, in random order, and only up to its fair
// share (endpoints over live nodes); one above its share leaves an
// endpoint to the others until it went unrenewed for two leases.
func (s *Server) pickUp(ctx context.Context, retry map[kontor.ID]time.Time) {
	lease := s.endpointLease()
	now := time.Now()
	free, err := s.db.FreeEndpoints(ctx, s.holder, now, 256)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("looking for hosted endpoints to take over", "err", err)
		}
		return
	}
	running := s.hosted.held()
	cands := free[:0]
	for _, l := range free {
		if _, ok := running[l.Number]; ok {
			continue
		}
		if t, ok := retry[l.Number]; ok && now.Before(t) {
			continue
		}
		cands = append(cands, l)
	}
	if len(cands) == 0 {
		return
	}
	total, nodes, err := s.db.EndpointLoad(ctx, now)
	if err != nil {
		s.log.Warn("counting the hosted endpoints", "err", err)
		return
	}
	share := (total + max(nodes, 1) - 1) / max(nodes, 1)
	room := share - s.hosted.count()
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	taken := 0
	for _, l := range cands {
		if ctx.Err() != nil || taken >= maxTakeovers {
			return
		}
		if l.Holder != s.holder && room-taken <= 0 && now.Sub(l.Renewed) < 2*lease {
			continue
		}
		if s.hosted.busy(l.Number) { // opened here since the list was read
			continue
		}
		if s.takeOver(ctx, l) {
			taken++
			delete(retry, l.Number)
		} else {
			retry[l.Number] = time.Now().Add(lease)
		}
	}
}

// takeOver claims the endpoint whose lease was prev and opens it here.
func (s *Server) takeOver(ctx context.Context, prev store.EndpointLease) bool {
	number := prev.Number
	now := time.Now()
	l, was, ok, err := s.db.ClaimEndpoint(ctx, number, s.holder, now, now.Add(s.endpointLease()))
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("claiming a hosted endpoint", "number", number, "err", err)
		}
		return false
	}
	if gone, err := s.notHosted(ctx, number); gone {
		s.log.Info("dropping the lease and profile of an endpoint that is no longer hosted", "number", number)
		if err := s.db.DropEndpoint(ctx, number); err != nil {
			s.log.Warn("dropping an endpoint", "number", number, "err", err)
		}
		return false
	} else if err != nil {
		s.hosted.release(s.db.EndpointStorage(l))
		return false
	}
	st := s.endpointStorage(l)
	if err := s.startEndpoint(ctx, number, st); err != nil {
		s.log.Error("taking over a hosted endpoint: it did not open; leaving it to another try", "number", number, "err", err)
		s.hosted.release(st)
		return false
	}
	if was.Holder == s.holder {
		s.log.Info("hosted endpoint taken back after a restart", "number", number, "epoch", l.Epoch)
		return true
	}
	s.metrics.takeovers.Inc()
	s.log.Info("took over a hosted endpoint", "number", number, "epoch", l.Epoch, "from", was.Holder,
		"unrenewed", now.Sub(was.Renewed).Round(time.Millisecond), "took", time.Since(now).Round(time.Millisecond))
	return true
}

// notHosted tells whether number is gone or its business self-hosted now.
func (s *Server) notHosted(ctx context.Context, number kontor.ID) (bool, error) {
	n, err := s.db.Number(ctx, number)
	if kontor.KindOf(err) == kontor.NotFound {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	b, err := s.db.Business(ctx, n.Business)
	if kontor.KindOf(err) == kontor.NotFound {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return b.SelfHosted, nil
}

// storeMedia keeps a hosted endpoint's media files in the store (a
// cluster): they survive the node that took them and follow the endpoint
// to whichever node runs it.
type storeMedia struct {
	db     *store.DB
	number kontor.ID
}

func (m storeMedia) PutMedia(ctx context.Context, id kontor.ID, r io.Reader) (int64, error) {
	return m.db.PutEndpointBlob(ctx, m.number, id, r)
}

func (m storeMedia) OpenMedia(ctx context.Context, id kontor.ID) (io.ReadCloser, error) {
	return m.db.OpenEndpointBlob(ctx, m.number, id)
}

func (m storeMedia) RemoveMedia(ctx context.Context, id kontor.ID) error {
	return m.db.DeleteEndpointBlob(ctx, m.number, id)
}

// endpointMediaBatch is how many expired media records of hosted
// endpoints one transaction of the sweep deletes.
const endpointMediaBatch = 500

// sweepEndpointMedia deletes the hosted endpoints' media that expired
// (endpoint.Config.MediaTTL, 30 days after the upload or the person's
// message): their records together with their files in endpoint_blobs (a
// cluster), then their files in the endpoints' media directories (one
// node; in a cluster, copies left from before the import). Every node
// sweeps; each record is deleted by one. It returns how many it deleted.
func (s *Server) sweepEndpointMedia(ctx context.Context, now time.Time) (int, error) {
	n := 0
	for {
		gone, err := s.db.ExpireEndpointMedia(ctx, now, endpointMediaBatch)
		if err != nil {
			return n, err
		}
		for _, m := range gone {
			err := os.Remove(filepath.Join(s.endpointDir(m.Number), "media", m.ID.String()))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, err
			}
			n++
		}
		if len(gone) < endpointMediaBatch {
			return n, nil
		}
	}
}
