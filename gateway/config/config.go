package config

import (
	"strings"
	"time"
)

// Config is the whole gateway configuration. It is built by Load or
// LoadFile (or Default) and then split up: each package receives only the
// fields it uses.
//
// The mapstructure tags are the config keys (nested keys are joined with
// "."); the environment variable for a key is UWLR_ followed by the key in
// upper case with "." replaced by "_", e.g. las.timeout -> UWLR_LAS_TIMEOUT.
type Config struct {
	// DataDir is the directory for the embedded store and other local files.
	DataDir string       `mapstructure:"data_dir" yaml:"data_dir" json:"data_dir"`
	Log     LogConfig    `mapstructure:"log" yaml:"log" json:"log"`
	LAS     LASConfig    `mapstructure:"las" yaml:"las" json:"las"`
	Server  ServerConfig `mapstructure:"server" yaml:"server" json:"server"`
	// Auth configures admin tokens.
	Auth  AuthConfig  `mapstructure:"auth" yaml:"auth" json:"auth"`
	Store StoreConfig `mapstructure:"store" yaml:"store" json:"store"`
	Vault VaultConfig `mapstructure:"vault" yaml:"vault" json:"vault"`
	// Delivery configures sending results to the LAS (BrengLeerresultaten).
	Delivery DeliveryConfig `mapstructure:"delivery" yaml:"delivery" json:"delivery"`
	// Schedule configures the nightly syncs and retention run of serve.
	Schedule ScheduleConfig `mapstructure:"schedule" yaml:"schedule" json:"schedule"`
	// Retention configures the retention rules that have a setting.
	Retention RetentionConfig `mapstructure:"retention" yaml:"retention" json:"retention"`
	// Legal configures disclosures under the legal processing.
	Legal LegalConfig `mapstructure:"legal" yaml:"legal" json:"legal"`
	// Intake bounds what one results submission may cost.
	Intake IntakeConfig `mapstructure:"intake" yaml:"intake" json:"intake"`
}

// IntakeConfig bounds the results intake.
type IntakeConfig struct {
	// MaxProblems is how many bad records a refused file lists; the rest
	// are counted.
	MaxProblems int `mapstructure:"max_problems" yaml:"max_problems" json:"max_problems"`
	// MaxBodyBytes is the largest results file (CLI) or request body (API).
	MaxBodyBytes int64 `mapstructure:"max_body_bytes" yaml:"max_body_bytes" json:"max_body_bytes"`
}

// LegalConfig lists the legal bases disclosures may rest on.
type LegalConfig struct {
	Bases []LegalBase `mapstructure:"bases" yaml:"bases" json:"bases"`
}

// LegalBase is one legal basis: its name, the legal reference as text, the
// recipient (a school's legal recipient by that name) and the fields it
// discloses (from a closed set: school, las_key, jaargroep, group,
// birth_year, gender, left_on, test, part, date, score).
type LegalBase struct {
	Name      string   `mapstructure:"name" yaml:"name" json:"name"`
	Reference string   `mapstructure:"reference" yaml:"reference" json:"reference"`
	Recipient string   `mapstructure:"recipient" yaml:"recipient" json:"recipient"`
	Fields    []string `mapstructure:"fields" yaml:"fields" json:"fields"`
}

// RetentionConfig configures retention (the rules themselves follow the
// processing agreement and are not configurable).
type RetentionConfig struct {
	// StaleAfter is how long a school with las_exchange may go without a
	// successful sync before its data counts as no longer refreshed: its
	// current pupils are then marked left as of the last successful sync,
	// so the two-year rule still ends. At least 90 days (longer than any
	// holiday without syncs, or every school would be marked each summer).
	StaleAfter time.Duration `mapstructure:"stale_after" yaml:"stale_after" json:"stale_after"`
}

