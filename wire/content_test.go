package wire

import (
	"math"
	"strings"
	"testing"
)

func TestContentCheck(t *testing.T) {
	k32 := make([]byte, 32)
	media := &Media{ID: "0123456789abcdef0123456789abcdef", Size: 10, Key: k32, Digest: k32}
	for _, c := range []struct {
		name string
		c    Content
		ok   bool
	}{
		{"text", Content{Type: ContentText, Text: "hi"}, true},
		{"empty text", Content{Type: ContentText}, false},
		{"long text", Content{Type: ContentText, Text: strings.Repeat("x", MaxText+1)}, false},
		{"bad utf-8", Content{Type: ContentText, Text: "\xff"}, false},
		{"text from an ad", Content{Type: ContentText, Text: "hi", Referral: &Referral{SourceType: ReferralAd, SourceID: "120", CTWAClid: "ARAk"}}, true},
		{"referral of a post", Content{Type: ContentText, Text: "hi", Referral: &Referral{SourceType: ReferralPost, SourceURL: "https://fb.me/p"}}, true},
		{"referral without a source", Content{Type: ContentText, Text: "hi", Referral: &Referral{SourceType: ReferralAd, Headline: "Sale"}}, false},
		{"referral of an unknown type", Content{Type: ContentText, Text: "hi", Referral: &Referral{SourceType: "tv", SourceID: "1"}}, false},
		{"referral with a bad media type", Content{Type: ContentText, Text: "hi", Referral: &Referral{SourceType: ReferralAd, SourceID: "1", MediaType: "gif"}}, false},
		{"referral with a long headline", Content{Type: ContentText, Text: "hi", Referral: &Referral{SourceType: ReferralAd, SourceID: "1", Headline: strings.Repeat("x", MaxReferralField+1)}}, false},
		{"no type", Content{Text: "hi"}, false},
		{"unknown kind is kept", Content{Type: "hologram"}, true},
		{"reaction", Content{Type: ContentReaction, Reaction: &Reaction{MessageID: "1", Emoji: "👍"}}, true},
		{"reaction removed", Content{Type: ContentReaction, Reaction: &Reaction{MessageID: "1"}}, true},
		{"reaction without message", Content{Type: ContentReaction, Reaction: &Reaction{Emoji: "👍"}}, false},
		{"image", Content{Type: ContentImage, Media: media, Text: "caption"}, true},
		{"image without media", Content{Type: ContentImage}, false},
		{"document short key", Content{Type: ContentDocument, Media: &Media{ID: "x", Key: k32[:16], Digest: k32}}, false},
		{"location", Content{Type: ContentLocation, Location: &Location{Latitude: 52.5, Longitude: 13.4, Name: "Berlin"}}, true},
		{"location off the map", Content{Type: ContentLocation, Location: &Location{Latitude: 91}}, false},
		{"location NaN", Content{Type: ContentLocation, Location: &Location{Latitude: math.NaN()}}, false},
		{"contacts", Content{Type: ContentContacts, Contacts: []Contact{{Name: "Ann", Phones: []ContactPhone{{Phone: "+4915100000001"}}}}}, true},
		{"contact without name", Content{Type: ContentContacts, Contacts: []Contact{{}}}, false},
		{"no contacts", Content{Type: ContentContacts}, false},
		{"contact with all parts", Content{Type: ContentContacts, Contacts: []Contact{{Name: "Ann Lee", Names: &ContactNames{First: "Ann", Last: "Lee"},
			Org: &ContactOrg{Company: "Acme"}, URLs: []string{"https://example.com"}, Addresses: []ContactAddress{{City: "Berlin"}}, Birthday: "1990-01-02",
			Phones: []ContactPhone{{Phone: "+4915100000001", WaID: "4915100000001"}}}}}, true},
		{"text with preview", Content{Type: ContentText, Text: "https://kontor.chat", PreviewURL: true}, true},

		{"buttons", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveButton, Body: "Pick",
			Header: &Header{Type: "image", Media: media}, Buttons: []ReplyButton{{ID: "y", Title: "Yes"}, {ID: "n", Title: "No"}}}}, true},
		{"interactive part missing", Content{Type: ContentInteractive}, false},
		{"interactive without type", Content{Type: ContentInteractive, Interactive: &Interactive{Body: "x"}}, false},
		{"no buttons", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveButton, Body: "Pick"}}, false},
		{"four buttons", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveButton, Body: "Pick",
			Buttons: []ReplyButton{{"1", "a"}, {"2", "b"}, {"3", "c"}, {"4", "d"}}}}, false},
		{"button without title", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveButton, Buttons: []ReplyButton{{ID: "1"}}}}, false},
		{"header media without key", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveButton,
			Header: &Header{Type: "video", Media: &Media{ID: "x"}}, Buttons: []ReplyButton{{"1", "a"}}}}, false},
		{"empty text header", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveButton,
			Header: &Header{Type: "text"}, Buttons: []ReplyButton{{"1", "a"}}}}, false},
		{"list", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveList, Body: "Menu", ListButton: "Open",
			Sections: []Section{{Title: "A", Rows: []Row{{ID: "1", Title: "One", Description: "first"}}}}}}, true},
		{"list of 11 rows", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveList, ListButton: "Open",
			Sections: []Section{{Title: "A", Rows: rowsN(6)}, {Title: "B", Rows: rowsN(5)}}}}, false},
		{"list of 10 rows", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveList, ListButton: "Open",
			Sections: []Section{{Title: "A", Rows: rowsN(5)}, {Title: "B", Rows: rowsN(5)}}}}, true},
		{"list without its button", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveList,
			Sections: []Section{{Rows: []Row{{ID: "1", Title: "One"}}}}}}, false},
		{"link", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveCTAURL, Body: "Shop", Link: &Link{Text: "Open", URL: "https://example.com"}}}, true},
		{"link without URL", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveCTAURL, Link: &Link{Text: "Open"}}}, false},
		{"product", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveProduct, CatalogID: "1", RetailerID: "SKU"}}, true},
		{"product without retailer id", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveProduct, CatalogID: "1"}}, false},
		{"product list", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveProductList, CatalogID: "1",
			Header: &Header{Type: "text", Text: "Picks"}, Sections: []Section{{Title: "A", Products: []string{"S1", "S2"}}}}}, true},
		{"product list of 31", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveProductList, CatalogID: "1",
			Sections: []Section{{Products: make31()}}}}, false},
		{"catalog", Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveCatalogMessage, Body: "Browse"}}, true},
		{"unknown interactive type is kept", Content{Type: ContentInteractive, Interactive: &Interactive{Type: "carousel"}}, true},

		{"button reply", Content{Type: ContentInteractiveReply, ReplyTo: "1", InteractiveReply: &InteractiveReply{Type: ChoiceButton, ID: "y", Title: "Yes"}}, true},
		{"reply without choice", Content{Type: ContentInteractiveReply, InteractiveReply: &InteractiveReply{Type: ChoiceListRow}}, false},
		{"reply part missing", Content{Type: ContentInteractiveReply}, false},

		{"template", Content{Type: ContentTemplate, Template: &Template{Name: "order", Language: "en", Header: &Header{Type: "location",
			Location: &Location{Latitude: 1, Longitude: 2}}, Body: "Hi Ann", Footer: "Shop",
			Buttons: []TemplateButton{{Type: "quick_reply", Text: "Stop", Payload: "STOP"}, {Type: "url", Text: "Track", URL: "https://x.test/1"}}}}, true},
		{"template without name", Content{Type: ContentTemplate, Template: &Template{Body: "Hi"}}, false},
		{"template without header or body", Content{Type: ContentTemplate, Template: &Template{Name: "x"}}, false},
		{"template button without text", Content{Type: ContentTemplate, Template: &Template{Name: "x", Body: "b", Buttons: []TemplateButton{{Type: "url"}}}}, false},
		{"template header off the map", Content{Type: ContentTemplate, Template: &Template{Name: "x", Header: &Header{Type: "location", Location: &Location{Latitude: 100}}}}, false},

		{"order", Content{Type: ContentOrder, Text: "gift wrap", Order: &Order{CatalogID: "1", Items: []OrderItem{{RetailerID: "S", Quantity: 2, Price: 799, Currency: "EUR"}}}}, true},
		{"order without items", Content{Type: ContentOrder, Order: &Order{CatalogID: "1"}}, false},
		{"order of nothing", Content{Type: ContentOrder, Order: &Order{CatalogID: "1", Items: []OrderItem{{RetailerID: "S", Currency: "EUR"}}}}, false},
		{"order at a negative price", Content{Type: ContentOrder, Order: &Order{CatalogID: "1", Items: []OrderItem{{RetailerID: "S", Quantity: 1, Price: -1, Currency: "EUR"}}}}, false},
		{"order in euros", Content{Type: ContentOrder, Order: &Order{CatalogID: "1", Items: []OrderItem{{RetailerID: "S", Quantity: 1, Currency: "euro"}}}}, false},

		{"business notice", Content{Type: ContentBusinessNotice, Text: "This business uses a service run by Example Ltd to manage this chat.",
			Notice: &Notice{Reason: NoticeHosted, Operator: "Example Ltd"}}, true},
		{"empty business notice", Content{Type: ContentBusinessNotice, Notice: &Notice{Reason: NoticeHosted}}, false},
	} {
		err := c.c.Check()
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.ok {
			b, err := EncodeContent(c.c)
			if err != nil {
				t.Errorf("%s: encode: %v", c.name, err)
				continue
			}
			back, err := DecodeContent(b)
			if err != nil || back.Type != c.c.Type || back.V != ContentVersion {
				t.Errorf("%s: round trip: %+v %v", c.name, back, err)
			}
		}
	}
}

