package config_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/config"
)

const examplePath = "../../configs/gateway.example.yaml"

// leafKeys returns the dotted key of every leaf of Default(), found by
// walking the mapstructure tags. A nested struct is a section, except
// Secret, which is a leaf.
func leafKeys(t *testing.T) []string {
	t.Helper()
	secretType := reflect.TypeFor[config.Secret]()
	var keys []string
	var walk func(rt reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		for i := range rt.NumField() {
			f := rt.Field(i)
			tag := f.Tag.Get("mapstructure")
			if tag == "" {
				t.Fatalf("field %s%s has no mapstructure tag", prefix, f.Name)
			}
			if f.Tag.Get("yaml") != tag {
				t.Errorf("field %s%s: yaml tag %q differs from mapstructure tag %q", prefix, f.Name, f.Tag.Get("yaml"), tag)
			}
			if f.Type.Kind() == reflect.Struct && f.Type != secretType {
				walk(f.Type, prefix+tag+".")
				continue
			}
			keys = append(keys, prefix+tag)
		}
	}
	walk(reflect.TypeOf(config.Default()), "")
	if len(keys) == 0 {
		t.Fatal("no keys found")
	}
	return keys
}

// envName is the documented env var naming rule, written out independently
// of the package.
func envName(key string) string {
	return "UWLR_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// clearEnv unsets every UWLR_* variable for a config key for the duration
// of the test, so the tests don't depend on the caller's environment.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range leafKeys(t) {
		name := envName(k)
		t.Setenv(name, "") // registers restoring the old value
		os.Unsetenv(name)
	}
}

func load(t *testing.T, yamlText string) (config.Config, error) {
	t.Helper()
	return config.Load(strings.NewReader(yamlText))
}

func TestDefaultIsValid(t *testing.T) {
	if err := config.Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadEmptyIsDefault(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"newline", "\n"},
		{"comment only", "# nothing here\n"},
		{"empty document", "---\n"},
		{"empty section", "las:\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := load(t, tc.in)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got, config.Default()) {
				t.Errorf("Load(%q) = %+v, want Default() = %+v", tc.in, got, config.Default())
			}
		})
	}
	t.Run("LoadFile empty path", func(t *testing.T) {
		got, err := config.LoadFile("")
		if err != nil {
			t.Fatalf("LoadFile: %v", err)
		}
		if !reflect.DeepEqual(got, config.Default()) {
			t.Errorf("LoadFile(\"\") = %+v, want Default()", got)
		}
	})
}

