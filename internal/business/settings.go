package business

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// This file holds what a business changes about itself (from the console):
// its profile, its tokens, its app secret, and the test event that checks
// its webhook receiver.

// Profile limits, as the Business API has them.
const (
	MaxAbout       = 139
	MaxAddress     = 256
	MaxDescription = 512
	MaxEmail       = 128
	MaxVertical    = 64
	MaxWebsites    = 2
	MaxWebsite     = 256
)

// Verticals are the industries a profile can name (the public list).
var verticals = []string{"UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN", "FINANCE", "GROCERY",
	"GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL", "TRAVEL", "RESTAURANT", "NOT_A_BIZ"}

// Verticals lists the industries a profile can name.
func Verticals() []string { return append([]string(nil), verticals...) }

// FieldError is a problem with one field of a form, in words for a person.
type FieldError struct {
	Field string // the field's name: "about", "websites"
	Msg   string
}

// FieldErrors is every problem of a form; it is a kontor.Invalid error.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Msg
	}
	return strings.Join(parts, "; ")
}

// Of returns the message for field, or "".
func (fe FieldErrors) Of(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Msg
		}
	}
	return ""
}

// CheckProfile checks a profile as a person typed it and returns it
// trimmed, or the problems of each field (a *kontor.Error of kind Invalid
// wrapping FieldErrors).
func CheckProfile(p Profile) (Profile, error) {
	var errs FieldErrors
	text := func(field string, v *string, max int, what string) {
		*v = strings.TrimSpace(*v)
		switch {
		case !utf8.ValidString(*v):
			errs = append(errs, FieldError{field, "The " + what + " has characters that cannot be read."})
		case utf8.RuneCountInString(*v) > max:
			errs = append(errs, FieldError{field, fmt.Sprintf("The %s can have at most %d characters; it has %d.", what, max, utf8.RuneCountInString(*v))})
		}
	}
	text("about", &p.About, MaxAbout, "about text")
	text("address", &p.Address, MaxAddress, "address")
	text("description", &p.Description, MaxDescription, "description")
	text("email", &p.Email, MaxEmail, "email address")
	if p.Email != "" && (!strings.Contains(p.Email, "@") || strings.ContainsAny(p.Email, " <>,;") || strings.HasPrefix(p.Email, "@") || strings.HasSuffix(p.Email, "@")) {
		errs = append(errs, FieldError{"email", fmt.Sprintf("%q is not an email address such as shop@example.com.", p.Email)})
	}
	p.Vertical = strings.ToUpper(strings.TrimSpace(p.Vertical))
	if p.Vertical != "" {
		ok := false
		for _, v := range verticals {
			ok = ok || v == p.Vertical
		}
		if !ok {
			errs = append(errs, FieldError{"vertical", "Choose an industry from the list."})
		}
	}
	var sites []string
	for _, w := range p.Websites {
		if w = strings.TrimSpace(w); w != "" {
			sites = append(sites, w)
		}
	}
	p.Websites = sites
	if len(sites) > MaxWebsites {
		errs = append(errs, FieldError{"websites", fmt.Sprintf("A profile can list at most %d websites.", MaxWebsites)})
	}
	for _, w := range sites {
		u, err := url.Parse(w)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(w) > MaxWebsite {
			errs = append(errs, FieldError{"websites", fmt.Sprintf("%q is not a web address starting with https:// (at most %d characters).", w, MaxWebsite)})
			break
		}
	}
	if len(errs) > 0 {
		return p, &kontor.Error{Kind: kontor.Invalid, Op: "business.CheckProfile", Msg: "Some fields need a change.", Err: errs}
	}
	return p, nil
}

// SetProfile checks and stores the profile of a number of business.
func (s *Service) SetProfile(ctx context.Context, biz, number kontor.ID, p Profile) (Profile, error) {
	if _, err := s.number(ctx, biz, number); err != nil {
		return p, err
	}
	p, err := CheckProfile(p)
	if err != nil {
		return p, err
	}
	old, err := s.store.Profile(ctx, number)
	if err != nil {
		return p, err
	}
	p.PictureURL = old.PictureURL // not edited here
	return p, s.store.PutProfile(ctx, number, p)
}

