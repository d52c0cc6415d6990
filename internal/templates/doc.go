// Package templates keeps a business's message templates: the texts a
// business may send to a person at any time, also outside the 24-hour
// customer service window, with placeholders filled in at send time.
//
// A template is created with the body of the public create call (POST
// /{version}/{waba-id}/message_templates), checked strictly (Validate:
// name, language, category, components, placeholders and their examples;
// a refusal is a *cloudapi.Error with the public code 100 and, where the
// public API has one, its error_subcode), stored as PENDING and then
// reviewed at once by fixed, documented rules (Review): it becomes
// APPROVED, or REJECTED with a reason. Every status change — the review's,
// an edit's, an operator's (SetStatus), a deletion — is handed to the Hook
// the service was made with, which the server turns into the public
// message_template_status_update webhook (Change.Webhook builds its body).
//
// Sending asks Find for the definition of an approved template by name and
// language (cloudapi.ToContent fills it in); paused and disabled templates
// are found too, so that the sender can answer with their own codes.
//
// The package owns no transport and no SQL: the Business API (bizapi)
// calls the Service, and internal/store implements Store. It holds no
// mutable state of its own and takes no locks; the uniqueness of a name in
// a language is the store's (a unique index).
package templates