// ScheduleConfig configures when serve syncs schools and purges old data.
type ScheduleConfig struct {
	// Enabled runs the nightly syncs and retention in serve.
	Enabled bool `mapstructure:"enabled" yaml:"enabled" json:"enabled"`
	// WindowStart and WindowEnd ("HH:MM", Europe/Amsterdam) bound the start
	// of nightly syncs; the window may cross midnight but never touch
	// 08:00-16:00.
	WindowStart string `mapstructure:"window_start" yaml:"window_start" json:"window_start"`
	WindowEnd   string `mapstructure:"window_end" yaml:"window_end" json:"window_end"`
	// SummerPauseFrom and SummerPauseTo ("MM-DD", inclusive; both empty: no
	// pause) name nights without nightly syncs.
	SummerPauseFrom string `mapstructure:"summer_pause_from" yaml:"summer_pause_from" json:"summer_pause_from"`
	SummerPauseTo   string `mapstructure:"summer_pause_to" yaml:"summer_pause_to" json:"summer_pause_to"`
	// Cap<Vendor> cap concurrent syncs per vendor profile; DefaultCap any
	// other. Every vendor profile has one, keyed cap_<profile name>, with
	// the profile's default cap as its default (a test holds both to the
	// vendor table); VendorCaps returns them by profile name.
	CapStandard int `mapstructure:"cap_standard" yaml:"cap_standard" json:"cap_standard"`
	CapMagister int `mapstructure:"cap_magister" yaml:"cap_magister" json:"cap_magister"`
	CapSomtoday int `mapstructure:"cap_somtoday" yaml:"cap_somtoday" json:"cap_somtoday"`
	CapEsis     int `mapstructure:"cap_esis" yaml:"cap_esis" json:"cap_esis"`
	CapIddink   int `mapstructure:"cap_iddink" yaml:"cap_iddink" json:"cap_iddink"`
	DefaultCap  int `mapstructure:"default_cap" yaml:"default_cap" json:"default_cap"`
	// BackoffBase and BackoffMax: the wait before a retry in the same night
	// for a school that keeps failing.
	BackoffBase time.Duration `mapstructure:"backoff_base" yaml:"backoff_base" json:"backoff_base"`
	BackoffMax  time.Duration `mapstructure:"backoff_max" yaml:"backoff_max" json:"backoff_max"`
	// MaxAttemptsPerNight caps the attempts of one school in one night.
	MaxAttemptsPerNight int `mapstructure:"max_attempts_per_night" yaml:"max_attempts_per_night" json:"max_attempts_per_night"`
	// SyncTimeout bounds one sync.
	SyncTimeout time.Duration `mapstructure:"sync_timeout" yaml:"sync_timeout" json:"sync_timeout"`
	// Tick is how often serve looks for due schools.
	Tick time.Duration `mapstructure:"tick" yaml:"tick" json:"tick"`
	// LockTTL is how long a per-school sync lock lasts without renewal.
	LockTTL time.Duration `mapstructure:"lock_ttl" yaml:"lock_ttl" json:"lock_ttl"`
	// RetentionAt ("HH:MM", Europe/Amsterdam) is when serve runs the
	// nightly retention (once per night over all instances).
	RetentionAt string `mapstructure:"retention_at" yaml:"retention_at" json:"retention_at"`
	// ClockOffset shifts the gateway's clock (schedule, syncs, deliveries),
	// for tests and demos that want tonight's window now; leave it 0 in
	// production.
	ClockOffset time.Duration `mapstructure:"clock_offset" yaml:"clock_offset" json:"clock_offset"`
}

// DeliveryConfig configures the outbox and its delivery workers.
type DeliveryConfig struct {
	// BatchSize caps the results of one BrengLeerresultaten request.
	BatchSize int `mapstructure:"batch_size" yaml:"batch_size" json:"batch_size"`
	// Concurrency is how many batches are sent at the same time.
	Concurrency int `mapstructure:"concurrency" yaml:"concurrency" json:"concurrency"`
	// Lease is how long a worker owns a batch it took; after a crash the
	// batch is sent again (same result keys) once the lease has passed.
	Lease time.Duration `mapstructure:"lease" yaml:"lease" json:"lease"`
	// MaxAttempts is how many failed attempts make a batch a dead letter.
	MaxAttempts int `mapstructure:"max_attempts" yaml:"max_attempts" json:"max_attempts"`
	// RetryBase is the wait after the first temporary failure; it doubles
	// with every further failure (with jitter) up to RetryMax.
	RetryBase time.Duration `mapstructure:"retry_base" yaml:"retry_base" json:"retry_base"`
	// RetryMax is the longest wait between attempts.
	RetryMax time.Duration `mapstructure:"retry_max" yaml:"retry_max" json:"retry_max"`
}

// LogConfig configures the process logger.
type LogConfig struct {
	// Level is one of debug, info, warn, error.
	Level string `mapstructure:"level" yaml:"level" json:"level"`
	// Format is json or text.
	Format string `mapstructure:"format" yaml:"format" json:"format"`
}

