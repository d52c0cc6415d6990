package cloudapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kontor-chat/kontor"
)

// Error is an error in the public Cloud API shape:
//
//	{"error":{"message":"(#131008) Required parameter is missing","type":"OAuthException",
//	  "code":131008,"error_data":{"messaging_product":"whatsapp","details":"…"},
//	  "fbtrace_id":"…"}}
//
// Make one with NewError (or Errorf, Missing, Invalid…) so that Message,
// Type, HTTPStatus and FBTraceID are filled in from the code.
type Error struct {
	Message    string // "(#code) title"
	Type       string // "OAuthException"
	Code       int
	Subcode    int    // error_subcode; left out when 0
	Details    string // error_data.details: what was wrong, naming the field
	FBTraceID  string // a random id to find the request in logs
	HTTPStatus int
}

// Public error codes. Titles and HTTP statuses are in one table (codes);
// client mistakes answer 4xx, only our own faults 5xx.
const (
	CodeAuthException        = 0      // could not authenticate
	CodeTooManyCalls         = 4      // app call rate limit
	CodePermissionDenied     = 10     // permission not granted
	CodeInvalidParameter     = 100    // unknown or malformed parameter
	CodeAccessToken          = 190    // access token expired or invalid
	CodePermission           = 200    // permission error (200–299)
	CodePolicyBlocked        = 368    // temporarily blocked for policy violations
	CodeWABARateLimit        = 80007  // business account rate limit
	CodeAPIRateLimit         = 80008  // API rate limit
	CodeThroughput           = 130429 // messages per second of the number reached
	CodeExperiment           = 130472 // recipient is part of an experiment
	CodeUnknown              = 131000 // something went wrong (our fault)
	CodeAccessDenied         = 131005
	CodeMissingParameter     = 131008
	CodeInvalidValue         = 131009
	CodeServiceUnavailable   = 131016
	CodeRecipientIsSender    = 131021
	CodeUndeliverable        = 131026
	CodeRecipientNotAllowed  = 131030
	CodeAccountLocked        = 131031
	CodeEligibilityPayment   = 131042
	CodeRegistration         = 131045
	CodeReengagement         = 131047 // outside the 24-hour customer service window
	CodeSpamRateLimit        = 131048
	CodeEcosystemEngagement  = 131049
	CodeUnsupportedType      = 131051
	CodeMediaDownload        = 131052
	CodeMediaUpload          = 131053
	CodePairRateLimit        = 131056
	CodeMaintenance          = 131057
	CodeTemplateParamCount   = 132000
	CodeTemplateNotFound     = 132001
	CodeTemplateTextTooLong  = 132005
	CodeTemplatePolicy       = 132007
	CodeTemplateParamFormat  = 132012
	CodeTemplatePaused       = 132015
	CodeTemplateDisabled     = 132016
	CodeNumberNotRegistered  = 133010
	CodePaymentsTermsMissing = 134011
)

type codeInfo struct {
	title  string
	status int
}

