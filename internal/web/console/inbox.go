package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/templates"
)

// Sender is a number's business endpoint: the console sends through it
// as the Business API does, with a Cloud API JSON body, and uploads the
// files agents attach as the Business API's media upload does.
type Sender interface {
	Send(ctx context.Context, body []byte) (any, *cloudapi.Error)
	// UploadMedia takes a multipart upload (messaging_product, type,
	// file) and answers {"id": media id}.
	UploadMedia(ctx context.Context, r *http.Request) (any, *cloudapi.Error)
	DeleteMedia(ctx context.Context, id kontor.ID) (any, *cloudapi.Error)
}

// Templates lists a business's templates (templates.Service).
type Templates interface {
	List(ctx context.Context, business kontor.ID, q templates.Query) (templates.Page, error)
}

// InboxConfig is what the inbox pages need besides the console.
type InboxConfig struct {
	Inbox *inbox.Service
	// Endpoint finds the endpoint of a number served here (on the
	// platform: on any node of the cluster); false when it runs elsewhere
	// (self-hosted).
	Endpoint func(ctx context.Context, number kontor.ID) (Sender, bool)
	// Templates lists the business's templates; nil: none here.
	Templates Templates
	// Window is the customer service window (24 hours when 0).
	Window time.Duration
}

// Inbox is the console's inbox: the conversations of the business's
// numbers, answered through their endpoints.
type Inbox struct {
	c   *Console
	cfg InboxConfig
}

// NewInbox returns the inbox pages of c.
func NewInbox(c *Console, cfg InboxConfig) *Inbox {
	if cfg.Window <= 0 {
		cfg.Window = 24 * time.Hour
	}
	return &Inbox{c: c, cfg: cfg}
}

// Mount adds the inbox's routes to mux.
func (in *Inbox) Mount(mux *http.ServeMux) {
	c := in.c
	mux.HandleFunc("GET /console/inbox", c.user(in.list))
	mux.HandleFunc("GET /console/inbox/stamp", c.user(in.stamp))
	mux.HandleFunc("GET /console/inbox/quick-replies", c.user(in.quickReplies))
	mux.Handle("POST /console/inbox/quick-replies", c.post(in.addQuickReply))
	mux.Handle("POST /console/inbox/quick-replies/{id}/delete", c.post(in.deleteQuickReply))
	mux.HandleFunc("GET /console/inbox/{number}/{peer}", c.user(in.withConversation(in.conversation)))
	mux.Handle("POST /console/inbox/{number}/{peer}/reply", c.post(in.withConversation(in.reply)))
	mux.Handle("POST /console/inbox/{number}/{peer}/attach", c.postFile(attachLimit, attachTooLarge, in.withConversation(in.attach)))
	mux.Handle("POST /console/inbox/{number}/{peer}/template", c.post(in.withConversation(in.sendTemplate)))
	mux.Handle("POST /console/inbox/{number}/{peer}/assign", c.post(in.withConversation(in.assign)))
	mux.Handle("POST /console/inbox/{number}/{peer}/notes", c.post(in.withConversation(in.addNote)))
}

// inboxFlashes are the inbox's messages after a change (?done=).
var inboxFlashes = map[string]string{
	"sent":      "The message is sent.",
	"file-sent": "The file is sent.",
	"assigned":  "The conversation's assignment is changed.",
	"note":      "The note is saved.",
	"qr-added":  "The quick reply is saved.",
	"qr-gone":   "The quick reply is deleted.",
}

func (in *Inbox) page(rq *req, title string) Page {
	p := rq.page(title, "inbox")
	if f, ok := inboxFlashes[rq.r.URL.Query().Get("done")]; ok {
		p.Flash = f
	}
	return p
}

