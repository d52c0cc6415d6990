package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/cloudapi"
	"github.com/kontor-chat/kontor/internal/endpoint"
	"github.com/kontor-chat/kontor/internal/gateway"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/relay"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/templates"
	"github.com/kontor-chat/kontor/internal/webhook"
	"github.com/kontor-chat/kontor/wire"
)

// bizAccounts registers business numbers as kontor accounts.
type bizAccounts struct{ ident *identity.Service }

// RegisterDirect makes the account of a new business number.
func (a bizAccounts) RegisterDirect(ctx context.Context, phone, deviceName string) (business.Device, error) {
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return business.Device{}, err
	}
	if _, err := a.ident.Account(ctx, p); err == nil {
		return business.Device{}, kontor.Errorf(kontor.Conflict, "business.Create", "%s is registered already; a business needs a number of its own", p)
	} else if kontor.KindOf(err) != kontor.NotFound {
		return business.Device{}, err
	}
	c, err := a.ident.RegisterDirect(ctx, string(p), deviceName)
	if err != nil {
		return business.Device{}, err
	}
	acct, err := a.ident.Account(ctx, p)
	if err != nil {
		return business.Device{}, err
	}
	return business.Device{Account: acct.ID, Phone: c.Phone, DeviceID: c.DeviceNum, Credential: c.Credential}, nil
}

// endpointDir is where the platform keeps a hosted endpoint's profile: its
// device credential and its Signal keys.
func (s *Server) endpointDir(number kontor.ID) string {
	return filepath.Join(s.cfg.DataDir, "endpoints", number.String())
}

// checkEndpointsDir makes the directory of hosted endpoints.
func (s *Server) checkEndpointsDir() error {
	if err := os.MkdirAll(filepath.Join(s.cfg.DataDir, "endpoints"), 0o700); err != nil {
		return fmt.Errorf("endpoints directory: %w", err)
	}
	return nil
}

// hostEndpoint keeps a new hosted business's device in the platform's data
// directory (in a cluster: in the store, leased to this node) and
// publishes its keys, so that people can write to it at once.
func (s *Server) hostEndpoint(ctx context.Context, c business.Created) error {
	a := client.Account{Server: "http://" + s.loopbackAddr(), DeviceCredentials: wire.DeviceCredentials{Phone: c.Device.Phone, DeviceID: c.Device.DeviceID, Credential: c.Device.Credential}}
	if !s.clustered() {
		if err := client.CreateProfile(s.endpointDir(c.PhoneNumberID), a); err != nil {
			return &kontor.Error{Kind: kontor.Internal, Op: "server.hostEndpoint", Err: err}
		}
		return s.startEndpoint(ctx, c.PhoneNumberID, nil)
	}
	done := s.hosted.opening(c.PhoneNumberID) // keepEndpoints leaves it alone meanwhile
	defer done()
	st, err := s.leaseNewEndpoint(ctx, c.PhoneNumberID)
	if err == nil {
		if err = client.CreateProfileIn(st, a); err != nil {
			_ = s.db.DropEndpoint(context.WithoutCancel(ctx), c.PhoneNumberID)
		}
	}
	if err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: "server.hostEndpoint", Err: err}
	}
	return s.startEndpoint(ctx, c.PhoneNumberID, st)
}

// pointAtSelf makes the device of a hosted endpoint's profile call this
// node's HTTP API (keys, media): a profile made or last run on another
// node (a takeover in a cluster), or before the node's address changed,
// names that node.
func (s *Server) pointAtSelf(st client.Storage) error {
	a, err := client.ReadAccount(st)
	if err != nil {
		return err
	}
	self := "http://" + s.loopbackAddr()
	if a.Server == self {
		return nil
	}
	a.Server = self
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return st.WriteFile("device.json", b)
}

