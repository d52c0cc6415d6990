//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"syscall/js"
	"time"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// The web chat's smaller calls: the state of a payment, reactions, link
// codes and the carts kept in the profile.

// payment asks what became of an order's payment (after pay answered
// pending): the outcome as pay gives it.
func (a *app) payment(args []js.Value) (any, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	order := strings.TrimSpace(stringArg(args, 0))
	if order == "" {
		return nil, kontor.Errorf(kontor.Invalid, "payment", "which order?")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.API().OrderPayment(ctx, order)
}

// react sends a reaction (an emoji; "" takes it back) on the message id
// of the conversation with peer.
func (a *app) react(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	id, emoji := strings.TrimSpace(stringArg(args, 1)), strings.TrimSpace(stringArg(args, 2))
	if id == "" {
		return nil, kontor.Errorf(kontor.Invalid, "react", "which message?")
	}
	if utf8.RuneCountInString(emoji) > 8 {
		return nil, kontor.Errorf(kontor.Invalid, "react", "a reaction is one emoji")
	}
	m, err := c.Queue(peer, wire.Content{V: wire.ContentVersion, Type: wire.ContentReaction, Reaction: &wire.Reaction{MessageID: id, Emoji: emoji}})
	if err != nil {
		return nil, err
	}
	return messageJSON(m), nil
}

// linkCode asks the server for a code that links another device to this
// account (this browser must be the account's primary device).
func (a *app) linkCode([]js.Value) (any, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	if c.Account().DeviceID != 1 {
		return nil, errors.New("only the account's primary device (the one that registered the number) gives link codes; this browser is a linked device")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := c.API().LinkCode(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"code": r.Code, "expires_in": r.ExpiresIn, "phone": c.Account().Phone}, nil
}

// cartFile is where the cart for a business is kept: in the profile's
// storage, so that signing out (forget) deletes it with the rest.
func cartFile(peer kontor.Phone) string { return "carts/" + string(peer) + ".json" }

// maxCartLines bounds a kept cart (the server takes at most
// wire.MaxOrderItems lines in an order).
const maxCartLines = wire.MaxOrderItems

// cart returns the cart kept for the business at peer: {items:
// {retailerID: quantity}, note}; empty when none is kept.
func (a *app) cart(args []js.Value) (any, error) {
	peer, err := phoneArg(args, 0)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	st := a.st
	a.mu.Unlock()
	if st == nil {
		return nil, errors.New("the web chat has not started yet")
	}
	out := savedCart{Items: map[string]int{}}
	b, err := st.ReadFile(cartFile(peer))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Items == nil {
		return savedCart{Items: map[string]int{}}, nil // unreadable: start afresh
	}
	return out, nil
}

// savedCart is a cart as kept.
type savedCart struct {
	Items map[string]int `json:"items"`
	Note  string         `json:"note,omitempty"`
}

// saveCart keeps the cart for the business at peer (items: retailer id →
// quantity, note); an empty cart is removed.
func (a *app) saveCart(args []js.Value) (any, error) {
	peer, err := phoneArg(args, 0)
	if err != nil {
		return nil, err
	}
	c := savedCart{Items: map[string]int{}, Note: stringArg(args, 2)}
	if len(args) > 1 && args[1].Type() == js.TypeObject {
		if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", args[1]).String()), &c.Items); err != nil {
			return nil, kontor.Errorf(kontor.Invalid, "cart", "the cart is not product ids with whole quantities")
		}
	}
	for id, n := range c.Items {
		if n < 1 || id == "" {
			delete(c.Items, id)
		}
	}
	if len(c.Items) > maxCartLines {
		return nil, kontor.Errorf(kontor.Invalid, "cart", "a cart holds at most %d products", maxCartLines)
	}
	a.mu.Lock()
	st := a.st
	a.mu.Unlock()
	if st == nil {
		return nil, errors.New("the web chat has not started yet")
	}
	if len(c.Items) == 0 && strings.TrimSpace(c.Note) == "" {
		return nil, st.Remove(cartFile(peer))
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return nil, st.WriteFile(cartFile(peer), b)
}
