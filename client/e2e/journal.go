package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// journalFile keeps the session records of every peer device in one
// append-only file. A Seal or an Open changes one session record; writing
// it as a file of its own (a temporary file renamed over the old one) cost
// a file creation, a rename and — on ext4, which flushes a file renamed
// over another — nearly an fsync per message: on a hosted business
// endpoint that was the largest single cost of a send. An append is one
// write system call.
const journalFile = "sessions.log"

// A journal record is
//
//	length uint32 (big endian, of what follows the checksum)
//	crc32c uint32 (of what follows)
//	op     byte   (opPut or opDelete)
//	nlen   uint16, name [nlen]byte
//	data   the rest (opPut only)
//
// Replaying the file in order, the last record of a name wins. A record
// cut short or failing its checksum ends the journal: everything from it
// on is cut off (a crash in the middle of an append).
const (
	opPut    = 1
	opDelete = 2

	journalHeader = 8
	// maxRecord bounds one record: a libsignal session record with its 40
	// earlier states is well under 1 MiB.
	maxRecord = 16 << 20
	// The journal is rewritten with only the live records when it is over
	// compactMin bytes and over compactRatio times their size.
	compactMin   = 4 << 20
	compactRatio = 4
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// span is where a name's current content is in the file.
type span struct {
	off int64 // of the data
	n   int   // data bytes
	rec int64 // the whole record's bytes, for the live count
}

// journal is the session records' file. Its methods are safe for
// concurrent use; mu is a leaf lock.
type journal struct {
	path   string
	nosync bool
	log    *slog.Logger

	mu    sync.Mutex
	f     *os.File // opened O_APPEND
	index map[string]span
	size  int64 // bytes in the file
	live  int64 // bytes of the records index points at

	scratch []byte // put builds its record here
}

// openJournal opens (creating) the journal at path and replays it.
func openJournal(path string, nosync bool, log *slog.Logger) (*journal, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j := &journal{path: path, nosync: nosync, log: log}
	if err := j.load(); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *journal) load() error {
	b, err := os.ReadFile(j.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("e2e: reading %s: %w", journalFile, err)
	}
	index, good := replay(b)
	if good < int64(len(b)) {
		j.log.Warn("cutting off a torn end of the session journal", "bytes", int64(len(b))-good)
		if err := os.Truncate(j.path, good); err != nil {
			return fmt.Errorf("e2e: repairing %s: %w", journalFile, err)
		}
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("e2e: opening %s: %w", journalFile, err)
	}
	j.f, j.index, j.size, j.live = f, index, good, 0
	for _, s := range index {
		j.live += s.rec
	}
	return nil
}

// replay reads records from b: the index of live names, and how many bytes
// of b are whole, good records.
func replay(b []byte) (map[string]span, int64) {
	index := map[string]span{}
	var off int64
	for int64(len(b))-off >= journalHeader {
		n := int64(binary.BigEndian.Uint32(b[off:]))
		sum := binary.BigEndian.Uint32(b[off+4:])
		if n < 3 || n > maxRecord || int64(len(b))-off-journalHeader < n {
			break
		}
		body := b[off+journalHeader : off+journalHeader+n]
		if crc32.Checksum(body, crcTable) != sum {
			break
		}
		nlen := int64(binary.BigEndian.Uint16(body[1:]))
		if 3+nlen > n || (body[0] != opPut && body[0] != opDelete) {
			break
		}
		name := string(body[3 : 3+nlen])
		if body[0] == opPut {
			index[name] = span{off: off + journalHeader + 3 + nlen, n: int(n - 3 - nlen), rec: journalHeader + n}
		} else {
			delete(index, name)
		}
		off += journalHeader + n
	}
	return index, off
}

// journalRecord builds one record.
func journalRecord(op byte, name string, data []byte) []byte {
	return appendJournalRecord(nil, op, name, data)
}

// appendJournalRecord builds one record at the end of dst.
func appendJournalRecord(dst []byte, op byte, name string, data []byte) []byte {
	n := 3 + len(name) + len(data)
	start := len(dst)
	dst = slices.Grow(dst, journalHeader+n)[:start+journalHeader+n]
	b := dst[start:]
	binary.BigEndian.PutUint32(b, uint32(n))
	b[journalHeader] = op
	binary.BigEndian.PutUint16(b[journalHeader+1:], uint16(len(name)))
	copy(b[journalHeader+3:], name)
	copy(b[journalHeader+3+len(name):], data)
	binary.BigEndian.PutUint32(b[4:], crc32.Checksum(b[journalHeader:], crcTable))
	return dst
}

// get returns the content of name; an error wrapping fs.ErrNotExist when
// there is none.
func (j *journal) get(name string) ([]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	s, ok := j.index[name]
	if !ok {
		return nil, fmt.Errorf("e2e: reading %s: %w", name, fs.ErrNotExist)
	}
	return j.readLocked(s)
}

func (j *journal) readLocked(s span) ([]byte, error) {
	f, err := os.Open(j.path)
	if err != nil {
		return nil, fmt.Errorf("e2e: reading %s: %w", journalFile, err)
	}
	defer f.Close()
	b := make([]byte, s.n)
	if _, err := f.ReadAt(b, s.off); err != nil {
		return nil, fmt.Errorf("e2e: reading %s: %w", journalFile, err)
	}
	return b, nil
}

// has reports whether name has content.
func (j *journal) has(name string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, ok := j.index[name]
	return ok
}

// put replaces the content of name: one append (and fsync unless nosync).
// When it returns, a crash of the process no longer loses the record (of
// the machine too, without nosync).
func (j *journal) put(name string, data []byte) error {
	if len(name) > 1<<16-1 || 3+len(name)+len(data) > maxRecord {
		return fmt.Errorf("e2e: a session record of %d bytes is too large", len(data))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	// The record goes through a buffer kept for the next one: the file
	// write is done with it when appendLocked returns.
	rec := appendJournalRecord(j.scratch[:0], opPut, name, data)
	if cap(rec) <= 64<<10 {
		j.scratch = rec
	}
	if err := j.appendLocked(rec); err != nil {
		return err
	}
	if old, ok := j.index[name]; ok {
		j.live -= old.rec
	}
	j.index[name] = span{off: j.size - int64(len(data)), n: len(data), rec: int64(len(rec))}
	j.live += int64(len(rec))
	return j.maybeCompactLocked()
}

// del removes name; a missing name is no error.
func (j *journal) del(name string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	old, ok := j.index[name]
	if !ok {
		return nil
	}
	if err := j.appendLocked(journalRecord(opDelete, name, nil)); err != nil {
		return err
	}
	delete(j.index, name)
	j.live -= old.rec
	return j.maybeCompactLocked()
}

func (j *journal) appendLocked(rec []byte) error {
	if j.f == nil {
		return errors.New("e2e: the key store is closed")
	}
	if _, err := j.f.Write(rec); err != nil {
		// A short write leaves a torn record, cut off at the next open;
		// until then nothing more may follow it.
		_ = j.f.Close()
		j.f = nil
		return fmt.Errorf("e2e: writing %s: %w", journalFile, err)
	}
	j.size += int64(len(rec))
	if !j.nosync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("e2e: syncing %s: %w", journalFile, err)
		}
	}
	return nil
}

