package templates_test

import (
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/templates"
)

// tmpl makes a template for the review: a body, an optional text header
// and buttons of the given types.
func tmpl(category, header, body string, buttons ...string) templates.Template {
	t := templates.Template{Name: "t", Language: "en_US", Category: category, ParameterFormat: "POSITIONAL"}
	if header != "" {
		t.Components = append(t.Components, templates.Component{Type: "HEADER", Format: "TEXT", Text: header})
	}
	t.Components = append(t.Components, templates.Component{Type: "BODY", Text: body})
	if len(buttons) > 0 {
		c := templates.Component{Type: "BUTTONS"}
		for _, b := range buttons {
			btn := templates.Button{Type: b, Text: "Tap"}
			if b == "URL" {
				btn.URL = "https://x.test/a"
			}
			c.Buttons = append(c.Buttons, btn)
		}
		t.Components = append(t.Components, c)
	}
	return t
}

func TestReview(t *testing.T) {
	const ok = ""
	for _, c := range []struct {
		name     string
		t        templates.Template
		allow    bool   // allow_category_change
		rule     string // the rule that decides; ok when approved without one
		reason   string
		category string // after the review; "" means unchanged
	}{
		{"utility", tmpl("UTILITY", "Order {{1}}", "Hi {{1}}, your order {{2}} is ready."), false, ok, "NONE", ""},
		{"marketing may promote", tmpl("MARKETING", "", "Hi {{1}}, our summer SALE: 20% off everything!"), false, ok, "NONE", ""},
		{"authentication", tmpl("AUTHENTICATION", "", "*{{1}}* is your verification code.", "OTP"), false, ok, "NONE", ""},
		{"authentication with copy code", tmpl("AUTHENTICATION", "", "Your code is {{1}}.", "COPY_CODE"), false, ok, "NONE", ""},
		{"just enough words", tmpl("UTILITY", "", "Hi {{1}} there."), false, ok, "NONE", ""},
		{"a full stop after the last placeholder", tmpl("UTILITY", "", "Your code: {{1}}."), false, ok, "NONE", ""},
		{"whole words only", tmpl("UTILITY", "", "Your sales receipt for order {{1}} is attached, {{2}}."), false, ok, "NONE", ""},

		{"malformed in body", tmpl("UTILITY", "", "Hi {{1} there, your order is ready."), false, templates.RuleMalformedPlaceholder, "INVALID_FORMAT", ""},
		{"stray closing braces", tmpl("UTILITY", "", "Hi 1}} there, your order is ready."), false, templates.RuleMalformedPlaceholder, "INVALID_FORMAT", ""},
		{"malformed in header", tmpl("UTILITY", "Order {{1", "Hi {{1}}, your order is ready."), false, templates.RuleMalformedPlaceholder, "INVALID_FORMAT", ""},
		{"empty body", tmpl("UTILITY", "", "{{1}} - {{2}}!"), false, templates.RuleEmptyBody, "INVALID_FORMAT", ""},
		{"starts with a placeholder", tmpl("UTILITY", "", "  {{1}}, your order is ready."), false, templates.RuleEdgePlaceholder, "INVALID_FORMAT", ""},
		{"ends with a placeholder", tmpl("UTILITY", "", "Your order is ready, {{1}}\n"), false, templates.RuleEdgePlaceholder, "INVALID_FORMAT", ""},
		{"too many placeholders", tmpl("UTILITY", "", "Dear {{1}} {{2}} {{3}} ok."), false, templates.RulePlaceholderDensity, "INVALID_FORMAT", ""},
		{"as many words as placeholders", tmpl("UTILITY", "", "Hi {{1}}."), false, templates.RulePlaceholderDensity, "INVALID_FORMAT", ""},

		{"authentication without a code button", tmpl("AUTHENTICATION", "", "Your code is {{1}}.", "QUICK_REPLY"), false, templates.RuleAuthenticationButton, "INCORRECT_CATEGORY", ""},
		{"authentication with a URL button", tmpl("AUTHENTICATION", "", "Your code is {{1}}.", "OTP", "URL"), false, templates.RuleAuthenticationLink, "INCORRECT_CATEGORY", ""},
		{"authentication with a link", tmpl("AUTHENTICATION", "", "Your code is {{1}}. Or log in at https://x.test.", "OTP"), false, templates.RuleAuthenticationLink, "INCORRECT_CATEGORY", ""},
		{"authentication with www", tmpl("AUTHENTICATION", "", "Your code for www.x.test is {{1}}.", "OTP"), false, templates.RuleAuthenticationLink, "INCORRECT_CATEGORY", ""},
		{"authentication promotes", tmpl("AUTHENTICATION", "", "Your code is {{1}}. Use promo code WIN today.", "OTP"), false, templates.RuleAuthenticationPromotional, "INCORRECT_CATEGORY", ""},
		{"utility promotes", tmpl("UTILITY", "", "Your order {{1}} shipped. Get a discount on the next one!"), false, templates.RuleUtilityPromotional, "INCORRECT_CATEGORY", ""},
		{"utility percent off", tmpl("UTILITY", "", "Order {{1}} shipped. 20 % OFF next week."), false, templates.RuleUtilityPromotional, "INCORRECT_CATEGORY", ""},
		{"utility sale in the header", tmpl("UTILITY", "Big Sale", "Your order {{1}} shipped today."), false, templates.RuleUtilityPromotional, "INCORRECT_CATEGORY", ""},
		{"utility recategorised", tmpl("UTILITY", "", "Your order {{1}} shipped. Shop  now for more deals!"), true, templates.RuleUtilityPromotional, "NONE", "MARKETING"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := templates.Review(c.t, c.allow)
			wantStatus := templates.Approved
			if c.reason != "NONE" {
				wantStatus = templates.Rejected
			}
			wantCat := c.category
			if wantCat == "" {
				wantCat = c.t.Category
			}
			if v.Status != wantStatus || v.Rule != c.rule || v.Reason != c.reason || v.Category != wantCat {
				t.Fatalf("got %s %s (rule %q, %s): %s; want %s %s (rule %q, %s)", v.Status, v.Reason, v.Rule, v.Category, v.Detail,
					wantStatus, c.reason, c.rule, wantCat)
			}
			if c.rule != ok && v.Detail == "" {
				t.Fatal("a verdict by a rule says why")
			}
		})
	}
}

// TestPromotionalWords: every listed word is found, in any case.
func TestPromotionalWords(t *testing.T) {
	for _, w := range templates.PromotionalWords {
		v := templates.Review(tmpl("UTILITY", "", "Your order {{1}} shipped: "+strings.ToUpper(w)+" inside."), false)
		if v.Rule != templates.RuleUtilityPromotional {
			t.Errorf("%q was not taken for promotional: %+v", w, v)
		}
	}
}
