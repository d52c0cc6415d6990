package console

import (
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/templates"
)

func TestTemplateView(t *testing.T) {
	for _, tc := range []struct {
		name        string
		t           templates.Template
		params      []string // labels
		headerN     int
		unsupported string
	}{
		{"body only", templates.Template{Name: "a", Language: "de", Components: []templates.Component{{Type: "BODY", Text: "Hallo {{1}}, Ihre Bestellung {{2}}."}}},
			[]string{"Body parameter 1", "Body parameter 2"}, 0, ""},
		{"text header", templates.Template{Name: "b", Language: "de", Components: []templates.Component{{Type: "HEADER", Format: "TEXT", Text: "Nr. {{1}}"}, {Type: "BODY", Text: "Fertig."}}},
			[]string{"Header parameter 1"}, 1, ""},
		{"named", templates.Template{Name: "c", Language: "en", ParameterFormat: "NAMED", Components: []templates.Component{{Type: "BODY", Text: "Hi {{ first_name }}"}}},
			[]string{"Body parameter first_name"}, 0, ""},
		{"image header", templates.Template{Name: "d", Language: "de", Components: []templates.Component{{Type: "HEADER", Format: "IMAGE"}, {Type: "BODY", Text: "Neu"}}},
			nil, 0, "header is image"},
		{"url button parameter", templates.Template{Name: "e", Language: "de", Components: []templates.Component{{Type: "BODY", Text: "Neu"},
			{Type: "BUTTONS", Buttons: []templates.Button{{Type: "URL", Text: "Ansehen", URL: "https://blumen.test/{{1}}"}}}}}, nil, 0, "button"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := templateView(tc.t)
			var labels []string
			for _, p := range v.Params {
				labels = append(labels, p.Label)
			}
			if strings.Join(labels, "|") != strings.Join(tc.params, "|") || v.headerN != tc.headerN {
				t.Fatalf("params = %q (header %d), want %q (header %d)", labels, v.headerN, tc.params, tc.headerN)
			}
			if (tc.unsupported == "") != (v.Unsupported == "") || !strings.Contains(v.Unsupported, tc.unsupported) {
				t.Fatalf("Unsupported = %q, want %q", v.Unsupported, tc.unsupported)
			}
		})
	}
}

func TestSendProblem(t *testing.T) {
	for _, tc := range []struct {
		e    *cloudapi.Error
		want string
	}{
		{cloudapi.NewError(cloudapi.CodeReengagement, "x"), "only a template may go out. Choose a template below. (Error 131047)"},
		{cloudapi.NewError(cloudapi.CodeUndeliverable, "The recipient is not on kontor."), "could not be delivered: The recipient is not on kontor. (Error 131026)"},
		{cloudapi.Invalid("text.body", "too long"), "The message was refused:"},
	} {
		if got := sendProblem(tc.e); !strings.Contains(got, tc.want) {
			t.Errorf("sendProblem(%d) = %q, want %q", tc.e.Code, got, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:                "less than a minute",
		12*time.Minute + 59*time.Second: "12 min",
		23*time.Hour + 59*time.Minute:   "23 h 59 min",
		24 * time.Hour:                  "24 h 0 min",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}
