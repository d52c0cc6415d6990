package router

import (
	"context"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
)

// deviceCache keeps recipients' device lists. It is trusted only to accept a
// send: when a send does not match it, the router asks the store before it
// refuses. Entries live for ttl and are dropped early on DevicesChanged.
type deviceCache struct {
	store Store
	ttl   time.Duration
	clock kontor.Clock

	mu        sync.Mutex
	byPhone   map[kontor.Phone]cached
	byAccount map[kontor.ID]kontor.Phone
}

type cached struct {
	r       Recipient
	fetched time.Time
}

const maxCached = 200_000

func newDeviceCache(s Store, ttl time.Duration, clock kontor.Clock) *deviceCache {
	return &deviceCache{store: s, ttl: ttl, clock: clock, byPhone: map[kontor.Phone]cached{}, byAccount: map[kontor.ID]kontor.Phone{}}
}

func (c *deviceCache) get(ctx context.Context, phone kontor.Phone, fresh bool) (Recipient, error) {
	now := c.clock.Now()
	if !fresh {
		c.mu.Lock()
		e, ok := c.byPhone[phone]
		c.mu.Unlock()
		if ok && now.Sub(e.fetched) < c.ttl {
			return e.r, nil
		}
	}
	r, err := c.store.Recipient(ctx, phone)
	if err != nil {
		return Recipient{}, err
	}
	c.put(r, now)
	return r, nil
}

func (c *deviceCache) getAccount(ctx context.Context, account kontor.ID, fresh bool) (Recipient, error) {
	if !fresh {
		c.mu.Lock()
		p, ok := c.byAccount[account]
		c.mu.Unlock()
		if ok {
			return c.get(ctx, p, false)
		}
	}
	r, err := c.store.RecipientByAccount(ctx, account)
	if err != nil {
		return Recipient{}, err
	}
	c.put(r, c.clock.Now())
	return r, nil
}

func (c *deviceCache) put(r Recipient, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byPhone) >= maxCached {
		clear(c.byPhone)
		clear(c.byAccount)
	}
	c.byPhone[r.Phone] = cached{r: r, fetched: now}
	c.byAccount[r.Account] = r.Phone
}

func (c *deviceCache) invalidate(account kontor.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.byAccount[account]; ok {
		delete(c.byPhone, p)
		delete(c.byAccount, account)
	}
}
