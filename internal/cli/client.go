package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/wire"
)

const clientUsage = `Usage: kontor client COMMAND [flags]

Scriptable device commands; each prints JSON on stdout.

Commands:
  register --server URL --phone +E164 --profile DIR [--code CODE] [--device-name N]
                 register a number into a new profile; without --code the code is
                 requested, taken from a --dev server's /dev/otp, or read from stdin
  link --server URL --phone +E164 --code CODE --profile DIR [--device-name N]
                 make the profile a linked device, with a code from "link-code"
  link-code --profile DIR            print a code to link another device (primary device only)
  send --profile DIR --to +E164 TEXT send a text once the server committed it ("-" reads stdin)
  recv --profile DIR [--wait D] [--count N]
                 print received messages, one JSON line each, until N arrived or
                 nothing came for D (default 5s)
  receipts --profile DIR [--wait D] [--count N]
                 print receipts, one JSON line per message id
  devices --profile DIR              list the account's devices
  revoke --profile DIR --device N    sign out a device of the account
  settings --profile DIR --last-seen everyone|nobody
  delete-account --profile DIR       delete the account and sign out all its devices
  catalog --profile DIR --business +E164
                 the products a business shows in the chat, one JSON line each
  order --profile DIR --business +E164 --item RETAILER_ID=QTY... [--text T]
                 send the business an order from its catalog (a cart, as the chat does)
  pay --profile DIR --order ID --card TESTCARD [--wait D]
                 pay an order; prints the outcome: succeeded, pending or declined (with the reason)
  block --profile DIR --peer +E164   stop a number's messages reaching this account (it is not told)
  unblock --profile DIR --peer +E164
  blocked --profile DIR              list the blocked numbers
  safety-number --profile DIR --peer +E164
                 print the 60-digit safety number of the conversation with a peer
  verify --profile DIR --peer +E164 NUMBER
                 mark the peer verified, if NUMBER is the current safety number

--profile defaults to $KONTOR_PROFILE, --server to $KONTOR_SERVER.
Run "kontor client COMMAND -h" for a command's flags.`

func runClient(ctx context.Context, env Env) error {
	if len(env.Args) == 0 {
		fmt.Fprintln(env.Stderr, clientUsage)
		return errUsage
	}
	cmd, args := env.Args[0], env.Args[1:]
	cc := &clientCmd{env: env, name: "kontor client " + cmd, out: json.NewEncoder(env.Stdout)}
	switch cmd {
	case "register":
		return cc.register(ctx, args)
	case "link":
		return cc.link(ctx, args)
	case "link-code":
		return cc.linkCode(ctx, args)
	case "send":
		return cc.send(ctx, args)
	case "recv":
		return cc.recv(ctx, args)
	case "receipts":
		return cc.receipts(ctx, args)
	case "devices":
		return cc.devices(ctx, args)
	case "revoke":
		return cc.revoke(ctx, args)
	case "settings":
		return cc.settings(ctx, args)
	case "delete-account":
		return cc.deleteAccount(ctx, args)
	case "catalog":
		return cc.catalog(ctx, args)
	case "order":
		return cc.order(ctx, args)
	case "pay":
		return cc.pay(ctx, args)
	case "block", "unblock", "blocked":
		return cc.block(ctx, cmd, args)
	case "safety-number":
		return cc.safetyNumber(ctx, args, false)
	case "verify":
		return cc.safetyNumber(ctx, args, true)
	case "help", "-h", "--help":
		fmt.Fprintln(env.Stdout, clientUsage)
		return nil
	}
	fmt.Fprintf(env.Stderr, "kontor client: unknown command %q\n\n%s\n", cmd, clientUsage)
	return errUsage
}

// clientCmd runs one sub-command of kontor client.
type clientCmd struct {
	env  Env
	name string
	out  *json.Encoder
	fs   *flag.FlagSet
}

func (cc *clientCmd) flags(usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(cc.name, flag.ContinueOnError)
	fs.SetOutput(cc.env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(cc.env.Stderr, "Usage: %s %s\n\nFlags:\n", cc.name, usage)
		fs.PrintDefaults()
	}
	cc.fs = fs
	return fs
}

func (cc *clientCmd) profileFlag() *string {
	return cc.fs.String("profile", cc.env.Getenv("KONTOR_PROFILE"), "profile directory of the device (env KONTOR_PROFILE)")
}

func (cc *clientCmd) serverFlag() *string {
	return cc.fs.String("server", envOr(cc.env.Getenv, "KONTOR_SERVER", "http://127.0.0.1:8080"), "server URL (env KONTOR_SERVER)")
}

