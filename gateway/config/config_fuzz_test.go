package config_test

// Fuzz target for the config loader (issue 12, item 7): LoadFile on a file
// with any bytes. Every name here starts with fz so that it cannot clash
// with the helpers of the other test files.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/config"
)

// fzMaxYAML bounds a fuzz input: a config file is a few kilobytes.
const fzMaxYAML = 64 << 10

// fzSecretKeys returns the dotted keys of the Secret fields of Config.
func fzSecretKeys() []string {
	secret := reflect.TypeFor[config.Secret]()
	var keys []string
	var walk func(rt reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		for i := range rt.NumField() {
			fld := rt.Field(i)
			tag, _, _ := strings.Cut(fld.Tag.Get("mapstructure"), ",")
			switch {
			case tag == "" || tag == "-":
			case fld.Type == secret:
				keys = append(keys, prefix+tag)
			case fld.Type.Kind() == reflect.Struct:
				walk(fld.Type, prefix+tag+".")
			}
		}
	}
	walk(reflect.TypeFor[config.Config](), "")
	return keys
}

// fzSecretValues returns the text values the YAML gives the secret keys.
func fzSecretValues(data []byte, keys []string) []string {
	var doc map[string]any
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out []string
	for _, k := range keys {
		var v any = doc
		for _, part := range strings.Split(k, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[part]
		}
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// fzLoad runs LoadFile and fails on a hang; a panic is re-raised here.
func fzLoad(t *testing.T, path string) (config.Config, error) {
	t.Helper()
	type result struct {
		cfg   config.Config
		err   error
		panic any
		stack []byte
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.panic, r.stack = p, debug.Stack()
			}
			done <- r
		}()
		r.cfg, r.err = config.LoadFile(path)
	}()
	timer := time.NewTimer(20 * time.Second)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.panic != nil {
			panic(fmt.Sprintf("config.LoadFile panicked: %v\n%s", r.panic, r.stack))
		}
		return r.cfg, r.err
	case <-timer.C:
		t.Fatalf("config.LoadFile did not return within 20s")
		panic("unreachable")
	}
}

// FuzzConfigLoad: config.LoadFile on a file with any bytes never panics or
// hangs. It fails with the zero Config and an error that names the file,
// and never shows the value of a secret key; or it returns a Config that
// passes Validate, and the same again from Load of the same bytes.
func FuzzConfigLoad(f *testing.F) {
	// The environment overrides the file: none of it here.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, config.EnvPrefix+"_") {
			f.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	example, err := os.ReadFile("../../configs/gateway.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, s := range []string{
		"", "\n", "# nothing\n", "---\n", "las:\n",
		"las:\n  timeout: 30s\n  connect_timeout: 1m30s\n",
		"las:\n  timeout: 30\n",
		"las:\n  timeoutt: 30s\n",
		"las: 5\n",
		"store:\n  driver: redis\n  redis_url: redis://:hunter2-geheim@redis.internal:6379/1\n  key_prefix: \"test:\"\n",
		"store:\n  driver: bolt\n  redis_url: [redis://:hunter2-geheim@x]\n",
		"log:\n  level: loud\n",
		"data_dir: &d /var/lib/uwlr\nvault:\n  keys_file: *d\n",
		"legal:\n  bases:\n    - name: leerplicht\n      reference: Leerplichtwet art. 1\n      recipient: gemeente\n      fields: [school, las_key, birth_year]\n",
		"schedule:\n  enabled: true\n  window_start: \"01:00\"\n  window_end: \"05:00\"\n",
		"{las: {timeout: 1h}}",
		"\t- x",
	} {
		f.Add([]byte(s))
	}
	secretKeys := fzSecretKeys()

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fzMaxYAML {
			t.Skip("input larger than fzMaxYAML")
		}
		path := filepath.Join(t.TempDir(), "gateway.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := fzLoad(t, path)
		if err != nil {
			if !reflect.DeepEqual(cfg, config.Config{}) {
				t.Fatalf("error %v with a non-zero Config %+v", err, cfg)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Fatalf("error %q does not name the file %s", msg, path)
			}
			for _, s := range fzSecretValues(data, secretKeys) {
				// Only a value that stands nowhere else in the file.
				if len(s) >= 8 && bytes.Count(data, []byte(s)) == 1 && strings.Contains(msg, s) {
					t.Fatalf("error shows the value %q of a secret key: %s", s, msg)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("LoadFile returned a Config that fails Validate: %v", err)
		}
		direct, err := config.Load(bytes.NewReader(data))
		if err != nil || !reflect.DeepEqual(direct, cfg) {
			t.Fatalf("Load of the same bytes gives %+v, %v; LoadFile %+v", direct, err, cfg)
		}
	})
}
