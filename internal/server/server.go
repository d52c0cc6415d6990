package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/adminapi"
	"github.com/kontor-chat/kontor/internal/billing"
	"github.com/kontor-chat/kontor/internal/bizapi"
	"github.com/kontor-chat/kontor/internal/bus"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/config"
	"github.com/kontor-chat/kontor/internal/consoleauth"
	"github.com/kontor-chat/kontor/internal/gateway"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/internal/inbox"
	"github.com/kontor-chat/kontor/internal/keys"
	"github.com/kontor-chat/kontor/internal/media"
	"github.com/kontor-chat/kontor/internal/netguard"
	"github.com/kontor-chat/kontor/internal/payments"
	"github.com/kontor-chat/kontor/internal/realip"
	"github.com/kontor-chat/kontor/internal/relay"
	"github.com/kontor-chat/kontor/internal/router"
	"github.com/kontor-chat/kontor/internal/store"
	"github.com/kontor-chat/kontor/internal/templates"
	"github.com/kontor-chat/kontor/internal/web"
	"github.com/kontor-chat/kontor/internal/web/console"
	"github.com/kontor-chat/kontor/internal/webhook"
)

// Server is one running kontor node.
type Server struct {
	cfg      config.Config
	clock    kontor.Clock
	log      *slog.Logger
	lock     *dirLock
	db       *store.DB
	bus      *bus.Bus
	ident    *identity.Service
	router   *router.Router
	hub      *gateway.Hub
	metrics  *metrics
	ln       net.Listener
	http     *http.Server
	debug    *http.Server // --debug-addr, or nil
	media    *media.Service
	orphans  *media.Orphans // of this node's media directory; housekeeping's
	biz      *business.Service
	ids      *kontor.IDs
	hooks    *webhook.Deliverer
	tmpls    *templates.Service
	hosted   *hostedEndpoints
	ledger   *billing.Ledger
	rules    *billing.RuleBook // which messages are charged (cfg.BillingRules)
	pay      *payments.Service
	sandbox  *payments.Sandbox
	credit   *billing.Credit
	node     int    // this node's number in ids, leased in the store
	holder   string // who holds the lease: this process
	lostNode chan error
	opToken  string
	ready    atomic.Bool
	stopping atomic.Bool
	staff    *consoleauth.Service
	console  *console.Console
	quality  *business.Quality

	// guard keeps the fetches a business chooses (media links, webhook
	// URLs) off private addresses but for cfg.AllowNetworks; links is its
	// client for media links, shared by the hosted endpoints.
	guard *netguard.Guard
	links *http.Client

	// In a cluster (an external NATS) relays serves this node's hosted
	// endpoints and people's media blobs to the other nodes, and remote
	// reaches theirs (internal/relay); both nil on one node.
	relays *relay.Holder
	remote *relay.Remote
}