func TestLoadOverrides(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		in   string
		want func(*config.Config)
	}{
		{
			name: "durations",
			in:   "las:\n  timeout: 30s\n  connect_timeout: 1m30s\n",
			want: func(c *config.Config) {
				c.LAS.Timeout = 30 * time.Second
				c.LAS.ConnectTimeout = 90 * time.Second
			},
		},
		{
			name: "several sections",
			in: `
data_dir: /var/lib/uwlr
log:
  level: debug
  format: text
las:
  max_response_bytes: 1048576
  xsdversie: "2.3"
  soapaction_quoted: true
  accept_gzip: false
  user_agent: test-agent/1.0
  klantcode: "123"
  klantnaam: Toetsbureau
server:
  addr: ":9090"
store:
  driver: redis
  redis_url: redis://:hunter2@redis.internal:6379/1
  key_prefix: "test:"
vault:
  keys_file: /etc/uwlr/keys
`,
			want: func(c *config.Config) {
				c.DataDir = "/var/lib/uwlr"
				c.Log = config.LogConfig{Level: "debug", Format: "text"}
				c.LAS.MaxResponseBytes = 1 << 20
				c.LAS.XSDVersie = "2.3"
				c.LAS.SOAPActionQuoted = true
				c.LAS.AcceptGzip = false
				c.LAS.UserAgent = "test-agent/1.0"
				c.LAS.Klantcode = "123"
				c.LAS.Klantnaam = "Toetsbureau"
				c.Server.Addr = ":9090"
				c.Store.Driver = "redis"
				c.Store.RedisURL = config.NewSecret("redis://:hunter2@redis.internal:6379/1")
				c.Store.KeyPrefix = "test:"
				c.Vault.KeysFile = "/etc/uwlr/keys"
			},
		},
		{
			name: "retention",
			in:   "retention:\n  stale_after: 4320h\n",
			want: func(c *config.Config) { c.Retention.StaleAfter = 180 * 24 * time.Hour },
		},
		{
			name: "unset keys keep defaults within a section",
			in:   "las:\n  klantcode: ABC\n",
			want: func(c *config.Config) { c.LAS.Klantcode = "ABC" },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := load(t, tc.in)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := config.Default()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
			}
			if got.Store.RedisURL.Reveal() != want.Store.RedisURL.Reveal() {
				t.Errorf("redis_url = %q, want %q", got.Store.RedisURL.Reveal(), want.Store.RedisURL.Reveal())
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	clearEnv(t)
	path := t.TempDir() + "/gw.yaml"
	if err := os.WriteFile(path, []byte("las:\n  timeout: 10s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if got.LAS.Timeout != 10*time.Second {
		t.Errorf("las.timeout = %v, want 10s", got.LAS.Timeout)
	}

	if _, err := config.LoadFile(t.TempDir() + "/missing.yaml"); err == nil {
		t.Error("LoadFile of a missing file: want error, got nil")
	}

	bad := t.TempDir() + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("las:\n  timeoutt: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.LoadFile(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "las.timeoutt") {
		t.Errorf("LoadFile(bad) error = %v, want it to name the file and the key", err)
	}
}

// TestLoadErrors covers input that must be refused while loading: unknown
// keys, wrong shapes and values that don't decode. Each error must name
// the offending key.
func TestLoadErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"unknown nested key", "las:\n  timeoutt: 1s\n", []string{"las.timeoutt", "unknown key", "did you mean las.timeout"}},
		{"unknown top-level key", "data_dri: /tmp\n", []string{"data_dri", "unknown key", "did you mean data_dir"}},
		{"unknown section", "lass:\n  timeout: 1s\n", []string{"lass.timeout", "unknown key"}},
		{"unrelated key, no suggestion", "colour: blue\n", []string{"colour: unknown key"}},
		{"all unknown keys reported", "foo: 1\nlog:\n  levle: info\n", []string{"foo: unknown key", "log.levle: unknown key"}},
		{"section given a value", "las: 5\n", []string{"las: must be a section"}},
		{"leaf given a section", "data_dir:\n  path: x\n", []string{"data_dir.path: unknown key"}},
		{"duration without unit", "las:\n  timeout: 30\n", []string{"las.timeout", "no unit"}},
		{"bad duration", "las:\n  connect_timeout: soon\n", []string{"las.connect_timeout", "invalid duration"}},
		{"bad int", "las:\n  max_response_bytes: lots\n", []string{"las.max_response_bytes"}},
		{"bad bool", "las:\n  accept_gzip: maybe\n", []string{"las.accept_gzip"}},
		{"secret given a map", "store:\n  redis_url:\n    host: x\n", []string{"store.redis_url.host: unknown key"}},
		{"not YAML", "las: [\n", []string{"YAML"}},
		{"duplicate key", "data_dir: a\ndata_dir: b\n", []string{"data_dir"}},
		{"invalid value is validated", "log:\n  level: loud\n", []string{"log.level", "loud"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.in)
			if err == nil {
				t.Fatalf("Load(%q): want error, got nil", tc.in)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load(%q) error = %q, want it to contain %q", tc.in, err, w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*config.Config)
		want   []string // substrings of the error; each must name the key
	}{
		{"negative max_response_bytes", func(c *config.Config) { c.LAS.MaxResponseBytes = -1 }, []string{"las.max_response_bytes: must be > 0"}},
		{"zero max_response_bytes", func(c *config.Config) { c.LAS.MaxResponseBytes = 0 }, []string{"las.max_response_bytes: must be > 0"}},
		{"xsdversie 9", func(c *config.Config) { c.LAS.XSDVersie = "9" }, []string{"las.xsdversie: must be one of 2.1, 2.2, 2.3", `"9"`}},
		{"store.driver mongo", func(c *config.Config) { c.Store.Driver = "mongo" }, []string{"store.driver: must be one of bolt, redis", `"mongo"`}},
		{"log.level loud", func(c *config.Config) { c.Log.Level = "loud" }, []string{"log.level: must be one of", `"loud"`}},
		{"log.format xml", func(c *config.Config) { c.Log.Format = "xml" }, []string{"log.format: must be one of json, text"}},
		{"zero timeout", func(c *config.Config) { c.LAS.Timeout = 0 }, []string{"las.timeout: must be > 0"}},
		{"negative connect_timeout", func(c *config.Config) { c.LAS.ConnectTimeout = -time.Second }, []string{"las.connect_timeout: must be > 0"}},
		{"empty data_dir", func(c *config.Config) { c.DataDir = "" }, []string{"data_dir: must not be empty"}},
		{"empty user_agent", func(c *config.Config) { c.LAS.UserAgent = "" }, []string{"las.user_agent: must not be empty"}},
		{"user_agent with newline", func(c *config.Config) { c.LAS.UserAgent = "a\r\nX-Evil: 1" }, []string{"las.user_agent: must not contain line breaks"}},
		{"server.addr without port", func(c *config.Config) { c.Server.Addr = "localhost" }, []string{"server.addr: must be host:port"}},
		{"stale_after below 90 days", func(c *config.Config) { c.Retention.StaleAfter = 89 * 24 * time.Hour }, []string{"retention.stale_after: must be at least"}},
		{"stale_after zero", func(c *config.Config) { c.Retention.StaleAfter = 0 }, []string{"retention.stale_after: must be at least"}},
		{"redis without url", func(c *config.Config) {
			c.Store.Driver = "redis"
			c.Store.RedisURL = config.Secret{}
		}, []string{"store.redis_url: must be set"}},
		{"redis with bad url", func(c *config.Config) {
			c.Store.Driver = "redis"
			c.Store.RedisURL = config.NewSecret("http://:hunter2@example.com")
		}, []string{"store.redis_url: must be a URL"}},
		{"sentinel addrs without master", func(c *config.Config) {
			c.Store.RedisSentinelAddrs = "127.0.0.1:26379"
		}, []string{"store.redis_sentinel_master: must be set"}},
		{"sentinel master without addrs", func(c *config.Config) {
			c.Store.RedisSentinelMaster = "mymaster"
		}, []string{"store.redis_sentinel_addrs: must be set"}},
		{"sentinel addr without port", func(c *config.Config) {
			c.Store.RedisSentinelAddrs = "10.0.0.1:26379, 10.0.0.2"
			c.Store.RedisSentinelMaster = "mymaster"
		}, []string{"store.redis_sentinel_addrs: must be comma-separated host:port", `"10.0.0.2"`}},
		{"min replicas below -1", func(c *config.Config) {
			c.Store.RedisMinReplicas = -2
		}, []string{"store.redis_min_replicas: must be >= 0"}},
		{"several problems at once", func(c *config.Config) {
			c.LAS.MaxResponseBytes = -5
			c.Store.Driver = "mongo"
		}, []string{"las.max_response_bytes", "store.driver"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.modify(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate: want error, got nil")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate error leaks the secret: %q", err)
			}
		})
	}

	t.Run("sentinel needs no redis_url", func(t *testing.T) {
		c := config.Default()
		c.Store.Driver = "redis"
		c.Store.RedisURL = config.Secret{}
		c.Store.RedisSentinelAddrs, c.Store.RedisSentinelMaster = "10.0.0.1:26379,10.0.0.2:26379", "mymaster"
		if err := c.Validate(); err != nil {
			t.Errorf("Validate = %v, want nil", err)
		}
	})

	t.Run("bolt ignores redis_url", func(t *testing.T) {
		c := config.Default()
		c.Store.RedisURL = config.Secret{}
		if err := c.Validate(); err != nil {
			t.Errorf("Validate = %v, want nil", err)
		}
	})
}

