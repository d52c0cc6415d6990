package inbox

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/endpoint"
)

// Conversation is a number's chat with one person.
type Conversation struct {
	Number       kontor.ID
	Peer         kontor.Phone
	LastAt       time.Time // the last message, either way
	LastText     string
	LastOutgoing bool
	Unread       int       // the person's messages since the console last opened it
	LastInbound  time.Time // opens the customer service window
	// LastInboundID is the person's last message, which a read receipt
	// names.
	LastInboundID kontor.ID
	Assigned      kontor.ID // a console user; 0: nobody
	ProfileName   string
	Updated       time.Time // anything changed (for live updates)
}

// Filters of the conversation list.
const (
	AssignedAny  = ""
	AssignedMe   = "me"
	AssignedNone = "none"
)

// Query asks for a page of a number's conversations, newest first.
type Query struct {
	Number kontor.ID
	// Search's words each match a beginning of a word of the number, the
	// profile name or the last message's text (folded: case and accents
	// ignored), or a run of 5 or more of the number's digits; "" matches
	// all. InMessages matches the text of every message instead of the
	// last. Searches read the search index, which follows the log about a
	// second behind (StartIndexer).
	Search     string
	InMessages bool
	// Assigned filters by the assigned user: Any (0, false), Unassigned
	// (Assigned 0, OnlyAssigned true) or one user.
	Assigned     kontor.ID
	OnlyAssigned bool
	// Before is a cursor: conversations older than it (the last of the
	// previous page).
	Before Cursor
	Limit  int
}

// Cursor is a place in the list: a time and a peer.
type Cursor struct {
	At   time.Time
	Peer kontor.Phone
}

// Note is what a console user wrote about a conversation.
type Note struct {
	ID      kontor.ID
	Number  kontor.ID
	Peer    kontor.Phone
	Author  kontor.ID
	Email   string // the author's, when written
	Text    string
	Created time.Time
}

// QuickReply is a saved answer of a business.
type QuickReply struct {
	ID       kontor.ID
	Business kontor.ID
	Title    string
	Text     string
	Created  time.Time
}

// Store keeps conversations, notes and quick replies. Implemented by
// internal/store.
type Store interface {
	endpoint.InboxStore
	// InboxConversations lists conversations newest first.
	InboxConversations(ctx context.Context, q Query) ([]Conversation, error)
	// InboxConversation returns one; kontor.NotFound when none.
	InboxConversation(ctx context.Context, number kontor.ID, peer kontor.Phone) (Conversation, error)
	// InboxUnread counts a number's conversations with unread messages.
	InboxUnread(ctx context.Context, number kontor.ID) (int, error)
	// InboxMessages returns up to limit messages before (zero: the
	// newest), oldest first.
	InboxMessages(ctx context.Context, number kontor.ID, peer kontor.Phone, before kontor.ID, limit int) ([]endpoint.InboxMessage, error)
	// InboxStamp changes whenever the list (peer "") or one conversation
	// changes.
	InboxStamp(ctx context.Context, number kontor.ID, peer kontor.Phone) (int64, error)
	// MarkInboxRead sets the unread count to 0 at now and says how many
	// there were.
	MarkInboxRead(ctx context.Context, number kontor.ID, peer kontor.Phone, now time.Time) (int, error)
	// AssignInbox sets the conversation's user (0: nobody);
	// kontor.NotFound when there is no conversation.
	AssignInbox(ctx context.Context, number kontor.ID, peer kontor.Phone, user kontor.ID, now time.Time) error
	AddInboxNote(ctx context.Context, n Note) error
	InboxNotes(ctx context.Context, number kontor.ID, peer kontor.Phone) ([]Note, error)
	PutQuickReply(ctx context.Context, q QuickReply) error // kontor.Conflict on a title in use
	QuickReplies(ctx context.Context, business kontor.ID) ([]QuickReply, error)
	DeleteQuickReply(ctx context.Context, business, id kontor.ID) error // kontor.NotFound when none
}

// Limits of what a person types.
const (
	MaxNote       = 2000
	MaxQuickTitle = 60
	MaxQuickText  = 1000
	MaxQuickReply = 100 // per business
	MaxSearch     = 100
	// MaxText is the longest text message (the public limit).
	MaxText = 4096
	// MaxCaption is the longest caption of a picture, video or document
	// (the public limit).
	MaxCaption = 1024
	// PageSize is how many conversations (and messages) a page shows.
	PageSize = 50
)

// Service is the inbox's rules on top of its store.
type Service struct {
	store Store
	ids   *kontor.IDs
	clock kontor.Clock
}

// New returns the inbox over store.
func New(store Store, ids *kontor.IDs, clock kontor.Clock) *Service {
	if clock == nil {
		clock = kontor.SystemClock{}
	}
	return &Service{store: store, ids: ids, clock: clock}
}