// parse parses args, allowing positional arguments only when positional.
func (cc *clientCmd) parse(args []string, positional bool) error {
	if err := cc.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if !positional && cc.fs.NArg() > 0 {
		return cc.usageError("unexpected argument %q", cc.fs.Arg(0))
	}
	return nil
}

// need checks that required flags are set.
func (cc *clientCmd) need(vals ...string) error {
	for i := 0; i+1 < len(vals); i += 2 {
		if strings.TrimSpace(vals[i+1]) == "" {
			return cc.usageError("--%s is required", vals[i])
		}
	}
	return nil
}

func (cc *clientCmd) usageError(format string, args ...any) error {
	fmt.Fprintf(cc.env.Stderr, "%s: %s\n", cc.name, fmt.Sprintf(format, args...))
	cc.fs.Usage()
	return errUsage
}

// logger reports the client's warnings on stderr.
func (cc *clientCmd) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(cc.env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// askCode reads a one-time code from stdin, prompting on stderr.
func askCode(env Env, phone string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		fmt.Fprintf(env.Stderr, "Enter the code sent to %s: ", phone)
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if strings.TrimSpace(line) == "" {
			if err == nil || err == io.EOF {
				err = errors.New("no code was entered")
			}
			return "", fmt.Errorf("reading the code: %w", err)
		}
		return strings.TrimSpace(line), nil
	}
}

func (cc *clientCmd) register(ctx context.Context, args []string) error {
	fs := cc.flags("--server URL --phone +E164 --profile DIR [--code CODE] [--device-name N]")
	server := cc.serverFlag()
	phone := fs.String("phone", "", "phone number to register, E.164 (+4915…)")
	profile := cc.profileFlag()
	code := fs.String("code", "", "a one-time code requested before (e.g. by an earlier run); without it a new code is requested and taken from a --dev server's /dev/otp or from stdin")
	name := fs.String("device-name", "kontor client", "a name for this device")
	if err := cc.parse(args, false); err != nil {
		return err
	}
	if err := cc.need("phone", *phone, "profile", *profile); err != nil {
		return err
	}
	r := client.Registration{Server: *server, Phone: kontor.Phone(*phone), DeviceName: *name, Code: *code}
	if cc.env.Stdin != nil {
		r.AskCode = askCode(cc.env, *phone)
	}
	a, err := client.Register(ctx, *profile, r)
	if err != nil {
		return err
	}
	if err := publishKeys(ctx, *profile); err != nil {
		return fmt.Errorf("registered, but publishing the device's keys failed (any later command retries): %w", err)
	}
	return cc.out.Encode(map[string]any{"phone": a.Phone, "device_id": a.DeviceID})
}

func (cc *clientCmd) link(ctx context.Context, args []string) error {
	fs := cc.flags("--server URL --phone +E164 --code CODE --profile DIR [--device-name N]")
	server := cc.serverFlag()
	phone := fs.String("phone", "", "phone number of the account, E.164")
	code := fs.String("code", "", "link code from \"kontor client link-code\" on the primary device")
	profile := cc.profileFlag()
	name := fs.String("device-name", "kontor client (linked)", "a name for this device")
	if err := cc.parse(args, false); err != nil {
		return err
	}
	if err := cc.need("phone", *phone, "code", *code, "profile", *profile); err != nil {
		return err
	}
	a, err := client.Link(ctx, *profile, client.Registration{Server: *server, Phone: kontor.Phone(*phone), Code: *code, DeviceName: *name})
	if err != nil {
		return err
	}
	if err := publishKeys(ctx, *profile); err != nil {
		return fmt.Errorf("linked, but publishing the device's keys failed (any later command retries): %w", err)
	}
	return cc.out.Encode(map[string]any{"phone": a.Phone, "device_id": a.DeviceID})
}

// account parses the flags of a command that only calls the HTTP API and
// loads the profile's account (without opening the profile).
func (cc *clientCmd) account(args []string) (client.Account, error) {
	profile := cc.profileFlag()
	if err := cc.parse(args, false); err != nil {
		return client.Account{}, err
	}
	if err := cc.need("profile", *profile); err != nil {
		return client.Account{}, err
	}
	return client.LoadAccount(*profile)
}

func (cc *clientCmd) linkCode(ctx context.Context, args []string) error {
	cc.flags("--profile DIR")
	a, err := cc.account(args)
	if err != nil {
		return err
	}
	r, err := a.API(nil).LinkCode(ctx)
	if err != nil {
		return err
	}
	return cc.out.Encode(r)
}