// render writes an inbox page (or, with ?part=, only its live part) with
// the script the live updates need allowed.
func (in *Inbox) render(rq *req, status int, name string, p Page) {
	if part := rq.r.URL.Query().Get("part"); part == "live" {
		var buf bytes.Buffer
		if err := in.c.pages[name].ExecuteTemplate(&buf, "live", p); err != nil {
			in.c.log.Error("rendering a console fragment", "page", name, "err", err)
			http.Error(rq.w, "The page could not be shown.", http.StatusInternalServerError)
			return
		}
		securityHeaders(rq.w)
		rq.w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = rq.w.Write(buf.Bytes())
		return
	}
	in.c.render(scriptCSP{rq.w}, rq.r, status, name, p)
}

// scriptCSP lets a page run the console's own scripts and fetch from the
// console (live updates); everything else stays as securityHeaders says.
type scriptCSP struct{ http.ResponseWriter }

func (w scriptCSP) WriteHeader(status int) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.ResponseWriter.WriteHeader(status)
}

// --- the list -------------------------------------------------------------

type convView struct {
	inbox.Conversation
	Path     string // of the conversation page
	Who      string // the name, or the number
	Assignee string
	Open     bool // the window is open
}

type listData struct {
	Numbers  []business.Number
	Number   business.Number
	Convs    []convView
	Q        string
	All      bool // search every message, not only the last
	Filter   string
	Filters  []choice
	Unread   int
	Next     string // the query of the next page; "" at the end
	Stamp    int64
	StampURL string
	PartURL  string
	Hosted   bool // the number's endpoint answers here
}

type choice struct{ Value, Text string }

var filters = []choice{{"", "All conversations"}, {"me", "Assigned to me"}, {"none", "Unassigned"}}

// peerPath is a conversation's page.
func peerPath(number kontor.ID, peer kontor.Phone) string {
	return "/console/inbox/" + number.String() + "/" + peer.Digits()
}

func (in *Inbox) list(rq *req) {
	if !rq.allow(in.c, consoleauth.UseInbox) {
		return
	}
	ctx, qv := rq.r.Context(), rq.r.URL.Query()
	ns, n, err := in.c.chosenNumber(rq, qv.Get("number"))
	if err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	d := listData{Numbers: ns, Number: n, Q: strings.TrimSpace(qv.Get("q")), All: qv.Get("all") == "1", Filter: qv.Get("filter"), Filters: filters}
	_, d.Hosted = in.cfg.Endpoint(ctx, n.ID)
	pg := in.page(rq, "Inbox")
	q := inbox.Query{Number: n.ID, Search: d.Q, InMessages: d.All, Limit: inbox.PageSize}
	switch d.Filter {
	case "me":
		q.Assigned, q.OnlyAssigned = rq.user.ID, true
	case "none":
		q.OnlyAssigned = true
	case "":
	default:
		d.Filter = ""
	}
	status := http.StatusOK
	if err := inbox.CheckSearch(d.Q); err != nil {
		status, pg.Error = in.c.message(err)
		d.Q, q.Search = "", ""
	}
	if b := qv.Get("before"); b != "" {
		at, peer, ok := strings.Cut(b, ".")
		msAt, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil {
			in.c.errorPage(rq.w, rq.r, http.StatusBadRequest, "This link to a page of the inbox is damaged. Open the inbox again.")
			return
		}
		q.Before = inbox.Cursor{At: time.UnixMilli(msAt), Peer: kontor.Phone("+" + peer)}
	}
	st := in.cfg.Inbox.Store()
	cs, err := st.InboxConversations(ctx, q)
	if err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	if d.Unread, err = st.InboxUnread(ctx, n.ID); err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	if d.Stamp, err = st.InboxStamp(ctx, n.ID, ""); err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	names := in.userNames(rq)
	now := in.c.clock.Now()
	for _, cv := range cs {
		open, _ := inbox.Window(cv, in.cfg.Window, now)
		v := convView{Conversation: cv, Path: peerPath(n.ID, cv.Peer), Who: cv.ProfileName, Assignee: names[cv.Assigned], Open: open}
		if v.Who == "" {
			v.Who = string(cv.Peer)
		}
		d.Convs = append(d.Convs, v)
	}
	base := url.Values{"number": {n.ID.String()}}
	if d.Q != "" {
		base.Set("q", d.Q)
	}
	if d.All {
		base.Set("all", "1")
	}
	if d.Filter != "" {
		base.Set("filter", d.Filter)
	}
	if len(cs) == q.Limit {
		last := cs[len(cs)-1]
		next := url.Values{}
		for k, v := range base {
			next[k] = v
		}
		next.Set("before", strconv.FormatInt(last.LastAt.UnixMilli(), 10)+"."+last.Peer.Digits())
		d.Next = next.Encode()
	}
	part := url.Values{}
	for k, v := range rq.r.URL.Query() {
		part[k] = v
	}
	part.Set("part", "live")
	d.PartURL = "/console/inbox?" + part.Encode()
	d.StampURL = "/console/inbox/stamp?number=" + n.ID.String()
	pg.Data = d
	in.render(rq, status, "inbox", pg)
}