// loopbackAddr is how this node reaches itself.
func (s *Server) loopbackAddr() string {
	host, port, err := net.SplitHostPort(s.ln.Addr().String())
	if err != nil {
		return s.ln.Addr().String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// dialLocal returns the dialer that links a hosted endpoint's device to
// this node in process: its frames pass as Go values, with no JSON and no
// socket, through the same handshake (the device's credential) and
// connection logic as a WebSocket; its sends carry the riders in riders
// (router.Rider: the endpoint's writes commit with the send).
func (s *Server) dialLocal(riders *router.Riders) func(context.Context) (client.Conn, error) {
	return func(context.Context) (client.Conn, error) {
		c, err := s.hub.LocalWith(riders)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// DialLocal connects a device to this node in process (gateway.Hub.Local):
// how hosted endpoints are linked to their node, and tests of that link.
func (s *Server) DialLocal() (*gateway.LocalConn, error) { return s.hub.Local() }

// bizAuth checks access tokens for the Business API.
type bizAuth struct{ biz *business.Service }

// Check says whether token may act with scope on the business.
func (a bizAuth) Check(ctx context.Context, token string, b kontor.ID, scope business.Scope) error {
	c, err := a.biz.Authenticate(ctx, token)
	if err != nil {
		return err
	}
	return a.biz.Allowed(ctx, c, b, scope)
}

// appSecrets finds the secret that signs an app's webhooks.
type appSecrets struct{ st business.Store }

// AppSecret returns the app's secret.
func (a appSecrets) AppSecret(ctx context.Context, app kontor.ID) (string, error) {
	return a.st.AppSecret(ctx, app)
}

// hostedEndpoints are the business endpoints this node runs. In a cluster
// (an external NATS) holder serves them to the other nodes, and remote
// reaches the ones other nodes run (internal/relay); both are nil on one
// node.
type hostedEndpoints struct {
	s      *Server
	holder *relay.Holder
	remote *relay.Remote
	mu     sync.Mutex
	m      map[kontor.ID]*endpoint.Endpoint
	leases map[kontor.ID]*store.EndpointStorage // in a cluster: the profile and lease of each in m
	starts map[kontor.ID]int                    // endpoints being made here (hostEndpoint), not to be taken over
	closed bool
	// closing counts the endpoints lost closes in the background, so that
	// renewing the other leases never waits for one; closeAll waits.
	closing sync.WaitGroup
}

// opening marks number's endpoint as being made on this node until done
// is called: pickUp does not claim its lease meanwhile.
func (h *hostedEndpoints) opening(number kontor.ID) (done func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.starts == nil {
		h.starts = map[kontor.ID]int{}
	}
	h.starts[number]++
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.starts[number]--; h.starts[number] <= 0 {
			delete(h.starts, number)
		}
	}
}

// busy tells whether number's endpoint runs here or is being made here
// (hostEndpoint adds it before it calls done, so one of the two holds
// from its claim on).
func (h *hostedEndpoints) busy(number kontor.ID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.m[number]
	return ok || h.starts[number] > 0
}

// newHostedEndpoints returns the endpoints of s, served to the other
// nodes by holder and theirs reached by remote (both nil on one node).
func newHostedEndpoints(s *Server, holder *relay.Holder, remote *relay.Remote) *hostedEndpoints {
	return &hostedEndpoints{s: s, holder: holder, remote: remote}
}

// Remote returns the endpoint of a hosted number that runs on another
// node (bizapi.API.Remote); nil on one node.
func (h *hostedEndpoints) Remote() func(kontor.ID) bizapi.Endpoint {
	if h.remote == nil {
		return nil
	}
	return h.remote.Endpoint
}

// Find returns the endpoint of a hosted number: the one open here, else in
// a cluster the one another node runs. ok is false for a number that is
// not hosted (self-hosted, or unknown), and on one node for an endpoint
// that is not open (starting).
func (h *hostedEndpoints) Find(ctx context.Context, number kontor.ID) (bizapi.Endpoint, bool) {
	if e, ok := h.Endpoint(number); ok {
		return e, true
	}
	if h.remote == nil {
		return nil, false
	}
	n, err := h.s.db.Number(ctx, number)
	if err != nil {
		return nil, false
	}
	if b, err := h.s.db.Business(ctx, n.Business); err != nil || b.SelfHosted {
		return nil, false
	}
	return h.remote.Endpoint(number), true
}

// Endpoint returns the endpoint of number, if it runs here.
func (h *hostedEndpoints) Endpoint(number kontor.ID) (bizapi.Endpoint, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[number]
	return e, ok
}

// MediaOwner returns the number holding a media id.
func (h *hostedEndpoints) MediaOwner(ctx context.Context, id kontor.ID) (kontor.ID, bool) {
	n, err := h.s.db.MediaNumber(ctx, id)
	return n, err == nil
}

// add puts a newly opened endpoint in, served to the other nodes; st is
// its profile and lease in a cluster (nil for a directory).
func (h *hostedEndpoints) add(number kontor.ID, e *endpoint.Endpoint, st *store.EndpointStorage) {
	h.mu.Lock()
	if h.closed { // the node is stopping
		h.mu.Unlock()
		go func() {
			_ = e.Close()
			h.release(st)
		}()
		return
	}
	if h.m == nil {
		h.m = map[kontor.ID]*endpoint.Endpoint{}
		h.leases = map[kontor.ID]*store.EndpointStorage{}
	}
	h.m[number] = e
	if st != nil {
		h.leases[number] = st
	}
	h.mu.Unlock()
	// Not under mu: subscribing waits for NATS, and local calls must not.
	if h.holder != nil {
		if err := h.holder.Serve(number, e); err != nil && !h.isClosed() {
			h.s.log.Error("serving a hosted endpoint to the other nodes", "number", number, "err", err)
		}
	}
}

// release gives the lease of a closed endpoint up, so that another node
// takes it over at once.
func (h *hostedEndpoints) release(st *store.EndpointStorage) {
	if st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.s.db.ReleaseEndpoint(ctx, st.Lease()); err != nil {
		h.s.log.Warn("giving up the lease of a hosted endpoint", "number", st.Lease().Number, "err", err)
	}
}

// held returns the epochs of the leases this node holds.
func (h *hostedEndpoints) held() map[kontor.ID]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[kontor.ID]int64, len(h.leases))
	for n, st := range h.leases {
		out[n] = st.Lease().Epoch
	}
	return out
}

// count is how many endpoints run here.
func (h *hostedEndpoints) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.m)
}

