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

	"github.com/kontor-chat/kontor/client"
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

// profileFiles keeps the files under e2e/ of a client.Storage: the
// profile directory (client.DirStorage, which writes a temporary file,
// syncs it and renames it over the old one, so a crash leaves the old or
// the new content) or the browser's IndexedDB (package client/idb).
//
// Session records, written on every message, go to the journal instead
// when the Storage is a client.LocalStorage (the profile directory): one
// append each, see journalFile. Elsewhere (IndexedDB) each record is a
// file of its own, replaced with WriteFile.
type profileFiles struct {
	st      client.Storage
	journal *journal // nil unless st is a client.LocalStorage
}

// makeDirs makes the key store's directories in a profile directory with
// mode 0700, as they were before any file is written.
func makeDirs(root string) error {
	if err := os.MkdirAll(filepath.Join(root, sessionsDir), 0o700); err != nil {
		return fmt.Errorf("e2e: making the key store directory: %w", err)
	}
	for _, d := range []string{root, filepath.Join(root, sessionsDir)} {
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("e2e: key store directory: %w", err)
		}
	}
	return nil
}

// isSession tells the names kept in the journal.
func isSession(name string) bool {
	return strings.HasPrefix(name, sessionsDir+"/") && !strings.HasSuffix(name, damagedExt)
}

// openJournal opens the session journal when the storage is a directory,
// once the store is locked, and moves session files of earlier versions
// (one file per record) into it.
func (f *profileFiles) openJournal(log *slog.Logger) error {
	local, ok := f.st.(client.LocalStorage)
	if !ok {
		return nil
	}
	path, err := local.LocalPath(storeDir + "/" + journalFile)
	if err != nil {
		return fmt.Errorf("e2e: opening %s: %w", journalFile, err)
	}
	nosync := !local.Syncs()
	j, err := openJournal(path, nosync, log)
	if err != nil {
		return err
	}
	files, err := f.st.List(storeDir + "/" + sessionsDir)
	if err != nil {
		_ = j.close()
		return fmt.Errorf("e2e: reading the sessions: %w", err)
	}
	var moved []string
	for _, file := range files {
		name := sessionsDir + "/" + file
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		if !j.has(name) { // a record in the journal is newer than a file
			b, err := f.st.ReadFile(storeDir + "/" + name)
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
	if len(moved) > 0 && nosync {
		// The files go; their records must not be only in the page cache.
		if jf, err := os.OpenFile(j.path, os.O_RDONLY, 0); err == nil {
			_ = jf.Sync()
			_ = jf.Close()
		}
	}
	for _, name := range moved {
		if err := f.st.Remove(storeDir + "/" + name); err != nil {
			_ = j.close()
			return fmt.Errorf("e2e: moving %s into the journal: %w", name, err)
		}
	}
	f.journal = j
	return nil
}

func (f *profileFiles) read(name string) ([]byte, error) {
	if f.journal != nil && isSession(name) {
		return f.journal.get(name)
	}
	b, err := f.st.ReadFile(storeDir + "/" + name)
	if err != nil {
		return nil, fmt.Errorf("e2e: reading %s: %w", name, err)
	}
	return b, nil
}

func (f *profileFiles) write(name string, b []byte) error {
	if f.journal != nil && isSession(name) {
		return f.journal.put(name, b)
	}
	if err := f.st.WriteFile(storeDir+"/"+name, b); err != nil {
		return fmt.Errorf("e2e: writing %s: %w", name, err)
	}
	return nil
}

func (f *profileFiles) remove(name string) error {
	if f.journal != nil && isSession(name) {
		return f.journal.del(name)
	}
	if err := f.st.Remove(storeDir + "/" + name); err != nil {
		return fmt.Errorf("e2e: removing %s: %w", name, err)
	}
	return nil
}

// moveAside copies the file to its damaged name, then removes it: a crash
// in between leaves both, which is harmless. A damaged session record of
// the journal is kept as a file of its own, for a look.
func (f *profileFiles) moveAside(name string) error {
	b, err := f.read(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = f.st.WriteFile(storeDir+"/"+name+damagedExt, b)
	}
	if err == nil {
		err = f.remove(name)
	}
	if err != nil {
		return fmt.Errorf("e2e: moving %s aside: %w", name, err)
	}
	return nil
}

func (f *profileFiles) close() error {
	if f.journal == nil {
		return nil
	}
	return f.journal.close()
}

// lock takes the key store's lock.
func (f *profileFiles) lock() (func(), error) {
	unlock, err := f.st.Lock(storeDir + "/" + lockName)
	if errors.Is(err, client.ErrProfileInUse) {
		return nil, fmt.Errorf("%w: %w", ErrInUse, err)
	}
	if err != nil {
		return nil, fmt.Errorf("e2e: locking the key store: %w", err)
	}
	return unlock, nil
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
