package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/wire"
)

const chatHelp = `Commands:
  /list            conversations with unread counts and the last message
  /open +E164      open a conversation: shows its history; what you type then goes there
  /read [+E164]    mark the open (or the given) conversation read
  /devices         this account's devices
  /safety          the safety number of the open conversation: compare it with the
                   other person's (in person, or over a call) to be sure no one is in between
  /verify NUMBER   mark the open conversation's person verified, if NUMBER matches
  /block, /unblock block the open conversation's number (it is not told), or lift it
  /catalog         the products the open conversation's business shows
  /add ID [N]      put N (default 1) of a product in the cart; /remove ID takes it out
  /cart            what is in the cart, with the total
  /order [NOTE]    send the cart to the business as an order
  /pay CARD [ORDER] pay the last order (or ORDER) with a card, e.g. the sandbox's 4242424242424242
  /help            this help
  /quit            leave (Ctrl-D, Ctrl-C)
Any other line is sent to the open conversation.
Ticks on your messages: … waiting, ✓ sent, ✓✓ delivered, ✓✓ read.`

// Timing of the chat's typing hints.
const (
	typingEvery   = 4 * time.Second // resend "typing" while keys are pressed
	typingIdle    = 5 * time.Second // stop "typing" after no key for this long
	peerTypingFor = 6 * time.Second // show the peer typing this long after their last hint
	quitWait      = 5 * time.Second // wait for unsent messages when leaving
	historyLines  = 50
)