func (cc *clientCmd) devices(ctx context.Context, args []string) error {
	cc.flags("--profile DIR")
	a, err := cc.account(args)
	if err != nil {
		return err
	}
	r, err := a.API(nil).Devices(ctx)
	if err != nil {
		return err
	}
	return cc.out.Encode(map[string]any{"phone": r.Phone, "this_device": a.DeviceID, "devices": r.Devices})
}

func (cc *clientCmd) revoke(ctx context.Context, args []string) error {
	fs := cc.flags("--profile DIR --device N")
	dev := fs.Int("device", 0, "the device id to sign out")
	a, err := cc.account(args)
	if err != nil {
		return err
	}
	if *dev < 1 {
		return cc.usageError("--device must be a device id (see \"kontor client devices\")")
	}
	if err := a.API(nil).RemoveDevice(ctx, *dev); err != nil {
		return err
	}
	return cc.out.Encode(map[string]any{"phone": a.Phone, "revoked": *dev})
}

func (cc *clientCmd) settings(ctx context.Context, args []string) error {
	fs := cc.flags("--profile DIR --last-seen everyone|nobody")
	lastSeen := fs.String("last-seen", "", "who may see when this account was last online: everyone or nobody")
	a, err := cc.account(args)
	if err != nil {
		return err
	}
	if *lastSeen != "everyone" && *lastSeen != "nobody" {
		return cc.usageError("--last-seen must be everyone or nobody")
	}
	if err := a.API(nil).SetLastSeen(ctx, *lastSeen); err != nil {
		return err
	}
	return cc.out.Encode(map[string]any{"last_seen": *lastSeen})
}

func (cc *clientCmd) deleteAccount(ctx context.Context, args []string) error {
	cc.flags("--profile DIR")
	a, err := cc.account(args)
	if err != nil {
		return err
	}
	if err := a.API(nil).DeleteAccount(ctx); err != nil {
		return err
	}
	return cc.out.Encode(map[string]any{"deleted": a.Phone})
}

func (cc *clientCmd) send(ctx context.Context, args []string) error {
	fs := cc.flags("--profile DIR --to +E164 TEXT (or - to read the text from stdin)")
	profile := cc.profileFlag()
	to := fs.String("to", "", "recipient, E.164")
	replyTo := fs.String("reply-to", "", "id of the message this one answers")
	referral := fs.String("referral", "", "the ad or post this message starts a chat from: a click-to-chat link or its query, e.g. 'source_type=ad&source_id=120208&ctwa_clid=ARAk…&headline=Sale' (docs/billing.md)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the server to commit the message")
	if err := cc.parse(args, true); err != nil {
		return err
	}
	if err := cc.need("profile", *profile, "to", *to); err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(cc.env.Stdin, wire.MaxText+1))
		if err != nil {
			return fmt.Errorf("reading the text from stdin: %w", err)
		}
		text = strings.TrimRight(string(b), "\n")
	}
	if strings.TrimSpace(text) == "" {
		return cc.usageError("give the text to send")
	}
	content := wire.Content{Type: "text", Text: text, ReplyTo: *replyTo}
	if *referral != "" {
		r, err := wire.ParseReferral(*referral)
		if err != nil {
			return cc.usageError("--referral: %v", err)
		}
		content.Referral = r
	}
	// Messages and receipts are left on the server for recv and receipts.
	c, err := openDevice(ctx, *profile, client.Options{Leave: client.LeaveMessages | client.LeaveReceipts, Logger: cc.logger()}, cc.env.Stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	id, err := c.Send(sctx, kontor.Phone(*to), content)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("the server did not confirm the message within %s; it stays in the outbox of %s and is sent by the next client or chat on that profile", *timeout, *profile)
		}
		return err
	}
	return cc.out.Encode(map[string]any{"id": id, "status": client.StatusSent})
}

// recvLine is one line of kontor client recv.
type recvLine struct {
	ID        kontor.ID    `json:"id"`
	From      kontor.Phone `json:"from"`
	Type      string       `json:"type"`
	Text      string       `json:"text"`
	Timestamp int64        `json:"timestamp"`
	ReplyTo   string       `json:"reply_to,omitempty"`
	Problem   string       `json:"problem,omitempty"`
	// A business's payment request (order_details) or order news
	// (order_status), amounts in minor units.
	PaymentRequest *wire.PaymentRequest `json:"payment_request,omitempty"`
	OrderStatus    *wire.OrderStatus    `json:"order_status,omitempty"`
}

