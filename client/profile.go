package client

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/wire"
)

// The files of a profile directory (mode 0700; files 0600).
const (
	accountFile = "device.json"   // Account, written once
	stateFile   = "state.json"    // read receipts to send, device lists; replaced atomically
	lockFile    = "lock"          // held (flock) while a Client has the profile open
	convDir     = "conversations" // one append-only log per peer: +E164.jsonl
	convExt     = ".jsonl"        //
	seenMax     = 20000           // ids remembered for dropping redelivered frames
	memoryKeep  = 1000            // messages kept per conversation by a profile in memory
	compactSlop = 1000            // log lines beyond twice the messages before a log is rewritten
)

// ErrNoProfile means the directory holds no registered device.
var ErrNoProfile = errors.New("client: no registered device in this profile")

// ErrProfileInUse means another process has the profile open.
var ErrProfileInUse = errors.New("client: the profile is in use by another process")

// Account is what a profile holds about its device: the server it belongs
// to and its credentials.
type Account struct {
	Server string `json:"server"` // base URL, e.g. http://127.0.0.1:8080
	wire.DeviceCredentials
}

// API returns the device HTTP API acting as this account's device; hc may
// be nil.
func (a Account) API(hc *http.Client) *API {
	return &API{Server: a.Server, Credential: a.Credential, HTTP: hc}
}

// LoadAccount reads the account of the profile in dir without opening the
// profile: it takes no lock and connects nowhere.
func LoadAccount(dir string) (Account, error) {
	return loadAccount(&DirStorage{Dir: dir}, dir)
}

// ReadAccount reads the account of the profile in st, like LoadAccount.
func ReadAccount(st Storage) (Account, error) { return loadAccount(st, "this storage") }

func loadAccount(st Storage, where string) (Account, error) {
	var a Account
	b, err := st.ReadFile(accountFile)
	if errors.Is(err, fs.ErrNotExist) {
		return a, fmt.Errorf("%w: %s (register or link a device first)", ErrNoProfile, where)
	}
	if err != nil {
		return a, fmt.Errorf("client: reading the profile: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("client: the profile's %s is damaged: %w", accountFile, err)
	}
	if a.Server == "" || a.Credential == "" || a.DeviceID < 1 {
		return a, fmt.Errorf("client: the profile's %s is incomplete", accountFile)
	}
	return a, nil
}

// createProfile makes dir (0700) and writes its account; it refuses a
// directory that already holds one.
func createProfile(dir string, a Account) error {
	if err := os.MkdirAll(filepath.Join(dir, convDir), 0o700); err != nil {
		return fmt.Errorf("client: making the profile directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("client: profile directory: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, accountFile)); err == nil {
		old, _ := LoadAccount(dir)
		return fmt.Errorf("client: %s already holds device %d of %s; use another profile directory", dir, old.DeviceID, old.Phone)
	}
	return writeAccount(&DirStorage{Dir: dir}, a)
}

// writeAccount writes the account file of a new profile.
func writeAccount(st Storage, a Account) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return st.WriteFile(accountFile, b)
}

// createIn writes a new profile's account into st, which must not hold one.
func createIn(st Storage, a Account) error {
	if err := checkStorage(st); err != nil {
		return err
	}
	return writeAccount(st, a)
}

// checkStorage fails when st already holds a device.
func checkStorage(st Storage) error {
	if a, err := ReadAccount(st); err == nil {
		return fmt.Errorf("client: this storage already holds device %d of %s; remove it first", a.DeviceID, a.Phone)
	}
	return nil
}

// checkProfileDir fails early when dir already holds a device, before a
// registration spends a code on it.
func checkProfileDir(dir string) error {
	if dir == "" {
		return errors.New("client: no profile directory given")
	}
	if a, err := LoadAccount(dir); err == nil {
		return fmt.Errorf("client: %s already holds device %d of %s; use another profile directory", dir, a.DeviceID, a.Phone)
	}
	return nil
}