// userNames maps the business's console users to their emails.
func (in *Inbox) userNames(rq *req) map[kontor.ID]string {
	us, err := in.c.auth.Colleagues(rq.r.Context(), rq.user)
	names := map[kontor.ID]string{}
	if err != nil {
		in.c.log.Warn("listing colleagues", "err", err)
		return names
	}
	for _, u := range us {
		names[u.ID] = u.Email
	}
	return names
}

// stamp answers the live updates' question: has the list, or one
// conversation, changed? {"stamp": N}; N grows on every change.
func (in *Inbox) stamp(rq *req) {
	if !rq.allow(in.c, consoleauth.UseInbox) {
		return
	}
	qv := rq.r.URL.Query()
	_, n, err := in.c.chosenNumber(rq, qv.Get("number"))
	if err != nil || qv.Get("number") == "" {
		http.Error(rq.w, `{"error":"no such number"}`, http.StatusNotFound)
		return
	}
	var peer kontor.Phone
	if p := qv.Get("peer"); p != "" {
		if peer, err = kontor.ParsePhone("+" + p); err != nil {
			http.Error(rq.w, `{"error":"no such conversation"}`, http.StatusNotFound)
			return
		}
	}
	s, err := in.cfg.Inbox.Store().InboxStamp(rq.r.Context(), n.ID, peer)
	if err != nil {
		in.c.log.Error("reading the inbox stamp", "err", err)
		http.Error(rq.w, `{"error":"try again"}`, http.StatusServiceUnavailable)
		return
	}
	securityHeaders(rq.w)
	rq.w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rq.w).Encode(map[string]int64{"stamp": s})
}

// --- one conversation -----------------------------------------------------

type msgView struct {
	endpoint.InboxMessage
	Tick, TickText string // ✓ sent, ✓✓ delivered, ✓✓ read, ! failed
}

type tmplView struct {
	Key, Name, Language, Category, Text string
	Params                              []paramView
	// Unsupported says why the console cannot send it (media headers,
	// button parameters); "" when it can.
	Unsupported string
	named       bool
	headerN     int // how many of Params belong to the header
}

type paramView struct {
	Field, Name, Label, Value, Err string
}

type userChoice struct {
	ID    kontor.ID
	Email string
}

type convData struct {
	Number       business.Number
	Conv         inbox.Conversation
	Who          string
	Path         string
	Messages     []msgView
	Earlier      string // the link to earlier messages
	Open         bool
	Left         string // the window's remaining time in words
	Closes       time.Time
	Text         string // the reply form as typed (or a quick reply)
	Caption      string // the attach form's caption as typed
	AttachHint   string // what may be attached
	Templates    []tmplView
	Template     *tmplView // chosen in the picker
	Notes        []inbox.Note
	Note         string
	QuickReplies []inbox.QuickReply
	Users        []userChoice
	Assignee     string
	Hosted       bool
	Stamp        int64
	StampURL     string
	PartURL      string
	CanQuick     bool
	Fields       business.FieldErrors // the forms' problems
}