// receiptLine is one line of kontor client receipts.
type receiptLine struct {
	ID        kontor.ID    `json:"id"`
	Status    string       `json:"status"`
	By        kontor.Phone `json:"by"`
	Timestamp int64        `json:"timestamp"`
}

func (cc *clientCmd) recv(ctx context.Context, args []string) error {
	return cc.listen(ctx, args, client.LeaveReceipts, func(ev client.Event) int {
		m, ok := ev.(client.Message)
		if !ok || m.Outgoing {
			return 0 // sync copies of our own messages are recorded, not printed
		}
		line := recvLine{ID: m.ID, From: m.From, Type: m.Content.Type, Text: m.Content.Text,
			Timestamp: m.TS, ReplyTo: m.Content.ReplyTo, Problem: m.Problem}
		if it := m.Content.Interactive; it != nil {
			line.PaymentRequest, line.OrderStatus = it.Payment, it.OrderStatus
			if line.Text == "" && (it.Payment != nil || it.OrderStatus != nil) {
				line.Text = it.Body
			}
		}
		_ = cc.out.Encode(line)
		return 1
	})
}

func (cc *clientCmd) receipts(ctx context.Context, args []string) error {
	return cc.listen(ctx, args, client.LeaveMessages, func(ev client.Event) int {
		r, ok := ev.(client.Receipt)
		if !ok {
			return 0
		}
		for _, id := range r.IDs {
			_ = cc.out.Encode(receiptLine{ID: id, Status: r.Status, By: r.By, Timestamp: r.TS})
		}
		return len(r.IDs)
	})
}

