package endpoint

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

func TestFindTemplate(t *testing.T) {
	def := &cloudapi.TemplateDefinition{Name: "hello", Language: "en_US", Category: "UTILITY"}
	req := &cloudapi.Template{Name: "hello", Language: cloudapi.TemplateLanguage{Code: "en_US"}}
	found := func(status string) func(context.Context, string, string) (*cloudapi.TemplateDefinition, string, error) {
		return func(_ context.Context, name, lang string) (*cloudapi.TemplateDefinition, string, error) {
			if name != "hello" || lang != "en_US" {
				t.Errorf("looked up %s %s", name, lang)
			}
			return def, status, nil
		}
	}
	failing := func(err error) func(context.Context, string, string) (*cloudapi.TemplateDefinition, string, error) {
		return func(context.Context, string, string) (*cloudapi.TemplateDefinition, string, error) {
			return nil, "", err
		}
	}
	for _, c := range []struct {
		name   string
		lookup func(context.Context, string, string) (*cloudapi.TemplateDefinition, string, error)
		req    *cloudapi.Template
		code   int // 0: found
	}{
		{"approved", found("APPROVED"), req, 0},
		{"no lookup", nil, req, cloudapi.CodeTemplateNotFound},
		{"not found", failing(kontor.Errorf(kontor.NotFound, "t", "none")), req, cloudapi.CodeTemplateNotFound},
		{"no definition", failing(nil), req, cloudapi.CodeTemplateNotFound},
		{"pending", found("PENDING"), req, cloudapi.CodeTemplateNotFound},
		{"rejected", found("REJECTED"), req, cloudapi.CodeTemplateNotFound},
		{"paused", found("PAUSED"), req, cloudapi.CodeTemplatePaused},
		{"disabled", found("DISABLED"), req, cloudapi.CodeTemplateDisabled},
		{"platform unreachable", failing(kontor.Errorf(kontor.Unavailable, "t", "down")), req, cloudapi.CodeServiceUnavailable},
		{"store broken", failing(errors.New("disk on fire")), req, cloudapi.CodeUnknown},
		{"no template object", found("APPROVED"), nil, cloudapi.CodeMissingParameter},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, e := findTemplate(t.Context(), c.lookup, c.req, slog.New(slog.DiscardHandler))
			switch {
			case c.code == 0 && (e != nil || got != def):
				t.Fatalf("got %v %v, want the definition", got, e)
			case c.code != 0 && (e == nil || e.Code != c.code):
				t.Fatalf("got %v, want %d", e, c.code)
			}
		})
	}
}
