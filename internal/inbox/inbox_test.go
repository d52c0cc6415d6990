package inbox

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(string) error
		field string // the field the problems name
		text  string
		want  string // part of the message; "" valid
	}{
		{"text", CheckText, "text", "Ja, rote Tulpen haben wir.", ""},
		{"empty", CheckText, "text", "", "Write a message first"},
		{"spaces", CheckText, "text", " \n\t ", "Write a message first"},
		{"longest", CheckText, "text", strings.Repeat("ü", MaxText), ""},
		{"too long", CheckText, "text", strings.Repeat("ü", MaxText+1), "at most 4,096 characters"},
		{"not UTF-8", CheckText, "text", "Tulpen \xff", "not text"},
		{"no caption", CheckCaption, "caption", "", ""},
		{"caption of spaces", CheckCaption, "caption", " \n ", ""},
		{"caption", CheckCaption, "caption", "Die Preisliste für Mai", ""},
		{"longest caption", CheckCaption, "caption", strings.Repeat("ü", MaxCaption), ""},
		{"caption too long", CheckCaption, "caption", strings.Repeat("ü", MaxCaption+1), "at most 1,024 characters"},
		{"caption not UTF-8", CheckCaption, "caption", "Liste \xff", "not text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check(tc.text)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			var fe *FieldError
			if kontor.KindOf(err) != kontor.Invalid || !strings.Contains(kontor.MessageOf(err), tc.want) || !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("check = %v, want Invalid at %s saying %q", err, tc.field, tc.want)
			}
		})
	}
	if err := CheckSearch(strings.Repeat("a", MaxSearch+1)); kontor.KindOf(err) != kontor.Invalid {
		t.Errorf("CheckSearch(too long) = %v", err)
	}
	if err := CheckSearch("ana"); err != nil {
		t.Errorf("CheckSearch(ana) = %v", err)
	}
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		last     time.Time
		open     bool
		leftWant time.Duration
	}{
		{"never wrote", time.Time{}, false, 0},
		{"an hour ago", now.Add(-time.Hour), true, 23 * time.Hour},
		{"just now", now, true, 24 * time.Hour},
		{"exactly a day", now.Add(-24 * time.Hour), false, 0},
		{"two days", now.Add(-48 * time.Hour), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open, left := Window(Conversation{LastInbound: tc.last}, 24*time.Hour, now)
			if open != tc.open || left != tc.leftWant {
				t.Fatalf("Window = %v, %v; want %v, %v", open, left, tc.open, tc.leftWant)
			}
		})
	}
}