// conversationOf reads the number and the peer of the path.
// withConversation wraps a page or form of one conversation: the user may
// use the inbox, and the conversation of the path is the business's.
func (in *Inbox) withConversation(h func(rq *req, n business.Number, cv inbox.Conversation)) func(*req) {
	return func(rq *req) {
		if !rq.allow(in.c, consoleauth.UseInbox) {
			return
		}
		n, cv, err := in.conversationOf(rq)
		if err != nil {
			in.c.fail(rq.w, rq.r, err)
			return
		}
		h(rq, n, cv)
	}
}

func (in *Inbox) conversationOf(rq *req) (business.Number, inbox.Conversation, error) {
	_, n, err := in.c.chosenNumber(rq, rq.r.PathValue("number"))
	if err != nil {
		return n, inbox.Conversation{}, err
	}
	peer, err := kontor.ParsePhone("+" + rq.r.PathValue("peer"))
	if err != nil {
		return n, inbox.Conversation{}, kontor.Errorf(kontor.NotFound, "console.conversation", "There is no conversation with this number.")
	}
	cv, err := in.cfg.Inbox.Store().InboxConversation(rq.r.Context(), n.ID, peer)
	return n, cv, err
}

func (in *Inbox) conversation(rq *req, n business.Number, cv inbox.Conversation) {
	d := convData{Text: ""}
	if id := rq.r.URL.Query().Get("quick"); id != "" {
		d.Text = in.quickText(rq, id)
	}
	in.markRead(rq, n, &cv)
	var t *tmplView
	if key := rq.r.URL.Query().Get("template"); key != "" {
		t = &tmplView{Key: key}
	}
	in.conversationPage(rq, http.StatusOK, n, cv, d, t, "")
}

// markRead sets the conversation read at the console and, when the person
// had written since, sends the person a read receipt through the endpoint.
func (in *Inbox) markRead(rq *req, n business.Number, cv *inbox.Conversation) {
	ctx := rq.r.Context()
	unread, err := in.cfg.Inbox.Store().MarkInboxRead(ctx, n.ID, cv.Peer, in.c.clock.Now())
	if err != nil {
		in.c.log.Error("marking a conversation read", "err", err)
		return
	}
	cv.Unread = 0
	if unread == 0 || cv.LastInboundID == 0 {
		return
	}
	e, ok := in.cfg.Endpoint(ctx, n.ID)
	if !ok {
		return
	}
	body, _ := json.Marshal(map[string]string{"messaging_product": "whatsapp", "status": "read", "message_id": cloudapi.MessageID(cv.LastInboundID)})
	if _, cerr := e.Send(ctx, body); cerr != nil {
		in.c.log.Warn("sending a read receipt", "number", n.ID, "code", cerr.Code, "err", cerr.Details)
	}
}

// quickText is the text of the business's quick reply id ("" if none).
func (in *Inbox) quickText(rq *req, id string) string {
	qs, err := in.cfg.Inbox.Store().QuickReplies(rq.r.Context(), rq.biz.ID)
	if err != nil {
		return ""
	}
	for _, q := range qs {
		if q.ID.String() == id {
			return q.Text
		}
	}
	return ""
}

