package bizapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// fieldExpr is one field of a Graph fields parameter with its modifiers:
// pricing_analytics.start(1).end(2).granularity(DAILY) is the field
// pricing_analytics with three modifiers.
type fieldExpr struct {
	Name string
	Mods []fieldMod
}

type fieldMod struct {
	Name string
	Arg  string // raw, between the parentheses
}

// maxFields bounds what a fields parameter may hold.
const maxFields = 64

// parseGraphFields reads a fields parameter with modifiers. Commas inside
// parentheses, brackets or quotes belong to a modifier's argument.
func parseGraphFields(s string) ([]fieldExpr, *cloudapi.Error) {
	bad := func(why string) *cloudapi.Error {
		return cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Syntax error in the fields parameter: %s", why)
	}
	if len(s) > 4096 {
		return nil, bad("longer than 4096 bytes")
	}
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
			if depth < 0 {
				return nil, bad("unbalanced " + string(c))
			}
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if depth != 0 || quoted {
		return nil, bad("unbalanced parentheses, brackets or quotes")
	}
	parts = append(parts, s[start:])
	var out []fieldExpr
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if len(out) == maxFields {
			return nil, bad("too many fields")
		}
		name, rest, _ := strings.Cut(p, ".")
		if !isIdent(name) {
			return nil, bad("bad field name " + strconv.Quote(name))
		}
		f := fieldExpr{Name: name}
		for rest != "" {
			open := strings.IndexByte(rest, '(')
			if open <= 0 || !isIdent(rest[:open]) {
				return nil, bad("bad modifier in " + strconv.Quote(p))
			}
			close := matching(rest, open)
			if close < 0 {
				return nil, bad("unclosed modifier in " + strconv.Quote(p))
			}
			f.Mods = append(f.Mods, fieldMod{Name: rest[:open], Arg: rest[open+1 : close]})
			rest = rest[close+1:]
			if rest != "" {
				if rest[0] != '.' {
					return nil, bad("modifiers are joined by dots in " + strconv.Quote(p))
				}
				rest = rest[1:]
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// matching returns the index of the parenthesis closing the one at open.
func matching(s string, open int) int {
	depth, quoted := 0, false
	for i := open; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
			if depth == 0 {
				if c != ')' {
					return -1
				}
				return i
			}
		}
	}
	return -1
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// argList reads a modifier's list: ["A","B"], [A,B], A,B or [].
func argList(arg string) []string {
	arg = strings.TrimSpace(arg)
	arg = strings.TrimSuffix(strings.TrimPrefix(arg, "["), "]")
	var out []string
	for _, v := range strings.Split(arg, ",") {
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// businessFields are the fields of a business account this API answers.
var businessFields = []string{"id", "name", "currency", "pricing_analytics"}

// businessObject answers GET /{waba-id}?fields=…: id and name, and the
// pricing analytics when asked.
func (a *API) businessObject(w http.ResponseWriter, r *http.Request, b business.Business) {
	fs, cerr := parseGraphFields(r.URL.Query().Get("fields"))
	if cerr != nil {
		a.fail(w, cerr)
		return
	}
	if len(fs) == 0 {
		a.ok(w, map[string]any{"id": b.ID, "name": b.Name})
		return
	}
	out := map[string]any{"id": b.ID}
	currency := ""
	for _, f := range fs {
		if !slices.Contains(businessFields, f.Name) {
			a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Tried accessing nonexisting field (%s) on node type (WhatsAppBusinessAccount)", f.Name))
			return
		}
		if f.Name != "pricing_analytics" && len(f.Mods) > 0 {
			a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "The field %s takes no modifiers", f.Name))
			return
		}
		switch f.Name {
		case "name":
			out["name"] = b.Name
		case "pricing_analytics":
			if a.Usage == nil {
				a.fail(w, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Pricing analytics are kept by the platform, not by this endpoint."))
				return
			}
			points, cur, cerr := a.pricingAnalytics(r, b.ID, f.Mods)
			if cerr != nil {
				a.fail(w, cerr)
				return
			}
			currency = cur
			out["pricing_analytics"] = map[string]any{"data": []any{map[string]any{"data_points": points}}}
		}
	}
	if slices.ContainsFunc(fs, func(f fieldExpr) bool { return f.Name == "currency" }) {
		if currency == "" && a.Usage != nil {
			// The currency the business was charged in lately.
			now := time.Now()
			rows, err := a.Usage.UsageRows(r.Context(), b.ID, now.AddDate(0, -3, 0), now.Add(time.Minute), 24*time.Hour)
			if err == nil && len(rows) > 0 {
				currency = rows[len(rows)-1].Currency
			}
		}
		out["currency"] = currency
	}
	a.ok(w, out)
}

// pricingAnalytics reads the modifiers of pricing_analytics and answers
// from the ledger.
func (a *API) pricingAnalytics(r *http.Request, waba kontor.ID, mods []fieldMod) ([]billing.DataPoint, string, *cloudapi.Error) {
	q := billing.AnalyticsQuery{Business: waba}
	var phones []string
	seen := map[string]bool{}
	for _, m := range mods {
		if seen[m.Name] {
			return nil, "", cloudapi.Errorf(cloudapi.CodeInvalidParameter, "pricing_analytics: %s is given twice", m.Name)
		}
		seen[m.Name] = true
		switch m.Name {
		case "start", "end":
			v, err := strconv.ParseInt(strings.TrimSpace(m.Arg), 10, 64)
			if err != nil || v < 0 || v > 1<<40 {
				return nil, "", cloudapi.Invalid(m.Name, "a Unix timestamp in seconds")
			}
			if m.Name == "start" {
				q.Start = time.Unix(v, 0).UTC()
			} else {
				q.End = time.Unix(v, 0).UTC()
			}
		case "granularity":
			q.Granularity = strings.ToUpper(strings.TrimSpace(m.Arg))
		case "dimensions":
			q.Dimensions = upper(argList(m.Arg))
		case "country_codes":
			q.Countries = upper(argList(m.Arg))
		case "pricing_categories":
			q.Categories = upper(argList(m.Arg))
		case "phone_numbers":
			phones = argList(m.Arg)
		case "metric_types":
			for _, t := range upper(argList(m.Arg)) {
				if t != "COST" && t != "VOLUME" {
					return nil, "", cloudapi.Invalid("metric_types", "COST or VOLUME")
				}
			}
		case "pricing_types":
			for _, t := range upper(argList(m.Arg)) {
				if !slices.Contains([]string{"REGULAR", "FREE_CUSTOMER_SERVICE", "FREE_ENTRY_POINT"}, t) {
					return nil, "", cloudapi.Invalid("pricing_types", "REGULAR, FREE_CUSTOMER_SERVICE or FREE_ENTRY_POINT")
				}
			}
			if ts := upper(argList(m.Arg)); len(ts) > 0 && !slices.Contains(ts, "REGULAR") {
				return []billing.DataPoint{}, "", nil // only charged (REGULAR) messages are in the ledger
			}
		default:
			return nil, "", cloudapi.Errorf(cloudapi.CodeInvalidParameter, "pricing_analytics has no modifier %s", m.Name)
		}
	}
	if !seen["start"] || !seen["end"] || !seen["granularity"] {
		return nil, "", cloudapi.Missing("pricing_analytics.start, end and granularity")
	}
	numbers, err := a.Dir.Numbers(r.Context(), waba)
	if err != nil {
		return nil, "", cloudapi.Internal()
	}
	display := map[kontor.ID]string{}
	for _, n := range numbers {
		display[n.ID] = n.Phone.Digits()
		if slices.Contains(phones, n.Phone.Digits()) || slices.Contains(phones, string(n.Phone)) {
			q.Numbers = append(q.Numbers, n.ID)
		}
	}
	if len(phones) > 0 && len(q.Numbers) == 0 {
		return []billing.DataPoint{}, "", nil
	}
	points, cur, err := billing.Analytics(r.Context(), a.Usage, q)
	if err != nil {
		if kontor.KindOf(err) == kontor.Invalid {
			return nil, "", cloudapi.Errorf(cloudapi.CodeInvalidParameter, "pricing_analytics: %s", kontor.MessageOf(err))
		}
		a.Log.Error("pricing analytics", "err", err)
		return nil, "", cloudapi.Internal()
	}
	for i := range points {
		if points[i].Phone != 0 {
			points[i].PhoneNumber = display[points[i].Phone]
		}
	}
	return points, cur, nil
}

func upper(vs []string) []string {
	for i := range vs {
		vs[i] = strings.ToUpper(vs[i])
	}
	return vs
}