// record is one line of a conversation log: a message, or a change of
// status of messages named by ref or ids.
type record struct {
	Msg *Message `json:"msg,omitempty"`

	Ref     string      `json:"ref,omitempty"` // an outgoing message of this device, which gets ID and TS when sent
	ID      kontor.ID   `json:"id,omitempty"`
	TS      int64       `json:"ts,omitempty"`
	IDs     []kontor.ID `json:"ids,omitempty"`
	Status  string      `json:"status,omitempty"`
	Problem string      `json:"problem,omitempty"`

	// Frame is the id of the receipt frame that brought the change, kept to
	// drop it when it comes again; Frames is a compacted list of them.
	Frame  kontor.ID   `json:"frame,omitempty"`
	Frames []kontor.ID `json:"frames,omitempty"`
}

// change is a record for the log of peer.
type change struct {
	peer kontor.Phone
	rec  record
}

// state is the content of state.json.
type state struct {
	V int `json:"v"`
	// Reads are read receipts marked here but not yet written to the server.
	Reads map[kontor.Phone][]kontor.ID `json:"reads,omitempty"`
	// Devices caches the device ids of accounts, own included.
	Devices map[kontor.Phone][]int `json:"devices,omitempty"`
}

type conversation struct {
	msgs   []*Message
	unread int
}

// profile holds a device's state in memory and, unless files is nil, in its
// Storage. It is safe for concurrent use; mu is a leaf lock (but for the
// leaf session.mu that outbox's skip may take), never held over network
// I/O or Sealer calls.
type profile struct {
	files   Storage      // nil for a profile in memory
	local   LocalStorage // files, when it is a directory (kept-open logs)
	account Account
	unlock  func()
	log     *slog.Logger

	mu      sync.Mutex
	convs   map[kontor.Phone]*conversation
	byID    map[kontor.ID]*Message
	byRef   map[string]*Message
	pending map[string]*Message  // the outbox: outgoing messages of this device not yet committed
	seen    idSet                // msg and receipt frame ids already handled
	orphans map[kontor.ID]string // statuses from receipts that came before their message's id was known
	st      state
	seq     uint64
	closed  bool // after close nothing is written
	// logs are conversation logs kept open for appending (at most
	// maxOpenLogs): an append is then one write, not an open, a stat, a
	// write and a close — a business endpoint appends to a log three
	// times per message it sends.
	logs map[kontor.Phone]*os.File
	// logBuf and logEnc encode the records of a write to the logs of a
	// LocalStorage, whose append is done with them when it returns: a
	// buffer, an encoder and a map per write were a tenth of the
	// allocations of a business endpoint's send.
	logBuf bytes.Buffer
	logEnc *json.Encoder
}

// maxOpenLogs bounds the conversation logs a profile keeps open.
const maxOpenLogs = 64

func newProfile(a Account, log *slog.Logger) *profile {
	return &profile{account: a, log: log, convs: map[kontor.Phone]*conversation{},
		byID: map[kontor.ID]*Message{}, byRef: map[string]*Message{}, pending: map[string]*Message{},
		orphans: map[kontor.ID]string{}, seen: newIDSet(seenMax), st: state{V: 1}}
}

// openProfile locks the profile in st and loads it; where names it in
// errors. A nil st gives a profile in memory for the account mem.
func openProfile(st Storage, where string, mem *Account, log *slog.Logger) (*profile, error) {
	if st == nil {
		if mem == nil || mem.Server == "" || mem.Credential == "" {
			return nil, errors.New("client: a client without a profile directory needs Options.Account")
		}
		return newProfile(*mem, log), nil
	}
	a, err := loadAccount(st, where)
	if err != nil {
		return nil, err
	}
	unlock, err := st.Lock(lockFile)
	if err != nil {
		return nil, err
	}
	p := newProfile(a, log)
	p.files, p.unlock = st, unlock
	p.local, _ = st.(LocalStorage)
	if err := p.load(); err != nil {
		unlock()
		return nil, err
	}
	return p, nil
}

func (p *profile) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed && p.unlock != nil {
		p.unlock()
	}
	for peer, f := range p.logs {
		_ = f.Close()
		delete(p.logs, peer)
	}
	p.closed = true
}

