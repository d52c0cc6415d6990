package cloudapi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor/wire"
)

// Checks of interactive messages (ParseSend).

// headerKinds are the header types each interactive type takes (none: no header).
var headerKinds = map[string][]string{
	InteractiveButton:         {"text", TypeImage, TypeVideo, TypeDocument},
	InteractiveList:           {"text"},
	InteractiveCTAURL:         {"text", TypeImage, TypeVideo, TypeDocument},
	InteractiveProduct:        nil,
	InteractiveProductList:    {"text"},
	InteractiveCatalogMessage: nil,
	InteractiveOrderDetails:   {"text", TypeImage, TypeVideo, TypeDocument},
	InteractiveOrderStatus:    {"text", TypeImage, TypeVideo, TypeDocument},
}

// unsupportedInteractive are public interactive types kontor does not send.
var unsupportedInteractive = map[string]bool{"flow": true, "location_request_message": true, "address_message": true,
	"call_permission_request": true, "voice_call": true, "carousel": true, "contact_request": true, "request_contact_info": true}

func checkInteractive(in *Interactive) *Error {
	if in.Type == "" {
		return Missing("interactive.type")
	}
	kinds, ok := headerKinds[in.Type]
	if !ok {
		if unsupportedInteractive[in.Type] {
			return Errorf(CodeUnsupportedType, "Interactive message type %q is not supported.", in.Type)
		}
		known := make(map[string]bool, len(headerKinds))
		for k := range headerKinds {
			known[k] = true
		}
		return oneOf("interactive.type", in.Type, sortedKeys(known)...)
	}
	if in.Header != nil {
		if kinds == nil {
			return Errorf(CodeInvalidParameter, "Unexpected key \"header\" on param \"interactive\": a %s message takes no header.", in.Type)
		}
		if e := checkHeader(in.Header, kinds); e != nil {
			return e
		}
	} else if in.Type == InteractiveProductList {
		return Missing("interactive.header")
	}
	if in.Body == nil {
		if in.Type != InteractiveProduct {
			return Missing("interactive.body")
		}
	} else if e := need("interactive.body.text", in.Body.Text, maxBodyText); e != nil {
		return e
	}
	if in.Footer != nil {
		if e := need("interactive.footer.text", in.Footer.Text, maxFooterText); e != nil {
			return e
		}
	}
	a := in.Action
	if a == nil {
		return Missing("interactive.action")
	}
	switch in.Type {
	case InteractiveButton:
		return checkButtons(a)
	case InteractiveList:
		return checkList(a)
	case InteractiveCTAURL:
		return checkCTAURL(a)
	case InteractiveProduct:
		if e := onlyKeys(a, "catalog_id", "product_retailer_id"); e != nil {
			return e
		}
		if a.CatalogID == "" {
			return Missing("interactive.action.catalog_id")
		}
		if a.ProductRetailerID == "" {
			return Missing("interactive.action.product_retailer_id")
		}
	case InteractiveProductList:
		return checkProductList(a)
	case InteractiveCatalogMessage:
		if e := onlyKeys(a, "name", "parameters"); e != nil {
			return e
		}
		if a.Name == "" {
			return Missing("interactive.action.name")
		}
		if e := oneOf("interactive.action.name", a.Name, "catalog_message"); e != nil {
			return e
		}
		if p := a.Parameters; p != nil {
			if e := onlyParams(p, "thumbnail_product_retailer_id"); e != nil {
				return e
			}
		}
	case InteractiveOrderDetails:
		return checkOrderDetails(a)
	case InteractiveOrderStatus:
		return checkOrderStatus(a)
	}
	return nil
}