// conversationPage shows a conversation with d's forms as typed and the
// template chosen (nil: none), with msg as the error.
func (in *Inbox) conversationPage(rq *req, status int, n business.Number, cv inbox.Conversation, d convData, chosen *tmplView, msg string) {
	ctx := rq.r.Context()
	st := in.cfg.Inbox.Store()
	d.Number, d.Conv, d.Path = n, cv, peerPath(n.ID, cv.Peer)
	d.Who = cv.ProfileName
	if d.Who == "" {
		d.Who = string(cv.Peer)
	}
	_, d.Hosted = in.cfg.Endpoint(ctx, n.ID)
	d.AttachHint = attachHint
	d.CanQuick = consoleauth.Can(rq.user.Role, consoleauth.ManageQuickReplies)
	var before kontor.ID
	if b := rq.r.URL.Query().Get("before"); b != "" {
		id, err := kontor.ParseID(b)
		if err != nil {
			in.c.errorPage(rq.w, rq.r, http.StatusBadRequest, "This link to earlier messages is damaged. Open the conversation again.")
			return
		}
		before = id
	}
	ms, err := st.InboxMessages(ctx, n.ID, cv.Peer, before, inbox.PageSize)
	if err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	for _, m := range ms {
		d.Messages = append(d.Messages, msgView{InboxMessage: m, Tick: tick(m), TickText: tickText(m)})
	}
	if len(ms) == inbox.PageSize {
		d.Earlier = d.Path + "?before=" + ms[0].ID.String()
	}
	now := in.c.clock.Now()
	var left time.Duration
	d.Open, left = inbox.Window(cv, in.cfg.Window, now)
	if d.Open {
		d.Left, d.Closes = duration(left), cv.LastInbound.Add(in.cfg.Window)
	}
	if d.Notes, err = st.InboxNotes(ctx, n.ID, cv.Peer); err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	if d.QuickReplies, err = st.QuickReplies(ctx, rq.biz.ID); err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	if us, err := in.c.auth.Colleagues(ctx, rq.user); err == nil {
		for _, u := range us {
			d.Users = append(d.Users, userChoice{ID: u.ID, Email: u.Email})
			if u.ID == cv.Assigned {
				d.Assignee = u.Email
			}
		}
	}
	if !d.Open {
		d.Templates = in.templates(rq)
		if chosen != nil {
			for i := range d.Templates {
				if d.Templates[i].Key == chosen.Key {
					t := d.Templates[i]
					for j := range t.Params {
						if j < len(chosen.Params) {
							t.Params[j].Value, t.Params[j].Err = chosen.Params[j].Value, chosen.Params[j].Err
						}
					}
					d.Template = &t
				}
			}
			if d.Template == nil && msg == "" {
				msg = "There is no approved template of that name any more. Choose another one."
				status = http.StatusBadRequest
			}
		}
	}
	if d.Stamp, err = st.InboxStamp(ctx, n.ID, cv.Peer); err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	d.StampURL = "/console/inbox/stamp?number=" + n.ID.String() + "&peer=" + cv.Peer.Digits()
	d.PartURL = d.Path + "?part=live"
	pg := in.page(rq, "Conversation with "+d.Who)
	pg.Error, pg.Fields = msg, d.Fields
	if chosen != nil && d.Template != nil {
		for _, p := range d.Template.Params {
			if p.Err != "" {
				pg.Fields = append(pg.Fields, business.FieldError{Field: p.Field, Msg: p.Label + ": " + p.Err})
			}
		}
	}
	pg.Data = d
	in.render(rq, status, "conversation", pg)
}

// tick is the mark of a sent message's status.
func tick(m endpoint.InboxMessage) string {
	if !m.Outgoing {
		return ""
	}
	switch m.Status {
	case endpoint.InboxSent:
		return "✓"
	case endpoint.InboxDelivered, endpoint.InboxRead:
		return "✓✓"
	case endpoint.InboxFailed:
		return "!"
	}
	return ""
}

func tickText(m endpoint.InboxMessage) string {
	if !m.Outgoing {
		return ""
	}
	switch m.Status {
	case endpoint.InboxSent:
		return "Sent"
	case endpoint.InboxDelivered:
		return "Delivered"
	case endpoint.InboxRead:
		return "Read"
	case endpoint.InboxFailed:
		return "Not delivered"
	}
	return ""
}

