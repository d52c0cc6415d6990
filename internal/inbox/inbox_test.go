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
		name, text, want string // want: part of the message; "" valid
	}{
		{"text", "Ja, rote Tulpen haben wir.", ""},
		{"empty", "", "Write a message first"},
		{"spaces", " \n\t ", "Write a message first"},
		{"longest", strings.Repeat("ü", MaxText), ""},
		{"too long", strings.Repeat("ü", MaxText+1), "at most 4,096 characters"},
		{"not UTF-8", "Tulpen \xff", "not text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckText(tc.text)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckText: %v", err)
				}
				return
			}
			if kontor.KindOf(err) != kontor.Invalid || !strings.Contains(kontor.MessageOf(err), tc.want) {
				t.Fatalf("CheckText = %v, want Invalid saying %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, caption, want string // want: part of the message; "" valid
	}{
		{"none", "", ""},
		{"spaces", " \n ", ""},
		{"caption", "Die Preisliste für Mai", ""},
		{"longest", strings.Repeat("ü", MaxCaption), ""},
		{"too long", strings.Repeat("ü", MaxCaption+1), "at most 1,024 characters"},
		{"not UTF-8", "Liste \xff", "not text"},
	} {
		t.Run("caption "+tc.name, func(t *testing.T) {
			err := CheckCaption(tc.caption)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckCaption: %v", err)
				}
				return
			}
			var fe *FieldError
			if kontor.KindOf(err) != kontor.Invalid || !strings.Contains(kontor.MessageOf(err), tc.want) || !errors.As(err, &fe) || fe.Field != "caption" {
				t.Fatalf("CheckCaption = %v, want Invalid at caption saying %q", err, tc.want)
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
