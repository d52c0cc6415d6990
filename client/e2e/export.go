package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ProfileFiles reads every file of the profile in the directory dir (the
// client's and the key store's) as a client.Storage that is not a
// directory keeps them: the session journal becomes one file per session
// record (e2e/sessions/+E164.N.json), as the key store writes them into
// such a storage. Lock files, temporary files and the subdirectories in
// skip (relative to dir, slash-separated) are left out. Nothing may have
// the profile open meanwhile: the caller holds what keeps it closed.
//
// It moves a profile directory into another storage, such as a cluster's
// database (client.CreateProfileIn and WriteFile of each file).
func ProfileFiles(dir string, skip ...string) (map[string][]byte, error) {
	out := map[string][]byte{}
	journal := storeDir + "/" + journalFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if d.IsDir() {
			for _, s := range skip {
				if name == s {
					return filepath.SkipDir
				}
			}
			return nil
		}
		base := d.Name()
		if !d.Type().IsRegular() || strings.HasPrefix(base, ".") || base == lockName || name == journal {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[name] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("e2e: reading the profile %s: %w", dir, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, storeDir, journalFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("e2e: reading %s: %w", journalFile, err)
	}
	index, _ := replay(b) // a torn end is cut off, as opening the journal does
	for name, s := range index {
		out[storeDir+"/"+name] = append([]byte(nil), b[s.off:s.off+int64(s.n)]...)
	}
	return out, nil
}