// listen connects and prints events with show (which returns how many
// lines it printed) until --count lines were printed or nothing came for
// --wait.
func (cc *clientCmd) listen(ctx context.Context, args []string, leave client.Leave, show func(client.Event) int) error {
	fs := cc.flags("--profile DIR [--wait DURATION] [--count N]")
	profile := cc.profileFlag()
	wait := fs.Duration("wait", 5*time.Second, "stop when nothing new came for this long")
	count := fs.Int("count", 0, "stop after this many lines (0: no limit)")
	if err := cc.parse(args, false); err != nil {
		return err
	}
	if err := cc.need("profile", *profile); err != nil {
		return err
	}
	if *wait <= 0 {
		return cc.usageError("--wait must be positive")
	}
	c, err := openDevice(ctx, *profile, client.Options{Leave: leave, Logger: cc.logger()}, cc.env.Stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	idle := time.NewTimer(*wait)
	defer idle.Stop()
	connected := false
	var lastErr error
	n := 0
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return c.Err()
			}
			if st, ok := ev.(client.State); ok {
				if st.Connected {
					connected = true
				} else {
					lastErr = st.Err
					if err := c.Err(); err != nil {
						return err
					}
				}
				continue
			}
			if k := show(ev); k > 0 {
				n += k
				if *count > 0 && n >= *count {
					return nil
				}
				idle.Reset(*wait)
			}
		case <-idle.C:
			if !connected {
				if lastErr == nil {
					lastErr = errors.New("no answer")
				}
				return fmt.Errorf("could not connect to %s within %s: %w", c.Account().Server, *wait, lastErr)
			}
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// safetyNumber prints the safety number with a peer, or (verify) checks a
// number against it and marks the peer verified.
func (cc *clientCmd) safetyNumber(ctx context.Context, args []string, verify bool) error {
	usage := "--profile DIR --peer +E164"
	if verify {
		usage += " NUMBER"
	}
	fs := cc.flags(usage)
	profile := cc.profileFlag()
	peer := fs.String("peer", "", "the other person, E.164")
	if err := cc.parse(args, verify); err != nil {
		return err
	}
	if err := cc.need("profile", *profile, "peer", *peer); err != nil {
		return err
	}
	p, err := kontor.ParsePhone(*peer)
	if err != nil {
		return err
	}
	s, err := e2e.OpenProfile(*profile, nil, e2e.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if verify {
		number := strings.Join(fs.Args(), "")
		if number == "" {
			return cc.usageError("give the safety number to check")
		}
		if err := s.Verify(p, number); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	n, err := s.SafetyNumber(cctx, p)
	if err != nil {
		return err
	}
	notices := s.Notices(p)
	if notices == nil {
		notices = []e2e.Notice{}
	}
	return cc.out.Encode(map[string]any{"peer": p, "safety_number": n, "formatted": e2e.FormatSafetyNumber(n),
		"verified": s.Verified(p), "notices": notices})
}

// block runs block, unblock and blocked.
func (cc *clientCmd) block(ctx context.Context, cmd string, args []string) error {
	usage := "--profile DIR"
	if cmd != "blocked" {
		usage += " --peer +E164"
	}
	fs := cc.flags(usage)
	peer := fs.String("peer", "", "the number, E.164")
	a, err := cc.account(args)
	if err != nil {
		return err
	}
	api := a.API(nil)
	if cmd == "blocked" {
		ps, err := api.Blocked(ctx)
		if err != nil {
			return err
		}
		return cc.out.Encode(map[string]any{"blocked": ps})
	}
	p, err := kontor.ParsePhone(*peer)
	if err != nil {
		return err
	}
	if cmd == "block" {
		err = api.Block(ctx, p)
	} else {
		err = api.Unblock(ctx, p)
	}
	if err != nil {
		return err
	}
	return cc.out.Encode(map[string]any{"peer": p, "blocked": cmd == "block"})
}

// catalogLine is one line of kontor client catalog.
type catalogLine struct {
	RetailerID   string `json:"retailer_id"`
	Name         string `json:"name"`
	Price        string `json:"price"` // as people see it: "9.99 EUR"
	Currency     string `json:"currency"`
	Availability string `json:"availability"`
	Minor        int64  `json:"price_minor"`
}

func (cc *clientCmd) catalog(ctx context.Context, args []string) error {
	fs := cc.flags("--profile DIR --business +E164")
	biz := fs.String("business", "", "the business's number, E.164")
	a, err := cc.account(args)
	if err != nil {
		return err
	}
	p, err := kontor.ParsePhone(*biz)
	if err != nil {
		return err
	}
	c, err := a.API(nil).WholeCatalog(ctx, p)
	if err != nil {
		return err
	}
	for _, pr := range c.Products {
		if err := cc.out.Encode(catalogLine{RetailerID: pr.RetailerID, Name: pr.Name, Price: pr.PriceText, Currency: pr.Currency,
			Availability: pr.Availability, Minor: pr.UnitPrice()}); err != nil {
			return err
		}
	}
	return nil
}

// items is a repeatable --item RETAILER_ID[:QTY] flag.
type items map[string]int

func (it items) String() string { return fmt.Sprint(map[string]int(it)) }

func (it items) Set(v string) error {
	id, q, ok := strings.Cut(v, "=")
	if !ok {
		id, q, ok = strings.Cut(v, ":")
	}
	n := 1
	if ok {
		var err error
		if n, err = strconv.Atoi(q); err != nil || n < 1 {
			return fmt.Errorf("quantity %q is not a whole number of at least 1", q)
		}
	}
	if id == "" {
		return fmt.Errorf("give a retailer id")
	}
	it[id] += n
	return nil
}

func (cc *clientCmd) order(ctx context.Context, args []string) error {
	fs := cc.flags("--profile DIR --business +E164 --item RETAILER_ID=QTY... [--text T]")
	profile := cc.profileFlag()
	biz := fs.String("business", "", "the business's number, E.164")
	text := fs.String("text", "", "a note with the order")
	cart := items{}
	fs.Var(cart, "item", "a product and how many, RETAILER_ID=QTY (or RETAILER_ID:QTY; default 1); repeat for more")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the server to commit the order")
	if err := cc.parse(args, false); err != nil {
		return err
	}
	if err := cc.need("profile", *profile, "business", *biz); err != nil {
		return err
	}
	p, err := kontor.ParsePhone(*biz)
	if err != nil {
		return err
	}
	a, err := client.LoadAccount(*profile)
	if err != nil {
		return err
	}
	cat, err := a.API(nil).WholeCatalog(ctx, p)
	if err != nil {
		return err
	}
	if !cat.CartEnabled {
		return fmt.Errorf("%s does not take orders in the chat", p)
	}
	content, err := client.Order(cat, cart, *text)
	if err != nil {
		return err
	}
	// The platform reserves the stock first; a short item refuses the
	// order before anything is sent.
	placed, err := a.API(nil).PlaceOrder(ctx, p, cart, *text)
	if err != nil {
		return err
	}
	if placed.Status != "placed" {
		return cc.out.Encode(placed)
	}
	content.Order.OrderID = placed.OrderID
	c, err := openDevice(ctx, *profile, client.Options{Leave: client.LeaveMessages | client.LeaveReceipts, Logger: cc.logger()}, cc.env.Stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	id, err := c.Send(sctx, p, content)
	if err != nil {
		return err
	}
	return cc.out.Encode(map[string]any{"order_id": placed.OrderID, "status": placed.Status, "message_id": id,
		"total": placed.Total, "currency": placed.Currency, "expires": placed.Expires})
}