func TestEnvOverrides(t *testing.T) {
	const file = `
las:
  timeout: 10s
  accept_gzip: true
store:
  driver: bolt
`
	tests := []struct {
		name string
		env  map[string]string
		want func(*config.Config)
	}{
		{
			name: "env beats file",
			env:  map[string]string{"UWLR_LAS_TIMEOUT": "45s", "UWLR_STORE_DRIVER": "redis"},
			want: func(c *config.Config) {
				c.LAS.Timeout = 45 * time.Second
				c.Store.Driver = "redis"
			},
		},
		{
			name: "env beats defaults; types convert",
			env: map[string]string{
				"UWLR_DATA_DIR":               "/srv/uwlr",
				"UWLR_LAS_MAX_RESPONSE_BYTES": "1024",
				"UWLR_LAS_ACCEPT_GZIP":        "false",
				"UWLR_LAS_SOAPACTION_QUOTED":  "true",
				"UWLR_LAS_CONNECT_TIMEOUT":    "2s",
				"UWLR_STORE_REDIS_URL":        "redis://:hunter2@cache:6379/2",
				"UWLR_VAULT_KEYS_FILE":        "/run/secrets/keys",
			},
			want: func(c *config.Config) {
				c.LAS.Timeout = 10 * time.Second // from the file
				c.DataDir = "/srv/uwlr"
				c.LAS.MaxResponseBytes = 1024
				c.LAS.AcceptGzip = false
				c.LAS.SOAPActionQuoted = true
				c.LAS.ConnectTimeout = 2 * time.Second
				c.Store.RedisURL = config.NewSecret("redis://:hunter2@cache:6379/2")
				c.Vault.KeysFile = "/run/secrets/keys"
			},
		},
		{
			name: "sentinel keys",
			env: map[string]string{
				"UWLR_STORE_REDIS_SENTINEL_ADDRS":    "10.0.0.1:26379,10.0.0.2:26379",
				"UWLR_STORE_REDIS_SENTINEL_MASTER":   "uwlr",
				"UWLR_STORE_REDIS_SENTINEL_PASSWORD": "hunter2",
				"UWLR_STORE_REDIS_MIN_REPLICAS":      "2",
			},
			want: func(c *config.Config) {
				c.LAS.Timeout = 10 * time.Second // from the file
				c.Store.RedisSentinelAddrs, c.Store.RedisSentinelMaster = "10.0.0.1:26379,10.0.0.2:26379", "uwlr"
				c.Store.RedisSentinelPassword = config.NewSecret("hunter2")
				c.Store.RedisMinReplicas = 2
			},
		},
		{
			name: "empty env var is ignored",
			env:  map[string]string{"UWLR_LAS_TIMEOUT": ""},
			want: func(c *config.Config) { c.LAS.Timeout = 10 * time.Second },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := load(t, file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := config.Default()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
			}
		})
	}

	t.Run("every key has a working env var", func(t *testing.T) {
		// Setting any key's variable must either change the result or make
		// Load fail (the value is not valid for every key): either way the
		// variable was read, so each key is bound, including nested ones.
		const value = "env-value"
		for _, key := range leafKeys(t) {
			clearEnv(t)
			t.Setenv(envName(key), value)
			got, err := load(t, "")
			if err == nil && reflect.DeepEqual(got, config.Default()) {
				t.Errorf("%s=%q had no effect (is %s bound?)", envName(key), value, key)
			}
		}
	})

	t.Run("bad env value names the key", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("UWLR_LAS_TIMEOUT", "soon")
		_, err := load(t, "")
		if err == nil || !strings.Contains(err.Error(), "las.timeout") {
			t.Errorf("Load error = %v, want it to name las.timeout", err)
		}
	})

	t.Run("env names are unique", func(t *testing.T) {
		seen := map[string]string{}
		for _, key := range leafKeys(t) {
			name := envName(key)
			if other, ok := seen[name]; ok {
				t.Errorf("keys %s and %s share env var %s", other, key, name)
			}
			seen[name] = key
			if got := config.EnvVar(key); got != name {
				t.Errorf("EnvVar(%q) = %q, want %q", key, got, name)
			}
		}
	})
}

