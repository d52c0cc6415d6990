package console

import (
	"testing"

	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// TestPartsWithin: the navigation shows what the role may do within the
// console's parts; the platform's console (AllParts) shows all the role may.
func TestPartsWithin(t *testing.T) {
	all := func(p Perms) Perms {
		p.Inbox, p.Catalog, p.Profile, p.Numbers, p.WebhookURL = true, true, true, true, true
		return p
	}
	for _, c := range []struct {
		name  string
		role  consoleauth.Role
		parts Parts
		want  Perms
	}{
		{"platform owner", consoleauth.RoleOwner, AllParts, all(perms(consoleauth.RoleOwner))},
		{"platform agent", consoleauth.RoleAgent, AllParts, all(perms(consoleauth.RoleAgent))},
		{"endpoint owner", consoleauth.RoleOwner, EndpointParts, Perms{EditSettings: true, Webhooks: true, EditWebhooks: true, Users: true,
			Inbox: true, Profile: true, Numbers: true}},
		{"endpoint admin", consoleauth.RoleAdmin, EndpointParts, Perms{EditSettings: true, Webhooks: true, EditWebhooks: true,
			Inbox: true, Profile: true, Numbers: true}},
		{"endpoint agent", consoleauth.RoleAgent, EndpointParts, Perms{Inbox: true, Profile: true, Numbers: true}},
		{"inbox alone", consoleauth.RoleOwner, PartInbox, Perms{EditSettings: true, Inbox: true}},
	} {
		if got := perms(c.role).within(c.parts); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