func (p *profile) load() error {
	b, err := p.files.ReadFile(stateFile)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &p.st); err != nil {
			p.log.Warn("profile state is damaged; starting it afresh", "err", err)
			p.st = state{V: 1}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("client: reading the profile: %w", err)
	}
	names, err := p.files.List(convDir)
	if err != nil {
		return fmt.Errorf("client: reading the conversations: %w", err)
	}
	var seen []kontor.ID
	for _, file := range names {
		name, ok := strings.CutSuffix(file, convExt)
		if !ok {
			continue
		}
		peer, err := kontor.ParsePhone(name)
		if err != nil || string(peer) != name {
			continue
		}
		ids, err := p.loadLog(peer)
		if err != nil {
			return err
		}
		seen = append(seen, ids...)
	}
	slices.Sort(seen)
	for _, id := range seen[max(0, len(seen)-seenMax):] {
		p.seen.add(id)
	}
	return nil
}

// loadLog replays one conversation log. A torn last line (a crash in the
// middle of an append) is cut off; a log much longer than its messages is
// rewritten compactly.
func (p *profile) loadLog(peer kontor.Phone) (seen []kontor.ID, err error) {
	name := logName(peer)
	b, err := p.files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("client: reading the conversation with %s: %w", peer, err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i != len(b)-1 {
		p.log.Warn("cutting off a torn last line of a conversation log", "peer", string(peer))
		if err := p.files.WriteFile(name, b[:i+1]); err != nil {
			return nil, fmt.Errorf("client: repairing the conversation with %s: %w", peer, err)
		}
		b = b[:i+1]
	}
	lines := 0
	var frames []kontor.ID
	for line := range bytes.Lines(b) {
		lines++
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			p.log.Warn("skipping a damaged line of a conversation log", "peer", string(peer), "err", err)
			continue
		}
		if r.Msg != nil && r.Msg.ID != 0 {
			seen = append(seen, r.Msg.ID)
		}
		if r.Frame != 0 {
			frames = append(frames, r.Frame)
		}
		frames = append(frames, r.Frames...)
		p.applyLocked(peer, &r)
	}
	seen = append(seen, frames...)
	if c := p.convs[peer]; c != nil && lines > 2*len(c.msgs)+compactSlop {
		if err := p.compactLocked(peer, frames); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// compactLocked rewrites the log of peer as its messages with their current
// status, plus the newest receipt frame ids.
func (p *profile) compactLocked(peer kontor.Phone, frames []kontor.ID) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, m := range p.convs[peer].msgs {
		if err := enc.Encode(record{Msg: m}); err != nil {
			return err
		}
	}
	slices.Sort(frames)
	if n := len(frames); n > 0 {
		if err := enc.Encode(record{Frames: frames[max(0, n-wire.MaxAckIDs):]}); err != nil {
			return err
		}
	}
	if f := p.logs[peer]; f != nil { // it would append to the replaced file
		_ = f.Close()
		delete(p.logs, peer)
	}
	return p.files.WriteFile(logName(peer), buf.Bytes())
}

// logName names the conversation log of peer.
func logName(peer kontor.Phone) string { return convDir + "/" + string(peer) + convExt }

// write makes changes durable (one append and fsync per conversation log)
// and then applies them. On error nothing is applied.
func (p *profile) write(changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writeLocked(changes)
}

func (p *profile) writeLocked(changes []change) error {
	if p.closed {
		return ErrClosed
	}
	if p.files != nil && p.local != nil && onePeer(changes) {
		if p.logEnc == nil || p.logBuf.Cap() > 64<<10 {
			p.logBuf = bytes.Buffer{}
			p.logEnc = json.NewEncoder(&p.logBuf)
		}
		p.logBuf.Reset()
		for i := range changes {
			if err := p.logEnc.Encode(&changes[i].rec); err != nil {
				return fmt.Errorf("client: recording: %w", err)
			}
		}
		if err := p.appendLocked(changes[0].peer, p.logBuf.Bytes()); err != nil {
			return fmt.Errorf("client: recording the conversation with %s: %w", changes[0].peer, err)
		}
	} else if p.files != nil {
		bufs := map[kontor.Phone]*bytes.Buffer{}
		var order []kontor.Phone
		for i := range changes {
			c := &changes[i]
			buf := bufs[c.peer]
			if buf == nil {
				buf = new(bytes.Buffer)
				bufs[c.peer] = buf
				order = append(order, c.peer)
			}
			if err := json.NewEncoder(buf).Encode(&c.rec); err != nil {
				return fmt.Errorf("client: recording: %w", err)
			}
		}
		for _, peer := range order {
			if err := p.appendLocked(peer, bufs[peer].Bytes()); err != nil {
				return fmt.Errorf("client: recording the conversation with %s: %w", peer, err)
			}
		}
	}
	for i := range changes {
		p.applyLocked(changes[i].peer, &changes[i].rec)
	}
	return nil
}

// onePeer reports whether every change is to the same conversation.
func onePeer(changes []change) bool {
	for i := range changes {
		if changes[i].peer != changes[0].peer {
			return false
		}
	}
	return true
}

// appendLocked appends b to the log of peer. In a LocalStorage (the
// profile directory) that is one write and, unless NoSync, an fsync, and
// the log stays open for the next append; in another Storage (IndexedDB,
// memory) it is the Storage's AppendFile.
func (p *profile) appendLocked(peer kontor.Phone, b []byte) error {
	if p.local == nil {
		return p.files.AppendFile(logName(peer), b)
	}
	nosync := !p.local.Syncs()
	f := p.logs[peer]
	if f == nil {
		path, err := p.local.LocalPath(logName(peer))
		if err != nil {
			return err
		}
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			return err
		}
		if info, err := f.Stat(); err == nil && info.Size() == 0 && !nosync {
			syncDir(filepath.Dir(path)) // a new log: make its name durable too
		}
		if p.logs == nil {
			p.logs = map[kontor.Phone]*os.File{}
		}
		for other, g := range p.logs { // full: close any one
			if len(p.logs) < maxOpenLogs {
				break
			}
			_ = g.Close()
			delete(p.logs, other)
		}
		p.logs[peer] = f
	}
	_, err := f.Write(b)
	if err == nil && !nosync {
		err = f.Sync()
	}
	if err != nil {
		// Opened again next time (a short write leaves a torn line, cut
		// off when the profile is loaded).
		_ = f.Close()
		delete(p.logs, peer)
	}
	return err
}