func TestSecretNeverShown(t *testing.T) {
	const secret = "redis://:hunter2@redis.internal:6379/0"
	cfg := config.Default()
	cfg.Store.Driver = "redis"
	cfg.Store.RedisURL = config.NewSecret(secret)
	if cfg.Store.RedisURL.Reveal() != secret {
		t.Fatalf("Reveal() = %q, want %q", cfg.Store.RedisURL.Reveal(), secret)
	}

	jsonOut := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		return string(b)
	}
	yamlOut := func(v any) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatalf("yaml.Marshal: %v", err)
		}
		return string(b)
	}
	slogOut := func(newHandler func(*bytes.Buffer) slog.Handler, args ...any) string {
		var buf bytes.Buffer
		slog.New(newHandler(&buf)).Info("x", args...)
		return buf.String()
	}
	jsonHandler := func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }
	textHandler := func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }
	text, _ := cfg.Store.RedisURL.MarshalText()

	outputs := []struct{ name, out string }{
		{"fmt.Sprint(cfg)", fmt.Sprint(cfg)},
		{"%v cfg", fmt.Sprintf("%v", cfg)},
		{"%+v cfg", fmt.Sprintf("%+v", cfg)},
		{"%#v cfg", fmt.Sprintf("%#v", cfg)},
		{"%v &cfg", fmt.Sprintf("%v", &cfg)},
		{"%+v store", fmt.Sprintf("%+v", cfg.Store)},
		{"%s secret", fmt.Sprintf("%s", cfg.Store.RedisURL)},
		{"%q secret", fmt.Sprintf("%q", cfg.Store.RedisURL)},
		{"%x secret", fmt.Sprintf("%x", cfg.Store.RedisURL)},
		{"json cfg", jsonOut(cfg)},
		{"json &cfg", jsonOut(&cfg)},
		{"yaml cfg", yamlOut(cfg)},
		{"MarshalText", string(text)},
		{"slog json cfg", slogOut(jsonHandler, "cfg", cfg)},
		{"slog json secret", slogOut(jsonHandler, "url", cfg.Store.RedisURL)},
		{"slog text cfg", slogOut(textHandler, "cfg", cfg)},
		{"slog text secret", slogOut(textHandler, "url", cfg.Store.RedisURL)},
		{"slog group", slogOut(jsonHandler, slog.Group("store", "url", cfg.Store.RedisURL))},
	}
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			if strings.Contains(o.out, "hunter2") {
				t.Errorf("output contains the secret: %s", o.out)
			}
			if o.name != "%x secret" && !strings.Contains(o.out, "[redacted]") {
				t.Errorf("output does not show [redacted]: %s", o.out)
			}
		})
	}
}

