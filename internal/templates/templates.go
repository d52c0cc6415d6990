package templates

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// Categories of a template.
const (
	Marketing      = "MARKETING"
	Utility        = "UTILITY"
	Authentication = "AUTHENTICATION"
)

// Parameter formats: {{1}} or {{first_name}}.
const (
	Positional = "POSITIONAL"
	Named      = "NAMED"
)

// Status is where a template is in its life. Only an APPROVED template can
// be sent.
type Status string

// The statuses of the public API. kontor's review sets PENDING, APPROVED
// and REJECTED; PAUSED and DISABLED are set by an operator (SetStatus).
const (
	Pending         Status = "PENDING"
	Approved        Status = "APPROVED"
	Rejected        Status = "REJECTED"
	Paused          Status = "PAUSED"
	Disabled        Status = "DISABLED"
	InAppeal        Status = "IN_APPEAL"
	PendingDeletion Status = "PENDING_DELETION"
	Deleted         Status = "DELETED"
	LimitExceeded   Status = "LIMIT_EXCEEDED"
)

var statuses = []Status{Pending, Approved, Rejected, Paused, Disabled, InAppeal, PendingDeletion, Deleted, LimitExceeded}

// ParseStatus reads a status name (any case).
func ParseStatus(s string) (Status, bool) {
	for _, st := range statuses {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// Reasons a template was rejected (rejected_reason; "NONE" otherwise).
const (
	ReasonNone              = "NONE"
	ReasonInvalidFormat     = "INVALID_FORMAT"
	ReasonIncorrectCategory = "INCORRECT_CATEGORY"
)

// Template is a message template of a business.
type Template struct {
	ID              kontor.ID
	Business        kontor.ID
	Name            string // lowercase letters, digits and _
	Language        string // en_US, de, pt_BR …
	Category        string // MARKETING, UTILITY, AUTHENTICATION
	ParameterFormat string // POSITIONAL or NAMED
	// Components are those of the create body, checked and normalised
	// (types and formats upper case; an authentication template's preset
	// texts written out).
	Components     []Component
	Status         Status
	RejectedReason string // ReasonNone unless REJECTED
	// PreviousCategory is the category asked for when the review changed
	// it (a UTILITY template with allow_category_change approved as
	// MARKETING); "" otherwise.
	PreviousCategory string
	Created          time.Time
	Updated          time.Time
}

// Component is a component of a template, in the shape of the public
// create body: HEADER (Format TEXT with Text, IMAGE, VIDEO, DOCUMENT or
// LOCATION), BODY (Text), FOOTER (Text) or BUTTONS (Buttons).
type Component struct {
	Type    string   `json:"type"`
	Format  string   `json:"format,omitempty"`
	Text    string   `json:"text,omitempty"`
	Example *Example `json:"example,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	// Authentication templates: the body's security sentence and the
	// footer's expiry, as the public API writes them.
	AddSecurityRecommendation bool `json:"add_security_recommendation,omitempty"`
	CodeExpirationMinutes     int  `json:"code_expiration_minutes,omitempty"`
}

// Example holds sample values of the placeholders, one for each.
type Example struct {
	HeaderText            []string     `json:"header_text,omitempty"`
	HeaderTextNamedParams []NamedParam `json:"header_text_named_params,omitempty"`
	HeaderHandle          []string     `json:"header_handle,omitempty"`
	BodyText              [][]string   `json:"body_text,omitempty"`
	BodyTextNamedParams   []NamedParam `json:"body_text_named_params,omitempty"`
}

// NamedParam is the example of a named placeholder.
type NamedParam struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// Button is a button of a BUTTONS component: QUICK_REPLY, URL (URL may
// end in {{1}}, with Example the full URL), PHONE_NUMBER, COPY_CODE
// (Example the sample code) or OTP (authentication templates).
type Button struct {
	Type        string `json:"type"`
	Text        string `json:"text,omitempty"`
	URL         string `json:"url,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	// Example is a string or a list of one string, as SDKs send it.
	Example json.RawMessage `json:"example,omitempty"`
	// OTP buttons (accepted; kontor shows every OTP button as a copy-code
	// button, as there is no autofill).
	OTPType              string         `json:"otp_type,omitempty"`
	AutofillText         string         `json:"autofill_text,omitempty"`
	PackageName          string         `json:"package_name,omitempty"`
	SignatureHash        string         `json:"signature_hash,omitempty"`
	SupportedApps        []SupportedApp `json:"supported_apps,omitempty"`
	ZeroTapTermsAccepted bool           `json:"zero_tap_terms_accepted,omitempty"`
}

// SupportedApp names an app for one-tap and zero-tap OTP buttons.
type SupportedApp struct {
	PackageName   string `json:"package_name"`
	SignatureHash string `json:"signature_hash"`
}

// Component returns the first component of type typ, nil if none.
func (t Template) Component(typ string) *Component {
	for i := range t.Components {
		if strings.EqualFold(t.Components[i].Type, typ) {
			return &t.Components[i]
		}
	}
	return nil
}

// Definition is the template as sending fills it in.
func (t Template) Definition() cloudapi.TemplateDefinition {
	d := cloudapi.TemplateDefinition{Name: t.Name, Language: t.Language, Category: t.Category, ParameterFormat: t.ParameterFormat}
	for _, c := range t.Components {
		dc := cloudapi.TemplateDefComponent{Type: c.Type, Format: c.Format, Text: c.Text}
		if c.Example != nil {
			dc.Example, _ = json.Marshal(c.Example) // plain strings: cannot fail
		}
		for _, b := range c.Buttons {
			dc.Buttons = append(dc.Buttons, cloudapi.TemplateDefButton{Type: b.Type, Text: b.Text, URL: b.URL,
				PhoneNumber: b.PhoneNumber, OTPType: b.OTPType, Example: b.Example})
		}
		d.Components = append(d.Components, dc)
	}
	return d
}

// Filter selects templates of a business.
type Filter struct {
	Name     string   // exact name; "" any
	Language string   // "" any
	Category string   // "" any
	Statuses []Status // empty: any
	// After and Before page through the list, which is in id order:
	// templates with ids above After, or the last Limit ones below Before.
	After  kontor.ID
	Before kontor.ID
	Limit  int
}

// Store keeps templates. Implemented by internal/store.
type Store interface {
	// CreateTemplate stores a new template; kontor.Conflict when the
	// business has one of that name in that language.
	CreateTemplate(ctx context.Context, t Template) error
	// Template returns a template; kontor.NotFound when none.
	Template(ctx context.Context, id kontor.ID) (Template, error)
	// TemplateByName returns a business's template of name in language;
	// kontor.NotFound when none.
	TemplateByName(ctx context.Context, business kontor.ID, name, language string) (Template, error)
	// Templates lists a business's templates that pass f, in id order.
	Templates(ctx context.Context, business kontor.ID, f Filter) ([]Template, error)
	// CountTemplates counts a business's templates.
	CountTemplates(ctx context.Context, business kontor.ID) (int, error)
	// UpdateTemplate writes what may change: category, previous
	// category, parameter format, components, status, reason, updated.
	UpdateTemplate(ctx context.Context, t Template) error
	// DeleteTemplates deletes templates of a business.
	DeleteTemplates(ctx context.Context, business kontor.ID, ids []kontor.ID) error
}

// Change is a status change of a template, for the Hook.
type Change struct {
	Template Template // as it is after the change (before, for DELETED)
	// Event is the public event: the new status, or DELETED.
	Event string
	// Reason is ReasonNone or why the template was rejected.
	Reason string
	// Detail says, for a rejection, which rule decided and what to change.
	Detail string
	At     time.Time
}

// Hook is told of every status change, after it is stored.
type Hook func(ctx context.Context, c Change)

// DefaultMaxPerBusiness is how many templates a business may have: the
// public limit of a business account that is not verified.
const DefaultMaxPerBusiness = 250

// Service manages templates.
type Service struct {
	store Store
	ids   *kontor.IDs
	clock kontor.Clock
	log   *slog.Logger
	hook  Hook
	// MaxPerBusiness bounds a business's templates (DefaultMaxPerBusiness
	// when 0).
	MaxPerBusiness int
}

// New returns the service; hook (may be nil) hears of every status change.
func New(store Store, ids *kontor.IDs, clock kontor.Clock, log *slog.Logger, hook Hook) *Service {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, ids: ids, clock: clock, log: log, hook: hook}
}

// Public error subcodes of template management (error_subcode with code
// 100).
const (
	SubcodeCountLimit  = 2388019 // too many templates
	SubcodeNameExists  = 2388024 // the name exists in that language
	SubcodeNotEditable = 2388039 // the status does not allow the change
	SubcodeTooLong     = 2388040 // a character limit is exceeded
	SubcodeBadHeader   = 2388047
	SubcodeBadBody     = 2388072
	SubcodeBadFooter   = 2388073
)

// refuse is the public 100 error with a subcode (0: none).
func refuse(subcode int, format string, args ...any) *cloudapi.Error {
	e := cloudapi.Errorf(cloudapi.CodeInvalidParameter, format, args...)
	e.Subcode = subcode
	return e
}

// Create validates r, stores the template as PENDING and reviews it at
// once: the template returned is APPROVED or REJECTED, and the Hook has
// heard of it. A refused request is a *cloudapi.Error.
func (s *Service) Create(ctx context.Context, business kontor.ID, r CreateRequest) (Template, error) {
	if e := Validate(&r); e != nil {
		return Template{}, e
	}
	max := s.MaxPerBusiness
	if max <= 0 {
		max = DefaultMaxPerBusiness
	}
	n, err := s.store.CountTemplates(ctx, business)
	if err != nil {
		return Template{}, err
	}
	if n >= max {
		return Template{}, refuse(SubcodeCountLimit, "The business account has %d message templates, the most it may have; delete some first.", n)
	}
	now := s.clock.Now()
	t := Template{ID: s.ids.Next(), Business: business, Name: r.Name, Language: r.Language, Category: r.Category,
		ParameterFormat: r.ParameterFormat, Components: r.Components, Status: Pending, RejectedReason: ReasonNone, Created: now, Updated: now}
	if err := s.store.CreateTemplate(ctx, t); err != nil {
		if kontor.KindOf(err) == kontor.Conflict {
			return Template{}, refuse(SubcodeNameExists, "Content in this language already exists: the template %s has %s already.", r.Name, r.Language)
		}
		return Template{}, err
	}
	s.log.Info("template created", "business", business, "template", t.ID, "name", t.Name, "language", t.Language)
	return s.review(ctx, t, r.AllowCategoryChange)
}

// review runs Review on t (stored as PENDING), stores the verdict and
// tells the Hook.
func (s *Service) review(ctx context.Context, t Template, allowCategoryChange bool) (Template, error) {
	v := Review(t, allowCategoryChange)
	t.Status, t.RejectedReason, t.Updated = v.Status, v.Reason, s.clock.Now()
	if v.Category != t.Category {
		t.PreviousCategory, t.Category = t.Category, v.Category
	}
	if err := s.store.UpdateTemplate(ctx, t); err != nil {
		return Template{}, err
	}
	s.log.Info("template reviewed", "template", t.ID, "status", t.Status, "reason", v.Reason, "rule", v.Rule)
	s.notify(ctx, Change{Template: t, Event: string(t.Status), Reason: v.Reason, Detail: v.Detail, At: t.Updated})
	return t, nil
}

func (s *Service) notify(ctx context.Context, c Change) {
	if s.hook != nil {
		s.hook(ctx, c)
	}
}

// Edit changes a template's category and/or components (replaced as a
// whole) and reviews it again. PENDING, APPROVED, REJECTED and PAUSED
// templates can be edited; the category of an APPROVED one cannot change.
func (s *Service) Edit(ctx context.Context, id kontor.ID, r EditRequest) (Template, error) {
	t, err := s.store.Template(ctx, id)
	if err != nil {
		return Template{}, err
	}
	switch t.Status {
	case Pending, Approved, Rejected, Paused:
	default:
		return Template{}, refuse(SubcodeNotEditable, "A template with status %s can't be edited.", t.Status)
	}
	if r.Category == "" && r.Components == nil && r.ParameterFormat == "" {
		return Template{}, cloudapi.NewError(cloudapi.CodeMissingParameter, "Give the new category or components of the template.")
	}
	c := CreateRequest{Name: t.Name, Language: t.Language, Category: t.Category, ParameterFormat: t.ParameterFormat,
		Components: t.Components, AllowCategoryChange: r.AllowCategoryChange}
	if r.Category != "" {
		if t.Status == Approved && !strings.EqualFold(r.Category, t.Category) {
			return Template{}, refuse(SubcodeNotEditable, "The category of an approved template can't change (it is %s).", t.Category)
		}
		c.Category = r.Category
	}
	if r.ParameterFormat != "" {
		c.ParameterFormat = r.ParameterFormat
	}
	if r.Components != nil {
		c.Components = r.Components
	}
	if e := Validate(&c); e != nil {
		return Template{}, e
	}
	t.Category, t.ParameterFormat, t.Components, t.PreviousCategory = c.Category, c.ParameterFormat, c.Components, ""
	t.Status, t.RejectedReason, t.Updated = Pending, ReasonNone, s.clock.Now()
	if err := s.store.UpdateTemplate(ctx, t); err != nil {
		return Template{}, err
	}
	return s.review(ctx, t, c.AllowCategoryChange)
}

// Get returns a template.
func (s *Service) Get(ctx context.Context, id kontor.ID) (Template, error) {
	return s.store.Template(ctx, id)
}

// Query asks for a page of a business's templates.
type Query struct {
	Name     string
	Language string
	Category string
	Statuses []string
	Limit    int    // 1 to MaxLimit; 0 means DefaultLimit
	After    string // a cursor from a Page
	Before   string
}

// Limits of a page.
const (
	DefaultLimit = 25
	MaxLimit     = 1000
)

// Page is a page of templates with the cursors around it.
type Page struct {
	Templates []Template
	// Before and After are the cursors of the first and the last template
	// ("" when the page is empty).
	Before, After string
	// HasNext says there are templates after this page.
	HasNext bool
	// HasPrevious says there are templates before it.
	HasPrevious bool
}

// List returns a page of a business's templates, in the order they were
// made.
func (s *Service) List(ctx context.Context, business kontor.ID, q Query) (Page, error) {
	f := Filter{Name: q.Name, Language: normLanguage(q.Language), Category: strings.ToUpper(q.Category), Limit: q.Limit}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		return Page{}, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Param limit must be between 1 and %d.", MaxLimit)
	}
	for _, st := range q.Statuses {
		status, ok := ParseStatus(strings.TrimSpace(st))
		if !ok {
			return Page{}, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Param status must be one of {%s} - got %q.", statusNames(), st)
		}
		f.Statuses = append(f.Statuses, status)
	}
	var err error
	if f.After, err = parseCursor("after", q.After); err != nil {
		return Page{}, err
	}
	if f.Before, err = parseCursor("before", q.Before); err != nil {
		return Page{}, err
	}
	if f.After != 0 && f.Before != 0 {
		return Page{}, cloudapi.NewError(cloudapi.CodeInvalidParameter, "Give one of the cursors after and before, not both.")
	}
	want := f.Limit
	f.Limit++ // one more: is there a next page?
	ts, err := s.store.Templates(ctx, business, f)
	if err != nil {
		return Page{}, err
	}
	p := Page{}
	more := len(ts) > want
	switch {
	case f.Before != 0:
		if more {
			ts = ts[1:]
		}
		p.HasPrevious, p.HasNext = more, true
	default:
		if more {
			ts = ts[:want]
		}
		p.HasNext, p.HasPrevious = more, f.After != 0
	}
	p.Templates = ts
	if len(ts) > 0 {
		p.Before, p.After = cursor(ts[0].ID), cursor(ts[len(ts)-1].ID)
	}
	return p, nil
}