// number returns a number of biz; another business's is NotFound.
func (s *Service) number(ctx context.Context, biz, number kontor.ID) (Number, error) {
	n, err := s.store.Number(ctx, number)
	if err == nil && n.Business != biz {
		err = kontor.Errorf(kontor.NotFound, "business.number", "There is no such phone number.")
	}
	return n, err
}

// RevokeOwnToken revokes a token of biz; a token of another business (or
// a partner's) is NotFound, as if it did not exist.
func (s *Service) RevokeOwnToken(ctx context.Context, biz, id kontor.ID) error {
	ts, err := s.store.Tokens(ctx, biz, 0)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == id {
			return s.store.RevokeToken(ctx, id)
		}
	}
	return kontor.Errorf(kontor.NotFound, "business.RevokeOwnToken", "There is no such token.")
}

// RotateSecret gives the business's app a new secret and returns the app
// with it (shown once). Webhooks are signed with the new secret within
// seconds, queued ones too (the deliverer looks secrets up when it sends).
func (s *Service) RotateSecret(ctx context.Context, biz kontor.ID) (App, error) {
	apps, err := s.store.Apps(ctx, biz)
	if err != nil {
		return App{}, err
	}
	if len(apps) == 0 {
		return App{}, kontor.Errorf(kontor.NotFound, "business.RotateSecret", "The business has no app.")
	}
	a := apps[0]
	a.Secret = appSecret()
	if err := s.store.SetAppSecret(ctx, a.ID, a.Secret); err != nil {
		return App{}, err
	}
	s.log.Info("app secret rotated", "waba", biz, "app", a.ID)
	return a, nil
}

// TestSender is the sample person of a test event (the public service's
// test events use the same number).
const TestSender = "16315551181"

// TestEvent makes a webhook that checks a business's receiver: a messages
// change in the public shape, from the sample person TestSender, for the
// business's first number (or number, when not 0), signed like every
// webhook when it goes out. Its id starts with "test-".
func (s *Service) TestEvent(ctx context.Context, biz, number kontor.ID) (webhook.Event, error) {
	const op = "business.TestEvent"
	b, err := s.store.Business(ctx, biz)
	if err != nil {
		return webhook.Event{}, err
	}
	if b.WebhookURL == "" {
		return webhook.Event{}, kontor.Errorf(kontor.Invalid, op, "Set a webhook URL first: there is nowhere to send the test event.")
	}
	var n Number
	if number != 0 {
		if n, err = s.number(ctx, biz, number); err != nil {
			return webhook.Event{}, err
		}
	} else {
		ns, err := s.store.Numbers(ctx, biz)
		if err != nil {
			return webhook.Event{}, err
		}
		if len(ns) == 0 {
			return webhook.Event{}, kontor.Errorf(kontor.Invalid, op, "The business has no phone number to send a test event for.")
		}
		n = ns[0]
	}
	apps, err := s.store.Apps(ctx, biz)
	if err != nil {
		return webhook.Event{}, err
	}
	if len(apps) == 0 {
		return webhook.Event{}, kontor.Errorf(kontor.Invalid, op, "The business has no app to sign the test event.")
	}
	now := s.clock.Now()
	wamid := cloudapi.NewMessageID()
	v := cloudapi.MessagesValue{
		Metadata: cloudapi.Metadata{DisplayPhoneNumber: strings.TrimPrefix(string(n.Phone), "+"), PhoneNumberID: n.ID.String()},
		Contacts: []cloudapi.WebhookContact{{Profile: cloudapi.Profile{Name: "Test event"}, WaID: TestSender}},
		Messages: []cloudapi.WebhookMessage{{From: TestSender, ID: wamid, Timestamp: cloudapi.Timestamp(now), Type: "text",
			Text: &cloudapi.Text{Body: "This is a test event from the kontor console."}}},
	}
	body, err := cloudapi.EncodeWebhook(cloudapi.MessagesNotification(biz.String(), v))
	if err != nil {
		return webhook.Event{}, &kontor.Error{Kind: kontor.Internal, Op: op, Err: err}
	}
	return webhook.Event{ID: "test-" + wamid, App: apps[0].ID, URL: b.WebhookURL, Body: body, Created: now}, nil
}
