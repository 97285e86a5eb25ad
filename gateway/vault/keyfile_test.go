package vault_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// saved writes kr to a new key file and returns its path and contents.
func saved(t *testing.T, kr *vault.Keyring) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := kr.SaveNew(path); err != nil {
		t.Fatalf("SaveNew: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// keyStrings returns every key of a key file in the spellings a leak could
// take: base64 (as in the file), raw bytes and hex.
func keyStrings(t *testing.T, file []byte) []string {
	t.Helper()
	var f struct {
		Keys []struct {
			Key string `json:"key"`
		} `json:"keys"`
		IndexKey string `json:"index_key"`
	}
	if err := json.Unmarshal(file, &f); err != nil {
		t.Fatal(err)
	}
	b64 := []string{f.IndexKey}
	for _, k := range f.Keys {
		b64 = append(b64, k.Key)
	}
	var out []string
	for _, s := range b64 {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != vault.KeySize {
			t.Fatalf("key file holds a bad key (%d bytes, %v)", len(raw), err)
		}
		out = append(out, s, string(raw), hex.EncodeToString(raw), fmt.Sprint(raw))
	}
	return out
}

func TestKeyFileRoundTrip(t *testing.T) {
	kr := rotate(t, newRing(t, 1), 2)
	old := mustSeal(t, newRing(t, 1).Sealer(), pupilA, eckID)
	path, file := saved(t, kr)

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %04o, want 0600", perm)
	}
	for _, want := range []string{`"version": 1`, `"active": 2`, `"term": 2`, `"created": "2026-08-01T23:59:30Z"`, `"index_key"`} {
		if !bytes.Contains(file, []byte(want)) {
			t.Errorf("key file lacks %s:\n%s", want, file)
		}
	}

	loaded, err := vault.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := loaded.String(); got != kr.String() {
		t.Errorf("loaded %s, saved %s", got, kr)
	}
	if got, err := loaded.Opener().Open(pupilA, old); err != nil || !bytes.Equal(got, eckID) {
		t.Errorf("loaded keyring opens a term-1 value: %q, %v", got, err)
	}
	if !bytes.Equal(loaded.Sealer().Index("12AB00", "x"), kr.Sealer().Index("12AB00", "x")) {
		t.Error("loaded keyring has another index key")
	}
	if _, again := saved(t, loaded); !bytes.Equal(again, file) {
		t.Errorf("saving a loaded keyring changed the file:\n%s\nvs\n%s", file, again)
	}
	exerciseVault(t, loaded)
}

func TestLoadRefusesOpenMode(t *testing.T) {
	path, _ := saved(t, newRing(t, 1))
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o606} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := vault.Load(path)
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("Load of a %04o file: err = %v, want ErrInvalid", mode, err)
			}
			for _, want := range []string{fmt.Sprintf("mode %04o", mode), "chmod 600", path} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	for _, mode := range []fs.FileMode{0o600, 0o400} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := vault.Load(path); err != nil {
			t.Errorf("Load of a %04o file: %v", mode, err)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := vault.Load(filepath.Join(t.TempDir(), "none.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestSaveNewRefusesOverwrite(t *testing.T) {
	path, file := saved(t, newRing(t, 1))
	err := newRing(t, 2).SaveNew(path)
	if !errors.Is(err, gateway.ErrConflict) {
		t.Fatalf("SaveNew over an existing file: err = %v, want ErrConflict", err)
	}
	assertFile(t, path, file)
	assertNoTemp(t, filepath.Dir(path))
}

func TestSaveReplacesOnlyAPredecessor(t *testing.T) {
	kr1 := newRing(t, 1)
	path, file := saved(t, kr1)

	t.Run("unrelated keyring", func(t *testing.T) {
		err := newRing(t, 2).Save(path)
		if !errors.Is(err, gateway.ErrConflict) {
			t.Fatalf("Save of another keyring: err = %v, want ErrConflict", err)
		}
		assertFile(t, path, file)
	})
	t.Run("rotation", func(t *testing.T) {
		kr2 := rotate(t, kr1, 2)
		if err := kr2.Save(path); err != nil {
			t.Fatalf("Save of a rotation: %v", err)
		}
		loaded, err := vault.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if loaded.ActiveTerm() != 2 {
			t.Errorf("after Save: %s, want active 2", loaded)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("replaced file mode %04o", fi.Mode().Perm())
		}
	})
	t.Run("going back", func(t *testing.T) {
		if err := kr1.Save(path); !errors.Is(err, gateway.ErrConflict) {
			t.Fatalf("Save of the pre-rotation keyring over the rotated file: err = %v, want ErrConflict", err)
		}
	})
	t.Run("new file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "k.json")
		if err := kr1.Save(p); err != nil {
			t.Fatalf("Save to a new path: %v", err)
		}
	})
	t.Run("existing file open to others", func(t *testing.T) {
		p, _ := saved(t, kr1)
		os.Chmod(p, 0o644)
		if err := rotate(t, kr1, 2).Save(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("Save over a 0644 file: err = %v, want the chmod advice", err)
		}
	})
	assertNoTemp(t, filepath.Dir(path))
}

func assertFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("key file was changed")
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestLoadBytesInvalid(t *testing.T) {
	_, file := saved(t, rotate(t, newRing(t, 1), 2))
	var good map[string]any
	if err := json.Unmarshal(file, &good); err != nil {
		t.Fatal(err)
	}
	keys := good["keys"].([]any)
	k1 := keys[0].(map[string]any)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(file, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	key := func(m map[string]any, i int) map[string]any { return m["keys"].([]any)[i].(map[string]any) }
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))

	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"empty", "empty", nil},
		{"not json", "not valid JSON", []byte("version=1")},
		{"truncated", "truncated", file[:len(file)/2]},
		{"trailing data", "after the JSON", append(bytes.Clone(file), []byte(`{}`)...)},
		{"unknown field", `unknown field "rotate"`, edit(func(m map[string]any) { m["rotate"] = true })},
		{"version 0", "version 0", edit(func(m map[string]any) { delete(m, "version") })},
		{"version 2", "version 2", edit(func(m map[string]any) { m["version"] = 2 })},
		{"active missing", "active term 7", edit(func(m map[string]any) { m["active"] = 7 })},
		{"no keys", "no keys", edit(func(m map[string]any) { m["keys"] = []any{} })},
		{"term 0", "term 0", edit(func(m map[string]any) { key(m, 0)["term"] = 0 })},
		{"duplicate term", "term 2 appears twice", edit(func(m map[string]any) { key(m, 0)["term"] = 2 })},
		{"same key twice", "same key", edit(func(m map[string]any) { key(m, 1)["key"] = k1["key"] })},
		{"short key", "key is 16 bytes", edit(func(m map[string]any) { key(m, 1)["key"] = short })},
		{"bad base64", "base64", edit(func(m map[string]any) { key(m, 1)["key"] = "!!!" + k1["key"].(string) })},
		{"short index key", "index_key is 16 bytes", edit(func(m map[string]any) { m["index_key"] = short })},
		{"index key is a term key", "equals index_key", edit(func(m map[string]any) { m["index_key"] = k1["key"] })},
		{"bad created", "RFC 3339", edit(func(m map[string]any) { key(m, 0)["created"] = "yesterday" })},
		{"term wrong type", `"keys.term"`, edit(func(m map[string]any) { key(m, 0)["term"] = "one" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := vault.LoadBytes(tc.file)
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("LoadBytes = %v, %v; want ErrInvalid", kr, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			for _, k := range keyStrings(t, file) {
				if strings.Contains(err.Error(), k) || strings.Contains(err.Error(), k[:8]) {
					t.Errorf("error %q shows key material", err)
				}
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	kr := rotate(t, newRing(t, 1), 2)
	_, file := saved(t, kr)
	sealed := mustSeal(t, kr.Sealer(), pupilA, eckID)

	for _, tc := range []struct{ name, value string }{
		{"raw json", string(file)},
		{"base64", base64.StdEncoding.EncodeToString(file)},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString(file)},
		{"base64 with newline", base64.StdEncoding.EncodeToString(file) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(vault.EnvVar, tc.value)
			got, err := vault.FromEnv()
			if err != nil {
				t.Fatalf("FromEnv: %v", err)
			}
			if got.String() != kr.String() {
				t.Errorf("FromEnv = %s, want %s", got, kr)
			}
			if pt, err := got.Opener().Open(pupilA, sealed); err != nil || !bytes.Equal(pt, eckID) {
				t.Errorf("Open = %q, %v", pt, err)
			}
		})
	}
	t.Run("contract", func(t *testing.T) {
		t.Setenv(vault.EnvVar, base64.StdEncoding.EncodeToString(file))
		got, err := vault.FromEnv()
		if err != nil {
			t.Fatal(err)
		}
		exerciseVault(t, got)
	})
	for _, tc := range []struct {
		name, value string
		kind        error
	}{
		{"empty", "", gateway.ErrNotFound},
		{"blank", "  ", gateway.ErrNotFound},
		{"neither", "%%% not keys %%%", gateway.ErrInvalid},
		{"base64 of garbage", base64.StdEncoding.EncodeToString([]byte("hello")), gateway.ErrInvalid},
		{"bad json", `{"version":1,"active":1,"keys":[`, gateway.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(vault.EnvVar, tc.value)
			_, err := vault.FromEnv()
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), vault.EnvVar) {
				t.Errorf("error %q does not name %s", err, vault.EnvVar)
			}
			if strings.TrimSpace(tc.value) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.value)) {
				t.Errorf("error %q quotes the value", err)
			}
		})
	}
	t.Run("unset", func(t *testing.T) {
		t.Setenv(vault.EnvVar, "")
		os.Unsetenv(vault.EnvVar)
		if _, err := vault.FromEnv(); !errors.Is(err, gateway.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestPrintsNoKeys(t *testing.T) {
	kr := rotate(t, newRing(t, 1), 2)
	_, file := saved(t, kr)
	secrets := keyStrings(t, file)
	s, o, w := kr.Sealer(), kr.Opener(), kr.Rewrapper()

	var out strings.Builder
	for _, v := range []any{kr, s, o, w, *kr, *s, *o, *w} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
	}
	fmt.Fprintf(&out, "%+v\n", struct {
		S *vault.Sealer
		K *vault.Keyring
	}{s, kr})
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		slog.New(h).Info("vault", "keyring", kr, "sealer", s, "opener", o, "rewrapper", w, "place", pupilA)
	}
	b, _ := json.Marshal(map[string]any{"keyring": kr, "sealer": s, "opener": o})
	out.Write(b)

	got := out.String()
	for _, k := range secrets {
		if strings.Contains(got, k) {
			t.Fatalf("output shows key material:\n%s", got)
		}
	}
	for _, want := range []string{
		"vault[terms=[1 2], active=2]",
		"vault.Sealer[terms=[1 2], active=2]",
		"vault.Opener[terms=[1 2], active=2]",
		"vault.Rewrapper[terms=[1 2], active=2]",
		"pupil 12AB00/pupil-a eckid",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	var nilRing *vault.Keyring
	if got := fmt.Sprint(nilRing, vault.Keyring{}); got != "<nil> vault[nil]" {
		t.Errorf("nil keyring prints %q", got)
	}
}