// applyLocked changes the state in memory by one record.
func (p *profile) applyLocked(peer kontor.Phone, r *record) {
	if r.Frame != 0 {
		p.seen.add(r.Frame)
	}
	if m := r.Msg; m != nil {
		if (m.ID != 0 && p.byID[m.ID] != nil) || (m.Ref != "" && p.byRef[m.Ref] != nil) {
			return // a duplicate
		}
		cp := *m
		cp.Peer = peer
		p.seq++
		cp.seq = p.seq
		c := p.convs[peer]
		if c == nil {
			c = &conversation{}
			p.convs[peer] = c
		}
		c.msgs = append(c.msgs, &cp)
		if cp.ID != 0 {
			p.byID[cp.ID] = &cp
			p.seen.add(cp.ID)
			p.adoptLocked(&cp)
		}
		if cp.Ref != "" {
			p.byRef[cp.Ref] = &cp
			if cp.Status == StatusPending {
				p.pending[cp.Ref] = &cp
			}
		}
		if !cp.Outgoing && cp.Status != StatusRead {
			c.unread++
		}
		if p.files == nil && len(c.msgs) > memoryKeep {
			p.forgetLocked(c, c.msgs[0])
			c.msgs = slices.Delete(c.msgs, 0, 1)
		}
		return
	}
	if r.Ref != "" {
		if m := p.byRef[r.Ref]; m != nil {
			if r.ID != 0 && m.ID == 0 {
				m.ID, m.TS = r.ID, r.TS
				p.byID[m.ID] = m
			}
			p.setStatusLocked(m, r.Status, r.Problem)
			p.adoptLocked(m)
		}
	}
	for _, id := range r.IDs {
		if m := p.byID[id]; m != nil {
			p.setStatusLocked(m, r.Status, r.Problem)
		} else if rank(r.Status) > rank(p.orphans[id]) {
			// A receipt can overtake the answer to the send (or the sync
			// copy) that tells this device the message's id.
			if len(p.orphans) >= seenMax {
				clear(p.orphans)
			}
			p.orphans[id] = r.Status
		}
	}
}