func statusNames() string {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// cursor is the opaque paging cursor of a template id.
func cursor(id kontor.ID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id.String()))
}

func parseCursor(param, s string) (kontor.ID, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if id, err := kontor.ParseID(string(b)); err == nil {
			return id, nil
		}
	}
	return 0, cloudapi.Errorf(cloudapi.CodeInvalidParameter, "Param %s is not a cursor of this list.", param)
}

// Delete deletes a business's template name in every language, or only
// the one with id hsmID (when not 0). Disabled templates can't be deleted.
// The name can be used again at once.
func (s *Service) Delete(ctx context.Context, business kontor.ID, name string, hsmID kontor.ID) error {
	const op = "templates.Delete"
	if name == "" {
		return cloudapi.Missing("name")
	}
	ts, err := s.store.Templates(ctx, business, Filter{Name: name, Limit: MaxLimit})
	if err != nil {
		return err
	}
	var del []Template
	for _, t := range ts {
		if hsmID == 0 || t.ID == hsmID {
			del = append(del, t)
		}
	}
	if len(del) == 0 {
		if hsmID != 0 {
			return kontor.Errorf(kontor.NotFound, op, "no template %s with hsm_id %s", name, hsmID)
		}
		return kontor.Errorf(kontor.NotFound, op, "no template named %s", name)
	}
	ids := make([]kontor.ID, len(del))
	for i, t := range del {
		if t.Status == Disabled {
			return refuse(SubcodeNotEditable, "The template %s in %s is disabled; disabled templates can't be deleted.", t.Name, t.Language)
		}
		ids[i] = t.ID
	}
	if err := s.store.DeleteTemplates(ctx, business, ids); err != nil {
		return err
	}
	now := s.clock.Now()
	for _, t := range del {
		s.log.Info("template deleted", "business", business, "template", t.ID, "name", t.Name, "language", t.Language)
		s.notify(ctx, Change{Template: t, Event: string(Deleted), Reason: ReasonNone, At: now})
	}
	return nil
}

