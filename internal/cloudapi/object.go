package cloudapi

import (
	"encoding/json"
	"unicode/utf8"
)

// topObject splits a request body into its top-level keys and values, as
// json.Unmarshal into a map[string]json.RawMessage does (a later duplicate
// key wins; each value exactly as written, without the space around it),
// and ok is false where that would fail or give a nil map. It walks the
// body once it is known to be valid JSON, and the values are slices of
// body rather than copies; for a key with an escape or a byte outside
// ASCII it leaves the work to json.Unmarshal. A send request is a handful
// of keys, and json.Unmarshal's map decoding was most of ParseSend's cost.
func topObject(body []byte) (top map[string]json.RawMessage, ok bool) {
	if !json.Valid(body) {
		return nil, false
	}
	i := skipSpace(body, 0)
	if body[i] != '{' { // valid JSON is not empty
		return nil, false // null (a nil map), or not an object
	}
	top = make(map[string]json.RawMessage, 8)
	i = skipSpace(body, i+1)
	if body[i] == '}' {
		return top, true
	}
	for {
		// body[i] is the '"' of a key: the JSON is valid.
		j := i + 1
		for body[j] != '"' {
			if c := body[j]; c == '\\' || c >= 0x80 {
				return slowTopObject(body)
			}
			j++
		}
		key := body[i+1 : j]
		i = skipSpace(body, j+1) // at ':'
		i = skipSpace(body, i+1)
		end := valueEnd(body, i)
		k, known := topKeys[string(key)]
		if !known {
			k = string(key)
		}
		top[k] = body[i:end:end]
		i = skipSpace(body, end)
		if body[i] == '}' {
			return top, true
		}
		i = skipSpace(body, i+1) // past ','
	}
}

func slowTopObject(body []byte) (map[string]json.RawMessage, bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, false
	}
	return top, true
}

// topKeys are the keys of requests, so that splitting a body does not
// allocate them.
var topKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"messaging_product", "recipient_type", "to", "type", "context", "biz_opaque_callback_data",
		"status", "message_id", "typing_indicator", "recipient", "body", "preview_url"} {
		m[k] = k
	}
	for k := range typeKeys {
		m[k] = k
	}
	return m
}()

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the end of the JSON value that starts at b[i], in
// valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // a number, true, false or null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// stringEnd returns the end of the JSON string that starts at b[i] (its
// opening quote), in valid JSON.
func stringEnd(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// plainString returns the JSON string raw holds when it needs no
// decoding (no escapes, valid UTF-8); ok is false otherwise.
func plainString(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	ascii := true
	for _, c := range in {
		if c < 0x20 || c == '\\' || c == '"' {
			return "", false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && !utf8.Valid(in) {
		return "", false // json.Unmarshal writes U+FFFD for what is not
	}
	switch string(in) { // the values of nearly every send, without a copy
	case "whatsapp":
		return "whatsapp", true
	case "individual":
		return "individual", true
	case TypeText:
		return TypeText, true
	case TypeTemplate:
		return TypeTemplate, true
	}
	return string(in), true
}

// plainText decodes a text message's object as strictUnmarshal would,
// when it is just a plain body and preview_url; ok is false otherwise
// (other keys, escapes, null), for strictUnmarshal to decode.
func plainText(raw []byte, t *Text) (ok bool) {
	obj, ok := topObject(raw)
	if !ok {
		return false
	}
	for k, v := range obj {
		switch k {
		case "body":
			if t.Body, ok = plainString(v); !ok {
				return false
			}
		case "preview_url":
			switch string(v) {
			case "true":
				t.PreviewURL = true
			case "false":
				t.PreviewURL = false
			default:
				return false
			}
		default:
			return false
		}
	}
	return true
}