func checkHeader(h *InteractiveHeader, kinds []string) *Error {
	const p = "interactive.header"
	if h.Type == "" {
		return Missing(p + ".type")
	}
	if e := oneOf(p+".type", h.Type, kinds...); e != nil {
		return e
	}
	set := map[string]bool{"text": h.Text != "", TypeImage: h.Image != nil, TypeVideo: h.Video != nil, TypeDocument: h.Document != nil}
	for _, k := range []string{"text", TypeImage, TypeVideo, TypeDocument} {
		if set[k] && k != h.Type {
			return Errorf(CodeInvalidParameter, "Unexpected key %q on param %q of type %q.", k, p, h.Type)
		}
	}
	switch h.Type {
	case "text":
		return need(p+".text", h.Text, maxHeaderText)
	case TypeImage:
		return mediaHeader(p+".image", TypeImage, h.Image)
	case TypeVideo:
		return mediaHeader(p+".video", TypeVideo, h.Video)
	case TypeDocument:
		return mediaHeader(p+".document", TypeDocument, h.Document)
	}
	return nil
}

func mediaHeader(path, kind string, m *MediaObject) *Error {
	if m == nil {
		return Missing(path)
	}
	return checkMedia(path, kind, m, inHeader)
}

// actionKeys lists the keys of a that are set.
func actionKeys(a *Action) []string {
	var ks []string
	add := func(k string, set bool) {
		if set {
			ks = append(ks, k)
		}
	}
	add("button", a.Button != "")
	add("buttons", a.Buttons != nil)
	add("sections", a.Sections != nil)
	add("catalog_id", a.CatalogID != "")
	add("product_retailer_id", a.ProductRetailerID != "")
	add("name", a.Name != "")
	add("parameters", a.Parameters != nil)
	return ks
}

// onlyKeys is 100 when a sets a key not in allowed.
func onlyKeys(a *Action, allowed ...string) *Error {
	for _, k := range actionKeys(a) {
		ok := false
		for _, x := range allowed {
			ok = ok || k == x
		}
		if !ok {
			return Unexpected(k, "interactive.action")
		}
	}
	return nil
}

// onlyParams is 100 when p sets a key not in allowed.
func onlyParams(p *ActionParameters, allowed ...string) *Error {
	set := map[string]bool{
		"display_text": p.DisplayText != "", "url": p.URL != "", "thumbnail_product_retailer_id": p.ThumbnailProductRetailerID != "",
		"reference_id": p.ReferenceID != "", "type": p.Type != "", "payment_type": p.PaymentType != "",
		"payment_configuration": p.PaymentConfiguration != "", "payment_settings": p.PaymentSettings != nil,
		"beneficiaries": p.Beneficiaries != nil, "currency": p.Currency != "", "total_amount": p.TotalAmount != nil, "order": p.Order != nil,
	}
	for _, k := range sortedKeys(set) {
		if !set[k] {
			continue
		}
		ok := false
		for _, x := range allowed {
			ok = ok || k == x
		}
		if !ok {
			return Unexpected(k, "interactive.action.parameters")
		}
	}
	return nil
}

func checkButtons(a *Action) *Error {
	if e := onlyKeys(a, "buttons"); e != nil {
		return e
	}
	if len(a.Buttons) == 0 {
		return Missing("interactive.action.buttons")
	}
	if len(a.Buttons) > maxButtons {
		return Invalid("interactive.action.buttons", fmt.Sprintf("at most %d buttons, not %d", maxButtons, len(a.Buttons)))
	}
	ids, titles := map[string]bool{}, map[string]bool{}
	for i, b := range a.Buttons {
		p := fmt.Sprintf("interactive.action.buttons[%d]", i)
		if b.Type == "" {
			return Missing(p + ".type")
		}
		if e := oneOf(p+".type", b.Type, "reply"); e != nil {
			return e
		}
		if b.Reply == nil {
			return Missing(p + ".reply")
		}
		if e := need(p+".reply.id", b.Reply.ID, maxButtonID); e != nil {
			return e
		}
		if strings.TrimSpace(b.Reply.ID) != b.Reply.ID {
			return Invalid(p+".reply.id", "no leading or trailing spaces")
		}
		if e := need(p+".reply.title", b.Reply.Title, maxButtonTitle); e != nil {
			return e
		}
		if ids[b.Reply.ID] {
			return Invalid(p+".reply.id", fmt.Sprintf("%q is used by another button; ids must be unique", b.Reply.ID))
		}
		if titles[b.Reply.Title] {
			return Invalid(p+".reply.title", fmt.Sprintf("%q is used by another button; titles must be unique", b.Reply.Title))
		}
		ids[b.Reply.ID], titles[b.Reply.Title] = true, true
	}
	return nil
}