// adoptLocked gives m a status that a receipt brought before m had its id.
func (p *profile) adoptLocked(m *Message) {
	if st, ok := p.orphans[m.ID]; ok {
		delete(p.orphans, m.ID)
		p.setStatusLocked(m, st, "")
	}
}

func (p *profile) forgetLocked(c *conversation, m *Message) {
	if m.ID != 0 {
		delete(p.byID, m.ID)
	}
	if m.Ref != "" {
		delete(p.byRef, m.Ref)
		delete(p.pending, m.Ref)
	}
	if !m.Outgoing && m.Status != StatusRead {
		c.unread--
	}
}

func (p *profile) setStatusLocked(m *Message, status, problem string) {
	if rank(status) <= rank(m.Status) {
		return
	}
	if !m.Outgoing && status == StatusRead && m.Status != StatusRead {
		if c := p.convs[m.Peer]; c != nil {
			c.unread--
		}
	}
	if m.Status == StatusPending {
		delete(p.pending, m.Ref)
		m.Note = nil // told with the answer; not kept in the history
	}
	m.Status = status
	if problem != "" {
		m.Problem = problem
	}
}

// seenID reports whether a msg or receipt frame with id was handled before.
func (p *profile) seenID(id kontor.ID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen.has(id) || p.byID[id] != nil
}

// markSeen remembers the id of a frame that was dropped rather than
// recorded (in memory only: such frames are dropped again anyway).
func (p *profile) markSeen(id kontor.ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen.add(id)
}

// peerOf returns the conversation the message with id belongs to.
func (p *profile) peerOf(id kontor.ID) (kontor.Phone, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.byID[id]; m != nil {
		return m.Peer, true
	}
	return "", false
}

// outbox returns copies of the messages waiting to be sent, oldest first,
// but for those skip (if not nil) reports true for. skip is called with
// p.mu held and may take only leaf locks: a sender skips the messages in
// flight on its connection (session.isInflight) without copying them —
// a business endpoint's outbox holds dozens of them at once, and each of
// its sends wakes the sender.
func (p *profile) outbox(skip func(ref string) bool) []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Message // grown as needed: most of it is skipped, usually
	if skip == nil {
		out = make([]Message, 0, len(p.pending))
	}
	for _, m := range p.pending {
		if skip != nil && skip(m.Ref) {
			continue
		}
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Message) int {
		return cmp.Or(cmp.Compare(a.TS, b.TS), cmp.Compare(a.seq, b.seq))
	})
	return out
}

// messageByRef returns a copy of the message with ref.
func (p *profile) messageByRef(ref string) (Message, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.byRef[ref]; m != nil {
		return *m, true
	}
	return Message{}, false
}

