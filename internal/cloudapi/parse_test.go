package cloudapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// msg returns a send body of type typ with part as its object.
func msg(typ, part string) string {
	return fmt.Sprintf(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":%q,%q:%s}`, typ, typ, part)
}

func interactive(part string) string { return msg("interactive", part) }

func template(part string) string { return msg("template", part) }

func buttons(n int) string {
	var bs []string
	for i := 0; i < n; i++ {
		bs = append(bs, fmt.Sprintf(`{"type":"reply","reply":{"id":"b%d","title":"Button %d"}}`, i, i))
	}
	return `[` + strings.Join(bs, ",") + `]`
}

func rows(prefix string, n int) string {
	var rs []string
	for i := 0; i < n; i++ {
		rs = append(rs, fmt.Sprintf(`{"id":"%s%d","title":"Row %d","description":"about row %d"}`, prefix, i, i, i))
	}
	return `[` + strings.Join(rs, ",") + `]`
}

func products(n int) string {
	var ps []string
	for i := 0; i < n; i++ {
		ps = append(ps, fmt.Sprintf(`{"product_retailer_id":"SKU-%d"}`, i))
	}
	return `[` + strings.Join(ps, ",") + `]`
}

func sections(n int, items string) string {
	var ss []string
	for i := 0; i < n; i++ {
		ss = append(ss, fmt.Sprintf(`{"title":"Section %d",%s}`, i, items))
	}
	return `[` + strings.Join(ss, ",") + `]`
}

const orderDetails = `{"type":"order_details","body":{"text":"Your order"},"action":{"name":"review_and_pay","parameters":{
	"reference_id":"order-123.1","type":"physical-goods","payment_type":"upi","payment_configuration":"cfg","currency":"INR",
	"total_amount":{"value":21000,"offset":100},
	"order":{"status":"pending","items":[{"retailer_id":"SKU1","name":"Bread","amount":{"value":10000,"offset":100},"quantity":2}],
	"subtotal":{"value":20000,"offset":100},"tax":{"value":1000,"offset":100,"description":"GST"}}}}}`

// orderDetailsEUR is a payment request for 3 roses on sale (2.49, regularly
// 2.99) and 2 tulips (1.50): 10.47 + 1.05 tax + 4.90 shipping - 1.00 = 15.42.
const orderDetailsEUR = `{"type":"order_details","header":{"type":"text","text":"Blumen Anna"},"body":{"text":"Ihre Bestellung"},"footer":{"text":"Danke!"},
	"action":{"name":"review_and_pay","parameters":{"reference_id":"386285559745613828","type":"physical-goods","payment_type":"kontor","payment_configuration":"default",
	"currency":"EUR","total_amount":{"value":1542,"offset":100},
	"order":{"status":"pending","catalog_id":"386285559745613000","expiration":{"timestamp":"1764627000","description":"heute"},
	"items":[{"retailer_id":"rose","name":"Rose","amount":{"value":299,"offset":100},"sale_amount":{"value":249,"offset":100},"quantity":3},
		{"retailer_id":"tulip","name":"Tulpe","amount":{"value":150,"offset":100},"quantity":2}],
	"subtotal":{"value":1047,"offset":100},"tax":{"value":105,"offset":100,"description":"MwSt. 10 %"},
	"shipping":{"value":490,"offset":100},"discount":{"value":100,"offset":100,"description":"Treue","discount_program_name":"Stammkunde"}}}}}`

// validSends are bodies ParseSend must accept; the fuzz test starts from them.
var validSends = []struct{ name, body string }{
	{"text", msg("text", `{"body":"hallo"}`)},
	{"text with preview", msg("text", `{"body":"see https://kontor.chat","preview_url":true}`)},
	{"text, type left out", `{"messaging_product":"whatsapp","to":"4915112345678","text":{"body":"hi"}}`},
	{"text as a JSON string", msg("text", `"{\"body\":\"hi\"}"`)},
	{"text at the limit", msg("text", `{"body":"`+strings.Repeat("😀", 4096)+`"}`)},
	{"to with spaces and dashes", `{"messaging_product":"whatsapp","to":"+49 151 1234-5678","type":"text","text":{"body":"hi"}}`},
	{"to as a number", `{"messaging_product":"whatsapp","to":4915112345678,"type":"text","text":{"body":"hi"}}`},
	{"reply with callback data", `{"messaging_product":"whatsapp","to":"4915112345678","type":"text","text":{"body":"hi"},"context":{"message_id":"wamid.a29uAQAAAAAAAAAB"},"biz_opaque_callback_data":"` + strings.Repeat("x", 512) + `"}`},
	{"image by id", msg("image", `{"id":"1037543291543636","caption":"a cat"}`)},
	{"image by link", msg("image", `{"link":"https://example.com/cat.jpg"}`)},
	{"video", msg("video", `{"link":"http://example.com/v.mp4","caption":"clip"}`)},
	{"voice note", msg("audio", `{"id":"42","voice":true}`)},
	{"document", msg("document", `{"link":"https://example.com/i.pdf","caption":"invoice","filename":"invoice.pdf"}`)},
	{"sticker", msg("sticker", `{"id":"77"}`)},
	{"location", msg("location", `{"latitude":52.52,"longitude":13.405,"name":"Berlin","address":"Pariser Platz"}`)},
	{"location as strings", msg("location", `{"latitude":"-33.86","longitude":"151.2"}`)},
	{"contacts", msg("contacts", `[{"name":{"formatted_name":"Barbara J. Johnson","first_name":"Barbara","last_name":"Johnson"},
		"birthday":"1999-01-23","org":{"company":"Acme","title":"CEO"},
		"phones":[{"phone":"+1 (415) 555-0829","type":"WORK","wa_id":"14155550829"}],
		"emails":[{"email":"b@example.com","type":"WORK"}],"urls":[{"url":"https://example.com","type":"WORK"}],
		"addresses":[{"street":"1 Main St","city":"Menlo Park","state":"CA","zip":"94025","country":"United States","country_code":"US","type":"HOME"}]}]`)},
	{"reaction", msg("reaction", `{"message_id":"wamid.a29uAQAAAAAAAAAB","emoji":"👍"}`)},
	{"reaction removed", msg("reaction", `{"message_id":"wamid.a29uAQAAAAAAAAAB","emoji":""}`)},
	{"reaction zwj", msg("reaction", `{"message_id":"wamid.x","emoji":"👩🏽‍💻"}`)},
	{"reaction flag", msg("reaction", `{"message_id":"wamid.x","emoji":"🇩🇪"}`)},
	{"reaction keycap", msg("reaction", `{"message_id":"wamid.x","emoji":"1️⃣"}`)},
	{"reaction heart", msg("reaction", `{"message_id":"wamid.x","emoji":"❤️"}`)},
	{"reaction tag flag", msg("reaction", `{"message_id":"wamid.x","emoji":"🏴󠁧󠁢󠁳󠁣󠁴󠁿"}`)},
	{"buttons", interactive(`{"type":"button","header":{"type":"image","image":{"link":"https://example.com/h.png"}},"body":{"text":"Pick"},"footer":{"text":"kontor"},"action":{"buttons":` + buttons(3) + `}}`)},
	{"buttons, text header", interactive(`{"type":"button","header":{"type":"text","text":"Hi"},"body":{"text":"Pick"},"action":{"buttons":` + buttons(1) + `}}`)},
	{"list", interactive(`{"type":"list","header":{"type":"text","text":"Menu"},"body":{"text":"Choose"},"action":{"button":"Open","sections":[{"title":"A","rows":` + rows("a", 5) + `},{"title":"B","rows":` + rows("b", 5) + `}]}}`)},
	{"list, one untitled section", interactive(`{"type":"list","body":{"text":"Choose"},"action":{"button":"Open","sections":[{"rows":` + rows("a", 10) + `}]}}`)},
	{"cta_url", interactive(`{"type":"cta_url","header":{"type":"text","text":"Shop"},"body":{"text":"Visit us"},"action":{"name":"cta_url","parameters":{"display_text":"Open shop","url":"https://example.com/shop?x=1"}}}`)},
	{"cta_url, parameters as a string", interactive(`{"type":"cta_url","body":{"text":"Visit us"},"action":{"name":"cta_url","parameters":"{\"display_text\":\"Open\",\"url\":\"https://example.com\"}"}}`)},
	{"product", interactive(`{"type":"product","action":{"catalog_id":"123","product_retailer_id":"SKU-1"}}`)},
	{"product with body", interactive(`{"type":"product","body":{"text":"Look"},"footer":{"text":"f"},"action":{"catalog_id":"123","product_retailer_id":"SKU-1"}}`)},
	{"product_list", interactive(`{"type":"product_list","header":{"type":"text","text":"Our picks"},"body":{"text":"Look"},"action":{"catalog_id":"123","sections":` + sections(3, `"product_items":`+products(10)) + `}}`)},
	{"catalog_message", interactive(`{"type":"catalog_message","body":{"text":"Browse"},"action":{"name":"catalog_message","parameters":{"thumbnail_product_retailer_id":"SKU-1"}}}`)},
	{"catalog_message without parameters", interactive(`{"type":"catalog_message","body":{"text":"Browse"},"action":{"name":"catalog_message"}}`)},
	{"order_details", interactive(orderDetails)},
	{"order_status", interactive(`{"type":"order_status","body":{"text":"Shipped"},"action":{"name":"review_order","parameters":{"reference_id":"order-123.1","order":{"status":"partially-shipped","description":"first box"}}}}`)},
	{"order_details in EUR with every charge", interactive(orderDetailsEUR)},
	{"order_details in JPY", interactive(`{"type":"order_details","body":{"text":"x"},"action":{"name":"review_and_pay","parameters":{"reference_id":"r1","type":"digital-goods","currency":"JPY",
		"total_amount":{"value":1500,"offset":1},"order":{"status":"pending","items":[{"name":"Tee","amount":{"value":500,"offset":1},"quantity":3}],"subtotal":{"value":1500,"offset":1}}}}}`)},
	{"order_details in BHD", interactive(`{"type":"order_details","body":{"text":"x"},"action":{"name":"review_and_pay","parameters":{"reference_id":"r1","type":"digital-goods","currency":"BHD",
		"total_amount":{"value":1234,"offset":1000},"order":{"status":"pending","items":[{"name":"Dates","amount":{"value":1234,"offset":1000},"quantity":1}],"subtotal":{"value":1234,"offset":1000}}}}}`)},
	{"order_details, parameters as a string", interactive(`{"type":"order_details","body":{"text":"x"},"action":{"name":"review_and_pay","parameters":"{\"reference_id\":\"r1\",\"type\":\"digital-goods\",\"currency\":\"EUR\",\"total_amount\":{\"value\":0,\"offset\":100},\"order\":{\"status\":\"pending\",\"items\":[{\"name\":\"Gift\",\"amount\":{\"value\":0,\"offset\":100},\"quantity\":1}],\"subtotal\":{\"value\":0,\"offset\":100}}}"}}`)},
	{"order_status canceled", interactive(`{"type":"order_status","body":{"text":"Sorry"},"action":{"name":"review_order","parameters":{"reference_id":"386285559745613828","order":{"status":"canceled"}}}}`)},
	{"template", template(`{"name":"order_confirmation","language":{"code":"en_US","policy":"deterministic"},"components":[
		{"type":"header","parameters":[{"type":"image","image":{"id":"55"}}]},
		{"type":"body","parameters":[{"type":"text","text":"Pablo"},{"type":"currency","currency":{"fallback_value":"$10.99","code":"USD","amount_1000":10990}},{"type":"date_time","date_time":{"fallback_value":"May 1, 2026"}}]},
		{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"STOP"}]},
		{"type":"button","sub_type":"url","index":1,"parameters":[{"type":"text","text":"order/123"}]},
		{"type":"button","sub_type":"copy_code","index":2,"parameters":[{"type":"coupon_code","coupon_code":"SAVE20"}]}]}`)},
	{"template, no components", template(`{"name":"hello_world","language":{"code":"en"}}`)},
	{"template, named", template(`{"name":"greet","language":{"code":"de"},"components":[{"type":"BODY","parameters":[{"type":"text","parameter_name":"first_name","text":"Ann"}]}]}`)},
	{"template, location header", template(`{"name":"where","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"location","location":{"latitude":1,"longitude":2,"name":"here"}}]}]}`)},
	{"mark read", `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.a29uAQAAAAAAAAAB"}`},
	{"mark read, typing", `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.x","typing_indicator":{"type":"text"}}`},
}

// invalidSends are bodies ParseSend must refuse with code, the details
// mentioning detail.
var invalidSends = []struct {
	name, body string
	code       int
	detail     string
}{
	{"not JSON", `{"messaging_product":`, 100, "JSON object"},
	{"array", `[]`, 100, "JSON object"},
	{"null", `null`, 100, "JSON object"},
	{"empty", ``, 100, "JSON object"},
	{"no messaging_product", `{"to":"4915112345678","type":"text","text":{"body":"hi"}}`, 131008, "messaging_product"},
	{"other messaging_product", `{"messaging_product":"messenger","to":"4915112345678","text":{"body":"hi"}}`, 100, "messaging_product"},
	{"messaging_product not a string", `{"messaging_product":1,"to":"4915112345678","text":{"body":"hi"}}`, 100, "messaging_product"},
	{"no to", `{"messaging_product":"whatsapp","type":"text","text":{"body":"hi"}}`, 131008, "to"},
	{"empty to", `{"messaging_product":"whatsapp","to":" ","text":{"body":"hi"}}`, 131008, "to"},
	{"to not a number", `{"messaging_product":"whatsapp","to":"anna","text":{"body":"hi"}}`, 131009, "to"},
	{"to too short", `{"messaging_product":"whatsapp","to":"+49151","text":{"body":"hi"}}`, 131009, "to"},
	{"to with country code 0", `{"messaging_product":"whatsapp","to":"+0151123456789","text":{"body":"hi"}}`, 131009, "to"},
	{"to an object", `{"messaging_product":"whatsapp","to":{},"text":{"body":"hi"}}`, 100, "to"},
	{"group", `{"messaging_product":"whatsapp","recipient_type":"group","to":"4915112345678","text":{"body":"hi"}}`, 131009, "recipient_type"},
	{"bad recipient_type", `{"messaging_product":"whatsapp","recipient_type":"team","to":"4915112345678","text":{"body":"hi"}}`, 100, "recipient_type"},
	{"bsuid", `{"messaging_product":"whatsapp","recipient":"US.123","to":"4915112345678","text":{"body":"hi"}}`, 131009, "recipient"},
	{"unsupported type", msg("order", `{}`), 131051, "order"},
	{"unknown type", msg("hologram", `{}`), 131051, "hologram"},
	{"unknown key", `{"messaging_product":"whatsapp","to":"4915112345678","text":{"body":"hi"},"colour":"red"}`, 100, "colour"},
	{"second type object", `{"messaging_product":"whatsapp","to":"4915112345678","type":"text","text":{"body":"hi"},"image":{"id":"1"}}`, 100, "image"},
	{"type object missing", `{"messaging_product":"whatsapp","to":"4915112345678","type":"image"}`, 131008, "image"},
	{"context without id", `{"messaging_product":"whatsapp","to":"4915112345678","text":{"body":"hi"},"context":{}}`, 131008, "context.message_id"},
	{"context with unknown key", `{"messaging_product":"whatsapp","to":"4915112345678","text":{"body":"hi"},"context":{"id":"x"}}`, 100, "id"},
	{"callback data too long", `{"messaging_product":"whatsapp","to":"4915112345678","text":{"body":"hi"},"biz_opaque_callback_data":"` + strings.Repeat("x", 513) + `"}`, 131009, "biz_opaque_callback_data"},
	{"no body", msg("text", `{}`), 131008, "text.body"},
	{"blank body", msg("text", `{"body":"  "}`), 131008, "text.body"},
	{"body too long", msg("text", `{"body":"`+strings.Repeat("x", 4097)+`"}`), 131009, "text.body"},
	{"body a number", msg("text", `{"body":5}`), 100, "text.body"},
	{"preview_url a string", msg("text", `{"body":"x","preview_url":"yes"}`), 100, "preview_url"},
	{"typo in text", msg("text", `{"bdy":"x"}`), 100, "bdy"},
	{"text a string that is not JSON", msg("text", `"hello"`), 100, "text"},
	{"media without id or link", msg("image", `{"caption":"x"}`), 131008, "image.id or image.link"},
	{"media with id and link", msg("image", `{"id":"1","link":"https://example.com/a.png"}`), 131009, "not both"},
	{"media link not http", msg("image", `{"link":"ftp://example.com/a.png"}`), 131009, "image.link"},
	{"media link relative", msg("document", `{"link":"/a.pdf"}`), 131009, "document.link"},
	{"caption on audio", msg("audio", `{"id":"1","caption":"x"}`), 100, "caption"},
	{"caption on sticker", msg("sticker", `{"id":"1","caption":"x"}`), 100, "caption"},
	{"filename on image", msg("image", `{"id":"1","filename":"a.png"}`), 100, "filename"},
	{"voice on video", msg("video", `{"id":"1","voice":true}`), 100, "voice"},
	{"caption too long", msg("image", `{"id":"1","caption":"`+strings.Repeat("x", 1025)+`"}`), 131009, "image.caption"},
	{"unknown media key", msg("image", `{"id":"1","provider":{"name":"x"}}`), 100, "provider"},
	{"no latitude", msg("location", `{"longitude":1}`), 131008, "location.latitude"},
	{"no longitude", msg("location", `{"latitude":1}`), 131008, "location.longitude"},
	{"latitude off the map", msg("location", `{"latitude":91,"longitude":1}`), 131009, "location.latitude"},
	{"longitude off the map", msg("location", `{"latitude":1,"longitude":-180.5}`), 131009, "location.longitude"},
	{"latitude not a number", msg("location", `{"latitude":"north","longitude":1}`), 100, "latitude"},
	{"latitude NaN", msg("location", `{"latitude":"NaN","longitude":1}`), 100, "latitude"},
	{"location name too long", msg("location", `{"latitude":1,"longitude":1,"name":"`+strings.Repeat("x", 1025)+`"}`), 131009, "location.name"},
	{"no contacts", msg("contacts", `[]`), 131008, "contacts[0]"},
	{"too many contacts", msg("contacts", `[`+strings.Repeat(`{"name":{"formatted_name":"A"}},`, 20)+`{"name":{"formatted_name":"A"}}]`), 131009, "contacts"},
	{"contact without formatted_name", msg("contacts", `[{"name":{"first_name":"A"}}]`), 131008, "contacts[0].name.formatted_name"},
	{"contact with bad birthday", msg("contacts", `[{"name":{"formatted_name":"A"},"birthday":"23.01.1999"}]`), 131009, "contacts[0].birthday"},
	{"contact phone empty", msg("contacts", `[{"name":{"formatted_name":"A"},"phones":[{"type":"HOME"}]}]`), 131008, "contacts[0].phones[0].phone"},
	{"contacts an object", msg("contacts", `{"name":{"formatted_name":"A"}}`), 100, "contacts"},
	{"reaction without message", msg("reaction", `{"emoji":"👍"}`), 131008, "reaction.message_id"},
	{"reaction without emoji", msg("reaction", `{"message_id":"wamid.x"}`), 131008, "reaction.emoji"},
	{"reaction with a word", msg("reaction", `{"message_id":"wamid.x","emoji":"ok"}`), 131009, "reaction.emoji"},
	{"reaction with two emoji", msg("reaction", `{"message_id":"wamid.x","emoji":"👍👍"}`), 131009, "reaction.emoji"},
	{"reaction with a letter", msg("reaction", `{"message_id":"wamid.x","emoji":"a"}`), 131009, "reaction.emoji"},
	{"interactive without type", interactive(`{"body":{"text":"x"},"action":{"buttons":` + buttons(1) + `}}`), 131008, "interactive.type"},
	{"interactive flow", interactive(`{"type":"flow","body":{"text":"x"},"action":{"name":"flow"}}`), 131051, "flow"},
	{"interactive flow with its parameters", interactive(`{"type":"flow","body":{"text":"x"},"action":{"name":"flow","parameters":{"flow_message_version":"3","flow_token":"t","flow_id":"1","flow_cta":"Go","flow_action":"navigate","flow_action_payload":{"screen":"A"}}}}`), 131051, "flow"},
	{"interactive contact request", interactive(`{"type":"request_contact_info","body":{"text":"x"},"action":{"name":"request_contact_info"}}`), 131051, "request_contact_info"},
	{"interactive unknown", interactive(`{"type":"poll","body":{"text":"x"},"action":{}}`), 100, "interactive.type"},
	{"buttons without body", interactive(`{"type":"button","action":{"buttons":` + buttons(1) + `}}`), 131008, "interactive.body"},
	{"buttons without action", interactive(`{"type":"button","body":{"text":"x"}}`), 131008, "interactive.action"},
	{"no buttons", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":[]}}`), 131008, "interactive.action.buttons"},
	{"four buttons", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":` + buttons(4) + `}}`), 131009, "interactive.action.buttons"},
	{"button title too long", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"` + strings.Repeat("t", 21) + `"}}]}}`), 131009, "buttons[0].reply.title"},
	{"button without id", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"title":"t"}}]}}`), 131008, "buttons[0].reply.id"},
	{"button id with spaces", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":" a","title":"t"}}]}}`), 131009, "buttons[0].reply.id"},
	{"button ids twice", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"t"}},{"type":"reply","reply":{"id":"a","title":"u"}}]}}`), 131009, "buttons[1].reply.id"},
	{"button titles twice", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"t"}},{"type":"reply","reply":{"id":"b","title":"t"}}]}}`), 131009, "buttons[1].reply.title"},
	{"button of type url", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"url","reply":{"id":"a","title":"t"}}]}}`), 100, "buttons[0].type"},
	{"buttons with sections", interactive(`{"type":"button","body":{"text":"x"},"action":{"buttons":` + buttons(1) + `,"sections":[]}}`), 100, "sections"},
	{"body too long", interactive(`{"type":"button","body":{"text":"` + strings.Repeat("x", 1025) + `"},"action":{"buttons":` + buttons(1) + `}}`), 131009, "interactive.body.text"},
	{"footer too long", interactive(`{"type":"button","body":{"text":"x"},"footer":{"text":"` + strings.Repeat("x", 61) + `"},"action":{"buttons":` + buttons(1) + `}}`), 131009, "interactive.footer.text"},
	{"header text too long", interactive(`{"type":"button","header":{"type":"text","text":"` + strings.Repeat("x", 61) + `"},"body":{"text":"x"},"action":{"buttons":` + buttons(1) + `}}`), 131009, "interactive.header.text"},
	{"header image missing", interactive(`{"type":"button","header":{"type":"image"},"body":{"text":"x"},"action":{"buttons":` + buttons(1) + `}}`), 131008, "interactive.header.image"},
	{"header image with caption", interactive(`{"type":"button","header":{"type":"image","image":{"id":"1","caption":"c"}},"body":{"text":"x"},"action":{"buttons":` + buttons(1) + `}}`), 100, "caption"},
	{"header of two kinds", interactive(`{"type":"button","header":{"type":"text","text":"t","image":{"id":"1"}},"body":{"text":"x"},"action":{"buttons":` + buttons(1) + `}}`), 100, "image"},
	{"header without type", interactive(`{"type":"button","header":{"text":"t"},"body":{"text":"x"},"action":{"buttons":` + buttons(1) + `}}`), 131008, "interactive.header.type"},
	{"list with image header", interactive(`{"type":"list","header":{"type":"image","image":{"id":"1"}},"body":{"text":"x"},"action":{"button":"Open","sections":[{"rows":` + rows("a", 1) + `}]}}`), 100, "interactive.header.type"},
	{"list without button", interactive(`{"type":"list","body":{"text":"x"},"action":{"sections":[{"rows":` + rows("a", 1) + `}]}}`), 131008, "interactive.action.button"},
	{"list button too long", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"` + strings.Repeat("b", 21) + `","sections":[{"rows":` + rows("a", 1) + `}]}}`), 131009, "interactive.action.button"},
	{"list of 11 rows", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open","sections":[{"title":"A","rows":` + rows("a", 6) + `},{"title":"B","rows":` + rows("b", 5) + `}]}}`), 131009, "rows"},
	{"list of 11 sections", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open","sections":` + sections(11, `"rows":[{"id":"x","title":"y"}]`) + `}}`), 131009, "sections"},
	{"list without sections", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open"}}`), 131008, "interactive.action.sections"},
	{"list section without rows", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open","sections":[{"title":"A"}]}}`), 131008, "sections[0].rows"},
	{"list sections untitled", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open","sections":[{"rows":` + rows("a", 1) + `},{"title":"B","rows":` + rows("b", 1) + `}]}}`), 131008, "sections[0].title"},
	{"list row title too long", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open","sections":[{"rows":[{"id":"a","title":"` + strings.Repeat("t", 25) + `"}]}]}}`), 131009, "rows[0].title"},
	{"list row description too long", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open","sections":[{"rows":[{"id":"a","title":"t","description":"` + strings.Repeat("d", 73) + `"}]}]}}`), 131009, "rows[0].description"},
	{"list row ids twice", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open","sections":[{"title":"A","rows":` + rows("a", 1) + `},{"title":"B","rows":` + rows("a", 1) + `}]}}`), 131009, "sections[1].rows[0].id"},
	{"list with products", interactive(`{"type":"list","body":{"text":"x"},"action":{"button":"Open","sections":[{"rows":` + rows("a", 1) + `,"product_items":` + products(1) + `}]}}`), 100, "product_items"},
	{"cta_url without url", interactive(`{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":"Go"}}}`), 131008, "parameters.url"},
	{"cta_url with bad url", interactive(`{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":"Go","url":"javascript:alert(1)"}}}`), 131009, "parameters.url"},
	{"cta_url with other name", interactive(`{"type":"cta_url","body":{"text":"x"},"action":{"name":"open","parameters":{"display_text":"Go","url":"https://example.com"}}}`), 100, "interactive.action.name"},
	{"cta_url without name", interactive(`{"type":"cta_url","body":{"text":"x"},"action":{"parameters":{"display_text":"Go","url":"https://example.com"}}}`), 131008, "interactive.action.name"},
	{"cta_url display text too long", interactive(`{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":"` + strings.Repeat("g", 21) + `","url":"https://example.com"}}}`), 131009, "display_text"},
	{"cta_url with thumbnail", interactive(`{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":"Go","url":"https://example.com","thumbnail_product_retailer_id":"x"}}}`), 100, "thumbnail_product_retailer_id"},
	{"cta_url parameters unknown key", interactive(`{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":"Go","link":"https://example.com"}}}`), 100, "link"},
	{"product without catalog", interactive(`{"type":"product","action":{"product_retailer_id":"SKU"}}`), 131008, "interactive.action.catalog_id"},
	{"product without product", interactive(`{"type":"product","action":{"catalog_id":"1"}}`), 131008, "product_retailer_id"},
	{"product with header", interactive(`{"type":"product","header":{"type":"text","text":"x"},"action":{"catalog_id":"1","product_retailer_id":"SKU"}}`), 100, "header"},
	{"product_list without header", interactive(`{"type":"product_list","body":{"text":"x"},"action":{"catalog_id":"1","sections":` + sections(1, `"product_items":`+products(1)) + `}}`), 131008, "interactive.header"},
	{"product_list with image header", interactive(`{"type":"product_list","header":{"type":"image","image":{"id":"1"}},"body":{"text":"x"},"action":{"catalog_id":"1","sections":` + sections(1, `"product_items":`+products(1)) + `}}`), 100, "interactive.header.type"},
	{"product_list of 31", interactive(`{"type":"product_list","header":{"type":"text","text":"h"},"body":{"text":"x"},"action":{"catalog_id":"1","sections":[{"title":"A","product_items":` + products(16) + `},{"title":"B","product_items":` + products(15) + `}]}}`), 131009, "products"},
	{"product_list of 11 sections", interactive(`{"type":"product_list","header":{"type":"text","text":"h"},"body":{"text":"x"},"action":{"catalog_id":"1","sections":` + sections(11, `"product_items":`+products(1)) + `}}`), 131009, "sections"},
	{"product_list without catalog", interactive(`{"type":"product_list","header":{"type":"text","text":"h"},"body":{"text":"x"},"action":{"sections":` + sections(1, `"product_items":`+products(1)) + `}}`), 131008, "catalog_id"},
	{"product_list item without id", interactive(`{"type":"product_list","header":{"type":"text","text":"h"},"body":{"text":"x"},"action":{"catalog_id":"1","sections":[{"title":"A","product_items":[{"product_retailer_id":""}]}]}}`), 131008, "product_items[0].product_retailer_id"},
	{"catalog_message without name", interactive(`{"type":"catalog_message","body":{"text":"x"},"action":{}}`), 131008, "interactive.action.name"},
	{"catalog_message without body", interactive(`{"type":"catalog_message","action":{"name":"catalog_message"}}`), 131008, "interactive.body"},
	{"order_details with wrong total", interactive(strings.Replace(orderDetails, `"value":21000`, `"value":21001`, 1)), 131009, "total_amount"},
	{"order_details with wrong subtotal", interactive(strings.Replace(orderDetails, `"subtotal":{"value":20000`, `"subtotal":{"value":19000`, 1)), 131009, "subtotal"},
	{"order_details bad reference", interactive(strings.Replace(orderDetails, `order-123.1`, `order 123`, 1)), 131009, "reference_id"},
	{"order_details not pending", interactive(strings.Replace(orderDetails, `"status":"pending"`, `"status":"shipped"`, 1)), 100, "order.status"},
	{"order_details mixed offsets", interactive(strings.Replace(orderDetails, `"offset":100,"description":"GST"`, `"offset":1000,"description":"GST"`, 1)), 131009, "offset"},
	{"order_details JPY with offset 100", interactive(`{"type":"order_details","body":{"text":"x"},"action":{"name":"review_and_pay","parameters":{"reference_id":"r1","type":"digital-goods","currency":"JPY",
		"total_amount":{"value":150000,"offset":100},"order":{"status":"pending","items":[{"name":"Tee","amount":{"value":50000,"offset":100},"quantity":3}],"subtotal":{"value":150000,"offset":100}}}}}`), 131009, "total_amount.offset"},
	{"order_details discount above all", interactive(strings.Replace(strings.Replace(orderDetailsEUR, `"value":100,"offset":100,"description":"Treue"`, `"value":2000,"offset":100,"description":"Treue"`, 1), `"value":1542`, `"value":-358`, 1)), 131009, "total_amount.value"},
	{"order_details discount above all, total 0", interactive(strings.Replace(orderDetailsEUR, `"value":100,"offset":100,"description":"Treue"`, `"value":2000,"offset":100,"description":"Treue"`, 1)), 131009, "order.discount"},
	{"order_details sale amount ignored", interactive(strings.Replace(orderDetailsEUR, `"value":1047`, `"value":1197`, 1)), 131009, "order.subtotal"},
	{"order_details huge quantity", interactive(strings.Replace(orderDetailsEUR, `"quantity":3`, `"quantity":1000001`, 1)), 131009, "items[0].quantity"},
	{"order_details zero quantity", interactive(strings.Replace(orderDetailsEUR, `"quantity":3`, `"quantity":0`, 1)), 131009, "items[0].quantity"},
	{"order_details huge amount", interactive(strings.Replace(orderDetailsEUR, `"value":150,`, `"value":1000000000000001,`, 1)), 131009, "items[1].amount.value"},
	{"order_details overflowing line", interactive(strings.Replace(strings.Replace(orderDetailsEUR, `"value":150,`, `"value":1000000000000000,`, 1), `"quantity":2`, `"quantity":1000000`, 1)), 131009, "items[1]"},
	{"order_details bad expiration", interactive(strings.Replace(orderDetailsEUR, `"1764627000"`, `"tomorrow"`, 1)), 131009, "expiration.timestamp"},
	{"order_details quantity as text", interactive(strings.Replace(orderDetailsEUR, `"quantity":3`, `"quantity":"3"`, 1)), 100, "quantity"},
	{"order_details no reference", interactive(strings.Replace(orderDetailsEUR, `"reference_id":"386285559745613828",`, ``, 1)), 131008, "reference_id"},
	{"order_details no currency", interactive(strings.Replace(orderDetailsEUR, `"currency":"EUR",`, ``, 1)), 131008, "currency"},
	{"order_details currency in words", interactive(strings.Replace(orderDetailsEUR, `"currency":"EUR",`, `"currency":"euro",`, 1)), 131009, "currency"},
	{"order_details no total", interactive(strings.Replace(orderDetailsEUR, `"total_amount":{"value":1542,"offset":100},`, ``, 1)), 131008, "total_amount"},
	{"order_details no items", interactive(`{"type":"order_details","body":{"text":"x"},"action":{"name":"review_and_pay","parameters":{"reference_id":"r1","type":"digital-goods","currency":"EUR","total_amount":{"value":0,"offset":100},"order":{"status":"pending","items":[],"subtotal":{"value":0,"offset":100}}}}}`), 131008, "order.items"},
	{"order_details wrong action", interactive(strings.Replace(orderDetailsEUR, `"review_and_pay"`, `"pay"`, 1)), 100, "action.name"},
	{"order_details goods type", interactive(strings.Replace(orderDetailsEUR, `"physical-goods"`, `"services"`, 1)), 100, "parameters.type"},
	{"order_details unknown key", interactive(strings.Replace(orderDetailsEUR, `"payment_type":"kontor"`, `"payment_kind":"kontor"`, 1)), 100, "payment_kind"},
	{"order_details no body", interactive(strings.Replace(orderDetailsEUR, `"body":{"text":"Ihre Bestellung"},`, ``, 1)), 131008, "interactive.body"},
	{"order_status no reference", interactive(`{"type":"order_status","body":{"text":"x"},"action":{"name":"review_order","parameters":{"order":{"status":"shipped"}}}}`), 131008, "reference_id"},
	{"order_status wrong action", interactive(`{"type":"order_status","body":{"text":"x"},"action":{"name":"review_and_pay","parameters":{"reference_id":"r1","order":{"status":"shipped"}}}}`), 100, "action.name"},
	{"order_status no order", interactive(`{"type":"order_status","body":{"text":"x"},"action":{"name":"review_order","parameters":{"reference_id":"r1"}}}`), 131008, "parameters.order"},
	{"order_status with items", interactive(`{"type":"order_status","body":{"text":"x"},"action":{"name":"review_order","parameters":{"reference_id":"r1","currency":"EUR","order":{"status":"shipped"}}}}`), 100, "currency"},
	{"order_status bad status", interactive(`{"type":"order_status","body":{"text":"x"},"action":{"name":"review_order","parameters":{"reference_id":"r1","order":{"status":"lost"}}}}`), 100, "order.status"},
	{"order_status long description", interactive(`{"type":"order_status","body":{"text":"x"},"action":{"name":"review_order","parameters":{"reference_id":"r1","order":{"status":"shipped","description":"` + strings.Repeat("d", 121) + `"}}}}`), 131009, "description"},
	{"template without name", template(`{"language":{"code":"en"}}`), 131008, "template.name"},
	{"template without language", template(`{"name":"x"}`), 131008, "template.language.code"},
	{"template language as string", template(`{"name":"x","language":"en"}`), 100, "language"},
	{"template policy", template(`{"name":"x","language":{"code":"en","policy":"fallback"}}`), 100, "policy"},
	{"template carousel", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"carousel","cards":[]}]}`), 131009, "carousel"},
	{"template footer component", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"footer"}]}`), 100, "components[0].type"},
	{"template two bodies", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body"},{"type":"body"}]}`), 131009, "components[1].type"},
	{"template button without sub_type", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","index":0}]}`), 131008, "sub_type"},
	{"template button without index", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","sub_type":"quick_reply"}]}`), 131008, "index"},
	{"template button index not a number", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","sub_type":"quick_reply","index":"first"}]}`), 100, "index"},
	{"template button index 10", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","sub_type":"quick_reply","index":10}]}`), 131009, "index"},
	{"template button twice", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","sub_type":"url","index":1},{"type":"button","sub_type":"url","index":"1"}]}`), 131009, "index"},
	{"template flow button", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","sub_type":"flow","index":0}]}`), 131009, "flow"},
	{"template parameter without type", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body","parameters":[{"text":"a"}]}]}`), 131008, "parameters[0].type"},
	{"template text parameter empty", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text"}]}]}`), 131008, "parameters[0].text"},
	{"template header text too long", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"text","text":"` + strings.Repeat("h", 61) + `"}]}]}`), 131009, "parameters[0].text"},
	{"template text with a newline", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"a\nb"}]}]}`), 100, "new-line"},
	{"template text with 5 spaces", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"a     b"}]}]}`), 100, "consecutive spaces"},
	{"template image in body", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"image","image":{"id":"1"}}]}]}`), 100, "parameters[0].type"},
	{"template currency code", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"1","code":"dollar","amount_1000":1}}]}]}`), 131009, "currency.code"},
	{"template currency without fallback", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"currency","currency":{"code":"USD","amount_1000":1}}]}]}`), 131008, "fallback_value"},
	{"template parameter of two kinds", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","sub_type":"quick_reply","index":0,"parameters":[{"type":"payload","payload":"p","coupon_code":"c"}]}]}`), 100, "coupon_code"},
	{"template coupon too long", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","sub_type":"copy_code","index":0,"parameters":[{"type":"coupon_code","coupon_code":"` + strings.Repeat("c", 16) + `"}]}]}`), 131009, "coupon_code"},
	{"template image without id or link", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"image","image":{}}]}]}`), 131008, "image.id or"},
	{"template unknown parameter type", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"emoji","text":"x"}]}]}`), 100, "parameters[0].type"},
	{"template action parameter", template(`{"name":"x","language":{"code":"en"},"components":[{"type":"button","sub_type":"url","index":0,"parameters":[{"type":"action","action":{}}]}]}`), 131009, "action"},
	{"mark read without id", `{"messaging_product":"whatsapp","status":"read"}`, 131008, "message_id"},
	{"mark delivered", `{"messaging_product":"whatsapp","status":"delivered","message_id":"wamid.x"}`, 100, "status"},
	{"mark read with typing audio", `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.x","typing_indicator":{"type":"audio"}}`, 100, "typing_indicator.type"},
	{"mark read with text", `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.x","text":{"body":"x"}}`, 100, "text"},
}