// Store is the service's store, for reads.
func (s *Service) Store() Store { return s.store }

// Clock is the service's clock.
func (s *Service) Clock() kontor.Clock { return s.clock }

// FieldError names a field a person must fix.
type FieldError struct {
	Field, Msg string
}

func invalid(op, field, msg string) error {
	return &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: msg, Err: &FieldError{Field: field, Msg: msg}}
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// CheckText checks a free-form reply.
func CheckText(text string) error {
	t := strings.TrimSpace(text)
	switch {
	case t == "":
		return invalid("inbox.CheckText", "text", "Write a message first: the reply is empty.")
	case !utf8.ValidString(t):
		return invalid("inbox.CheckText", "text", "The reply has characters that are not text.")
	case utf8.RuneCountInString(t) > MaxText:
		return invalid("inbox.CheckText", "text", "The reply is too long: at most 4,096 characters.")
	}
	return nil
}

// CheckCaption checks the caption of a file sent from the console; it may
// be empty.
func CheckCaption(caption string) error {
	t := strings.TrimSpace(caption)
	switch {
	case !utf8.ValidString(t):
		return invalid("inbox.CheckCaption", "caption", "The caption has characters that are not text.")
	case utf8.RuneCountInString(t) > MaxCaption:
		return invalid("inbox.CheckCaption", "caption", "The caption is too long: at most 1,024 characters.")
	}
	return nil
}

// CheckSearch checks a search term.
func CheckSearch(q string) error {
	if utf8.RuneCountInString(q) > MaxSearch {
		return invalid("inbox.CheckSearch", "q", "The search is too long: at most 100 characters.")
	}
	return nil
}

// AddNote writes a note on a conversation.
func (s *Service) AddNote(ctx context.Context, number kontor.ID, peer kontor.Phone, author kontor.ID, email, text string) (Note, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return Note{}, invalid("inbox.AddNote", "note", "Write the note first: it is empty.")
	case !utf8.ValidString(text):
		return Note{}, invalid("inbox.AddNote", "note", "The note has characters that are not text.")
	case utf8.RuneCountInString(text) > MaxNote:
		return Note{}, invalid("inbox.AddNote", "note", "The note is too long: at most 2,000 characters.")
	}
	if _, err := s.store.InboxConversation(ctx, number, peer); err != nil {
		return Note{}, err
	}
	n := Note{ID: s.ids.Next(), Number: number, Peer: peer, Author: author, Email: email, Text: text, Created: s.clock.Now()}
	return n, s.store.AddInboxNote(ctx, n)
}

// AddQuickReply saves a quick reply of a business.
func (s *Service) AddQuickReply(ctx context.Context, business kontor.ID, title, text string) (QuickReply, error) {
	const op = "inbox.AddQuickReply"
	title, text = strings.TrimSpace(title), strings.TrimSpace(text)
	switch {
	case title == "":
		return QuickReply{}, invalid(op, "qr-title", "Give the quick reply a title, so you can find it.")
	case utf8.RuneCountInString(title) > MaxQuickTitle:
		return QuickReply{}, invalid(op, "qr-title", "The title is too long: at most 60 characters.")
	case text == "":
		return QuickReply{}, invalid(op, "qr-text", "Write the text of the quick reply.")
	case utf8.RuneCountInString(text) > MaxQuickText:
		return QuickReply{}, invalid(op, "qr-text", "The text is too long: at most 1,000 characters.")
	case !utf8.ValidString(title) || !utf8.ValidString(text):
		return QuickReply{}, invalid(op, "qr-text", "The quick reply has characters that are not text.")
	}
	qs, err := s.store.QuickReplies(ctx, business)
	if err != nil {
		return QuickReply{}, err
	}
	if len(qs) >= MaxQuickReply {
		return QuickReply{}, invalid(op, "qr-title", "The business has 100 quick replies, the most it may keep. Delete one first.")
	}
	q := QuickReply{ID: s.ids.Next(), Business: business, Title: title, Text: text, Created: s.clock.Now()}
	if err := s.store.PutQuickReply(ctx, q); err != nil {
		if kontor.KindOf(err) == kontor.Conflict {
			return QuickReply{}, invalid(op, "qr-title", "A quick reply with this title exists already. Choose another title.")
		}
		return QuickReply{}, err
	}
	return q, nil
}

// Window is how the customer service window stands at now: open, and
// how long it has left.
func Window(c Conversation, window time.Duration, now time.Time) (open bool, left time.Duration) {
	if c.LastInbound.IsZero() {
		return false, 0
	}
	left = c.LastInbound.Add(window).Sub(now)
	if left <= 0 {
		return false, 0
	}
	return true, left
}