// duration says a time left in words: "23 h 5 min", "12 min".
func duration(d time.Duration) string {
	m := int(d / time.Minute)
	if m < 1 {
		return "less than a minute"
	}
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// placeholder finds {{1}} and {{name}} in a template's text.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// templates lists the business's approved templates for the picker.
func (in *Inbox) templates(rq *req) []tmplView {
	if in.cfg.Templates == nil {
		return nil
	}
	p, err := in.cfg.Templates.List(rq.r.Context(), rq.biz.ID, templates.Query{Statuses: []string{string(templates.Approved)}, Limit: templates.MaxLimit})
	if err != nil {
		in.c.log.Error("listing templates", "err", err)
		return nil
	}
	out := make([]tmplView, 0, len(p.Templates))
	for _, t := range p.Templates {
		out = append(out, templateView(t))
	}
	return out
}

// templateView describes a template and the parameters it needs.
func templateView(t templates.Template) tmplView {
	v := tmplView{Key: t.Name + "|" + t.Language, Name: t.Name, Language: t.Language, Category: t.Category, named: strings.EqualFold(t.ParameterFormat, "NAMED")}
	var texts []string
	add := func(where, text string) int {
		k := 0
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			label := where + " parameter " + m[1]
			v.Params = append(v.Params, paramView{Field: fmt.Sprintf("p%d", len(v.Params)+1), Name: m[1], Label: label})
			k++
		}
		return k
	}
	if h := t.Component("HEADER"); h != nil {
		switch strings.ToUpper(h.Format) {
		case "", "TEXT":
			texts = append(texts, h.Text)
			v.headerN = add("Header", h.Text)
		default:
			v.Unsupported = "Its header is " + strings.ToLower(h.Format) + ": send it through the Business API."
		}
	}
	if b := t.Component("BODY"); b != nil {
		texts = append(texts, b.Text)
		add("Body", b.Text)
	}
	if f := t.Component("FOOTER"); f != nil && f.Text != "" {
		texts = append(texts, f.Text)
	}
	if bs := t.Component("BUTTONS"); bs != nil {
		for _, b := range bs.Buttons {
			if placeholder.MatchString(b.URL) || strings.EqualFold(b.Type, "COPY_CODE") || strings.EqualFold(b.Type, "OTP") {
				v.Unsupported = "A button of it takes a parameter: send it through the Business API."
			}
		}
	}
	v.Text = strings.Join(texts, "\n")
	return v
}

// --- forms ----------------------------------------------------------------

// endpoint finds the number's endpoint; when it is not here, msg says so.
func (in *Inbox) endpoint(rq *req, n business.Number) (e Sender, msg string) {
	e, ok := in.cfg.Endpoint(rq.r.Context(), n.ID)
	if !ok {
		return nil, "The endpoint of " + string(n.Phone) + " does not run on this server (it is self-hosted, or starting): the message was not sent. Answer from the business's own endpoint."
	}
	return e, ""
}

// send sends body through the number's endpoint; the error is in words.
func (in *Inbox) send(rq *req, n business.Number, body []byte) string {
	e, msg := in.endpoint(rq, n)
	if msg != "" {
		return msg
	}
	if _, cerr := e.Send(rq.r.Context(), body); cerr != nil {
		return sendProblem(cerr)
	}
	return ""
}

// sendProblem says a refused send in words, with its public code.
func sendProblem(e *cloudapi.Error) string {
	var why string
	switch e.Code {
	case cloudapi.CodeReengagement:
		why = "More than 24 hours have passed since the customer last wrote, so only a template may go out. Choose a template below."
	case cloudapi.CodeUndeliverable:
		why = "The message could not be delivered: " + strings.TrimSuffix(e.Details, ".") + "."
	case cloudapi.CodeServiceUnavailable:
		why = "The service could not take the message just now. Try again in a minute."
	case cloudapi.CodeEligibilityPayment:
		why = "The business's credit is used up, so paid messages cannot go out. Ask an owner to add credit."
	default:
		why = e.Details
		if why == "" {
			why = e.Message
		}
		why = "The message was refused: " + strings.TrimSuffix(why, ".") + "."
	}
	return fmt.Sprintf("%s (Error %d)", why, e.Code)
}

