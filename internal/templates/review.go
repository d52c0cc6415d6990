package templates

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Verdict is the outcome of the review.
type Verdict struct {
	Status Status // APPROVED or REJECTED
	Reason string // ReasonNone, ReasonInvalidFormat or ReasonIncorrectCategory
	// Rule names the rule that rejected the template (or recategorised
	// it); "" when every rule passed.
	Rule string
	// Detail says what the rule found and what to change.
	Detail string
	// Category is the category the template has after the review: its
	// own, or MARKETING for a UTILITY template with promotional content
	// and allow_category_change.
	Category string
}

// The review rules, by the names Verdict.Rule and the docs use. They run
// in this order; the first that fails decides.
const (
	// RuleMalformedPlaceholder: the header or body text has "{{" or "}}"
	// that is not part of a placeholder ("Hi {{1}", "Hi 1}}").
	RuleMalformedPlaceholder = "malformed_placeholder"
	// RuleEmptyBody: the body has no letter or digit outside its
	// placeholders.
	RuleEmptyBody = "empty_body"
	// RuleEdgePlaceholder: the body starts or ends with a placeholder
	// (white space aside; "Hi {{1}}." ends with a full stop and passes).
	RuleEdgePlaceholder = "edge_placeholder"
	// RulePlaceholderDensity: the body has no more words outside its
	// placeholders than placeholders (a word is a run of characters
	// without white space holding a letter or a digit; each occurrence of
	// a placeholder counts).
	RulePlaceholderDensity = "placeholder_density"
	// RuleAuthenticationButton: an AUTHENTICATION template has no OTP or
	// COPY_CODE button.
	RuleAuthenticationButton = "authentication_button"
	// RuleAuthenticationLink: an AUTHENTICATION template has a URL button
	// or a link (http://, https://, www.) in its texts.
	RuleAuthenticationLink = "authentication_link"
	// RuleAuthenticationPromotional: an AUTHENTICATION template has
	// promotional words (PromotionalWords).
	RuleAuthenticationPromotional = "authentication_promotional"
	// RuleUtilityPromotional: a UTILITY template has promotional words.
	// It is rejected, or — when created with allow_category_change —
	// approved as MARKETING.
	RuleUtilityPromotional = "utility_promotional"
)

// PromotionalWords are what the review takes for promotional content,
// matched in the header, body, footer and button texts without regard to
// case, as whole words: any of these, or a percentage off ("20% off",
// "% off").
var PromotionalWords = []string{
	"sale", "discount", "discounts", "promo", "promos", "promo code", "promotion", "promotions", "promotional",
	"coupon", "coupons", "deal", "deals", "clearance", "special offer", "special offers", "limited time offer",
	"buy now", "shop now", "free gift", "black friday", "cyber monday",
}

var (
	promotionalRE = func() *regexp.Regexp {
		words := make([]string, len(PromotionalWords))
		for i, w := range PromotionalWords {
			words[i] = strings.ReplaceAll(regexp.QuoteMeta(w), " ", `\s+`)
		}
		return regexp.MustCompile(`(?i)\b(` + strings.Join(words, "|") + `)\b|%\s*off\b`)
	}()
	linkRE = regexp.MustCompile(`(?i)\bhttps?://|\bwww\.`)
)

// Review judges a template by the rules above and returns the verdict:
// APPROVED, or REJECTED with the reason INVALID_FORMAT (the format rules)
// or INCORRECT_CATEGORY (the category rules).
func Review(t Template, allowCategoryChange bool) Verdict {
	ok := Verdict{Status: Approved, Reason: ReasonNone, Category: t.Category}
	reject := func(rule, reason, format string, args ...any) Verdict {
		return Verdict{Status: Rejected, Reason: reason, Rule: rule, Detail: fmt.Sprintf(format, args...), Category: t.Category}
	}
	var header, body string
	if h := t.Component("HEADER"); h != nil && strings.EqualFold(h.Format, "TEXT") {
		header = h.Text
	}
	if b := t.Component("BODY"); b != nil {
		body = b.Text
	}

	// The format rules.
	for _, part := range []struct{ name, text string }{{"header", header}, {"body", body}} {
		if rest := stripPlaceholders(part.text, " "); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
			return reject(RuleMalformedPlaceholder, ReasonInvalidFormat,
				"The %s has a malformed placeholder: every {{ needs its }} around a parameter name, as in {{1}}.", part.name)
		}
	}
	outside := stripPlaceholders(body, " ")
	if !strings.ContainsFunc(outside, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
		return reject(RuleEmptyBody, ReasonInvalidFormat, "The body has no text besides its placeholders.")
	}
	trimmed := strings.TrimSpace(body)
	if strings.HasPrefix(trimmed, "{{") || strings.HasSuffix(trimmed, "}}") {
		return reject(RuleEdgePlaceholder, ReasonInvalidFormat,
			"The body starts or ends with a placeholder; put text before the first and after the last.")
	}
	if p, w := len(scan(body)), words(outside); w <= p {
		return reject(RulePlaceholderDensity, ReasonInvalidFormat,
			"The body has %d placeholders and only %d words around them; it needs at least %d words, or fewer placeholders.", p, w, p+1)
	}

	// The category rules.
	texts := allTexts(t)
	switch t.Category {
	case Authentication:
		if !hasButton(t, "OTP", "COPY_CODE") {
			return reject(RuleAuthenticationButton, ReasonIncorrectCategory,
				"An AUTHENTICATION template needs an OTP (or COPY_CODE) button for the code.")
		}
		if hasButton(t, "URL") || linkRE.MatchString(texts) {
			return reject(RuleAuthenticationLink, ReasonIncorrectCategory,
				"An AUTHENTICATION template has no links and no URL buttons.")
		}
		if w := promotionalRE.FindString(texts); w != "" {
			return reject(RuleAuthenticationPromotional, ReasonIncorrectCategory,
				"An AUTHENTICATION template has no promotional content (%q); use MARKETING.", w)
		}
	case Utility:
		if w := promotionalRE.FindString(texts); w != "" {
			if allowCategoryChange {
				ok.Category, ok.Rule = Marketing, RuleUtilityPromotional
				ok.Detail = fmt.Sprintf("Promotional content (%q): approved as MARKETING.", w)
				return ok
			}
			return reject(RuleUtilityPromotional, ReasonIncorrectCategory,
				"A UTILITY template has no promotional content (%q); use MARKETING, or create it with allow_category_change.", w)
		}
	}
	return ok
}

// stripPlaceholders replaces each {{…}} of text (as scan finds them) by
// with.
func stripPlaceholders(text, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i+2:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(text[:i])
		b.WriteString(with)
		text = text[i+2+j+2:]
	}
	b.WriteString(text)
	return b.String()
}

// words counts the runs of characters without white space that hold a
// letter or a digit.
func words(s string) int {
	n := 0
	for _, f := range strings.Fields(s) {
		if strings.ContainsFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
			n++
		}
	}
	return n
}

// allTexts joins the texts a person reads: header, body, footer, buttons.
func allTexts(t Template) string {
	var parts []string
	for _, c := range t.Components {
		if c.Text != "" {
			parts = append(parts, c.Text)
		}
		for _, b := range c.Buttons {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func hasButton(t Template, types ...string) bool {
	if c := t.Component("BUTTONS"); c != nil {
		for _, b := range c.Buttons {
			if contains(types, strings.ToUpper(b.Type)) {
				return true
			}
		}
	}
	return false
}