// LASConfig configures the UWLR SOAP client that talks to the school
// administration systems (LAS).
type LASConfig struct {
	// Timeout bounds one whole LAS call: connect, request and response body.
	Timeout time.Duration `mapstructure:"timeout" yaml:"timeout" json:"timeout"`
	// ConnectTimeout bounds the TCP connect plus TLS handshake.
	ConnectTimeout time.Duration `mapstructure:"connect_timeout" yaml:"connect_timeout" json:"connect_timeout"`
	// MaxResponseBytes is the largest response body accepted, in bytes.
	MaxResponseBytes int64 `mapstructure:"max_response_bytes" yaml:"max_response_bytes" json:"max_response_bytes"`
	// XSDVersie is the UWLR schema version sent in requests: 2.1, 2.2 or 2.3.
	XSDVersie string `mapstructure:"xsdversie" yaml:"xsdversie" json:"xsdversie"`
	// SOAPActionQuoted sends the SOAPAction header as "X" instead of X.
	SOAPActionQuoted bool `mapstructure:"soapaction_quoted" yaml:"soapaction_quoted" json:"soapaction_quoted"`
	// AcceptGzip asks the LAS for gzip-compressed responses.
	AcceptGzip bool `mapstructure:"accept_gzip" yaml:"accept_gzip" json:"accept_gzip"`
	// UserAgent is the HTTP User-Agent header.
	UserAgent string `mapstructure:"user_agent" yaml:"user_agent" json:"user_agent"`
	// Klantcode is the supplier (EA) code the LAS vendor assigned to us.
	Klantcode string `mapstructure:"klantcode" yaml:"klantcode" json:"klantcode"`
	// Klantnaam is the supplier (EA) name the LAS vendor assigned to us.
	Klantnaam string `mapstructure:"klantnaam" yaml:"klantnaam" json:"klantnaam"`
	// CaptureTTL is how long a raw capture (las fetch --raw) may be kept:
	// the command prints the date by which the file must be deleted, and
	// the school's audit chain records it.
	CaptureTTL time.Duration `mapstructure:"capture_ttl" yaml:"capture_ttl" json:"capture_ttl"`
}

// ServerConfig configures the HTTP server of the serve command.
type ServerConfig struct {
	// Addr is the host:port to listen on.
	Addr string `mapstructure:"addr" yaml:"addr" json:"addr"`
	// SecureCookies marks the web page's session cookie Secure: set it when
	// the gateway is reached over HTTPS (e.g. behind a TLS proxy).
	SecureCookies bool `mapstructure:"secure_cookies" yaml:"secure_cookies" json:"secure_cookies"`
	// ShutdownTimeout bounds a graceful shutdown (requests, deliveries and
	// syncs in flight get this long to end).
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout" yaml:"shutdown_timeout" json:"shutdown_timeout"`
}

// AuthConfig configures admin API and web page tokens.
type AuthConfig struct {
	// TokenTTL is the lifetime of a token created without --expires.
	TokenTTL time.Duration `mapstructure:"token_ttl" yaml:"token_ttl" json:"token_ttl"`
}

// StoreConfig selects and configures the state store.
type StoreConfig struct {
	// Driver is bolt (embedded, under DataDir) or redis.
	Driver string `mapstructure:"driver" yaml:"driver" json:"driver"`
	// RedisURL is the Redis connection URL; it may contain a password.
	RedisURL Secret `mapstructure:"redis_url" yaml:"redis_url" json:"redis_url"`
	// KeyPrefix is prepended to every Redis key.
	KeyPrefix string `mapstructure:"key_prefix" yaml:"key_prefix" json:"key_prefix"`
	// RedisSentinelAddrs is a comma-separated list of Redis Sentinels
	// (host:port). When set, the store asks them for the primary of
	// RedisSentinelMaster and follows a failover; the host of RedisURL is
	// then not used, but its user name, password, database and TLS still
	// apply to the data nodes. Empty: no Sentinel.
	RedisSentinelAddrs string `mapstructure:"redis_sentinel_addrs" yaml:"redis_sentinel_addrs" json:"redis_sentinel_addrs"`
	// RedisSentinelMaster is the name the Sentinels monitor the primary
	// under; required with RedisSentinelAddrs.
	RedisSentinelMaster string `mapstructure:"redis_sentinel_master" yaml:"redis_sentinel_master" json:"redis_sentinel_master"`
	// RedisSentinelPassword is the Sentinels' own password, when they have
	// one (the data nodes' password goes in RedisURL).
	RedisSentinelPassword Secret `mapstructure:"redis_sentinel_password" yaml:"redis_sentinel_password" json:"redis_sentinel_password"`
	// RedisMinReplicas is how many replicas must acknowledge (WAIT) each
	// write that must not be lost before it counts as done; fewer is a
	// temporary failure. MinReplicasAuto (the default) means 1 with
	// Sentinel and 0 (no WAIT) without; MinReplicas resolves it.
	RedisMinReplicas int `mapstructure:"redis_min_replicas" yaml:"redis_min_replicas" json:"redis_min_replicas"`
}