// Open opens everything a node needs and starts listening; Serve runs it.
// On error, whatever was opened is closed again.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, metrics: newMetrics()}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	if s.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	cacheTTL := cfg.DirectoryCache
	if cacheTTL <= 0 {
		cacheTTL = -1 // off
	}
	if s.db, err = store.Open(ctx, store.Config{URL: cfg.DB, DataDir: cfg.DataDir, Logger: log, CacheTTL: cacheTTL}); err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	s.metrics.reg.MustRegister(newCommitsCollector(s.db.Commits), newRetriesCollector(s.db.Retries))
	busNode := int(kontor.NewIDs(nil, -1).Next() & 0x7fffffff) // random, for telling nodes' hints apart
	if s.bus, err = bus.Open(bus.Config{URL: cfg.NATS, DataDir: cfg.DataDir, Node: busNode, Logger: log}); err != nil {
		return nil, err
	}
	if !s.bus.Embedded() {
		s.relays, s.remote = relay.NewHolder(s.bus, log), relay.NewRemote(s.bus)
	}
	var clock kontor.Clock = kontor.SystemClock{}
	if cfg.Clock != nil {
		clock = cfg.Clock
	}
	if err = s.claimNode(ctx, cfg.Node); err != nil {
		return nil, err
	}
	ids := kontor.NewIDs(clock, s.node)
	s.ids, s.clock = ids, clock

	proxies, err := realip.Parse(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	var sender identity.CodeSender
	var dev *identity.DevSender
	switch {
	case cfg.SMSURL != "":
		sender = &identity.HTTPSender{URL: cfg.SMSURL, Token: cfg.SMSToken}
	case cfg.Dev:
		dev = identity.NewDevSender(log)
		sender = dev
	default:
		sender = noSender{}
	}
	committers := 1
	if s.db.Dialect() == "postgres" {
		committers = 4
	}
	rg := &ringer{bus: s.bus}
	s.router = router.New(router.Config{Committers: committers, TTL: cfg.MessageTTL}, s.db, rg, s.metrics, ids, clock, log)
	s.ident = identity.New(s.db, sender, &notifier{s: s}, ids, clock, log)
	s.hub = gateway.NewHub(gateway.Config{}, s.router, s.ident, s.bus, s.metrics, clock, log)
	rg.hub = s.hub
	if err = s.bus.Subscribe(&busHandler{s: s}); err != nil {
		return nil, err
	}
	// A token, number, business or app changed here: the other nodes
	// forget their cached copy (store/dircache.go).
	s.db.OnDirectoryChange(func(k store.DirKind, id kontor.ID) { s.bus.DirectoryChanged(byte(k), id) })
	if s.opToken, err = s.operatorToken(ctx); err != nil {
		return nil, err
	}
	s.router.Start()

	mux := http.NewServeMux()
	blobs, err := media.NewDir(filepath.Join(cfg.DataDir, "media"))
	if err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	var shared media.Blobs = blobs
	if s.remote != nil { // a blob uploaded through another node is fetched from it
		if err = s.relays.ServeBlobs(blobs, strconv.Itoa(s.node)); err != nil {
			return nil, err
		}
		shared = s.remote.Blobs(blobs)
	}
	s.media = media.New(s.db, shared, cfg.MessageTTL, clock, log)
	s.media.Node = strconv.Itoa(s.node) // its uploads' records name it: the other nodes ask it first
	// Orphans compares file times, which are the machine's: it runs on the
	// wall clock, whatever clock the node runs on.
	s.orphans = media.NewOrphans(blobs, s.db, nil, log)
	shop := commerce.New(s.db, s.db, ids, clock)
	if err = s.openPayments(ids, clock, payments.OnSucceeded(s.commerceFee)); err != nil {
		return nil, err
	}
	(&gateway.API{Ident: s.ident, Keys: keys.New(s.db, clock), Media: s.media, Shops: shops{s: s, shop: shop}, Businesses: shops{s: s, shop: shop}, Pay: payDesk{s}, Reports: reports{s}, Dev: dev, Proxies: proxies, Log: log}).Mount(mux)
	s.biz = business.New(s.db, bizAccounts{s.ident}, ids, clock, log)
	if err = s.checkEndpointsDir(); err != nil {
		return nil, err
	}
	allow, err := netguard.ParseNetworks(cfg.AllowNetworks)
	if err != nil {
		return nil, fmt.Errorf("--allow-networks: %w", err)
	}
	s.guard = netguard.New(allow)
	s.links = s.guard.Client(0) // each fetch has its own deadline
	s.hooks = webhook.New(webhook.Config{Dial: s.guard.DialContext}, s.db, appSecrets{s.db}, nil, clock, log)
	stock := commerce.NewStock(s.db, clock)
	stock.OnAlert = s.hooks.Notify
	s.biz.SetVerifier(webhookVerifier(s.guard.Client(0)))
	s.biz.SetAddressCheck(s.guard.CheckURL)
	s.quality = business.NewQuality(s.db, business.DefaultQualityRules(), clock)
	s.biz.SetQuality(s.quality) // the operator's tier changes send their webhooks too
	prices := billing.New(s.db, ids, clock)
	if err = prices.EnsureExample(ctx); err != nil {
		return nil, fmt.Errorf("the sample price sheet: %w", err)
	}
	if s.rules, err = loadRules(ctx, cfg.BillingRules, s.db); err != nil {
		return nil, err
	}
	s.ledger = billing.NewLedger(prices, s.db, ids, commerce.Exponent)
	s.ledger.UseRules(s.rules)
	s.credit = billing.NewCredit(s.db, s.ledger, commerce.Exponent, ids, clock, 0)
	s.staff = consoleauth.New(consoleauth.Config{}, s.db, ids, clock, log)
	invoices := billing.NewInvoices(s.db, commerce.Exponent, ids, clock)
	(&adminapi.API{Ident: s.ident, Business: s.biz, Commerce: shop, Stock: stock, Hosted: s.hostEndpoint, Webhooks: s.hooks, Prices: prices, Ledger: s.ledger, Rules: s.rules,
		Invoices: invoices, Credit: s.credit, Stats: s.stats, Console: s.staff, Log: log}).Mount(mux)
	con, err := console.New(console.Config{Auth: s.staff, Business: s.biz, Outbox: s.hooks, Clock: clock, Log: log, Commerce: shop, Stock: stock, Proxies: proxies})
	if err != nil {
		return nil, fmt.Errorf("the console's pages: %w", err)
	}
	con.Mount(mux)
	s.console = con
	s.mountConsoleCommerce(con, mux, shop, invoices)
	s.hosted = newHostedEndpoints(s, s.relays, s.remote)
	s.tmpls = templates.New(s.db, ids, clock, log, s.templateStatus)
	console.NewInbox(con, console.InboxConfig{Inbox: inbox.New(s.db, ids, clock), Endpoint: s.consoleEndpoint, Templates: s.tmpls}).Mount(mux)
	// Everything the routes above do not take is the Business API, whose
	// public paths start with a version or an object id.
	mux.Handle("/", &bizapi.API{Orders: orderDesk{s: s, shop: shop, pay: s.pay}, Dir: s.db, Auth: bizAuth{s.biz}, Endpoints: s.hosted, Remote: s.hosted.Remote(), Templates: s.tmpls, Commerce: shop, Stock: stock, Usage: s.db, Metering: selfMeter{s}, Log: log, Proxies: proxies})
	mux.Handle("GET /v1/ws", s.hub)
	web.NewChat().Mount(mux, "/chat") // the web chat: files only, the device runs in the browser
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if s.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.HTTPAddr, err)
	}
	if cfg.DebugAddr != "" {
		if err := s.serveDebug(cfg.DebugAddr); err != nil {
			s.ln.Close()
			return nil, err
		}
	}
	s.ready.Store(true)
	log.Info("kontor is listening", "addr", s.ln.Addr().String(), "store", s.db.Dialect(),
		"bus", map[bool]string{true: "embedded", false: cfg.NATS}[s.bus.Embedded()], "data", cfg.DataDir, "dev", cfg.Dev)
	return s, nil
}