// lost closes the endpoint of number at once when st is still its
// profile: its lease was taken over (or could not be renewed in time),
// so it must neither serve nor write. It stops serving it to the other
// nodes first.
func (h *hostedEndpoints) lost(number kontor.ID, st *store.EndpointStorage, why string) {
	h.mu.Lock()
	e, ok := h.m[number]
	if !ok || h.leases[number] != st {
		h.mu.Unlock()
		return
	}
	delete(h.m, number)
	delete(h.leases, number)
	h.closing.Add(1) // under mu: closeAll, which takes mu first, then waits for it
	h.mu.Unlock()
	if h.holder != nil {
		h.holder.Stop(number)
	}
	h.s.log.Warn("closing a hosted endpoint: this node lost its lease", "number", number, "epoch", st.Lease().Epoch, "why", why)
	h.s.metrics.endpointsLost.Inc()
	go func() { // its writes are fenced off meanwhile
		defer h.closing.Done()
		_ = e.Close()
	}()
}

func (h *hostedEndpoints) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

func (h *hostedEndpoints) closeAll() {
	h.mu.Lock()
	h.closed = true
	m, leases := h.m, h.leases
	h.m, h.leases = nil, nil
	h.mu.Unlock()
	if h.holder != nil {
		h.holder.Close() // first: the calls other nodes forwarded end before their endpoint
	}
	for n, e := range m {
		_ = e.Close()
		h.release(leases[n]) // after Close: nothing writes under it any more
	}
	h.closing.Wait()
}

// startEndpoints starts the endpoint of every hosted number whose profile
// this node keeps in its data directory. In a cluster it imports such a
// profile into the store instead (once: a profile the store has already
// is not imported again) and runs it under a lease; keepEndpoints takes
// the others up.
func (s *Server) startEndpoints(ctx context.Context) error {
	bs, err := s.db.Businesses(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.SelfHosted {
			continue
		}
		ns, err := s.db.Numbers(ctx, b.ID)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if _, err := os.Stat(filepath.Join(s.endpointDir(n.ID), "device.json")); err != nil {
				continue // kept by another node, or in the store
			}
			if s.clustered() {
				err = s.importEndpoint(ctx, n.ID)
			} else {
				err = s.startEndpoint(ctx, n.ID, nil)
			}
			if err != nil {
				s.log.Error("starting a hosted endpoint", "number", n.ID, "err", err)
			}
		}
	}
	return nil
}