func checkList(a *Action) *Error {
	if e := onlyKeys(a, "button", "sections"); e != nil {
		return e
	}
	if e := need("interactive.action.button", a.Button, maxListButton); e != nil {
		return e
	}
	if len(a.Sections) == 0 {
		return Missing("interactive.action.sections")
	}
	if len(a.Sections) > maxSections {
		return Invalid("interactive.action.sections", fmt.Sprintf("at most %d sections, not %d", maxSections, len(a.Sections)))
	}
	rows, ids := 0, map[string]bool{}
	for i, s := range a.Sections {
		p := fmt.Sprintf("interactive.action.sections[%d]", i)
		if s.ProductItems != nil {
			return Unexpected("product_items", p)
		}
		if e := sectionTitle(p, s.Title, len(a.Sections)); e != nil {
			return e
		}
		if len(s.Rows) == 0 {
			return Missing(p + ".rows")
		}
		for j, r := range s.Rows {
			rp := fmt.Sprintf("%s.rows[%d]", p, j)
			if e := need(rp+".id", r.ID, maxRowID); e != nil {
				return e
			}
			if ids[r.ID] {
				return Invalid(rp+".id", fmt.Sprintf("%q is used by another row; ids must be unique", r.ID))
			}
			ids[r.ID] = true
			if e := need(rp+".title", r.Title, maxRowTitle); e != nil {
				return e
			}
			if e := maxRunes(rp+".description", r.Description, maxRowDescription); e != nil {
				return e
			}
		}
		rows += len(s.Rows)
	}
	if rows > maxListRows {
		return Invalid("interactive.action.sections", fmt.Sprintf("at most %d rows in all sections, not %d", maxListRows, rows))
	}
	return nil
}

// sectionTitle checks a section title: required when there are several.
func sectionTitle(p, title string, sections int) *Error {
	if sections > 1 {
		return need(p+".title", title, maxSectionTitle)
	}
	return maxRunes(p+".title", title, maxSectionTitle)
}

func checkCTAURL(a *Action) *Error {
	if e := onlyKeys(a, "name", "parameters"); e != nil {
		return e
	}
	if a.Name == "" {
		return Missing("interactive.action.name")
	}
	if e := oneOf("interactive.action.name", a.Name, "cta_url"); e != nil {
		return e
	}
	p := a.Parameters
	if p == nil {
		return Missing("interactive.action.parameters")
	}
	if e := onlyParams(p, "display_text", "url"); e != nil {
		return e
	}
	if e := need("interactive.action.parameters.display_text", p.DisplayText, maxCTADisplayText); e != nil {
		return e
	}
	if p.URL == "" {
		return Missing("interactive.action.parameters.url")
	}
	return checkURL("interactive.action.parameters.url", p.URL)
}