// MinReplicasAuto is store.redis_min_replicas's default: 1 when Sentinel is
// configured (a primary and at least one replica that a failover can
// promote without losing an acknowledged write), else 0.
const MinReplicasAuto = -1

// SentinelAddrs returns RedisSentinelAddrs split at commas, without
// spaces and empty items; nil when none.
func (s StoreConfig) SentinelAddrs() []string {
	var out []string
	for _, a := range strings.Split(s.RedisSentinelAddrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// MinReplicas returns RedisMinReplicas with MinReplicasAuto resolved: 1
// when Sentinel is configured, else 0.
func (s StoreConfig) MinReplicas() int {
	if s.RedisMinReplicas != MinReplicasAuto {
		return s.RedisMinReplicas
	}
	if len(s.SentinelAddrs()) > 0 {
		return 1
	}
	return 0
}

// VaultConfig configures the vault that encrypts credentials at rest.
type VaultConfig struct {
	// KeysFile is the path to the key file. The keys themselves never go in
	// the config.
	KeysFile string `mapstructure:"keys_file" yaml:"keys_file" json:"keys_file"`
}

// Default returns the configuration used for every key that is not set in
// the file or the environment. It is the only place defaults are defined.
func Default() Config {
	return Config{
		DataDir: "./data",
		Log: LogConfig{
			Level:  "info",
			Format: "json",
		},
		LAS: LASConfig{
			Timeout:          2 * time.Minute,
			ConnectTimeout:   15 * time.Second,
			MaxResponseBytes: 256 << 20, // 256 MiB
			XSDVersie:        "2.2",
			SOAPActionQuoted: false,
			AcceptGzip:       true,
			UserAgent:        "uwlr-gateway",
			Klantcode:        "",
			Klantnaam:        "",
			CaptureTTL:       720 * time.Hour, // 30 days
		},
		Server: ServerConfig{
			Addr:            "127.0.0.1:8080",
			SecureCookies:   false,
			ShutdownTimeout: 30 * time.Second,
		},
		Auth: AuthConfig{
			TokenTTL: 90 * 24 * time.Hour,
		},
		Store: StoreConfig{
			Driver:    "bolt",
			RedisURL:  NewSecret("redis://127.0.0.1:6379/0"),
			KeyPrefix: "uwlr:",
			// No Sentinel; WAIT for 1 replica once Sentinel is configured.
			RedisSentinelAddrs:    "",
			RedisSentinelMaster:   "",
			RedisSentinelPassword: NewSecret(""),
			RedisMinReplicas:      MinReplicasAuto,
		},
		Vault: VaultConfig{
			KeysFile: "",
		},
		Delivery: DeliveryConfig{
			BatchSize:   500,
			Concurrency: 4,
			Lease:       3 * time.Minute,
			MaxAttempts: 25,
			RetryBase:   10 * time.Second,
			RetryMax:    30 * time.Minute,
		},
		Schedule: ScheduleConfig{
			Enabled:             true,
			WindowStart:         "01:00",
			WindowEnd:           "06:00",
			CapStandard:         8,
			CapMagister:         4,
			CapSomtoday:         4,
			CapEsis:             2,
			CapIddink:           2,
			DefaultCap:          2,
			BackoffBase:         15 * time.Minute,
			BackoffMax:          2 * time.Hour,
			MaxAttemptsPerNight: 3,
			SyncTimeout:         30 * time.Minute,
			Tick:                30 * time.Second,
			LockTTL:             2 * time.Minute,
			RetentionAt:         "05:30",
		},
		Retention: RetentionConfig{
			StaleAfter: 365 * 24 * time.Hour, // a school year
		},
		Legal:  LegalConfig{Bases: []LegalBase{}},
		Intake: IntakeConfig{MaxProblems: 1000, MaxBodyBytes: 64 << 20},
	}
}
