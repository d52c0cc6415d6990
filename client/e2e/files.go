package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/kontor-chat/kontor/wire"
)

// The files of the key store, under PROFILE/e2e (mode 0700; files 0600).
const (
	storeDir     = "e2e"
	identityFile = "identity.json" // this device's identity key pair and registration id; written once
	preKeysFile  = "prekeys.json"  // one-time and signed prekeys (private halves), replaced atomically
	peersFile    = "peers.json"    // peers' identity keys, verifications, notices; replaced atomically
	sessionsDir  = "sessions"      // names of session records (+E164.N.json), kept in journalFile; damaged ones set aside here
	lockName     = "lock"          // flock held while a Sealer has the store open
	damagedExt   = ".damaged"      // a session file that could not be read, kept for a look
)

// sessionFile names the session file of a peer device.
func sessionFile(a wire.DeviceAddress) string {
	return sessionsDir + "/" + string(a.Phone) + "." + strconv.Itoa(a.DeviceID) + ".json"
}

// storage holds the key store's files. Every write replaces a whole file
// atomically. Callers serialise access to each file.
type storage interface {
	// read returns a file's content; an error wrapping fs.ErrNotExist when
	// there is none.
	read(name string) ([]byte, error)
	// write replaces a file.
	write(name string, b []byte) error
	// remove deletes a file; a missing file is no error.
	remove(name string) error
	// moveAside keeps a damaged file under another name, out of the way.
	moveAside(name string) error
	// close releases what the storage holds open.
	close() error
}

// diskStorage keeps the files in a directory: each write goes to a
// temporary file that is synced and renamed over the old one, and the
// directory is synced, so a crash leaves the old or the new content.
// Session records, written on every message, go to the journal instead
// (one append each; see journalFile).
type diskStorage struct {
	root    string
	nosync  bool // Options.NoSync
	journal *journal
}

// isSession tells the names kept in the journal.
func isSession(name string) bool {
	return strings.HasPrefix(name, sessionsDir+"/") && !strings.HasSuffix(name, damagedExt)
}

// openJournal opens the session journal, once the store is locked, and
// moves session files of earlier versions (one file per record) into it.
func (d *diskStorage) openJournal(log *slog.Logger) error {
	j, err := openJournal(filepath.Join(d.root, journalFile), d.nosync, log)
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(filepath.Join(d.root, sessionsDir))
	if err != nil {
		_ = j.close()
		return fmt.Errorf("e2e: reading the sessions: %w", err)
	}
	var moved []string
	for _, e := range ents {
		name := sessionsDir + "/" + e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !j.has(name) { // a record in the journal is newer than a file
			b, err := os.ReadFile(d.path(name))
			if err == nil {
				err = j.put(name, b)
			}
			if err != nil {
				_ = j.close()
				return fmt.Errorf("e2e: moving %s into the journal: %w", name, err)
			}
		}
		moved = append(moved, name)
	}
	if len(moved) > 0 && d.nosync {
		// The files go; their records must not be only in the page cache.
		if f, err := os.OpenFile(j.path, os.O_RDONLY, 0); err == nil {
			_ = f.Sync()
			_ = f.Close()
		}
	}
	for _, name := range moved {
		if err := os.Remove(d.path(name)); err != nil {
			_ = j.close()
			return fmt.Errorf("e2e: moving %s into the journal: %w", name, err)
		}
	}
	d.journal = j
	return nil
}

func openDisk(root string) (*diskStorage, error) {
	if err := os.MkdirAll(filepath.Join(root, sessionsDir), 0o700); err != nil {
		return nil, fmt.Errorf("e2e: making the key store directory: %w", err)
	}
	for _, d := range []string{root, filepath.Join(root, sessionsDir)} {
		if err := os.Chmod(d, 0o700); err != nil {
			return nil, fmt.Errorf("e2e: key store directory: %w", err)
		}
	}
	return &diskStorage{root: root}, nil
}

func (d *diskStorage) path(name string) string {
	return filepath.Join(d.root, filepath.FromSlash(name))
}

func (d *diskStorage) read(name string) ([]byte, error) {
	if isSession(name) {
		return d.journal.get(name)
	}
	b, err := os.ReadFile(d.path(name))
	if err != nil {
		return nil, fmt.Errorf("e2e: reading %s: %w", name, err)
	}
	return b, nil
}

func (d *diskStorage) write(name string, b []byte) error {
	if isSession(name) {
		return d.journal.put(name, b)
	}
	dir := filepath.Dir(d.path(name))
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*") // mode 0600
	if err != nil {
		return fmt.Errorf("e2e: writing %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil && !d.nosync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, d.path(name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("e2e: writing %s: %w", name, err)
	}
	if !d.nosync {
		syncDir(dir)
	}
	return nil
}

func (d *diskStorage) remove(name string) error {
	if isSession(name) {
		return d.journal.del(name)
	}
	if err := os.Remove(d.path(name)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("e2e: removing %s: %w", name, err)
	}
	syncDir(filepath.Dir(d.path(name)))
	return nil
}

func (d *diskStorage) moveAside(name string) error {
	if isSession(name) {
		// Kept as a file of its own, for a look; gone from the journal.
		b, err := d.journal.get(name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(d.path(name)+damagedExt, b, 0o600); err != nil {
			return fmt.Errorf("e2e: moving %s aside: %w", name, err)
		}
		return d.journal.del(name)
	}
	if err := os.Rename(d.path(name), d.path(name)+damagedExt); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("e2e: moving %s aside: %w", name, err)
	}
	syncDir(filepath.Dir(d.path(name)))
	return nil
}

func (d *diskStorage) close() error {
	if d.journal == nil {
		return nil
	}
	return d.journal.close()
}

// syncDir makes a rename or a new file in dir durable. Not every system can
// sync a directory; where it fails there is nothing better to do.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}

// memStorage keeps the files in memory: a Sealer without a profile
// directory (tests, load generators).
type memStorage struct {
	mu    sync.Mutex // leaf
	files map[string][]byte
}

func newMem() *memStorage { return &memStorage{files: map[string][]byte{}} }

func (m *memStorage) read(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("e2e: reading %s: %w", name, fs.ErrNotExist)
	}
	return append([]byte(nil), b...), nil
}

func (m *memStorage) write(name string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = append([]byte(nil), b...)
	return nil
}

func (m *memStorage) remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	return nil
}

func (m *memStorage) close() error { return nil }

func (m *memStorage) moveAside(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.files[name]; ok {
		m.files[name+damagedExt] = b
		delete(m.files, name)
	}
	return nil
}