// codes is the one table of titles and HTTP statuses. Throttling answers
// 429 (clients read the code; generic HTTP clients back off on 429).
var codes = map[int]codeInfo{
	CodeAuthException:        {"AuthException", http.StatusUnauthorized},
	CodeTooManyCalls:         {"Application request limit reached", http.StatusTooManyRequests},
	CodePermissionDenied:     {"Application does not have permission for this action", http.StatusForbidden},
	CodeInvalidParameter:     {"Invalid parameter", http.StatusBadRequest},
	CodeAccessToken:          {"Invalid OAuth access token", http.StatusUnauthorized},
	CodePermission:           {"Permission error", http.StatusForbidden},
	CodePolicyBlocked:        {"Temporarily blocked for policies violations", http.StatusForbidden},
	CodeWABARateLimit:        {"Rate limit issues", http.StatusTooManyRequests},
	CodeAPIRateLimit:         {"Rate limit issues", http.StatusTooManyRequests},
	CodeThroughput:           {"Rate limit hit", http.StatusTooManyRequests},
	CodeExperiment:           {"User's number is part of an experiment", http.StatusBadRequest},
	CodeUnknown:              {"Something went wrong", http.StatusInternalServerError},
	CodeAccessDenied:         {"Access denied", http.StatusForbidden},
	CodeMissingParameter:     {"Required parameter is missing", http.StatusBadRequest},
	CodeInvalidValue:         {"Parameter value is not valid", http.StatusBadRequest},
	CodeServiceUnavailable:   {"Service unavailable", http.StatusServiceUnavailable},
	CodeRecipientIsSender:    {"Recipient cannot be sender", http.StatusBadRequest},
	CodeUndeliverable:        {"Message undeliverable", http.StatusBadRequest},
	CodeRecipientNotAllowed:  {"Recipient phone number not in allowed list", http.StatusBadRequest},
	CodeAccountLocked:        {"Account has been locked", http.StatusForbidden},
	CodeEligibilityPayment:   {"Business eligibility payment issue", http.StatusBadRequest},
	CodeRegistration:         {"Incorrect certificate", http.StatusBadRequest},
	CodeReengagement:         {"Re-engagement message", http.StatusBadRequest},
	CodeSpamRateLimit:        {"Spam rate limit hit", http.StatusTooManyRequests},
	CodeEcosystemEngagement:  {"Message not delivered to maintain healthy ecosystem engagement", http.StatusBadRequest},
	CodeUnsupportedType:      {"Unsupported message type", http.StatusBadRequest},
	CodeMediaDownload:        {"Media download error", http.StatusBadRequest},
	CodeMediaUpload:          {"Media upload error", http.StatusBadRequest},
	CodePairRateLimit:        {"(Business Account, Consumer Account) pair rate limit hit", http.StatusTooManyRequests},
	CodeMaintenance:          {"Account in maintenance mode", http.StatusServiceUnavailable},
	CodeTemplateParamCount:   {"Number of parameters does not match the expected number of params", http.StatusBadRequest},
	CodeTemplateNotFound:     {"Template name does not exist in the translation", http.StatusNotFound},
	CodeTemplateTextTooLong:  {"Translated text too long", http.StatusBadRequest},
	CodeTemplatePolicy:       {"Template Format Character Policy Violated", http.StatusBadRequest},
	CodeTemplateParamFormat:  {"Parameter format does not match format in the created template", http.StatusBadRequest},
	CodeTemplatePaused:       {"Template is Paused", http.StatusBadRequest},
	CodeTemplateDisabled:     {"Template is Disabled", http.StatusBadRequest},
	CodeNumberNotRegistered:  {"Phone number not registered", http.StatusBadRequest},
	CodePaymentsTermsMissing: {"WhatsApp Payments terms of service not accepted", http.StatusBadRequest},
}

// Title returns the public title of code ("Required parameter is missing"),
// or "Unknown error" for a code not in the table.
func Title(code int) string {
	if c, ok := codes[code]; ok {
		return c.title
	}
	return "Unknown error"
}

// NewError returns the error for code with details, its HTTP status taken
// from the table (400 for a code not in it) and a fresh trace id.
func NewError(code int, details string) *Error {
	info, ok := codes[code]
	if !ok {
		info = codeInfo{"Unknown error", http.StatusBadRequest}
	}
	return &Error{
		Message:    fmt.Sprintf("(#%d) %s", code, info.title),
		Type:       "OAuthException",
		Code:       code,
		Details:    details,
		FBTraceID:  newTraceID(),
		HTTPStatus: info.status,
	}
}

// Errorf is NewError with formatted details.
func Errorf(code int, format string, args ...any) *Error {
	return NewError(code, fmt.Sprintf(format, args...))
}

// Missing is 131008 for the parameter at path (e.g. "interactive.body").
func Missing(path string) *Error {
	return Errorf(CodeMissingParameter, "The parameter %s is required.", path)
}