func TestParseSendValid(t *testing.T) {
	for _, c := range validSends {
		req, e := ParseSend([]byte(c.body))
		if e != nil {
			t.Errorf("%s: %v", c.name, e)
			continue
		}
		if req.MessagingProduct != "whatsapp" {
			t.Errorf("%s: messaging_product %q", c.name, req.MessagingProduct)
		}
		if req.IsMarkRead() {
			if req.MessageID == "" {
				t.Errorf("%s: no message id", c.name)
			}
			continue
		}
		if req.Phone() != "+4915112345678" || req.RecipientType != "individual" {
			t.Errorf("%s: recipient %q (%q) type %q", c.name, req.To, req.Phone(), req.RecipientType)
		}
		set := 0
		for _, p := range []bool{req.Text != nil, req.Image != nil, req.Video != nil, req.Audio != nil, req.Document != nil, req.Sticker != nil,
			req.Location != nil, req.Contacts != nil, req.Reaction != nil, req.Interactive != nil, req.Template != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			t.Errorf("%s: %d type objects set", c.name, set)
		}
	}
}

func TestParseSendDetails(t *testing.T) {
	req, e := ParseSend([]byte(validSends[0].body))
	if e != nil || req.Type != TypeText || req.Text.Body != "hallo" {
		t.Fatalf("%+v %v", req, e)
	}
	req, _ = ParseSend([]byte(`{"messaging_product":"whatsapp","to":"4915112345678","text":{"body":"hi"}}`))
	if req.Type != TypeText {
		t.Errorf("type defaults to %q", req.Type)
	}
	req, _ = ParseSend([]byte(msg("location", `{"latitude":"-33.86","longitude":"151.2"}`)))
	if req.Location.Latitude != -33.86 || req.Location.Longitude != 151.2 {
		t.Errorf("location from strings: %+v", req.Location)
	}
	req, _ = ParseSend([]byte(validSends[len(validSends)-1].body))
	if !req.IsMarkRead() || req.TypingIndicator == nil || req.TypingIndicator.Type != "text" {
		t.Errorf("mark read: %+v", req)
	}
	req, _ = ParseSend([]byte(template(`{"name":"x","language":{"code":"en"},"components":[{"type":"BUTTON","sub_type":"QUICK_REPLY","index":"2","parameters":[{"type":"PAYLOAD","payload":"p"}]}]}`)))
	if c := req.Template.Components[0]; c.Type != "button" || c.SubType != "quick_reply" || *c.Index != 2 || c.Parameters[0].Type != "payload" {
		t.Errorf("template component not normalised: %+v", c)
	}
	resp := NewSendResponse(req, "wamid.X")
	if resp.Contacts[0].Input != "+4915112345678" || resp.Contacts[0].WaID != "4915112345678" || resp.Messages[0].MessageStatus != "accepted" {
		t.Errorf("response %+v", resp)
	}
	b, _ := json.Marshal(resp)
	want := `{"messaging_product":"whatsapp","contacts":[{"input":"+4915112345678","wa_id":"4915112345678"}],"messages":[{"id":"wamid.X","message_status":"accepted"}]}`
	if string(b) != want {
		t.Errorf("response JSON\n got %s\nwant %s", b, want)
	}
	req, _ = ParseSend([]byte(validSends[0].body))
	if b, _ := json.Marshal(NewSendResponse(req, "wamid.Y")); strings.Contains(string(b), "message_status") {
		t.Errorf("message_status on a text: %s", b)
	}
}