func checkProductList(a *Action) *Error {
	if e := onlyKeys(a, "catalog_id", "sections"); e != nil {
		return e
	}
	if a.CatalogID == "" {
		return Missing("interactive.action.catalog_id")
	}
	if len(a.Sections) == 0 {
		return Missing("interactive.action.sections")
	}
	if len(a.Sections) > maxSections {
		return Invalid("interactive.action.sections", fmt.Sprintf("at most %d sections, not %d", maxSections, len(a.Sections)))
	}
	n := 0
	for i, s := range a.Sections {
		p := fmt.Sprintf("interactive.action.sections[%d]", i)
		if s.Rows != nil {
			return Unexpected("rows", p)
		}
		if e := sectionTitle(p, s.Title, len(a.Sections)); e != nil {
			return e
		}
		if len(s.ProductItems) == 0 {
			return Missing(p + ".product_items")
		}
		for j, it := range s.ProductItems {
			if it.ProductRetailerID == "" {
				return Missing(fmt.Sprintf("%s.product_items[%d].product_retailer_id", p, j))
			}
		}
		n += len(s.ProductItems)
	}
	if n > maxProducts {
		return Invalid("interactive.action.sections", fmt.Sprintf("at most %d products in all sections, not %d", maxProducts, n))
	}
	return nil
}

func checkOrderDetails(a *Action) *Error {
	const pp = "interactive.action.parameters"
	if e := onlyKeys(a, "name", "parameters"); e != nil {
		return e
	}
	if a.Name == "" {
		return Missing("interactive.action.name")
	}
	if e := oneOf("interactive.action.name", a.Name, "review_and_pay"); e != nil {
		return e
	}
	p := a.Parameters
	if p == nil {
		return Missing(pp)
	}
	if e := onlyParams(p, "reference_id", "type", "payment_type", "payment_configuration", "payment_settings", "beneficiaries", "currency", "total_amount", "order"); e != nil {
		return e
	}
	if e := checkReferenceID(p.ReferenceID); e != nil {
		return e
	}
	if p.Type == "" {
		return Missing(pp + ".type")
	}
	if e := oneOf(pp+".type", p.Type, "digital-goods", "physical-goods"); e != nil {
		return e
	}
	if p.Currency == "" {
		return Missing(pp + ".currency")
	}
	if !isCurrency(p.Currency) {
		return Invalid(pp+".currency", fmt.Sprintf("%q is not an ISO 4217 code", p.Currency))
	}
	if p.TotalAmount == nil {
		return Missing(pp + ".total_amount")
	}
	o := p.Order
	if o == nil {
		return Missing(pp + ".order")
	}
	if o.Status == "" {
		return Missing(pp + ".order.status")
	}
	if e := oneOf(pp+".order.status", o.Status, "pending"); e != nil {
		return e
	}
	if len(o.Items) == 0 {
		return Missing(pp + ".order.items")
	}
	if o.Subtotal == nil {
		return Missing(pp + ".order.subtotal")
	}
	if len(o.Items) > wire.MaxPaymentItems {
		return Invalid(pp+".order.items", fmt.Sprintf("at most %d items, not %d", wire.MaxPaymentItems, len(o.Items)))
	}
	if o.Expiration != nil {
		if _, err := strconv.ParseInt(o.Expiration.Timestamp, 10, 64); err != nil {
			return Invalid(pp+".order.expiration.timestamp", fmt.Sprintf("%q is not a time in Unix seconds", o.Expiration.Timestamp))
		}
	}
	// Every amount is in minor units of the currency: its offset is
	// 10^decimals, which is the public rule (100) for the currencies with
	// two decimals, 1 for JPY and 1000 for BHD.
	offset := minorFactor(p.Currency)
	type named struct {
		path string
		a    *Amount
	}
	amounts := []named{{pp + ".total_amount", p.TotalAmount}, {pp + ".order.subtotal", o.Subtotal}, {pp + ".order.tax", o.Tax},
		{pp + ".order.shipping", o.Shipping}, {pp + ".order.discount", o.Discount}}
	var subtotal int64
	for i, it := range o.Items {
		ip := fmt.Sprintf("%s.order.items[%d]", pp, i)
		if e := need(ip+".name", it.Name, 60); e != nil {
			return e
		}
		if it.Quantity < 1 || it.Quantity > wire.MaxPaymentQuantity {
			return Invalid(ip+".quantity", fmt.Sprintf("from 1 to %d, not %d", wire.MaxPaymentQuantity, it.Quantity))
		}
		amounts = append(amounts, named{ip + ".amount", &o.Items[i].Amount}, named{ip + ".sale_amount", it.SaleAmount})
	}
	for _, x := range amounts {
		if x.a == nil {
			continue
		}
		if x.a.Offset != offset {
			return Invalid(x.path+".offset", fmt.Sprintf("amounts in %s have the offset %d (value is in minor units of the currency), not %d", p.Currency, offset, x.a.Offset))
		}
		if x.a.Value < 0 || x.a.Value > wire.MaxAmount {
			return Invalid(x.path+".value", fmt.Sprintf("from 0 to %d, not %d", int64(wire.MaxAmount), x.a.Value))
		}
	}
	for i, it := range o.Items {
		price := it.Amount.Value
		if it.SaleAmount != nil {
			price = it.SaleAmount.Value
		}
		if price > 0 && it.Quantity > wire.MaxAmount/price {
			return Invalid(fmt.Sprintf("%s.order.items[%d]", pp, i), fmt.Sprintf("amount × quantity is more than %d", int64(wire.MaxAmount)))
		}
		subtotal += price * it.Quantity // at most 100 × 10^15
	}
	if subtotal != o.Subtotal.Value {
		return Invalid(pp+".order.subtotal", fmt.Sprintf("the items add up to %d, not %d", subtotal, o.Subtotal.Value))
	}
	total := o.Subtotal.Value
	if o.Tax != nil {
		total += o.Tax.Value
	}
	if o.Shipping != nil {
		total += o.Shipping.Value
	}
	if o.Discount != nil {
		total -= o.Discount.Value
	}
	if total < 0 {
		return Invalid(pp+".order.discount", fmt.Sprintf("the discount is more than subtotal + tax + shipping (%d)", total+o.Discount.Value))
	}
	if total != p.TotalAmount.Value {
		return Invalid(pp+".total_amount", fmt.Sprintf("subtotal + tax + shipping - discount is %d, not %d", total, p.TotalAmount.Value))
	}
	return nil
}