func runChat(ctx context.Context, env Env) error {
	fs := flag.NewFlagSet("kontor chat", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	profile := fs.String("profile", env.Getenv("KONTOR_PROFILE"), "profile directory of the device (env KONTOR_PROFILE)")
	server := fs.String("server", envOr(env.Getenv, "KONTOR_SERVER", "http://127.0.0.1:8080"), "server URL, to register on first use (env KONTOR_SERVER)")
	phone := fs.String("phone", "", "phone number (E.164) to register on first use")
	code := fs.String("code", "", "one-time code for registering; otherwise taken from a --dev server or asked for")
	name := fs.String("device-name", "kontor chat", "a name for this device, when registering")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: kontor chat --profile DIR [--server URL --phone +E164]\n\nAn interactive terminal chat. With a new profile, --phone registers the number first.\n\n"+chatHelp+"\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(env.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 || *profile == "" {
		fmt.Fprintln(env.Stderr, "kontor chat: --profile is required and takes no other arguments")
		fs.Usage()
		return errUsage
	}
	var in *bufio.Reader
	if env.Stdin != nil {
		in = bufio.NewReader(env.Stdin)
	}
	if _, err := client.LoadAccount(*profile); errors.Is(err, client.ErrNoProfile) {
		if *phone == "" {
			return fmt.Errorf("%s holds no device yet: pass --phone (and --server) to register one", *profile)
		}
		r := client.Registration{Server: *server, Phone: kontor.Phone(*phone), Code: *code, DeviceName: *name}
		if in != nil {
			r.AskCode = askCodeFrom(env.Stderr, in, *phone)
		}
		a, err := client.Register(ctx, *profile, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "Registered %s as device %d in %s.\n", a.Phone, a.DeviceID, *profile)
	} else if err != nil {
		return err
	}
	notices := make(chan e2e.Notice, 64)
	onNotice := func(n e2e.Notice) {
		select {
		case notices <- n:
		default: // the conversation shows them when opened anyway
		}
	}
	c, err := openDevice(ctx, *profile, client.Options{}, env.Stderr, onNotice) // the chat shows what matters; no logs over the screen
	if err != nil {
		return err
	}
	defer c.Close()
	ui, restore, err := newChatUI(env, in, c)
	if err != nil {
		return err
	}
	ui.notices = notices
	defer restore()
	return ui.run(ctx)
}

// askCodeFrom reads a one-time code from in, prompting on w.
func askCodeFrom(w io.Writer, in *bufio.Reader, phone string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		fmt.Fprintf(w, "Enter the code sent to %s: ", phone)
		line, err := in.ReadString('\n')
		if strings.TrimSpace(line) == "" {
			if err == nil || err == io.EOF {
				err = errors.New("no code was entered")
			}
			return "", fmt.Errorf("reading the code: %w", err)
		}
		return strings.TrimSpace(line), nil
	}
}

// typedLine is a line of input, with the output count when it was read.
type typedLine struct {
	text string
	seq  int64
}

// chatUI is the chat's screen and input. Its state belongs to the
// goroutine in run; the input goroutine only reads lines and keys.
type chatUI struct {
	c       *device
	shop    *wire.ShopCatalog // the open conversation's catalog, once fetched
	cart    map[string]int    // retailer id → quantity, for the open conversation
	ordered string            // the id of the last order placed in this session
	notices chan e2e.Notice   // identity key changes, as the sealer finds them
	me      client.Account
	w       io.Writer      // the terminal, or stdout
	term    *term.Terminal // nil when input is not a terminal
	fd      int            // the terminal's file descriptor
	esc     *term.EscapeCodes
	lines   chan typedLine
	keys    chan struct{}
	done    chan struct{}
	out     atomic.Int64 // lines printed, to tell whether a typed line is still just above the prompt

	open        kontor.Phone
	online      bool
	lastSeen    int64
	peerTyping  time.Time // until when the peer counts as typing
	typingSent  time.Time // when we last told the peer we type; zero when not typing
	lastKey     time.Time
	connected   bool
	offline     bool                 // a drop was reported
	pending     map[string]string    // ref → text, of messages queued in this session
	snips       map[kontor.ID]string // id → text, of our messages shown
	shown       map[kontor.ID]string // id → the status last shown
	prompt      string
	width, high int
}

// newChatUI sets the screen up: a raw-mode terminal with a line editor when
// stdin and stdout are terminals, plain lines otherwise. restore undoes it.
func newChatUI(env Env, in *bufio.Reader, c *device) (ui *chatUI, restore func(), err error) {
	ui = &chatUI{c: c, me: c.Account(), w: env.Stdout, lines: make(chan typedLine), done: make(chan struct{}),
		pending: map[string]string{}, snips: map[kontor.ID]string{}, shown: map[kontor.ID]string{}}
	restore = func() { close(ui.done) }
	stdin, ok1 := env.Stdin.(*os.File)
	stdout, ok2 := env.Stdout.(*os.File)
	if ok1 && ok2 && term.IsTerminal(int(stdin.Fd())) && term.IsTerminal(int(stdout.Fd())) {
		ui.fd = int(stdin.Fd())
		old, err := term.MakeRaw(ui.fd)
		if err != nil {
			return nil, nil, fmt.Errorf("setting up the terminal: %w", err)
		}
		ui.term = term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{stdin, stdout}, "> ")
		ui.w, ui.prompt = ui.term, "> "
		if env.Getenv("NO_COLOR") == "" {
			ui.esc = ui.term.Escape
		}
		ui.resize()
		ui.keys = make(chan struct{}, 1)
		ui.term.AutoCompleteCallback = func(line string, _ int, key rune) (string, int, bool) {
			if !strings.HasPrefix(line, "/") && !(line == "" && key == '/') {
				select {
				case ui.keys <- struct{}{}:
				default:
				}
			}
			return "", 0, false
		}
		restore = func() {
			close(ui.done)
			_ = term.Restore(ui.fd, old)
			fmt.Fprintln(stdout)
		}
	}
	// The input goroutine ends at the end of input, or after its current
	// read once the chat is over (a read of stdin cannot be interrupted).
	go ui.readInput(in)
	return ui, restore, nil
}

func (ui *chatUI) readInput(in *bufio.Reader) {
	defer close(ui.lines)
	for {
		var line string
		var err error
		if ui.term != nil {
			line, err = ui.term.ReadLine()
			if errors.Is(err, term.ErrPasteIndicator) {
				err = nil
			}
		} else if in != nil {
			line, err = in.ReadString('\n')
			line = strings.TrimRight(line, "\r\n")
			if err != nil && line != "" {
				err = nil // the last line, without a newline
			}
		} else {
			return
		}
		if err != nil {
			return
		}
		select {
		case ui.lines <- typedLine{line, ui.out.Load()}:
		case <-ui.done:
			return
		}
	}
}