// TestExampleFile is the golden test for configs/gateway.example.yaml: it
// must document every key, with its default value, each with a comment.
func TestExampleFile(t *testing.T) {
	clearEnv(t)
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("loads to Default()", func(t *testing.T) {
		got, err := config.LoadFile(examplePath)
		if err != nil {
			t.Fatalf("LoadFile: %v", err)
		}
		if !reflect.DeepEqual(got, config.Default()) {
			t.Errorf("example loads to\n%+v\nwant Default()\n%+v", got, config.Default())
		}
		if got.Store.RedisURL.Reveal() != config.Default().Store.RedisURL.Reveal() {
			t.Errorf("example store.redis_url differs from the default")
		}
	})

	t.Run("every key is present", func(t *testing.T) {
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, key := range leafKeys(t) {
			var node any = doc
			for _, part := range strings.Split(key, ".") {
				m, ok := node.(map[string]any)
				if !ok {
					node = nil
					break
				}
				if node, ok = m[part]; !ok {
					node = nil
					break
				}
			}
			if node == nil {
				t.Errorf("key %s (env %s) is not documented in %s", key, envName(key), examplePath)
			}
		}
	})

	t.Run("every key has a comment", func(t *testing.T) {
		keyLine := regexp.MustCompile(`^( *)([a-z0-9_]+):(.*)$`)
		type level struct {
			indent int
			key    string
		}
		var stack []level
		var comments []string // comment lines directly above the current line
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for lineNo := 1; sc.Scan(); lineNo++ {
			line := sc.Text()
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "#") {
				comments = append(comments, trimmed)
				continue
			}
			if trimmed == "" {
				comments = nil
				continue
			}
			m := keyLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("line %d: not a comment or a simple key line: %q", lineNo, line)
				comments = nil
				continue
			}
			indent := len(m[1])
			for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
				stack = stack[:len(stack)-1]
			}
			path := m[2]
			if len(stack) > 0 {
				path = stack[len(stack)-1].key + "." + m[2]
			}
			stack = append(stack, level{indent, path})

			if len(comments) == 0 {
				t.Errorf("line %d: key %s is not preceded by a # comment line", lineNo, path)
			}
			isLeaf := strings.TrimSpace(m[3]) != ""
			if isLeaf {
				want := "# env: " + envName(path)
				if !slices.Contains(comments, want) {
					t.Errorf("line %d: comment above %s does not name its variable (%q)", lineNo, path, want)
				}
			}
			comments = nil
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStoreSentinel: the Sentinel list splits at commas, and min replicas
// defaults to 1 with Sentinel and 0 without, unless set.
func TestStoreSentinel(t *testing.T) {
	tests := []struct {
		addrs    string
		replicas int
		want     []string
		wantMin  int
	}{
		{"", config.MinReplicasAuto, nil, 0},
		{" 10.0.0.1:26379 ,, 10.0.0.2:26379,", config.MinReplicasAuto, []string{"10.0.0.1:26379", "10.0.0.2:26379"}, 1},
		{"10.0.0.1:26379", 0, []string{"10.0.0.1:26379"}, 0},
		{"10.0.0.1:26379", 2, []string{"10.0.0.1:26379"}, 2},
		{"", 1, nil, 1},
	}
	for _, tc := range tests {
		s := config.Default().Store
		s.RedisSentinelAddrs, s.RedisMinReplicas = tc.addrs, tc.replicas
		if got := s.SentinelAddrs(); !slices.Equal(got, tc.want) {
			t.Errorf("SentinelAddrs(%q) = %q, want %q", tc.addrs, got, tc.want)
		}
		if got := s.MinReplicas(); got != tc.wantMin {
			t.Errorf("addrs %q, redis_min_replicas %d: MinReplicas() = %d, want %d", tc.addrs, tc.replicas, got, tc.wantMin)
		}
	}
	if d := config.Default().Store; d.RedisMinReplicas != config.MinReplicasAuto || d.MinReplicas() != 0 {
		t.Errorf("default redis_min_replicas %d (resolved %d), want %d (0 without Sentinel)", d.RedisMinReplicas, d.MinReplicas(), config.MinReplicasAuto)
	}
}