func TestParseSendInvalid(t *testing.T) {
	for _, c := range invalidSends {
		req, e := ParseSend([]byte(c.body))
		if e == nil {
			t.Errorf("%s: accepted: %+v", c.name, req)
			continue
		}
		if e.Code != c.code || !strings.Contains(e.Details, c.detail) {
			t.Errorf("%s: got %d %q, want %d with %q", c.name, e.Code, e.Details, c.code, c.detail)
		}
		if e.HTTPStatus != 400 || e.FBTraceID == "" || !strings.HasPrefix(e.Message, fmt.Sprintf("(#%d) ", c.code)) {
			t.Errorf("%s: %+v", c.name, e)
		}
		if req.Type != "" || req.Text != nil {
			t.Errorf("%s: a refused request comes back filled: %+v", c.name, req)
		}
	}
}

// FuzzParseSend feeds ParseSend what a client could post: it never panics,
// refuses only with the codes of a bad request, and what it accepts, written
// out again, is accepted as the same request.
func FuzzParseSend(f *testing.F) {
	for _, c := range validSends {
		f.Add([]byte(c.body))
	}
	for _, c := range invalidSends {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := ParseSend(body)
		if e != nil {
			switch e.Code {
			case CodeInvalidParameter, CodeMissingParameter, CodeInvalidValue, CodeUnsupportedType:
			default:
				t.Fatalf("code %d for %q", e.Code, body)
			}
			if e.HTTPStatus != 400 || e.Details == "" {
				t.Fatalf("error %+v", e)
			}
			return
		}
		out, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("marshal %+v: %v", req, err)
		}
		again, e := ParseSend(out)
		if e != nil {
			t.Fatalf("%s accepted, but written out as %s refused: %v", body, out, e)
		}
		out2, _ := json.Marshal(again)
		if string(out) != string(out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}

// FuzzTopObject: topObject splits a body as json.Unmarshal into a map of
// raw values does, and plainString reads a string as json.Unmarshal does.
func FuzzTopObject(f *testing.F) {
	for _, c := range validSends {
		f.Add([]byte(c.body))
	}
	for _, c := range invalidSends {
		f.Add([]byte(c.body))
	}
	for _, s := range []string{`{}`, ` { "a" : [1,{"b":"]}"}] , "a":"\"x\\"}`, `{"to":4915100000001 }`, `null`, `[]`, `{"k\u00e9":1}`, `{"x":"\u00e9\t"}`, `"to"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := topObject(body)
		var want map[string]json.RawMessage
		err := json.Unmarshal(body, &want)
		if wantOK := err == nil && want != nil; ok != wantOK {
			t.Fatalf("%q: ok %v, json.Unmarshal %v %v", body, ok, want, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %q, want %q", body, got, want)
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Fatalf("%q: %s is %q, want %q", body, k, got[k], v)
			}
			s, ok := plainString(v)
			var ws string
			if werr := json.Unmarshal(v, &ws); ok && (werr != nil || s != ws) {
				t.Fatalf("%q: plainString %q, json.Unmarshal %q %v", v, s, ws, werr)
			}
		}
	})
}

// FuzzPlainText: what plainText decodes, strictUnmarshal decodes the same.
func FuzzPlainText(f *testing.F) {
	for _, s := range []string{`{"body":"Hallo"}`, `{"preview_url":true,"body":"Grüße 😀"}`, `{"body":"a","body":"b"}`, `{"Body":"x"}`,
		`{"body":null}`, `{"body":"\u00e9"}`, `{}`, `{"preview_url":1}`, "{\"body\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var got, want Text
		if !plainText(raw, &got) {
			return
		}
		if err := strictUnmarshal(raw, &want); err != nil || got != want {
			t.Fatalf("%q: plainText %+v, strictUnmarshal %+v %v", raw, got, want, err)
		}
	})
}
