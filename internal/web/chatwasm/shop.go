//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/wire"
)

// The web chat's business side: who a peer is, its catalog, orders,
// payments, media and answers to interactive messages. Every call is
// the device's own (the device API of docs/protocol.md), as in kontor chat.

// businessInfo is what the page shows of a peer that is a business.
type businessInfo struct {
	// Business is true when the server knows the number as a business
	// (GET /v1/businesses/{phone}), under Name (its verified name): the
	// platform, not the peer, says so.
	Business    bool   `json:"business"`
	Name        string `json:"name,omitempty"`
	Catalog     bool   `json:"catalog"`
	CartEnabled bool   `json:"cart_enabled"`
	// Hosted is true when the number's endpoint runs on the platform, so
	// a service of Operator's manages the chat (the server says so, and
	// the business tells the conversation: Notice is the line it sent,
	// or the same line when it has not arrived yet).
	Hosted   bool   `json:"hosted"`
	Notice   string `json:"notice,omitempty"`
	Operator string `json:"operator,omitempty"`
}

// business says whether peer is a business, as the server publishes it,
// with the hosted-service notice of the conversation (which kontor chat
// shows on /open).
func (a *app) business(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	var info businessInfo
	for _, m := range c.History(peer, 0) {
		if !m.Outgoing && m.Content.Type == wire.ContentBusinessNotice && m.Content.Notice != nil && m.Content.Notice.Reason == wire.NoticeHosted {
			info.Hosted, info.Notice, info.Operator = true, m.Content.Text, m.Content.Notice.Operator
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := c.API().Business(ctx, peer)
	switch {
	case err == nil:
		info.Business, info.Name, info.Catalog, info.CartEnabled = true, b.Name, b.Catalog, b.CartEnabled
		if b.Hosted && !info.Hosted {
			info.Hosted, info.Operator = true, b.Operator
			op := b.Operator
			if op == "" {
				op = "the operator of this kontor platform"
			}
			info.Notice = "This business uses a service run by " + op + " to manage this chat, so " + op + " can read the messages of this chat."
		}
	case kontor.KindOf(err) == kontor.NotFound:
		// Not a business: a notice alone proves nothing (any device can
		// write one), so no badge.
	default:
		return nil, err
	}
	return info, nil
}

// catalog fetches every product the business at peer shows in the chat.
func (a *app) catalog(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.API().WholeCatalog(ctx, peer)
}

// order places the cart (the second argument: retailer id → quantity) at
// the business at peer, which reserves its stock, then sends the order
// message: {placed, message}. A refusal for short stock answers with
// placed.status "refused" and sends nothing.
func (a *app) order(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	items := map[string]int{}
	if len(args) > 1 && args[1].Type() == js.TypeObject {
		if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", args[1]).String()), &items); err != nil {
			return nil, kontor.Errorf(kontor.Invalid, "order", "the cart is not product ids with whole quantities")
		}
	}
	for id, n := range items {
		if n < 1 {
			delete(items, id)
		}
	}
	if len(items) == 0 {
		return nil, kontor.Errorf(kontor.Invalid, "order", "the cart is empty: add a product from the catalog first")
	}
	note := strings.TrimSpace(stringArg(args, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shop, err := c.API().WholeCatalog(ctx, peer)
	if err != nil {
		return nil, err
	}
	ct, err := client.Order(shop, items, note)
	if err != nil {
		return nil, err
	}
	placed, err := c.API().PlaceOrder(ctx, peer, items, note)
	if err != nil {
		return nil, err
	}
	if placed.Status != "placed" {
		return map[string]any{"placed": placed}, nil
	}
	ct.Order.OrderID = placed.OrderID
	m, err := c.Queue(peer, ct)
	if err != nil {
		return nil, err
	}
	return map[string]any{"placed": placed, "message": messageJSON(m)}, nil
}

// pay pays an order with a card: the outcome, with status succeeded,
// pending, declined or canceled.
func (a *app) pay(args []js.Value) (any, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	order := strings.TrimSpace(stringArg(args, 0))
	card := strings.ReplaceAll(strings.TrimSpace(stringArg(args, 1)), " ", "")
	if order == "" {
		return nil, kontor.Errorf(kontor.Invalid, "pay", "which order? this payment request names none")
	}
	if card == "" {
		return nil, kontor.Errorf(kontor.Invalid, "pay", "enter a card number")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return c.API().PayOrder(ctx, order, card, "")
}

// attach encrypts a file (name, type, caption, bytes as a Uint8Array),
// uploads the ciphertext for the conversation with peer and puts the
// message in the outbox. Pictures go as images, everything else as a
// document.
func (a *app) attach(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	name, mime, caption := stringArg(args, 1), stringArg(args, 2), stringArg(args, 3)
	if len(args) < 5 || !args[4].InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, errors.New("no file to send")
	}
	n := args[4].Get("length").Int()
	if n == 0 {
		return nil, kontor.Errorf(kontor.Invalid, "attach", "%s is empty", name)
	}
	if n > maxFile {
		return nil, kontor.Errorf(kontor.Invalid, "attach", "%s is %d MB; the web chat sends files of up to %d MB", name, n>>20, maxFile>>20)
	}
	file := make([]byte, n)
	js.CopyBytesToGo(file, args[4])
	kind := wire.ContentDocument
	if strings.HasPrefix(mime, "image/") && mime != "image/svg+xml" {
		kind = wire.ContentImage
	}
	if mime == "" {
		mime = "application/octet-stream"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ct, err := c.Attach(ctx, peer, kind, mime, name, caption, file)
	if err != nil {
		return nil, err
	}
	m, err := c.Queue(peer, ct)
	if err != nil {
		return nil, err
	}
	return messageJSON(m), nil
}

// maxFile is the largest file the web chat sends: the server's limit for
// images (5 MB) is lower; it says so.
const maxFile = 100 << 20

// media downloads the file a message's media (the content's media object
// as history gives it) points at, checks and decrypts it: a Uint8Array.
func (a *app) media(args []js.Value) (any, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	if len(args) == 0 || args[0].Type() != js.TypeObject {
		return nil, errors.New("which media?")
	}
	var m wire.Media
	if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", args[0]).String()), &m); err != nil {
		return nil, fmt.Errorf("not a media object: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	file, err := c.Fetch(ctx, &m)
	if err != nil {
		return nil, err
	}
	out := js.Global().Get("Uint8Array").New(len(file))
	js.CopyBytesToJS(out, file)
	return out, nil
}

// reply answers an interactive message (its id) with the button or list
// row the person chose: kind button_reply or list_reply, the choice's id
// and title.
func (a *app) reply(args []js.Value) (any, error) {
	c, peer, err := a.peerClient(args)
	if err != nil {
		return nil, err
	}
	to, kind, id, title := stringArg(args, 1), stringArg(args, 2), stringArg(args, 3), stringArg(args, 4)
	if kind != wire.ChoiceButton && kind != wire.ChoiceListRow {
		return nil, fmt.Errorf("a reply is a button_reply or a list_reply, not %q", kind)
	}
	m, err := c.Queue(peer, wire.Content{V: wire.ContentVersion, Type: wire.ContentInteractiveReply, ReplyTo: to,
		InteractiveReply: &wire.InteractiveReply{Type: kind, ID: id, Title: title}})
	if err != nil {
		return nil, err
	}
	return messageJSON(m), nil
}
