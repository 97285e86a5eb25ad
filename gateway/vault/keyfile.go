package vault

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// EnvVar holds the key file's JSON (raw or base64) for FromEnv.
const EnvVar = "UWLR_VAULT_KEYS"

// keyFileVersion is the version of the key file format.
const keyFileVersion = 1

// maxKeyFile bounds what Load reads: a key file is a few hundred bytes per term.
const maxKeyFile = 1 << 20

// keyFile is the JSON key file:
//
//	{"version":1,"active":2,
//	 "keys":[{"term":1,"created":"2026-08-01T00:00:00Z","key":"<base64 32 bytes>"}, ...],
//	 "index_key":"<base64 32 bytes>"}
//
// encoding/json writes and reads []byte as standard base64.
type keyFile struct {
	Version  int           `json:"version"`
	Active   uint32        `json:"active"`
	Keys     []keyFileTerm `json:"keys"`
	IndexKey []byte        `json:"index_key"`
}

type keyFileTerm struct {
	Term    uint32    `json:"term"`
	Created time.Time `json:"created"`
	Key     []byte    `json:"key"`
}

func (f *keyFile) clear() {
	for _, k := range f.Keys {
		clear(k.Key)
	}
	clear(f.IndexKey)
}

// Load reads the key file at path. It refuses a file that group or others
// may read or write (gateway.ErrInvalid; the message names the mode and the
// fix, chmod 600), and returns the errors of LoadBytes.
func Load(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vault: key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat() // of the file opened, not of whatever is at path now
	if err != nil {
		return nil, fmt.Errorf("vault: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("vault: key file %s is not a regular file: %w", path, gateway.ErrInvalid)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("vault: key file %s has mode %04o, open to group or others; run chmod 600 %s: %w", path, perm, path, gateway.ErrInvalid)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("vault: key file %s: %w", path, err)
	}
	defer clear(b)
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("vault: key file %s is larger than %d bytes: %w", path, maxKeyFile, gateway.ErrInvalid)
	}
	k, err := LoadBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w (key file %s)", err, path)
	}
	return k, nil
}

// LoadBytes parses a key file. Unknown fields, trailing data, a version
// other than 1, a key that is not 32 bytes, a repeated or zero term, an
// active term not in the file and an index key equal to a term key are
// errors wrapping gateway.ErrInvalid. Errors never quote the file.
func LoadBytes(b []byte) (*Keyring, error) {
	var f keyFile
	defer f.clear()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("vault: key file: %s: %w", jsonProblem(err), gateway.ErrInvalid)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("vault: key file: data after the JSON object: %w", gateway.ErrInvalid)
	}
	return fromFile(&f)
}

// jsonProblem describes a decoding error without quoting the input (a
// syntax error's message quotes a character, which may be a key's).
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var b64 base64.CorruptInputError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	case errors.As(err, &b64):
		return "a key is not valid base64"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ") // names a field, not a value
	case strings.Contains(err.Error(), "parsing time"):
		return "a created time is not RFC 3339"
	}
	return "not a valid key file"
}

func fromFile(f *keyFile) (*Keyring, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("vault: key file: "+format+": %w", append(a, gateway.ErrInvalid)...)
	}
	if f.Version != keyFileVersion {
		return nil, bad("version %d unsupported, want %d", f.Version, keyFileVersion)
	}
	if len(f.Keys) == 0 {
		return nil, bad("no keys")
	}
	if len(f.IndexKey) != KeySize {
		return nil, bad("index_key is %d bytes, want %d", len(f.IndexKey), KeySize)
	}
	r := &ring{active: f.Active, terms: make(map[uint32]*term, len(f.Keys))}
	for _, k := range f.Keys {
		switch {
		case k.Term == 0:
			return nil, bad("term 0: terms start at 1")
		case r.terms[k.Term] != nil:
			return nil, bad("term %d appears twice", k.Term)
		case len(k.Key) != KeySize:
			return nil, bad("term %d: key is %d bytes, want %d", k.Term, len(k.Key), KeySize)
		case subtle.ConstantTimeCompare(k.Key, f.IndexKey) == 1:
			return nil, bad("term %d: key equals index_key", k.Term)
		}
		for _, other := range r.terms {
			if subtle.ConstantTimeCompare(k.Key, other.key) == 1 {
				return nil, bad("terms %d and %d have the same key", other.n, k.Term)
			}
		}
		t, err := newTerm(k.Term, k.Created.UTC(), bytes.Clone(k.Key))
		if err != nil {
			return nil, err
		}
		r.terms[k.Term] = t
		r.order = append(r.order, k.Term)
	}
	if r.terms[f.Active] == nil {
		return nil, bad("active term %d is not among the keys", f.Active)
	}
	slices.Sort(r.order)
	idx := secret(bytes.Clone(f.IndexKey))
	r.indexKey = &idx
	return &Keyring{r: r}, nil
}