// maybeCompactLocked rewrites the journal with only its live records when
// most of it is old records. The new file replaces the old atomically.
func (j *journal) maybeCompactLocked() error {
	if j.size < compactMin || j.size < compactRatio*j.live {
		return nil
	}
	old, err := os.ReadFile(j.path)
	if err != nil {
		return fmt.Errorf("e2e: compacting %s: %w", journalFile, err)
	}
	var buf bytes.Buffer
	buf.Grow(int(j.live))
	index := make(map[string]span, len(j.index))
	for name, s := range j.index {
		if s.off+int64(s.n) > int64(len(old)) {
			return fmt.Errorf("e2e: compacting %s: it is shorter than its index", journalFile)
		}
		data := old[s.off : s.off+int64(s.n)]
		rec := journalRecord(opPut, name, data)
		index[name] = span{off: int64(buf.Len()) + int64(len(rec)-len(data)), n: len(data), rec: int64(len(rec))}
		buf.Write(rec)
	}
	dir := filepath.Dir(j.path)
	tmp, err := os.CreateTemp(dir, "."+journalFile+".tmp*")
	if err != nil {
		return fmt.Errorf("e2e: compacting %s: %w", journalFile, err)
	}
	_, err = tmp.Write(buf.Bytes())
	if err == nil && !j.nosync {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), j.path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("e2e: compacting %s: %w", journalFile, err)
	}
	if !j.nosync {
		syncDir(dir)
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("e2e: reopening %s: %w", journalFile, err)
	}
	_ = j.f.Close()
	j.f, j.index, j.size, j.live = f, index, int64(buf.Len()), int64(buf.Len())
	return nil
}

// close closes the file.
func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
