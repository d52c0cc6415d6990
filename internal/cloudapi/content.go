package cloudapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/kontor-chat/kontor/wire"
)

// MediaResolver turns the media object of a request into an attachment a
// person's device can open. The endpoint implements it: it takes the bytes
// of the uploaded media m.ID, or fetches m.Link, encrypts them under a fresh
// key, uploads the blob and returns the wire.Media (id, key, digest, mime
// type, size; FileName if it knows one). kind is image, video, audio,
// document or sticker.
//
// An *Error returned (in the chain) is answered as it is — 100 for an
// unknown media id, 131052 when a link cannot be fetched, 131053 when the
// file does not fit the kind; any other error becomes 131053.
type MediaResolver interface {
	ResolveMedia(ctx context.Context, kind string, m MediaObject) (wire.Media, error)
}

// ToContent turns a checked send request (from ParseSend) into the content
// the person's device receives. A template message needs the approved
// definition the request names, tmpl (the caller looks it up by name and
// language, and answers 132001, 132015 or 132016 itself when it is
// missing, paused or disabled); other types take nil.
//
// Replies and reactions must name messages by wamids made by MessageID
// (131009 otherwise). The content returned passes wire.Content.Check.
// Payment requests (order_details) and order news (order_status) come out
// as their business wrote them, amounts in minor units: the caller ties
// them to a kontor order (their OrderID) when the reference id names one.
func ToContent(ctx context.Context, req SendRequest, media MediaResolver, tmpl *TemplateDefinition) (wire.Content, *Error) {
	c := wire.Content{V: wire.ContentVersion, Type: req.Type}
	if req.IsMarkRead() {
		return c, NewError(CodeInvalidParameter, "A request that marks a message read carries no message.")
	}
	if req.Context != nil {
		id, ok := ParseMessageID(req.Context.MessageID)
		if !ok {
			return c, Invalid("context.message_id", fmt.Sprintf("%q is not the id of a message of this chat", req.Context.MessageID))
		}
		c.ReplyTo = id.String()
	}
	switch req.Type {
	case TypeText:
		if req.Text == nil {
			return c, Missing("text")
		}
		c.Text, c.PreviewURL = req.Text.Body, req.Text.PreviewURL
	case TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker:
		mo := req.Media()
		if mo == nil {
			return c, Missing(req.Type)
		}
		m, e := resolve(ctx, media, req.Type, *mo)
		if e != nil {
			return c, e
		}
		if mo.Filename != "" {
			m.FileName = mo.Filename
		}
		m.Voice = m.Voice || mo.Voice
		c.Media, c.Text = &m, mo.Caption
	case TypeLocation:
		if req.Location == nil {
			return c, Missing("location")
		}
		l := req.Location
		c.Location = &wire.Location{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}
	case TypeContacts:
		c.Contacts = contactsIn(req.Contacts)
	case TypeReaction:
		if req.Reaction == nil {
			return c, Missing("reaction")
		}
		id, ok := ParseMessageID(req.Reaction.MessageID)
		if !ok {
			return c, Invalid("reaction.message_id", fmt.Sprintf("%q is not the id of a message of this chat", req.Reaction.MessageID))
		}
		c.Reaction = &wire.Reaction{MessageID: id.String(), Emoji: req.Reaction.Emoji}
	case TypeInteractive:
		if req.Interactive == nil {
			return c, Missing("interactive")
		}
		in, e := interactiveContent(ctx, req.Interactive, media)
		if e != nil {
			return c, e
		}
		c.Interactive = in
	case TypeTemplate:
		if req.Template == nil {
			return c, Missing("template")
		}
		if tmpl == nil {
			return c, Errorf(CodeTemplateNotFound, "template name (%s) does not exist in %s", req.Template.Name, req.Template.Language.Code)
		}
		t, e := renderTemplate(ctx, *tmpl, *req.Template, media)
		if e != nil {
			return c, e
		}
		c.Template = &t
	default:
		return c, Errorf(CodeUnsupportedType, "Message type %q is not supported for sending.", req.Type)
	}
	if err := c.Check(); err != nil {
		return c, NewError(CodeInvalidValue, "The message does not fit kontor's content limits: "+err.Error()+".")
	}
	return c, nil
}

// resolve asks media for an attachment and maps its error.
func resolve(ctx context.Context, media MediaResolver, kind string, m MediaObject) (wire.Media, *Error) {
	if media == nil {
		return wire.Media{}, NewError(CodeMediaUpload, "Media can't be sent here.")
	}
	wm, err := media.ResolveMedia(ctx, kind, m)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return wm, e
		}
		return wm, Errorf(CodeMediaUpload, "The %s could not be fetched or stored.", kind)
	}
	return wm, nil
}

func contactsIn(cs []Contact) []wire.Contact {
	out := make([]wire.Contact, 0, len(cs))
	for _, c := range cs {
		o := wire.Contact{Name: c.Name.FormattedName, Birthday: c.Birthday}
		n := c.Name
		if n.FirstName != "" || n.LastName != "" || n.MiddleName != "" || n.Prefix != "" || n.Suffix != "" {
			o.Names = &wire.ContactNames{First: n.FirstName, Last: n.LastName, Middle: n.MiddleName, Prefix: n.Prefix, Suffix: n.Suffix}
		}
		if c.Org != nil {
			org := *c.Org
			o.Org = &org
		}
		for _, p := range c.Phones {
			o.Phones = append(o.Phones, wire.ContactPhone{Phone: p.Phone, Type: p.Type, WaID: p.WaID})
		}
		for _, e := range c.Emails {
			o.Emails = append(o.Emails, e.Email)
		}
		for _, u := range c.URLs {
			o.URLs = append(o.URLs, u.URL)
		}
		o.Addresses = append(o.Addresses, c.Addresses...)
		out = append(out, o)
	}
	return out
}

