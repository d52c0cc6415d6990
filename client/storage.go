package client

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Storage keeps the files of a profile: small named blobs whose names are
// slash-separated paths ("device.json", "conversations/+4915112345678.jsonl",
// "e2e/identity.json"). A profile directory is one Storage (DirStorage); a
// browser's IndexedDB is another (package client/idb, for the web chat).
// Package e2e keeps its key store under "e2e/" of the same Storage.
//
// Callers serialise writes to each file; a Storage must be safe for
// concurrent use on different files.
type Storage interface {
	// ReadFile returns the content of name, or an error wrapping
	// fs.ErrNotExist when there is none.
	ReadFile(name string) ([]byte, error)
	// WriteFile replaces name with b atomically: a reader, or whatever a
	// crash leaves, sees the old content or the new, never a mix.
	WriteFile(name string, b []byte) error
	// AppendFile appends b to name, creating it. After a crash the file
	// may end in a torn piece of b; readers cut such a piece off.
	AppendFile(name string, b []byte) error
	// List returns the names (without dir) of the files directly in dir
	// ("" for the top), sorted.
	List(dir string) ([]string, error)
	// Remove deletes name; a missing file is no error.
	Remove(name string) error
	// Lock takes the exclusive lock called name, so that two processes (or
	// browser tabs) never write the same files; an error wrapping
	// ErrProfileInUse when another holds it. unlock releases it.
	Lock(name string) (unlock func(), err error)
}

// LocalStorage is an optional capability of a Storage whose files are
// files of the operating system (DirStorage). Users that write often look
// for it and then do better than WriteFile and AppendFile: package e2e
// keeps its session records in one append-only journal file (one write
// per record instead of a file rewritten per message), and the profile
// keeps its conversation logs open for appending. With a Storage that
// lacks it (IndexedDB, memory) they use WriteFile and AppendFile.
type LocalStorage interface {
	Storage
	// LocalPath returns the file system path of name; its directory
	// exists (made with mode 0700).
	LocalPath(name string) (string, error)
	// Syncs tells whether writes are to be made durable with fsync (false
	// with DirStorage.NoSync).
	Syncs() bool
}

// DirStorage is a Storage in a directory of the file system: WriteFile
// writes a temporary file, syncs it, renames it over the old one and syncs
// the directory; AppendFile is one write and a sync. Directories are made
// with mode 0700 and files with 0600 as they are needed; Lock is an
// advisory flock where the system has one.
type DirStorage struct {
	Dir string
	// NoSync skips the fsyncs (see Options.NoSync).
	NoSync bool
}

func (d *DirStorage) path(name string) (string, error) {
	if name == "" || !fs.ValidPath(name) {
		return "", fmt.Errorf("client: %q is not a file name of a profile", name)
	}
	return filepath.Join(d.Dir, filepath.FromSlash(name)), nil
}

// LocalPath returns the path of Dir/name, making its directory.
func (d *DirStorage) LocalPath(name string) (string, error) {
	p, err := d.path(name)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("client: %s: %w", name, err)
	}
	return p, nil
}

// Syncs is !NoSync.
func (d *DirStorage) Syncs() bool { return !d.NoSync }

// ReadFile reads Dir/name.
func (d *DirStorage) ReadFile(name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// WriteFile replaces Dir/name atomically.
func (d *DirStorage) WriteFile(name string, b []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(p)
	f, err := os.CreateTemp(dir, "."+base+".tmp*") // mode 0600
	if errors.Is(err, fs.ErrNotExist) {            // the first file of its directory
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("client: writing %s: %w", name, err)
		}
		f, err = os.CreateTemp(dir, "."+base+".tmp*")
	}
	if err != nil {
		return fmt.Errorf("client: writing %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil && !d.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("client: writing %s: %w", name, err)
	}
	if !d.NoSync {
		syncDir(dir)
	}
	return nil
}

// AppendFile appends b to Dir/name with one write and, unless NoSync, a
// sync (and a sync of the directory when the file is new).
func (d *DirStorage) AppendFile(name string, b []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrNotExist) { // the first file of its directory
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	}
	if err != nil {
		return err
	}
	info, _ := f.Stat()
	_, err = f.Write(b)
	if err == nil && !d.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !d.NoSync && info != nil && info.Size() == 0 {
		syncDir(filepath.Dir(p)) // a new file: make its name durable too
	}
	return err
}

// List lists the regular files in Dir/dir, skipping temporary ones; a
// missing directory is empty.
func (d *DirStorage) List(dir string) ([]string, error) {
	p := d.Dir
	if dir != "" {
		var err error
		if p, err = d.path(dir); err != nil {
			return nil, err
		}
	}
	ents, err := os.ReadDir(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names, nil // os.ReadDir sorts
}

// Remove deletes Dir/name.
func (d *DirStorage) Remove(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if !d.NoSync {
		syncDir(filepath.Dir(p))
	}
	return nil
}

// Lock flocks Dir/name.
func (d *DirStorage) Lock(name string) (func(), error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("client: locking the profile: %w", err)
	}
	return lockProfile(p)
}

// syncDir makes a rename or a new file in dir durable. Not every system can
// sync a directory; where it fails there is nothing better to do.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// MemStorage is a Storage in memory, lost with the process: for tests and
// for trying a Storage's users without a disk. The zero value is empty and
// ready.
type MemStorage struct {
	mu    sync.Mutex // leaf
	files map[string][]byte
	locks map[string]bool
}

// ReadFile returns a copy of name's content.
func (m *MemStorage) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("client: reading %s: %w", name, fs.ErrNotExist)
	}
	return slices.Clone(b), nil
}

// WriteFile replaces name.
func (m *MemStorage) WriteFile(name string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[name] = slices.Clone(b)
	return nil
}

// AppendFile appends to name.
func (m *MemStorage) AppendFile(name string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[name] = append(m.files[name], b...)
	return nil
}

// List lists the files directly in dir.
func (m *MemStorage) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for name := range m.files {
		if path.Dir(name) == path.Clean("./"+dir) {
			names = append(names, path.Base(name))
		}
	}
	slices.Sort(names)
	return names, nil
}

// Remove deletes name.
func (m *MemStorage) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	return nil
}

// Lock takes the lock name within this MemStorage.
func (m *MemStorage) Lock(name string) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[name] {
		return nil, fmt.Errorf("%w (%s)", ErrProfileInUse, name)
	}
	if m.locks == nil {
		m.locks = map[string]bool{}
	}
	m.locks[name] = true
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.locks, name)
	}, nil
}