// startEndpoint starts the hosted endpoint of a number, its profile in st
// (a cluster's store, under st's lease) or, when st is nil, in its
// directory.
func (s *Server) startEndpoint(ctx context.Context, number kontor.ID, st *store.EndpointStorage) error {
	const op = "server.startEndpoint"
	n, err := s.db.Number(ctx, number)
	if err != nil {
		return err
	}
	apps, err := s.db.Apps(ctx, n.Business)
	if err != nil || len(apps) == 0 {
		return &kontor.Error{Kind: kontor.Internal, Op: op, Msg: "the business has no app", Err: err}
	}
	biz := n.Business
	mac := hmac.New(sha256.New, []byte(apps[0].Secret))
	mac.Write([]byte("kontor media download URLs"))
	riders := new(router.Riders)
	cfg := endpoint.Config{WABA: biz, Number: n.ID, App: apps[0].ID, Phone: n.Phone, Hosted: true, Dial: s.dialLocal(riders), Riders: riders,
		Operator: s.cfg.OperatorName, NoSync: true,
		SendDeadline: s.cfg.SendDeadline, MinBackoff: s.cfg.EndpointMinBackoff, MaxBackoff: s.cfg.EndpointMaxBackoff,
		MediaDir: filepath.Join(s.endpointDir(n.ID), "media"), LinkClient: s.links, URLKey: mac.Sum(nil), Template: s.tmpls.Lookup(biz),
		Meter: s.ledger, Orders: s.orderMessages(biz), Rules: s.rules,
		Allowance: func(ctx context.Context, category string, at time.Time, id kontor.ID, free int) (bool, error) {
			return s.db.UseAllowance(ctx, number, category, at, id, free)
		},
		Credit: func(ctx context.Context) error { return s.credit.Allow(ctx, biz) },
		Tier: func(ctx context.Context) string {
			n, err := s.db.Number(ctx, number)
			if err != nil {
				return ""
			}
			return n.Tier
		},
		MPS: func(ctx context.Context) int {
			n, err := s.db.Number(ctx, number)
			if err != nil {
				return 0
			}
			return n.MPS
		},
		WebhookURL: func(ctx context.Context) string {
			b, err := s.db.Business(ctx, biz)
			if err != nil {
				return ""
			}
			return b.WebhookURL
		}}
	dir := s.endpointDir(n.ID)
	var prof client.Storage = &client.DirStorage{Dir: dir}
	if st != nil {
		cfg.Storage, dir, prof = st, "", st
		cfg.Media, cfg.MediaDir = storeMedia{db: s.db, number: n.ID}, ""
	}
	if err := s.pointAtSelf(prof); err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: op, Msg: "the hosted endpoint's profile could not be read", Err: err}
	}
	e, err := endpoint.Open(ctx, dir, cfg, s.db, s.hooks, s.ids, s.clock, s.log)
	if err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: op, Msg: "the hosted endpoint could not start", Err: err}
	}
	s.hosted.add(n.ID, e, st)
	return nil
}

// webhookVerifier runs the public verification handshake with client: GET
// the callback with hub.mode=subscribe, hub.verify_token and a random
// hub.challenge; the receiver must answer 200 with the challenge.
func webhookVerifier(client *http.Client) business.Verifier {
	return func(ctx context.Context, callback, token string) error {
		return verifyWebhook(ctx, client, callback, token)
	}
}

func verifyWebhook(ctx context.Context, client *http.Client, callback, token string) error {
	var b [12]byte
	_, _ = rand.Read(b[:])
	challenge := strconv.FormatUint(binary.BigEndian.Uint64(b[:8]), 10)
	u, err := cloudapi.ChallengeURL(callback, token, challenge)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("GET %s: %v", callback, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("it answered HTTP %d", resp.StatusCode)
	}
	if strings.TrimSpace(string(body)) != challenge {
		return fmt.Errorf("it did not answer with hub.challenge")
	}
	return nil
}

// templateStatus sends a business the public message_template_status_update
// webhook of a template's status change, to its webhook URL, signed with
// its app's secret.
func (s *Server) templateStatus(ctx context.Context, c templates.Change) {
	ctx = context.WithoutCancel(ctx) // the change is stored: its webhook goes out even if the caller left
	b, err := s.db.Business(ctx, c.Template.Business)
	if err != nil || b.WebhookURL == "" {
		return
	}
	apps, err := s.db.Apps(ctx, b.ID)
	if err != nil || len(apps) == 0 {
		s.log.Error("a template status webhook has no app to sign it", "business", b.ID, "err", err)
		return
	}
	id, body, err := c.Webhook()
	if err == nil {
		err = s.hooks.Enqueue(ctx, []webhook.Event{{ID: id, App: apps[0].ID, URL: b.WebhookURL, Body: body, Created: c.At}})
	}
	if err != nil {
		s.log.Error("queueing a template status webhook", "template", c.Template.ID, "err", err)
	}
}