// Find returns the definition of a business's template name in language
// (en_US and en-US alike) with its status: the caller sends only an
// APPROVED one. kontor.NotFound when there is none.
func (s *Service) Find(ctx context.Context, business kontor.ID, name, language string) (cloudapi.TemplateDefinition, Status, error) {
	t, err := s.store.TemplateByName(ctx, business, name, normLanguage(language))
	if err != nil {
		return cloudapi.TemplateDefinition{}, "", err
	}
	return t.Definition(), t.Status, nil
}

// Lookup is Find for one business, in the shape the business endpoint
// takes (endpoint.Config.Template).
func (s *Service) Lookup(business kontor.ID) func(ctx context.Context, name, language string) (*cloudapi.TemplateDefinition, string, error) {
	return func(ctx context.Context, name, language string) (*cloudapi.TemplateDefinition, string, error) {
		d, st, err := s.Find(ctx, business, name, language)
		if err != nil {
			return nil, "", err
		}
		return &d, string(st), nil
	}
}

// SetStatus sets a template's status from outside the review: an operator
// pauses (PAUSED), disables (DISABLED) or reinstates (APPROVED) it. The
// Hook hears of it with reason.
func (s *Service) SetStatus(ctx context.Context, id kontor.ID, status Status, reason string) (Template, error) {
	const op = "templates.SetStatus"
	switch status {
	case Approved, Paused, Disabled, Rejected:
	default:
		return Template{}, kontor.Errorf(kontor.Invalid, op, "a template can be set APPROVED, PAUSED, DISABLED or REJECTED, not %s", status)
	}
	t, err := s.store.Template(ctx, id)
	if err != nil {
		return Template{}, err
	}
	if reason == "" {
		reason = ReasonNone
	}
	t.Status, t.Updated = status, s.clock.Now()
	t.RejectedReason = ReasonNone
	if status == Rejected {
		t.RejectedReason = reason
	}
	if err := s.store.UpdateTemplate(ctx, t); err != nil {
		return Template{}, err
	}
	s.log.Info("template status set", "template", t.ID, "status", status, "reason", reason)
	s.notify(ctx, Change{Template: t, Event: string(status), Reason: reason, At: t.Updated})
	return t, nil
}

// normLanguage writes a language code the way templates keep it: en_US.
func normLanguage(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "-", "_") }