// serveDebug serves Go's profiles on their own listener, away from the
// public API.
func (s *Server) serveDebug(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s for --debug-addr: %w", addr, err)
	}
	// Contended locks and blocking (1 in 100 mutex events; one sample per
	// 100 µs blocked) show in /debug/pprof/mutex and /debug/pprof/block.
	runtime.SetMutexProfileFraction(100)
	runtime.SetBlockProfileRate(100_000)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.debug.Serve(ln) }()
	s.log.Info("serving profiles", "addr", ln.Addr().String())
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// OperatorToken is the operator credential this node accepts.
func (s *Server) OperatorToken() string { return s.opToken }

// Serve serves until ctx ends, then shuts down gracefully: stop accepting,
// close device connections (they reconnect elsewhere), flush pending
// commits, close bus and store. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	go s.housekeeping(ctx)
	go s.qualitySweeps(ctx)
	go s.keepNode(ctx)
	go s.rules.Follow(ctx, rulesReload, s.log)
	s.hooks.Start()
	stopIndex := inbox.StartIndexer(ctx, s.db, s.log) // the console's inbox search
	ectx, stopEndpoints := context.WithCancel(ctx)
	endpointsDone := make(chan struct{})
	go func() {
		defer close(endpointsDone)
		// Hosted endpoints connect to this node like any device, so they
		// start once it serves.
		if err := s.startEndpoints(ectx); err != nil && ectx.Err() == nil {
			s.log.Error("starting hosted endpoints", "err", err)
		}
		if s.clustered() {
			s.keepEndpoints(ectx) // leases, failover (failover.go)
		}
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	case err = <-s.lostNode:
	}
	s.log.Info("shutting down")
	s.ready.Store(false)
	s.stopping.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stopEndpoints()
	select { // no endpoint opens or takes over once they close
	case <-endpointsDone:
	case <-sctx.Done():
	}
	s.hosted.closeAll()
	s.sandbox.Close()
	if err := s.hooks.Close(sctx); err != nil {
		s.log.Warn("stopping webhook delivery", "err", err)
	}
	_ = s.http.Shutdown(sctx) // stops accepting; WebSockets are hijacked and closed by the hub
	s.console.Close()         // stops the console's feed imports
	if s.debug != nil {
		_ = s.debug.Close()
	}
	s.hub.Close()
	stopIndex()
	s.closeAll()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	s.log.Info("stopped")
	return err
}

// closeAll closes what Open opened, in reverse order.
func (s *Server) closeAll() {
	if s.relays != nil {
		s.relays.Close()
	}
	if s.router != nil {
		s.router.Close()
	}
	if s.bus != nil {
		s.bus.Close()
	}
	if s.db != nil {
		if s.holder != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.db.ReleaseNode(ctx, s.node, s.holder)
			cancel()
		}
		if err := s.db.Close(); err != nil {
			s.log.Error("closing the store", "err", err)
		}
	}
	if s.lock != nil {
		s.lock.release()
	}
}

