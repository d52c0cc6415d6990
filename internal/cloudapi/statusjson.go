package cloudapi

import "strconv"

// appendNotification writes n as EncodeWebhook's json.Encoder does, for
// the notification made for every message sent, delivered and read: one
// of statuses of messages (MessagesValue with Statuses only, and none with
// Errors or Payment) whose strings are all plain (printable ASCII without
// a quote or backslash: nothing to escape, so asciiJSON changes nothing).
// ok is false for anything else, which EncodeWebhook then encodes the
// general way. TestStatusNotificationJSON holds the two to the same bytes.
func appendNotification(b []byte, n Notification) (_ []byte, ok bool) {
	b = append(b, `{"object":`...)
	if b, ok = appendPlain(b, n.Object); !ok {
		return b, false
	}
	b = append(b, `,"entry":`...)
	if b, ok = appendList(b, n.Entry, appendEntry); !ok {
		return b, false
	}
	return append(b, '}'), true
}

func appendEntry(b []byte, e Entry) (_ []byte, ok bool) {
	b = append(b, `{"id":`...)
	if b, ok = appendPlain(b, e.ID); !ok {
		return b, false
	}
	if e.Time != 0 {
		b = append(b, `,"time":`...)
		b = strconv.AppendInt(b, e.Time, 10)
	}
	b = append(b, `,"changes":`...)
	if b, ok = appendList(b, e.Changes, appendChange); !ok {
		return b, false
	}
	return append(b, '}'), true
}

func appendChange(b []byte, c Change) (_ []byte, ok bool) {
	v, isValue := c.Value.(MessagesValue)
	if !isValue {
		return b, false
	}
	b = append(b, `{"field":`...)
	if b, ok = appendPlain(b, c.Field); !ok {
		return b, false
	}
	b = append(b, `,"value":`...)
	if b, ok = appendStatusesValue(b, v); !ok {
		return b, false
	}
	return append(b, '}'), true
}

func appendStatusesValue(b []byte, v MessagesValue) (_ []byte, ok bool) {
	if len(v.Contacts) > 0 || len(v.Messages) > 0 || len(v.Errors) > 0 {
		return b, false
	}
	b = append(b, `{"messaging_product":`...)
	if b, ok = appendPlain(b, v.MessagingProduct); !ok {
		return b, false
	}
	b = append(b, `,"metadata":{"display_phone_number":`...)
	if b, ok = appendPlain(b, v.Metadata.DisplayPhoneNumber); !ok {
		return b, false
	}
	b = append(b, `,"phone_number_id":`...)
	if b, ok = appendPlain(b, v.Metadata.PhoneNumberID); !ok {
		return b, false
	}
	b = append(b, '}')
	if len(v.Statuses) > 0 {
		b = append(b, `,"statuses":`...)
		if b, ok = appendList(b, v.Statuses, appendStatus); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendList writes xs as a JSON array, each element by one, or null when
// xs is nil (as encoding/json does); ok is false as soon as one declines.
func appendList[T any](b []byte, xs []T, one func([]byte, T) ([]byte, bool)) (_ []byte, ok bool) {
	if xs == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		if b, ok = one(b, x); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

func appendStatus(b []byte, s Status) (_ []byte, ok bool) {
	if len(s.Errors) > 0 || s.Payment != nil {
		return b, false
	}
	ok = true
	field := func(name, v string, omitEmpty bool) {
		if !ok || (omitEmpty && v == "") {
			return
		}
		b = append(append(b, name...), ':')
		b, ok = appendPlain(b, v)
	}
	b = append(b, '{')
	field(`"id"`, s.ID, false)
	field(`,"status"`, s.Status, false)
	field(`,"timestamp"`, s.Timestamp, false)
	field(`,"recipient_id"`, s.RecipientID, false)
	if c := s.Conversation; c != nil {
		b = append(b, `,"conversation":{`...)
		field(`"id"`, c.ID, false)
		field(`,"expiration_timestamp"`, c.ExpirationTimestamp, true)
		field(`,"origin":{"type"`, c.Origin.Type, false)
		b = append(b, "}}"...)
	}
	if p := s.Pricing; p != nil {
		b = append(b, `,"pricing":{"billable":`...)
		b = strconv.AppendBool(b, p.Billable)
		field(`,"pricing_model"`, p.PricingModel, false)
		field(`,"category"`, p.Category, false)
		field(`,"type"`, p.Type, true)
		b = append(b, '}')
	}
	field(`,"biz_opaque_callback_data"`, s.BizOpaqueCallbackData, true)
	field(`,"type"`, s.Type, true)
	return append(b, '}'), ok
}

// appendPlain writes s as a JSON string when nothing in it needs escaping.
func appendPlain(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