func rowsN(n int) []Row {
	r := make([]Row, n)
	for i := range r {
		r[i] = Row{ID: string(rune('a' + i)), Title: "row"}
	}
	return r
}

func make31() []string {
	p := make([]string, 31)
	for i := range p {
		p[i] = "S"
	}
	return p
}

func TestContentKnown(t *testing.T) {
	for _, c := range []struct {
		c     Content
		known bool
	}{
		{Content{Type: ContentText}, true},
		{Content{Type: ContentTemplate}, true},
		{Content{Type: ContentOrder}, true},
		{Content{Type: ContentBusinessNotice}, true},
		{Content{Type: ContentInteractive, Interactive: &Interactive{Type: InteractiveList}}, true},
		{Content{Type: ContentInteractive, Interactive: &Interactive{Type: "carousel"}}, false},
		{Content{Type: ContentInteractive}, false},
		{Content{Type: ContentInteractiveReply, InteractiveReply: &InteractiveReply{Type: ChoiceQuickReply}}, true},
		{Content{Type: ContentInteractiveReply, InteractiveReply: &InteractiveReply{Type: "nfm_reply"}}, false},
		{Content{Type: "hologram"}, false},
	} {
		if c.c.Known() != c.known {
			t.Errorf("%+v: Known() = %v", c.c, !c.known)
		}
	}
}