func interactiveContent(ctx context.Context, in *Interactive, media MediaResolver) (*wire.Interactive, *Error) {
	out := &wire.Interactive{Type: in.Type}
	if in.Body != nil {
		out.Body = in.Body.Text
	}
	if in.Footer != nil {
		out.Footer = in.Footer.Text
	}
	if h := in.Header; h != nil {
		wh := &wire.Header{Type: h.Type, Text: h.Text}
		var mo *MediaObject
		switch h.Type {
		case TypeImage:
			mo = h.Image
		case TypeVideo:
			mo = h.Video
		case TypeDocument:
			mo = h.Document
		}
		if mo != nil {
			m, e := resolve(ctx, media, h.Type, *mo)
			if e != nil {
				return nil, e
			}
			if mo.Filename != "" {
				m.FileName = mo.Filename
			}
			wh.Media = &m
		}
		out.Header = wh
	}
	a := in.Action
	if a == nil {
		return nil, Missing("interactive.action")
	}
	switch in.Type {
	case InteractiveButton:
		for _, b := range a.Buttons {
			if b.Reply != nil {
				out.Buttons = append(out.Buttons, wire.ReplyButton{ID: b.Reply.ID, Title: b.Reply.Title})
			}
		}
	case InteractiveList:
		out.ListButton = a.Button
		for _, s := range a.Sections {
			ws := wire.Section{Title: s.Title}
			for _, r := range s.Rows {
				ws.Rows = append(ws.Rows, wire.Row(r))
			}
			out.Sections = append(out.Sections, ws)
		}
	case InteractiveCTAURL:
		if a.Parameters == nil {
			return nil, Missing("interactive.action.parameters")
		}
		out.Link = &wire.Link{Text: a.Parameters.DisplayText, URL: a.Parameters.URL}
	case InteractiveProduct:
		out.CatalogID, out.RetailerID = a.CatalogID, a.ProductRetailerID
	case InteractiveProductList:
		out.CatalogID = a.CatalogID
		for _, s := range a.Sections {
			ws := wire.Section{Title: s.Title}
			for _, it := range s.ProductItems {
				ws.Products = append(ws.Products, it.ProductRetailerID)
			}
			out.Sections = append(out.Sections, ws)
		}
	case InteractiveCatalogMessage:
		if a.Parameters != nil {
			out.RetailerID = a.Parameters.ThumbnailProductRetailerID
		}
	case InteractiveOrderDetails:
		if a.Parameters == nil || a.Parameters.Order == nil || a.Parameters.TotalAmount == nil || a.Parameters.Order.Subtotal == nil {
			return nil, Missing("interactive.action.parameters")
		}
		out.Payment = paymentContent(a.Parameters)
	case InteractiveOrderStatus:
		if a.Parameters == nil || a.Parameters.Order == nil {
			return nil, Missing("interactive.action.parameters")
		}
		p := a.Parameters
		out.OrderStatus = &wire.OrderStatus{ReferenceID: p.ReferenceID, Status: OrderStatusValue(p.Order.Status), Description: p.Order.Description}
	default:
		return nil, Errorf(CodeUnsupportedType, "Interactive message type %q is not supported yet.", in.Type)
	}
	return out, nil
}

// paymentContent turns checked order_details parameters into a payment
// request. ParseSend made every offset the currency's minor-unit factor,
// so values are minor units as they are.
func paymentContent(p *ActionParameters) *wire.PaymentRequest {
	o := p.Order
	out := &wire.PaymentRequest{ReferenceID: p.ReferenceID, GoodsType: p.Type, PaymentType: p.PaymentType, PaymentConfiguration: p.PaymentConfiguration,
		Currency: p.Currency, CatalogID: o.CatalogID, Subtotal: o.Subtotal.Value, Total: p.TotalAmount.Value}
	for _, it := range o.Items {
		wi := wire.PaymentItem{RetailerID: it.RetailerID, Name: it.Name, Price: it.Amount.Value, Quantity: it.Quantity}
		if it.SaleAmount != nil {
			wi.Price, wi.RegularPrice = it.SaleAmount.Value, it.Amount.Value
		}
		out.Items = append(out.Items, wi)
	}
	charge := func(a *Amount) *wire.Charge {
		if a == nil {
			return nil
		}
		return &wire.Charge{Amount: a.Value, Description: a.Description, Program: a.DiscountProgramName}
	}
	out.Tax, out.Shipping, out.Discount = charge(o.Tax), charge(o.Shipping), charge(o.Discount)
	if e := o.Expiration; e != nil {
		if sec, err := strconv.ParseInt(e.Timestamp, 10, 64); err == nil && sec > 0 && sec < 1<<40 {
			out.Expires = sec * 1000
		}
		out.ExpiresText = e.Description
	}
	return out
}

// OrderStatusValue writes an order_status status the one way kontor keeps
// it: "partially-shipped" (the public table's spelling) becomes
// "partially_shipped" (its example's).
func OrderStatusValue(s string) string {
	if s == "partially-shipped" {
		return "partially_shipped"
	}
	return s
}