// Invalid is 131009 for the parameter at path, saying why.
func Invalid(path, why string) *Error {
	return Errorf(CodeInvalidValue, "Parameter %s is not valid: %s.", path, why)
}

// Unexpected is 100 for a key the object at path does not take.
func Unexpected(key, path string) *Error {
	if path == "" {
		return Errorf(CodeInvalidParameter, "Unexpected key %q in the request.", key)
	}
	return Errorf(CodeInvalidParameter, "Unexpected key %q on param %q.", key, path)
}

// Internal is 131000 with nothing about the cause (log it apart).
func Internal() *Error {
	return NewError(CodeUnknown, "Something went wrong; the request was not carried out. Try again later.")
}

// FromKind maps a kontor error kind to the public code a caller gets when
// no more specific code applies, with msg as the details (callers pass
// kontor.MessageOf, never an internal cause).
func FromKind(kind kontor.Kind, msg string) *Error {
	var e *Error
	switch kind {
	case kontor.Invalid, kontor.Conflict:
		e = NewError(CodeInvalidParameter, msg)
	case kontor.NotFound:
		e = NewError(CodeInvalidParameter, msg)
		e.Subcode = 33 // Graph's "object does not exist"
		e.HTTPStatus = http.StatusNotFound
	case kontor.Unauthenticated:
		e = NewError(CodeAccessToken, msg)
	case kontor.Forbidden:
		e = NewError(CodePermissionDenied, msg)
	case kontor.RateLimited:
		e = NewError(CodeThroughput, msg)
	case kontor.Unavailable:
		e = NewError(CodeServiceUnavailable, msg)
	default:
		e = Internal()
	}
	if e.Details == "" {
		e.Details = Title(e.Code)
	}
	return e
}

func (e *Error) Error() string {
	if e.Details == "" {
		return e.Message
	}
	return e.Message + ": " + e.Details
}

// MarshalJSON writes the public error body, {"error":{…}}.
func (e Error) MarshalJSON() ([]byte, error) {
	type errorData struct {
		MessagingProduct string `json:"messaging_product"`
		Details          string `json:"details"`
	}
	type body struct {
		Message   string    `json:"message"`
		Type      string    `json:"type"`
		Code      int       `json:"code"`
		Subcode   int       `json:"error_subcode,omitempty"`
		ErrorData errorData `json:"error_data"`
		FBTraceID string    `json:"fbtrace_id"`
	}
	b := body{Message: e.Message, Type: e.Type, Code: e.Code, Subcode: e.Subcode, FBTraceID: e.FBTraceID,
		ErrorData: errorData{MessagingProduct: "whatsapp", Details: e.Details}}
	if b.Message == "" {
		b.Message = fmt.Sprintf("(#%d) %s", e.Code, Title(e.Code))
	}
	if b.Type == "" {
		b.Type = "OAuthException"
	}
	if b.ErrorData.Details == "" {
		b.ErrorData.Details = Title(e.Code)
	}
	if b.FBTraceID == "" {
		b.FBTraceID = newTraceID()
	}
	return json.Marshal(struct {
		Error body `json:"error"`
	}{b})
}

// Status returns the HTTP status to answer with: HTTPStatus, or the
// table's status for Code when it is not set.
func (e *Error) Status() int {
	if e.HTTPStatus != 0 {
		return e.HTTPStatus
	}
	if c, ok := codes[e.Code]; ok {
		return c.status
	}
	return http.StatusBadRequest
}

// WebhookError returns e in the shape errors take inside webhooks (the
// errors of a failed status, or of an unsupported message).
func (e *Error) WebhookError() WebhookError {
	return WebhookError{Code: e.Code, Title: Title(e.Code), Message: Title(e.Code),
		ErrorData: &WebhookErrorData{Details: e.Details}}
}

// newTraceID returns 23 characters of URL-safe base64, like the public ids.
func newTraceID() string {
	var b [17]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