func (ui *chatUI) run(ctx context.Context) error {
	ui.printf("kontor chat · %s, device %d · /help for commands", ui.me.Phone, ui.me.DeviceID)
	if cs := ui.c.Conversations(); len(cs) > 0 {
		ui.list()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case l, ok := <-ui.lines:
			if !ok || ui.handleLine(ctx, l) {
				return ui.quit(ctx)
			}
		case ev, ok := <-ui.c.Events():
			if !ok {
				return ui.c.Err()
			}
			if err := ui.handleEvent(ctx, ev); err != nil {
				return err
			}
		case n := <-ui.notices:
			ui.info("⚠ %s", n)
		case <-ui.keys:
			ui.keyPressed(ctx)
		case <-tick.C:
			ui.tick(ctx)
		case <-ctx.Done():
			return nil
		}
		ui.refreshPrompt()
	}
}

// quit waits a little for messages still being sent.
func (ui *chatUI) quit(ctx context.Context) error {
	if ui.open != "" && !ui.typingSent.IsZero() {
		_ = ui.c.Typing(ctx, ui.open, false)
	}
	if len(ui.pending) == 0 {
		return nil
	}
	ui.info("waiting up to %s for %d message(s) to be sent…", quitWait, len(ui.pending))
	deadline := time.NewTimer(quitWait)
	defer deadline.Stop()
	for len(ui.pending) > 0 {
		select {
		case ev, ok := <-ui.c.Events():
			if !ok {
				return ui.c.Err()
			}
			if err := ui.handleEvent(ctx, ev); err != nil {
				return err
			}
		case <-deadline.C:
			ui.info("%d message(s) stay in the outbox and are sent the next time this profile connects", len(ui.pending))
			return nil
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// handleLine runs a command or sends a line; it reports whether to quit.
func (ui *chatUI) handleLine(ctx context.Context, l typedLine) (quit bool) {
	line := strings.TrimSpace(l.text)
	if line == "" {
		return false
	}
	if strings.HasPrefix(line, "/") {
		cmd, arg, _ := strings.Cut(line, " ")
		arg = strings.TrimSpace(arg)
		switch cmd {
		case "/quit", "/exit", "/q":
			return true
		case "/help", "/h", "/?":
			ui.printf("%s", chatHelp)
		case "/list", "/l":
			ui.list()
		case "/open", "/o":
			ui.openConversation(ctx, arg)
		case "/read", "/r":
			ui.markRead(ctx, arg)
		case "/devices":
			ui.devices(ctx)
		case "/safety":
			ui.safety(ctx)
		case "/verify":
			ui.verify(arg)
		case "/block", "/unblock":
			ui.block(ctx, cmd == "/block")
		case "/catalog":
			ui.showCatalog(ctx)
		case "/add", "/remove":
			ui.cartChange(ctx, arg, cmd == "/remove")
		case "/cart":
			ui.showCart()
		case "/order":
			ui.sendOrder(ctx, arg)
		case "/pay":
			ui.pay(ctx, arg)
		default:
			ui.info("unknown command %s; /help lists them", cmd)
		}
		return false
	}
	if ui.open == "" {
		ui.info("open a conversation first: /open +E164")
		return false
	}
	m, err := ui.c.Queue(ui.open, wire.Content{Type: "text", Text: line})
	if err != nil {
		ui.info("not sent: %v", err)
		return false
	}
	ui.pending[m.Ref] = line
	if ui.term != nil && l.seq == ui.out.Load() {
		// Replace the echo of the typed line, just above the prompt, with
		// the message as it is shown.
		ui.write("\x1b[1A\x1b[2K" + ui.format(m, false) + "\n")
	} else {
		ui.printf("%s", ui.format(m, false))
	}
	if !ui.typingSent.IsZero() {
		_ = ui.c.Typing(ctx, ui.open, false)
		ui.typingSent = time.Time{}
	}
	return false
}

func (ui *chatUI) handleEvent(ctx context.Context, ev client.Event) error {
	switch e := ev.(type) {
	case client.Message:
		if e.Peer != ui.open {
			ui.printf("%s", ui.format(e, true))
			break
		}
		ui.printf("%s", ui.format(e, false))
		if e.Outgoing {
			ui.track(e.ID, e.Content.Text, e.Status)
		} else {
			ui.peerTyping = time.Time{}
			if err := ui.c.Read(ctx, e.Peer, e.ID); err != nil {
				ui.info("could not mark read: %v", err)
			}
		}
	case client.Sent:
		text, mine := ui.pending[e.Ref]
		delete(ui.pending, e.Ref)
		switch {
		case e.Err != nil:
			ui.printf("  %s to %s: %q (%v)", ui.color(ui.red(), "✗ not sent"), e.Peer, snippet(text), e.Err)
		case mine && e.Peer == ui.open:
			ui.track(e.ID, text, client.StatusPending)
			ui.status(e.ID, client.StatusSent)
		}
	case client.Receipt:
		for _, id := range e.IDs {
			ui.status(id, e.Status)
		}
	case client.Typing:
		if e.From == ui.open {
			if e.On {
				if ui.term == nil && time.Now().After(ui.peerTyping) {
					ui.info("%s is typing…", e.From)
				}
				ui.peerTyping = time.Now().Add(peerTypingFor)
			} else {
				ui.peerTyping = time.Time{}
			}
		}
	case client.Presence:
		if e.Phone == ui.open {
			changed := e.Online != ui.online
			ui.online, ui.lastSeen = e.Online, e.LastSeen
			if ui.term == nil && changed {
				ui.info("%s is %s", e.Phone, ui.presence())
			}
		}
	case client.State:
		if e.Connected {
			if ui.offline {
				ui.info("connected again")
			}
			ui.connected, ui.offline = true, false
			break
		}
		ui.connected = false
		if err := ui.c.Err(); err != nil {
			return fmt.Errorf("disconnected for good: %w", err)
		}
		if !ui.offline {
			ui.info("offline (%v); reconnecting…", e.Err)
			ui.offline = true
		}
	case *client.ServerError:
		ui.info("server: %s", e.Message)
	}
	return nil
}

// track remembers one of our messages shown in the open conversation, so
// receipts for it can be shown.
func (ui *chatUI) track(id kontor.ID, text, status string) {
	if id == 0 {
		return
	}
	ui.snips[id] = text
	if statusRank(status) > statusRank(ui.shown[id]) {
		ui.shown[id] = status
	}
}

// status shows a new status of one of our messages in the open
// conversation, once per status and never going back.
func (ui *chatUI) status(id kontor.ID, status string) {
	text, ok := ui.snips[id]
	if !ok || statusRank(status) <= statusRank(ui.shown[id]) {
		return
	}
	ui.shown[id] = status
	label := ui.ticks(status)
	switch status {
	case client.StatusSent:
		label += " sent"
	case client.StatusDelivered:
		label += " delivered"
	}
	ui.printf("  %s %q", label, snippet(text))
}

func (ui *chatUI) openConversation(ctx context.Context, arg string) {
	p, err := kontor.ParsePhone(arg)
	if err != nil {
		ui.info("%s", kontor.MessageOf(err))
		return
	}
	if p == ui.me.Phone {
		ui.info("that is your own number")
		return
	}
	if ui.open != "" && !ui.typingSent.IsZero() {
		_ = ui.c.Typing(ctx, ui.open, false)
	}
	hist := ui.c.History(p, historyLines)
	if len(hist) == 0 {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := ui.c.API().AccountDevices(cctx, p)
		cancel()
		if kontor.KindOf(err) == kontor.NotFound {
			ui.info("no account has the number %s", p)
			return
		}
	}
	ui.open, ui.online, ui.lastSeen = p, false, 0
	ui.peerTyping, ui.typingSent = time.Time{}, time.Time{}
	if err := ui.c.Watch(ctx, p); err != nil {
		ui.info("cannot follow %s's presence: %v", p, err)
	}
	ui.printf("── %s ──", p)
	if ui.c.Sealer.Verified(p) {
		ui.info("end-to-end encrypted · verified")
	} else {
		ui.info("end-to-end encrypted · /safety to compare the safety number")
	}
	for _, n := range ui.c.Sealer.Notices(p) {
		ui.info("⚠ %s (%s)", n, clock(n.TS))
	}
	// The platform says whether the number is a business (a peer's word
	// is no proof). A business whose chats a hosted service manages says
	// so once; the conversation's header keeps saying it.
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	biz, berr := ui.c.API().Business(bctx, p)
	cancel()
	if berr == nil {
		ui.info("✔ business · %s (the platform knows this number as a business)", biz.Name)
	}
	noticed := false
	for _, m := range ui.c.History(p, 0) {
		if !m.Outgoing && m.Content.Type == wire.ContentBusinessNotice && m.Content.Notice != nil && m.Content.Notice.Reason == wire.NoticeHosted {
			ui.info("ℹ business · %s", m.Content.Text)
			noticed = true
			break
		}
	}
	if berr == nil && biz.Hosted && !noticed {
		op := biz.Operator
		if op == "" {
			op = "the operator of this kontor platform"
		}
		ui.info("ℹ business · a service run by %s manages this chat for the business, so %s can read its messages", op, op)
	}
	if len(hist) == 0 {
		ui.info("no messages yet; type to write one")
	}
	for _, m := range hist {
		ui.printf("%s", ui.format(m, false))
		if m.Outgoing {
			ui.track(m.ID, m.Content.Text, m.Status)
		}
	}
	if err := ui.c.Read(ctx, p); err != nil {
		ui.info("could not mark read: %v", err)
	}
}

func (ui *chatUI) markRead(ctx context.Context, arg string) {
	peer := ui.open
	if arg != "" {
		p, err := kontor.ParsePhone(arg)
		if err != nil {
			ui.info("%s", kontor.MessageOf(err))
			return
		}
		peer = p
	}
	if peer == "" {
		ui.info("no conversation is open: /read +E164")
		return
	}
	if err := ui.c.Read(ctx, peer); err != nil {
		ui.info("could not mark read: %v", err)
		return
	}
	ui.info("%s marked read", peer)
}

func (ui *chatUI) list() {
	cs := ui.c.Conversations()
	if len(cs) == 0 {
		ui.info("no conversations yet; /open +E164 starts one")
		return
	}
	for _, c := range cs {
		unread := ""
		if c.Unread > 0 {
			unread = ui.color(ui.bold(), fmt.Sprintf(" (%d unread)", c.Unread))
		}
		ui.printf("%s%s  %s", c.Peer, unread, ui.format(c.Last, false))
	}
}

func (ui *chatUI) devices(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := ui.c.API().Devices(cctx)
	if err != nil {
		ui.info("could not list the devices: %v", err)
		return
	}
	for _, d := range r.Devices {
		line := fmt.Sprintf("device %d", d.DeviceID)
		if d.Name != "" {
			line += " · " + d.Name
		}
		if d.DeviceID == ui.me.DeviceID {
			line += " · this device"
		} else if d.LastSeen > 0 {
			line += " · last seen " + clock(d.LastSeen)
		}
		ui.printf("%s", line)
	}
}

// keyPressed tells the open conversation we are typing, now and then.
func (ui *chatUI) keyPressed(ctx context.Context) {
	if ui.open == "" {
		return
	}
	now := time.Now()
	ui.lastKey = now
	if now.Sub(ui.typingSent) >= typingEvery {
		if ui.c.Typing(ctx, ui.open, true) == nil {
			ui.typingSent = now
		}
	}
}

func (ui *chatUI) tick(ctx context.Context) {
	if !ui.typingSent.IsZero() && time.Since(ui.lastKey) > typingIdle {
		_ = ui.c.Typing(ctx, ui.open, false)
		ui.typingSent = time.Time{}
	}
	if ui.term != nil {
		ui.resize()
	}
}

func (ui *chatUI) resize() {
	if w, h, err := term.GetSize(ui.fd); err == nil && (w != ui.width || h != ui.high) {
		ui.width, ui.high = w, h
		_ = ui.term.SetSize(w, h)
	}
}

// refreshPrompt shows the open conversation and its peer's state in the
// prompt (terminal only).
func (ui *chatUI) refreshPrompt() {
	if ui.term == nil {
		return
	}
	p := "> "
	if ui.open != "" {
		if st := ui.presence(); st != "" {
			p = fmt.Sprintf("%s (%s) > ", ui.open, st)
		} else {
			p = string(ui.open) + " > "
		}
	}
	if p != ui.prompt {
		ui.prompt = p
		ui.term.SetPrompt(p)
		_, _ = ui.term.Write(nil) // redraws the prompt and the line being typed
	}
}

// presence describes the open conversation's peer: typing, online, last seen.
func (ui *chatUI) presence() string {
	switch {
	case !ui.connected:
		return "offline"
	case time.Now().Before(ui.peerTyping):
		return "typing…"
	case ui.online:
		return "online"
	case ui.lastSeen > 0:
		return "last seen " + clock(ui.lastSeen)
	}
	return ""
}

// format renders a message as one line; withPeer names the conversation
// (for messages outside the open one).
// describe says in one line what a content that is not text holds.
func describe(c wire.Content) string {
	switch {
	case c.Type == wire.ContentBusinessNotice:
		return "ℹ " + c.Text
	case c.Interactive != nil && c.Interactive.Payment != nil:
		return describePayment(c.Interactive)
	case c.Interactive != nil && c.Interactive.OrderStatus != nil:
		return describeOrderStatus(c.Interactive)
	case c.Interactive != nil:
		it := c.Interactive
		var b strings.Builder
		b.WriteString(it.Body)
		for _, btn := range it.Buttons {
			b.WriteString(" [" + btn.Title + "]")
		}
		for _, sec := range it.Sections {
			for _, r := range sec.Rows {
				b.WriteString(" · " + r.Title)
			}
			if len(sec.Products) > 0 {
				fmt.Fprintf(&b, " · %s: %d products", sec.Title, len(sec.Products))
			}
		}
		if it.Link != nil {
			b.WriteString(" → " + it.Link.Text + " " + it.Link.URL)
		}
		if it.RetailerID != "" {
			b.WriteString(" (product " + it.RetailerID + ")")
		}
		if it.Footer != "" {
			b.WriteString(" — " + it.Footer)
		}
		return strings.TrimSpace(b.String())
	case c.Template != nil:
		t := c.Template.Body
		if c.Template.Footer != "" {
			t += " — " + c.Template.Footer
		}
		return t
	case c.InteractiveReply != nil:
		return "[chose: " + c.InteractiveReply.Title + "]"
	case c.Media != nil:
		d := fmt.Sprintf("[%s", c.Type)
		if c.Media.FileName != "" {
			d += " " + c.Media.FileName
		}
		d += fmt.Sprintf(", %d bytes]", c.Media.Size)
		if c.Text != "" {
			d += " " + c.Text
		}
		return d
	case c.Location != nil:
		return fmt.Sprintf("[location %.5f, %.5f] %s", c.Location.Latitude, c.Location.Longitude, c.Location.Name)
	case c.Order != nil:
		n := 0
		for _, it := range c.Order.Items {
			n += it.Quantity
		}
		d := fmt.Sprintf("[order: %d item(s)]", n)
		if c.Text != "" {
			d += " " + c.Text
		}
		return d
	case c.Reaction != nil:
		if c.Reaction.Emoji == "" {
			return "[took a reaction back]"
		}
		return "[reacted " + c.Reaction.Emoji + "]"
	case len(c.Contacts) > 0:
		names := make([]string, len(c.Contacts))
		for i, ct := range c.Contacts {
			names[i] = ct.Name
		}
		return "[contacts: " + strings.Join(names, ", ") + "]"
	case !c.Known():
		return "[a " + c.Type + " message this version cannot show]"
	}
	return "[" + c.Type + " message]"
}

// safety shows the open conversation's safety number.
func (ui *chatUI) safety(ctx context.Context) {
	if ui.open == "" {
		ui.info("open a conversation first: /open +E164")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := ui.c.Sealer.SafetyNumber(cctx, ui.open)
	if err != nil {
		ui.info("no safety number yet: %v", err)
		return
	}
	ui.printf("safety number with %s:\n  %s", ui.open, e2e.FormatSafetyNumber(n))
	if ui.c.Sealer.Verified(ui.open) {
		ui.info("verified")
	} else {
		ui.info("if it matches theirs, type /verify followed by the number")
	}
}

// catalog fetches the open conversation's catalog once.
func (ui *chatUI) catalog(ctx context.Context) *wire.ShopCatalog {
	if ui.open == "" {
		ui.info("open a conversation with a business first: /open +E164")
		return nil
	}
	if ui.shop != nil && ui.shop.Business == ui.open {
		return ui.shop
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := ui.c.API().WholeCatalog(cctx, ui.open)
	if err != nil {
		ui.info("%s", kontor.MessageOf(err))
		return nil
	}
	ui.shop, ui.cart = &c, map[string]int{}
	return ui.shop
}

func (ui *chatUI) showCatalog(ctx context.Context) {
	c := ui.catalog(ctx)
	if c == nil {
		return
	}
	ui.printf("── catalog of %s (%d products) ──", c.Business, len(c.Products))
	for _, p := range c.Products {
		ui.printf("  %-12s %-30s %12s  %s", p.RetailerID, p.Name, p.PriceText, p.Availability)
	}
	if c.CartEnabled {
		ui.info("/add ID [N] to put products in the cart, /order to send it")
	}
}

func (ui *chatUI) cartChange(ctx context.Context, arg string, remove bool) {
	c := ui.catalog(ctx)
	if c == nil {
		return
	}
	if !c.CartEnabled {
		ui.info("%s does not take orders in the chat", c.Business)
		return
	}
	f := strings.Fields(arg)
	if len(f) == 0 {
		ui.info("which product? /add ID [N]")
		return
	}
	found := false
	for _, p := range c.Products {
		found = found || p.RetailerID == f[0]
	}
	if !found {
		ui.info("%s has no product %q (see /catalog)", c.Business, f[0])
		return
	}
	if remove {
		delete(ui.cart, f[0])
		ui.showCart()
		return
	}
	n := 1
	if len(f) > 1 {
		if v, err := strconv.Atoi(f[1]); err == nil && v > 0 {
			n = v
		}
	}
	ui.cart[f[0]] += n
	ui.showCart()
}

func (ui *chatUI) showCart() {
	if ui.shop == nil || len(ui.cart) == 0 {
		ui.info("the cart is empty")
		return
	}
	ct, err := client.Order(*ui.shop, ui.cart, "")
	if err != nil {
		ui.info("%v", err)
		return
	}
	var total int64
	cur, decimals := "", 0
	for _, it := range ct.Order.Items {
		for _, p := range ui.shop.Products {
			if p.RetailerID == it.RetailerID {
				ui.printf("  %d × %-30s %12s", it.Quantity, p.Name, p.PriceText)
				if _, frac, ok := strings.Cut(strings.Fields(p.PriceText)[0], "."); ok {
					decimals = len(frac)
				}
			}
		}
		total += it.Price * int64(it.Quantity)
		cur = it.Currency
	}
	ui.printf("  total %s %s", minorText(total, decimals), cur)
}

// productNames names, with their prices, the products a product or
// product-list message shows, from the business's catalog fetched before.
func (ui *chatUI) productNames(it *wire.Interactive) string {
	ids := []string{}
	if it.RetailerID != "" {
		ids = append(ids, it.RetailerID)
	}
	for _, sec := range it.Sections {
		ids = append(ids, sec.Products...)
	}
	var out []string
	for _, id := range ids {
		for _, p := range ui.shop.Products {
			if p.RetailerID == id {
				out = append(out, fmt.Sprintf("%s (%s, %s)", p.Name, id, p.PriceText))
			}
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "\n    " + strings.Join(out, "\n    ") + "\n    /add ID [N] to put one in the cart"
}

// minorText writes minor units with decimals digits after the point.
func minorText(v int64, decimals int) string {
	s := strconv.FormatInt(v, 10)
	if decimals == 0 {
		return s
	}
	for len(s) <= decimals {
		s = "0" + s
	}
	return s[:len(s)-decimals] + "." + s[len(s)-decimals:]
}

func (ui *chatUI) sendOrder(ctx context.Context, note string) {
	if ui.shop == nil || len(ui.cart) == 0 || ui.shop.Business != ui.open {
		ui.info("the cart is empty: /catalog, then /add ID [N]")
		return
	}
	ct, err := client.Order(*ui.shop, ui.cart, note)
	if err != nil {
		ui.info("%v", err)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	placed, err := ui.c.API().PlaceOrder(cctx, ui.open, ui.cart, note)
	cancel()
	if err != nil {
		ui.info("the order could not be placed: %s", kontor.MessageOf(err))
		return
	}
	if placed.Status != "placed" {
		for _, s := range placed.Short {
			ui.info("not enough %s: %d left, you wanted %d", s.RetailerID, s.Available, s.Wanted)
		}
		return
	}
	ct.Order.OrderID = placed.OrderID
	m, err := ui.c.Queue(ui.open, ct)
	if err != nil {
		ui.info("not sent: %v", err)
		return
	}
	ui.pending[m.Ref] = fmt.Sprintf("order of %d item(s)", len(ct.Order.Items))
	ui.cart = map[string]int{}
	ui.ordered = placed.OrderID
	ui.info("order %s sent to %s; /pay CARD to pay it", placed.OrderID, ui.open)
}

// block blocks or unblocks the open conversation's number.
func (ui *chatUI) block(ctx context.Context, on bool) {
	if ui.open == "" {
		ui.info("open a conversation first: /open +E164")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	if on {
		err = ui.c.API().Block(cctx, ui.open)
	} else {
		err = ui.c.API().Unblock(cctx, ui.open)
	}
	switch {
	case err != nil:
		ui.info("%v", err)
	case on:
		ui.info("%s is blocked: their messages no longer reach you (they are not told)", ui.open)
	default:
		ui.info("%s is unblocked", ui.open)
	}
}

// verify marks the open conversation's person verified.
func (ui *chatUI) verify(number string) {
	if ui.open == "" {
		ui.info("open a conversation first: /open +E164")
		return
	}
	if err := ui.c.Sealer.Verify(ui.open, number); err != nil {
		ui.info("not verified: %v", err)
		return
	}
	ui.info("%s is verified", ui.open)
}

func (ui *chatUI) format(m client.Message, withPeer bool) string {
	who := string(m.From)
	if m.Outgoing {
		who = "you"
		if m.FromDevice != ui.me.DeviceID {
			who = fmt.Sprintf("you (device %d)", m.FromDevice)
		}
	}
	if withPeer {
		if m.Outgoing {
			who += " → " + string(m.Peer)
		}
		who = "● " + who
	}
	body := m.Content.Text
	switch {
	case m.Problem != "" && !m.Outgoing:
		body = ui.color(ui.red(), "[unreadable message: "+m.Problem+"]")
	case m.Content.Type != "text":
		body = describe(m.Content)
		if it := m.Content.Interactive; it != nil && ui.shop != nil && ui.shop.Business == m.Peer {
			body += ui.productNames(it)
		}
	}
	if m.Content.ReplyTo != "" {
		body = "↪ " + body
	}
	line := fmt.Sprintf("[%s] %s: %s", clock(m.TS), who, body)
	if m.Outgoing {
		line += " " + ui.ticks(m.Status)
	}
	return line
}

// ticks renders the status of one of our messages.
func (ui *chatUI) ticks(status string) string {
	switch status {
	case client.StatusPending:
		return "…"
	case client.StatusSent:
		return "✓"
	case client.StatusDelivered:
		return "✓✓"
	case client.StatusRead:
		return ui.color(ui.blue(), "✓✓ read")
	case client.StatusFailed:
		return ui.color(ui.red(), "✗ failed")
	}
	return status
}

func statusRank(s string) int {
	switch s {
	case client.StatusPending:
		return 1
	case client.StatusSent:
		return 2
	case client.StatusFailed:
		return 3
	case client.StatusDelivered:
		return 4
	case client.StatusRead:
		return 5
	}
	return 0
}

// Colours, nil when colours are off.
func (ui *chatUI) red() []byte {
	if ui.esc == nil {
		return nil
	}
	return ui.esc.Red
}

func (ui *chatUI) blue() []byte {
	if ui.esc == nil {
		return nil
	}
	return ui.esc.Cyan
}

func (ui *chatUI) bold() []byte {
	if ui.esc == nil {
		return nil
	}
	return []byte("\x1b[1m")
}

// color wraps s in an escape code when colours are on.
func (ui *chatUI) color(code []byte, s string) string {
	if ui.esc == nil || code == nil {
		return s
	}
	return string(code) + s + string(ui.esc.Reset)
}

// printf prints one line above the prompt.
func (ui *chatUI) printf(format string, args ...any) {
	ui.write(fmt.Sprintf(format, args...) + "\n")
}

// info prints a note of the chat itself.
func (ui *chatUI) info(format string, args ...any) {
	ui.printf("· "+format, args...)
}

func (ui *chatUI) write(s string) {
	_, _ = io.WriteString(ui.w, s)
	ui.out.Add(1)
}

// clock renders a Unix ms time: the time of day today, else with the date.
func clock(ms int64) string {
	if ms <= 0 {
		return "--:--"
	}
	t := time.UnixMilli(ms).Local()
	if y, m, d := t.Date(); time.Now().Format("2006-01-02") == fmt.Sprintf("%04d-%02d-%02d", y, m, d) {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}

// snippet shortens a text for a status line.
func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= 30 {
		return s
	}
	r := []rune(s)
	return string(r[:29]) + "…"
}