func (s *Server) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	s.sweepOrphans(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.ident.Prune(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning codes failed", "err", err)
			}
			if n, err := s.db.ExpireOrders(ctx, time.Now(), 1000); err != nil && ctx.Err() == nil {
				s.log.Warn("releasing expired order reservations failed", "err", err)
			} else if n > 0 {
				s.log.Info("released the stock of expired orders", "orders", n)
			}
			s.sweepPayments(ctx)
			if _, err := s.staff.Prune(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning console sessions failed", "err", err)
			}
			if n, err := s.media.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("deleting expired media failed", "err", err)
			} else if n > 0 {
				s.log.Info("deleted expired media", "blobs", n)
			}
			if n, err := s.sweepEndpointMedia(ctx, time.Now()); err != nil && ctx.Err() == nil {
				s.log.Warn("deleting hosted endpoints' expired media failed", "err", err)
			} else if n > 0 {
				s.log.Info("deleted hosted endpoints' expired media", "files", n)
			}
			s.sweepOrphans(ctx)
		}
	}
}

// sweepOrphans deletes the next batch of this node's media files whose
// record is gone (a blob-delete hint the node missed).
func (s *Server) sweepOrphans(ctx context.Context) {
	if n, err := s.orphans.Sweep(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("deleting orphaned media files failed", "err", err)
	} else if n > 0 {
		s.log.Info("deleted orphaned media files", "files", n)
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	var problems []string
	if !s.ready.Load() {
		problems = append(problems, "shutting down")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		problems = append(problems, "store: "+err.Error())
	}
	if err := s.bus.Ready(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		http.Error(w, strings.Join(problems, "\n"), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) stats() map[string]any {
	return map[string]any{"connections": s.hub.Count(), "store": s.db.Dialect(), "bus_embedded": s.bus.Embedded()}
}

// operatorToken finds or makes the operator credential: from
// KONTOR_OPERATOR_TOKEN, else DataDir/operator.token (made with mode 0600 on
// first start), and makes sure the store accepts it.
func (s *Server) operatorToken(ctx context.Context) (string, error) {
	tok := s.cfg.OperatorToken
	if tok == "" {
		path := filepath.Join(s.cfg.DataDir, "operator.token")
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			tok = strings.TrimSpace(string(b))
		case errors.Is(err, os.ErrNotExist):
			tok = identity.NewOperatorToken()
			if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
				return "", fmt.Errorf("writing the operator credential: %w", err)
			}
			s.log.Info("created the operator credential", "file", path)
		default:
			return "", fmt.Errorf("reading the operator credential: %w", err)
		}
	}
	if err := s.ident.EnsureOperatorToken(ctx, tok); err != nil {
		return "", fmt.Errorf("storing the operator credential: %w", err)
	}
	return tok, nil
}

// noSender refuses to send codes: the server runs with neither --sms-url nor --dev.
type noSender struct{}

func (noSender) SendCode(context.Context, kontor.Phone, string) error {
	return errors.New("no code sender is configured: start the server with --sms-url URL (or --dev for development)")
}

// ringer delivers committed entries: to connections on this node, and by
// doorbell to whichever node holds the others.
type ringer struct {
	hub *gateway.Hub
	bus *bus.Bus
}

func (r *ringer) Ring(entries []router.Entry) {
	elsewhere := r.hub.Offer(entries)
	if len(elsewhere) == 0 {
		return
	}
	min := map[kontor.ID]kontor.ID{}
	for _, e := range elsewhere {
		if m, ok := min[e.Device]; !ok || e.ID < m {
			min[e.Device] = e.ID
		}
	}
	for d, m := range min {
		r.bus.Doorbell(d, m)
	}
}

// notifier passes identity's changes to this node and the others.
type notifier struct{ s *Server }

func (n *notifier) DevicesChanged(account kontor.ID) {
	n.s.router.DevicesChanged(account)
	n.s.bus.DevicesChanged(account)
}

func (n *notifier) DeviceRemoved(device kontor.ID) {
	n.s.hub.Kick(device)
	n.s.bus.Kick(device)
}

// busHandler takes other nodes' hints.
type busHandler struct{ s *Server }

func (b *busHandler) Ring(device, min kontor.ID)       { b.s.hub.Ring(device, min) }
func (b *busHandler) DevicesChanged(account kontor.ID) { b.s.router.DevicesChanged(account) }
func (b *busHandler) Kick(device kontor.ID)            { b.s.hub.Kick(device) }
func (b *busHandler) RemotePresence(node int, account kontor.ID, online bool, lastSeen int64) {
	b.s.hub.RemotePresence(node, account, online, lastSeen)
}
func (b *busHandler) Typing(to kontor.ID, from kontor.Phone, fromDevice int, on bool) {
	b.s.hub.Typing(to, from, fromDevice, on)
}
func (b *busHandler) DirectoryChanged(kind byte, id kontor.ID) {
	b.s.db.Forget(store.DirKind(kind), id)
}