// FuzzDecodeContent feeds the content decoder what a peer could send: it
// must never panic, and what it accepts must encode again and decode to the
// same kind.
func FuzzDecodeContent(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"text","text":"hallo"}`,
		`{"v":1,"type":"image","text":"cap","media":{"id":"0123456789abcdef0123456789abcdef","size":3,"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`,
		`{"v":1,"type":"location","location":{"latitude":1e308,"longitude":-0}}`,
		`{"v":1,"type":"contacts","contacts":[{"name":"A","phones":[{"phone":"+1"}]}]}`,
		`{"v":1,"type":"reaction","reaction":{"message_id":"1","emoji":""}}`,
		`{"v":1,"type":"contacts","contacts":[{"name":"A","names":{"first":"A"},"org":{"company":"C"},"urls":["u"],"addresses":[{"city":"X"}],"birthday":"1990-01-02","phones":[{"phone":"+1","wa_id":"1"}]}]}`,
		`{"v":1,"type":"text","text":"see https://kontor.chat","preview_url":true}`,
		`{"v":1,"type":"interactive","interactive":{"type":"button","header":{"type":"text","text":"H"},"body":"b","footer":"f","buttons":[{"id":"1","title":"t"}]}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"list","body":"b","list_button":"Open","sections":[{"title":"A","rows":[{"id":"1","title":"t","description":"d"}]}]}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"cta_url","body":"b","link":{"text":"Open","url":"https://example.com"}}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"product","catalog_id":"1","retailer_id":"S"}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"product_list","header":{"type":"text","text":"H"},"catalog_id":"1","sections":[{"title":"A","products":["S1","S2"]}]}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"catalog_message","body":"b","retailer_id":"S"}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"button","header":{"type":"image","media":{"id":"x","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}},"buttons":[{"id":"1","title":"t"}]}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"carousel","cards":[]}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"order_details","body":"b","payment":{"reference_id":"r","order_id":"1","goods_type":"physical-goods","currency":"EUR","items":[{"retailer_id":"S","name":"N","price":249,"regular_price":299,"quantity":3}],"subtotal":747,"tax":{"amount":5},"shipping":{"amount":490},"discount":{"amount":100,"program":"P"},"total":1142}}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"order_details","payment":{"reference_id":"r","currency":"JPY","items":[{"name":"N","price":1000000000000000,"quantity":1000000}],"subtotal":-1,"total":-1}}}`,
		`{"v":1,"type":"interactive","interactive":{"type":"order_status","body":"b","order_status":{"reference_id":"r","order_id":"1","status":"shipped","description":"d"}}}`,
		`{"v":1,"type":"interactive_reply","reply_to":"1","interactive_reply":{"type":"button_reply","id":"1","title":"t"}}`,
		`{"v":1,"type":"interactive_reply","interactive_reply":{"type":"quick_reply","id":"STOP","title":"Stop"}}`,
		`{"v":1,"type":"template","template":{"name":"n","language":"en","header":{"type":"location","location":{"latitude":1,"longitude":2}},"body":"b","footer":"f","buttons":[{"type":"quick_reply","text":"Stop","payload":"STOP"},{"type":"copy_code","text":"Copy","code":"C"}]}}`,
		`{"v":1,"type":"order","text":"note","order":{"catalog_id":"1","items":[{"retailer_id":"S","quantity":2,"price":799,"currency":"EUR"}]}}`,
		`{"v":1,"type":"business_notice","text":"This business uses a service run by Op to manage this chat.","notice":{"reason":"hosted","operator":"Op"}}`,
		`{"v":2,"type":"future","whatever":[1,2,3]}`,
		`{"v":0}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeContent(b)
		if err != nil {
			return
		}
		_ = c.Known() // must not panic on any part missing
		out, err := EncodeContent(c)
		if err != nil {
			t.Fatalf("accepted content does not encode: %+v: %v", c, err)
		}
		back, err := DecodeContent(out)
		if err != nil || back.Type != c.Type {
			t.Fatalf("round trip: %+v → %s → %+v %v", c, out, back, err)
		}
	})
}

func TestParseReferral(t *testing.T) {
	for _, c := range []struct {
		link string
		want *Referral // nil: refused
	}{
		{"https://kontor.example/chat/+4930444444?text=Hallo&source_type=ad&source_id=120208&ctwa_clid=ARAkLk&headline=Fr%C3%BChling",
			&Referral{SourceType: ReferralAd, SourceID: "120208", CTWAClid: "ARAkLk", Headline: "Frühling"}},
		{"source_id=7&source_url=https%3A%2F%2Ffb.me%2Fx&media_type=image&image_url=https%3A%2F%2Fcdn%2Fa.jpg",
			&Referral{SourceType: ReferralAd, SourceID: "7", SourceURL: "https://fb.me/x", MediaType: "image", ImageURL: "https://cdn/a.jpg"}},
		{"source_type=post&source_url=https://fb.me/p&body=Read", &Referral{SourceType: ReferralPost, SourceURL: "https://fb.me/p", Body: "Read"}},
		{"text=only+a+prefilled+text", nil},
		{"source_type=billboard&source_id=1", nil},
		{"source_id=%zz", nil},
	} {
		got, err := ParseReferral(c.link)
		if c.want == nil {
			if err == nil {
				t.Errorf("%q: %+v, want an error", c.link, got)
			}
			continue
		}
		if err != nil || *got != *c.want {
			t.Errorf("%q: %+v, %v; want %+v", c.link, got, err, c.want)
		}
	}
}
