package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of the environment variables that override config
// keys: key las.timeout is overridden by UWLR_LAS_TIMEOUT.
const EnvPrefix = "UWLR"

// envKeyReplacer turns a dotted key into the tail of its environment
// variable name.
var envKeyReplacer = strings.NewReplacer(".", "_")

// EnvVar returns the environment variable that overrides the dotted config
// key, e.g. EnvVar("las.timeout") == "UWLR_LAS_TIMEOUT".
func EnvVar(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(envKeyReplacer.Replace(key))
}

// LoadFile loads the configuration from the YAML file at path, on top of
// the defaults, with UWLR_* environment variables taking precedence over
// both. An empty path means defaults plus environment only. The result has
// passed Validate.
func LoadFile(path string) (Config, error) {
	if path == "" {
		return Load(strings.NewReader(""))
	}
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	cfg, err := Load(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Load reads YAML configuration from r and returns it merged with, in
// increasing priority: Default(), the YAML, and UWLR_* environment
// variables. Empty input yields the defaults (plus environment).
//
// Loading is strict: a key that Config does not have is an error naming
// that key, as are values of the wrong type and durations without a unit.
// The result has passed Validate. Load keeps no state between calls.
func Load(r io.Reader) (Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(r); err != nil {
		return Config{}, fmt.Errorf("config: reading YAML: %w", err)
	}

	// Only the file has been read so far, so AllKeys lists the file's keys.
	if err := checkKeys(v); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}

	// Register every key with its default. Besides supplying the defaults,
	// this makes every key known to viper, which AutomaticEnv needs: it only
	// consults the environment for keys viper already knows about, so
	// without this UWLR_LAS_TIMEOUT would be ignored by Unmarshal.
	for _, l := range leaves(Default()) {
		v.SetDefault(l.key, defaultValue(l.value))
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(envKeyReplacer)
	v.AutomaticEnv()

	var cfg Config
	err := v.UnmarshalExact(&cfg, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		rejectUnitlessDuration,
		mapstructure.StringToTimeDurationHookFunc(),
		stringToSecret,
	)))
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// checkKeys reports every key in the file that Config does not have, and
// every section (such as "las") that was given a plain value instead of
// nested keys.
func checkKeys(v *viper.Viper) error {
	known := map[string]bool{} // leaf keys
	for _, l := range leaves(Default()) {
		known[l.key] = true
	}
	sections := sectionKeys()

	var errs []error
	keys := v.AllKeys()
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case known[k]:
		case sections[k]:
			// "las:" with nothing under it is an empty section; anything
			// else (las: 5) is a mistake.
			if v.Get(k) != nil {
				errs = append(errs, fmt.Errorf("%s: must be a section with nested keys, not a value", k))
			}
		default:
			msg := fmt.Sprintf("%s: unknown key", k)
			if s := suggest(k, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	return errors.Join(errs...)
}

// leaf is one dotted config key and its value in a Config.
type leaf struct {
	key   string
	value reflect.Value
}

var (
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[time.Duration]()
)

// leaves lists every leaf key of cfg, in struct order, by walking the
// mapstructure tags. Nested structs are sections; Secret is a leaf.
func leaves(cfg Config) []leaf {
	var out []leaf
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Tag.Get("mapstructure")
			if name == "" || name == "-" {
				continue
			}
			key := prefix + name
			fv := v.Field(i)
			if f.Type.Kind() == reflect.Struct && f.Type != secretType {
				walk(fv, key+".")
				continue
			}
			out = append(out, leaf{key: key, value: fv})
		}
	}
	walk(reflect.ValueOf(cfg), "")
	return out
}

// sectionKeys returns the dotted keys of the nested sections ("las", ...).
func sectionKeys() map[string]bool {
	out := map[string]bool{}
	for _, l := range leaves(Default()) {
		parts := strings.Split(l.key, ".")
		for i := 1; i < len(parts); i++ {
			out[strings.Join(parts[:i], ".")] = true
		}
	}
	return out
}

// defaultValue converts a leaf value to what viper should hold as default.
func defaultValue(v reflect.Value) any {
	if v.Type() == secretType {
		return v.Interface().(Secret).Reveal()
	}
	return v.Interface()
}

// stringToSecret decodes a string into a Secret.
func stringToSecret(f, t reflect.Type, data any) (any, error) {
	if t != secretType || f.Kind() != reflect.String {
		return data, nil
	}
	return NewSecret(reflect.ValueOf(data).String()), nil
}

// rejectUnitlessDuration refuses numbers for duration keys: "timeout: 30"
// would otherwise silently mean 30 nanoseconds.
func rejectUnitlessDuration(f, t reflect.Type, data any) (any, error) {
	if t != durationType || f == durationType {
		return data, nil
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return nil, fmt.Errorf("duration %v has no unit; write it like \"30s\", \"2m\" or \"1h\"", data)
	}
	return data, nil
}

// suggest returns the known key closest to k, if it is a likely typo.
func suggest(k string, known map[string]bool) string {
	best, bestDist := "", 3 // suggest only within edit distance 2
	for c := range known {
		if d := editDistance(k, c); d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