func (in *Inbox) reply(rq *req, n business.Number, cv inbox.Conversation) {
	text := rq.r.PostForm.Get("text")
	d := convData{Text: text}
	if err := inbox.CheckText(text); err != nil {
		status, msg := in.c.message(err)
		d.Fields = fieldsOf(err)
		in.conversationPage(rq, status, n, cv, d, nil, msg)
		return
	}
	body, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": cv.Peer.Digits(),
		"type": "text", "text": map[string]any{"body": strings.TrimSpace(text)}})
	if msg := in.send(rq, n, body); msg != "" {
		in.conversationPage(rq, http.StatusBadRequest, n, cv, d, nil, msg)
		return
	}
	rq.redirect(peerPath(n.ID, cv.Peer), "sent")
}

func (in *Inbox) sendTemplate(rq *req, n business.Number, cv inbox.Conversation) {
	f := rq.r.PostForm
	key := f.Get("template")
	var t *tmplView
	for _, v := range in.templates(rq) {
		if v.Key == key {
			v := v
			t = &v
		}
	}
	if t == nil {
		in.conversationPage(rq, http.StatusBadRequest, n, cv, convData{}, nil, "Choose one of the approved templates.")
		return
	}
	if t.Unsupported != "" {
		in.conversationPage(rq, http.StatusBadRequest, n, cv, convData{}, t, "This template cannot be sent from the console. "+t.Unsupported)
		return
	}
	bad := false
	for i := range t.Params {
		p := &t.Params[i]
		p.Value = strings.TrimSpace(f.Get(p.Field))
		switch {
		case p.Value == "":
			p.Err, bad = "Fill in "+strings.ToLower(p.Label[:1])+p.Label[1:]+".", true
		case len([]rune(p.Value)) > 1024:
			p.Err, bad = "At most 1,024 characters.", true
		case strings.ContainsAny(p.Value, "\n\t") || strings.Contains(p.Value, "    "):
			p.Err, bad = "A parameter may not have new lines, tabs or more than three spaces in a row.", true
		}
	}
	if bad {
		in.conversationPage(rq, http.StatusBadRequest, n, cv, convData{}, t, "Some parameters of the template need fixing; see below.")
		return
	}
	param := func(p paramView) map[string]any {
		m := map[string]any{"type": "text", "text": p.Value}
		if t.named {
			m["parameter_name"] = p.Name
		}
		return m
	}
	var comps []map[string]any
	if t.headerN > 0 {
		var ps []map[string]any
		for _, p := range t.Params[:t.headerN] {
			ps = append(ps, param(p))
		}
		comps = append(comps, map[string]any{"type": "header", "parameters": ps})
	}
	if len(t.Params) > t.headerN {
		var ps []map[string]any
		for _, p := range t.Params[t.headerN:] {
			ps = append(ps, param(p))
		}
		comps = append(comps, map[string]any{"type": "body", "parameters": ps})
	}
	tm := map[string]any{"name": t.Name, "language": map[string]string{"code": t.Language}}
	if len(comps) > 0 {
		tm["components"] = comps
	}
	body, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": cv.Peer.Digits(),
		"type": "template", "template": tm})
	if msg := in.send(rq, n, body); msg != "" {
		in.conversationPage(rq, http.StatusBadRequest, n, cv, convData{}, t, msg)
		return
	}
	rq.redirect(peerPath(n.ID, cv.Peer), "sent")
}