// FromEnv loads the keyring from UWLR_VAULT_KEYS, which holds the key file's
// JSON either as is or base64-encoded (standard alphabet, padded or not).
// It returns an error wrapping gateway.ErrNotFound when the variable is unset
// or empty, and gateway.ErrInvalid when it holds neither; errors never quote
// the value. Keys never come from the YAML config.
func FromEnv() (*Keyring, error) {
	v, ok := os.LookupEnv(EnvVar)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("vault: %s is not set: %w", EnvVar, gateway.ErrNotFound)
	}
	b := []byte(strings.TrimSpace(v))
	defer clear(b)
	if b[0] != '{' {
		dec, err := base64.StdEncoding.DecodeString(string(b))
		if err != nil {
			dec, err = base64.RawStdEncoding.DecodeString(string(b))
		}
		if err != nil {
			return nil, fmt.Errorf("vault: %s holds neither JSON nor base64: %w", EnvVar, gateway.ErrInvalid)
		}
		defer clear(dec)
		b = dec
	}
	k, err := LoadBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, EnvVar)
	}
	return k, nil
}

// marshal encodes the key file. The caller clears the result.
func (k *Keyring) marshal() ([]byte, error) {
	f := keyFile{Version: keyFileVersion, Active: k.r.active, IndexKey: *k.r.indexKey}
	for _, n := range k.r.order {
		t := k.r.terms[n]
		f.Keys = append(f.Keys, keyFileTerm{Term: n, Created: t.created, Key: t.key})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("vault: encode key file: %w", err)
	}
	return append(b, '\n'), nil
}

// SaveNew writes the keyring to a new key file at path (mode 0600, written
// to a temporary file, synced, then linked into place). It returns an error
// wrapping gateway.ErrConflict if path exists: it never replaces a file.
func (k *Keyring) SaveNew(path string) error { return k.write(path, false) }

// Save writes the keyring to path like SaveNew, replacing an existing key
// file atomically (rename) — but only a file this keyring extends: same
// index key, and every term of the old file present with the same key (a
// rotation of it). Anything else, including an old file Load refuses, is
// an error (gateway.ErrConflict for a file that is not a predecessor), so a
// freshly generated keyring can never overwrite the keys that open existing
// data. The check and the rename are not atomic with respect to another
// writer of the same file; one process manages a key file.
func (k *Keyring) Save(path string) error { return k.write(path, true) }

func (k *Keyring) write(path string, replace bool) (err error) {
	if replace {
		old, err := Load(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("vault: save %s: not replacing a key file that does not load: %w", path, err)
		case !k.extends(old):
			return fmt.Errorf("vault: save %s: the existing key file holds keys this keyring lacks (%s, saving %s); not replacing it: %w", path, old, k, gateway.ErrConflict)
		}
	}
	data, err := k.marshal()
	if err != nil {
		return err
	}
	defer clear(data)

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("vault: save %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmpName != "" {
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil { // CreateTemp uses 0600; say so anyway
		tmp.Close()
		return fmt.Errorf("vault: save %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: save %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: save %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("vault: save %s: %w", path, err)
	}
	if replace {
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("vault: save %s: %w", path, err)
		}
		tmpName = ""
	} else {
		// link fails if path exists, with no window in which a half
		// written file is visible at path.
		if err := os.Link(tmpName, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("vault: save %s: file exists, not replacing it: %w", path, gateway.ErrConflict)
			}
			return fmt.Errorf("vault: save %s: %w", path, err)
		}
	}
	return syncDir(dir)
}

// extends reports whether k holds old's index key and every term of old
// with the same key.
func (k *Keyring) extends(old *Keyring) bool {
	if subtle.ConstantTimeCompare(*k.r.indexKey, *old.r.indexKey) != 1 {
		return false
	}
	for n, ot := range old.r.terms {
		t, ok := k.r.terms[n]
		if !ok || subtle.ConstantTimeCompare(t.key, ot.key) != 1 {
			return false
		}
	}
	return true
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("vault: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("vault: sync %s: %w", dir, err)
	}
	return nil
}