// minorFactor is 10^decimals of currency: the offset of its amounts.
func minorFactor(currency string) int64 {
	f := int64(1)
	for range MinorExponent(currency) {
		f *= 10
	}
	return f
}

func checkOrderStatus(a *Action) *Error {
	const pp = "interactive.action.parameters"
	if e := onlyKeys(a, "name", "parameters"); e != nil {
		return e
	}
	if a.Name == "" {
		return Missing("interactive.action.name")
	}
	if e := oneOf("interactive.action.name", a.Name, "review_order"); e != nil {
		return e
	}
	p := a.Parameters
	if p == nil {
		return Missing(pp)
	}
	if e := onlyParams(p, "reference_id", "order"); e != nil {
		return e
	}
	if e := checkReferenceID(p.ReferenceID); e != nil {
		return e
	}
	if p.Order == nil {
		return Missing(pp + ".order")
	}
	if p.Order.Status == "" {
		return Missing(pp + ".order.status")
	}
	if e := oneOf(pp+".order.status", p.Order.Status, "pending", "processing", "partially_shipped", "partially-shipped",
		"shipped", "completed", "canceled", "captured", "failed"); e != nil {
		return e
	}
	return maxRunes(pp+".order.description", p.Order.Description, maxOrderDescription)
}

func checkReferenceID(id string) *Error {
	const p = "interactive.action.parameters.reference_id"
	if id == "" {
		return Missing(p)
	}
	if len(id) > maxReferenceID {
		return Invalid(p, fmt.Sprintf("at most %d characters", maxReferenceID))
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return Invalid(p, "only letters, digits, _, - and .")
		}
	}
	return nil
}

// isCurrency says whether s looks like an ISO 4217 code (three capitals).
func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