func (in *Inbox) assign(rq *req, n business.Number, cv inbox.Conversation) {
	var user kontor.ID
	switch v := rq.r.PostForm.Get("user"); v {
	case "":
	case "me":
		user = rq.user.ID
	default:
		id, err := kontor.ParseID(v)
		found := false
		if err == nil {
			us, err := in.c.auth.Colleagues(rq.r.Context(), rq.user)
			if err != nil {
				in.c.fail(rq.w, rq.r, err)
				return
			}
			for _, u := range us {
				found = found || u.ID == id
			}
		}
		if !found {
			in.conversationPage(rq, http.StatusBadRequest, n, cv, convData{}, nil, "Choose one of the business's console users, or nobody.")
			return
		}
		user = id
	}
	if err := in.cfg.Inbox.Store().AssignInbox(rq.r.Context(), n.ID, cv.Peer, user, in.c.clock.Now()); err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	rq.redirect(peerPath(n.ID, cv.Peer), "assigned")
}

func (in *Inbox) addNote(rq *req, n business.Number, cv inbox.Conversation) {
	text := rq.r.PostForm.Get("note")
	if _, err := in.cfg.Inbox.AddNote(rq.r.Context(), n.ID, cv.Peer, rq.user.ID, rq.user.Email, text); err != nil {
		status, msg := in.c.message(err)
		in.conversationPage(rq, status, n, cv, convData{Note: text, Fields: fieldsOf(err)}, nil, msg)
		return
	}
	rq.redirect(peerPath(n.ID, cv.Peer), "note")
}

// --- quick replies --------------------------------------------------------

type quickData struct {
	QuickReplies []inbox.QuickReply
	Title, Text  string
	Fields       map[string]string
	Can          bool
}

func (in *Inbox) quickPage(rq *req, status int, d quickData, err error) {
	if !rq.allow(in.c, consoleauth.UseInbox) {
		return
	}
	qs, lerr := in.cfg.Inbox.Store().QuickReplies(rq.r.Context(), rq.biz.ID)
	if lerr != nil {
		in.c.fail(rq.w, rq.r, lerr)
		return
	}
	d.QuickReplies, d.Can = qs, consoleauth.Can(rq.user.Role, consoleauth.ManageQuickReplies)
	pg := in.page(rq, "Quick replies")
	if err != nil {
		status, pg.Error = in.c.message(err)
		pg.Fields = fieldsOf(err)
	}
	pg.Data = d
	in.render(rq, status, "quick-replies", pg)
}

// fieldsOf is the field an inbox error names, for the form.
func fieldsOf(err error) business.FieldErrors {
	var fe *inbox.FieldError
	if errors.As(err, &fe) {
		return business.FieldErrors{{Field: fe.Field, Msg: fe.Msg}}
	}
	return nil
}

func (in *Inbox) quickReplies(rq *req) { in.quickPage(rq, http.StatusOK, quickData{}, nil) }

func (in *Inbox) addQuickReply(rq *req) {
	if !rq.allow(in.c, consoleauth.ManageQuickReplies) {
		return
	}
	f := rq.r.PostForm
	if _, err := in.cfg.Inbox.AddQuickReply(rq.r.Context(), rq.biz.ID, f.Get("title"), f.Get("text")); err != nil {
		in.quickPage(rq, http.StatusBadRequest, quickData{Title: f.Get("title"), Text: f.Get("text")}, err)
		return
	}
	rq.redirect("/console/inbox/quick-replies", "qr-added")
}

func (in *Inbox) deleteQuickReply(rq *req) {
	if !rq.allow(in.c, consoleauth.ManageQuickReplies) {
		return
	}
	id, err := kontor.ParseID(rq.r.PathValue("id"))
	if err == nil {
		err = in.cfg.Inbox.Store().DeleteQuickReply(rq.r.Context(), rq.biz.ID, id)
	} else {
		err = kontor.Errorf(kontor.NotFound, "console.deleteQuickReply", "There is no such quick reply.")
	}
	if err != nil {
		in.c.fail(rq.w, rq.r, err)
		return
	}
	rq.redirect("/console/inbox/quick-replies", "qr-gone")
}