// markRead records that the incoming messages ids of peer (all unread ones
// when ids is empty) were read here, and queues their read receipts. It
// returns the ids whose status changed.
func (p *profile) markRead(peer kontor.Phone, ids []kontor.ID) ([]kontor.ID, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.convs[peer]
	if c == nil {
		return nil, nil
	}
	var changed []kontor.ID
	if len(ids) == 0 {
		for _, m := range c.msgs {
			if !m.Outgoing && m.ID != 0 && m.Status != StatusRead {
				changed = append(changed, m.ID)
			}
		}
	} else {
		for _, id := range ids {
			if m := p.byID[id]; m != nil && m.Peer == peer && !m.Outgoing && m.Status != StatusRead {
				changed = append(changed, id)
			}
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := p.writeLocked([]change{{peer, record{IDs: changed, Status: StatusRead}}}); err != nil {
		return nil, err
	}
	if p.st.Reads == nil {
		p.st.Reads = map[kontor.Phone][]kontor.ID{}
	}
	p.st.Reads[peer] = append(p.st.Reads[peer], changed...)
	if err := p.saveStateLocked(); err != nil {
		// Kept in memory, the receipts still go out while this process runs.
		p.log.Warn("saving the profile state failed", "err", err)
	}
	return changed, nil
}

// reads returns the read receipts waiting to be written to the server.
func (p *profile) reads() map[kontor.Phone][]kontor.ID {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[kontor.Phone][]kontor.ID, len(p.st.Reads))
	for k, v := range p.st.Reads {
		out[k] = slices.Clone(v)
	}
	return out
}

// readsSent forgets read receipts that were written to the server.
func (p *profile) readsSent(peer kontor.Phone, ids []kontor.ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	left := slices.DeleteFunc(slices.Clone(p.st.Reads[peer]), func(id kontor.ID) bool { return slices.Contains(ids, id) })
	if len(left) == 0 {
		delete(p.st.Reads, peer)
	} else {
		p.st.Reads[peer] = left
	}
	if err := p.saveStateLocked(); err != nil {
		p.log.Warn("saving the profile state failed", "err", err) // the receipts are sent again later: harmless
	}
}

// devices returns the cached device ids of phone.
func (p *profile) devices(phone kontor.Phone) ([]int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ds, ok := p.st.Devices[phone]
	return slices.Clone(ds), ok
}

// setDevices caches the device ids of phone; nil forgets them.
func (p *profile) setDevices(phone kontor.Phone, ids []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st.Devices == nil {
		p.st.Devices = map[kontor.Phone][]int{}
	}
	if ids == nil {
		delete(p.st.Devices, phone)
	} else {
		p.st.Devices[phone] = slices.Clone(ids)
	}
	if err := p.saveStateLocked(); err != nil {
		p.log.Warn("saving the profile state failed", "err", err) // a cache: fetched again when needed
	}
}

func (p *profile) saveStateLocked() error {
	if p.closed {
		return ErrClosed
	}
	if p.files == nil {
		return nil
	}
	b, err := json.Marshal(&p.st)
	if err != nil {
		return err
	}
	return p.files.WriteFile(stateFile, b)
}

// conversations summarizes all conversations, newest first.
func (p *profile) conversations() []Conversation {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Conversation, 0, len(p.convs))
	for peer, c := range p.convs {
		if len(c.msgs) == 0 {
			continue
		}
		out = append(out, Conversation{Peer: peer, Unread: c.unread, Last: *c.msgs[len(c.msgs)-1]})
	}
	slices.SortFunc(out, func(a, b Conversation) int {
		return cmp.Or(cmp.Compare(b.Last.TS, a.Last.TS), strings.Compare(string(a.Peer), string(b.Peer)))
	})
	return out
}

// history returns copies of the last limit messages with peer (all if
// limit <= 0), oldest first.
func (p *profile) history(peer kontor.Phone, limit int) []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.convs[peer]
	if c == nil {
		return nil
	}
	ms := c.msgs
	if limit > 0 && len(ms) > limit {
		ms = ms[len(ms)-limit:]
	}
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = *m
	}
	return out
}

// idSet is a set of ids that forgets the oldest beyond its size.
type idSet struct {
	m    map[kontor.ID]struct{}
	ring []kontor.ID
	next int
}

func newIDSet(size int) idSet {
	return idSet{m: make(map[kontor.ID]struct{}, 64), ring: make([]kontor.ID, size)}
}

func (s *idSet) has(id kontor.ID) bool {
	_, ok := s.m[id]
	return ok
}

func (s *idSet) add(id kontor.ID) {
	if s.has(id) {
		return
	}
	if old := s.ring[s.next]; old != 0 {
		delete(s.m, old)
	}
	s.ring[s.next] = id
	s.next = (s.next + 1) % len(s.ring)
	s.m[id] = struct{}{}
}

// CreateProfile writes a new profile in dir for a device whose credentials
// came another way (a business endpoint the platform registered); dir must
// not hold a device yet.
func CreateProfile(dir string, a Account) error { return createProfile(dir, a) }

// CreateProfileIn writes the account of a new profile into st (a profile
// kept elsewhere than in a directory: a hosted endpoint's in a cluster's
// database); it refuses a storage that already holds one.
func CreateProfileIn(st Storage, a Account) error { return createIn(st, a) }
