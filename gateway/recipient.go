package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// RecipientKind is how a recipient takes its data.
type RecipientKind string

const (
	// RecipientWebhook: results pushed as JSON, signed as Standard Webhooks sign.
	RecipientWebhook RecipientKind = "webhook"
	// RecipientFeed: the recipient pulls results from the feed API with a
	// dashboard token.
	RecipientFeed RecipientKind = "feed"
	// RecipientUWLR: BrengLeerresultaten to an endpoint that speaks UWLR.
	RecipientUWLR RecipientKind = "uwlr"
	// RecipientFile: an export written to a directory the operator hands on.
	RecipientFile RecipientKind = "file"
)

// RecipientKinds lists every kind.
var RecipientKinds = []RecipientKind{RecipientWebhook, RecipientFeed, RecipientUWLR, RecipientFile}

// recipientKinds says which kinds serve which processing: results to
// dashboards are pushed, pulled or sent over UWLR; research and legal
// exports are files, or pushed to a webhook.
var recipientKinds = map[Processing][]RecipientKind{
	ProcessingLASExchange: {RecipientUWLR},
	ProcessingDashboards:  {RecipientWebhook, RecipientFeed, RecipientUWLR},
	ProcessingResearch:    {RecipientFile, RecipientWebhook},
	ProcessingLegal:       {RecipientFile, RecipientWebhook},
}

// Recipient is one party that receives a school's data under one optional
// processing: who it is, where the data goes, the contract or legal basis it
// rests on, and its credentials (sealed by the vault). The school's LAS is
// the only recipient that ever receives ECK iDs.
type Recipient struct {
	Name       string        `json:"name"`
	Processing Processing    `json:"processing"`
	Kind       RecipientKind `json:"kind"`
	// URL is where a webhook or uwlr recipient is reached; empty for feed and file.
	URL string `json:"url,omitempty"`
	// Country is where the data goes (ISO 3166-1 alpha-2, "NL" when not said).
	Country string `json:"country"`
	// Basis is the contract or legal basis the recipient rests on.
	Basis string `json:"basis"`
	// Klantcode and Klantnaam identify us to a uwlr recipient (the school's
	// when empty).
	Klantcode string `json:"klantcode,omitempty"`
	Klantnaam string `json:"klantnaam,omitempty"`
	// ScoreType and QuoteSOAPAction tune a uwlr recipient (as a results
	// receiver profile does).
	ScoreType       string `json:"score_type,omitempty"`
	QuoteSOAPAction bool   `json:"quote_soapaction,omitempty"`
	Xsdversie       string `json:"xsdversie,omitempty"`
	// SealedSecret is a webhook's signing secret; SealedKey a uwlr
	// recipient's autorisatiesleutel. Both sealed, never shown.
	SealedSecret []byte `json:"sealed_secret,omitempty"`
	SealedKey    []byte `json:"sealed_key,omitempty"`
	// LAS marks the school's own LAS (the results receiver profile at the
	// LAS's endpoint): the one recipient that gets ECK iDs.
	LAS       bool      `json:"las,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// LogValue logs a recipient by name and processing only.
func (r Recipient) LogValue() slog.Value {
	return slog.GroupValue(slog.String("recipient", r.Name), slog.String("processing", string(r.Processing)))
}

// Endpoint is where the recipient's data goes, as evidence names it.
func (r Recipient) Endpoint() string {
	switch r.Kind {
	case RecipientFile:
		return "file:" + r.Name
	case RecipientFeed:
		return "feed:" + r.Name
	}
	return r.URL
}

var recipientName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// Validate checks a recipient as registered (secrets are checked by the
// application layer, which seals them): a known processing and a kind that
// serves it, a name, a basis, a country code, and an https URL (http only to
// a loopback host) for the kinds that push.
func (r Recipient) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: recipient %q: %s", ErrInvalid, r.Name, fmt.Sprintf(format, args...))
	}
	kinds, ok := recipientKinds[r.Processing]
	switch {
	case !recipientName.MatchString(r.Name):
		return fmt.Errorf("%w: recipient name %q: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit", ErrInvalid, r.Name)
	case !ok:
		return bad("unknown processing %q (one of dashboards, legal, research)", r.Processing)
	case !kindIn(r.Kind, kinds):
		return bad("kind %q does not serve %s (one of %s)", r.Kind, r.Processing, kindList(kinds))
	case strings.TrimSpace(r.Basis) == "":
		return bad("the contract or legal basis it rests on is required (--basis)")
	case !countryCode.MatchString(r.Country):
		return bad("country %q: a two-letter ISO 3166 code such as NL", r.Country)
	}
	needsURL := r.Kind == RecipientWebhook || r.Kind == RecipientUWLR
	switch {
	case needsURL && r.URL == "":
		return bad("a %s recipient needs --url", r.Kind)
	case !needsURL && r.URL != "":
		return bad("a %s recipient takes no --url", r.Kind)
	case needsURL:
		if err := CheckEgressURL(r.URL); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

// CheckEgressURL accepts an https URL, or http to a loopback host (a test
// or a local receiver), without user info: every call that carries personal
// data or credentials out of the gateway goes through it.
func CheckEgressURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("the url is not an absolute URL")
	}
	if u.User != nil {
		return fmt.Errorf("url must not carry user info: credentials go in their own files")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("url to %s: https is required outside loopback", u.Host)
	}
	return fmt.Errorf("url scheme %q: https is required", u.Scheme)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func kindIn(k RecipientKind, ks []RecipientKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func kindList(ks []RecipientKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Recipient returns the school's recipient with that name.
func (s School) Recipient(name string) (Recipient, bool) {
	for _, r := range s.Recipients {
		if r.Name == name {
			return r, true
		}
	}
	return Recipient{}, false
}

// RecipientsOf returns the school's recipients under p, in registration order.
func (s School) RecipientsOf(p Processing) []Recipient {
	var out []Recipient
	for _, r := range s.Recipients {
		if r.Processing == p {
			out = append(out, r)
		}
	}
	return out
}

// RecipientView is a recipient as the edges show it: everything but the
// credentials, of which it says only whether they are set.
type RecipientView struct {
	Name       string        `json:"name"`
	Processing Processing    `json:"processing"`
	Kind       RecipientKind `json:"kind"`
	URL        string        `json:"url,omitempty"`
	Country    string        `json:"country"`
	Basis      string        `json:"basis"`
	Klantcode  string        `json:"klantcode,omitempty"`
	Klantnaam  string        `json:"klantnaam,omitempty"`
	ScoreType  string        `json:"score_type,omitempty"`
	HasSecret  bool          `json:"has_secret"`
	HasKey     bool          `json:"has_key"`
	LAS        bool          `json:"las,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	CreatedBy  string        `json:"created_by"`
	// LastSentAt and LastRecords say what was sent to it last (from the
	// school's audit chain); zero when nothing was yet.
	LastSentAt  time.Time `json:"last_sent_at,omitzero"`
	LastRecords int       `json:"last_records,omitempty"`
}

// View returns the recipient without its credentials.
func (r Recipient) View() RecipientView {
	return RecipientView{Name: r.Name, Processing: r.Processing, Kind: r.Kind, URL: r.URL, Country: r.Country, Basis: r.Basis,
		Klantcode: r.Klantcode, Klantnaam: r.Klantnaam, ScoreType: r.ScoreType, HasSecret: len(r.SealedSecret) > 0,
		HasKey: len(r.SealedKey) > 0, LAS: r.LAS, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy}
}

// DashboardResult is one result as a dashboard receives it (pushed or read
// from the feed). It names the pupil by LAS key only: never an ECK iD, a
// name or a birth date. ID is stable for one version of one result (its
// key and content digest), so a receiver that gets it twice (at least
// once) can de-duplicate.
type DashboardResult struct {
	ID        string `json:"id"`
	Key       string `json:"key"`
	Pupil     string `json:"pupil"`
	Group     string `json:"group,omitempty"`
	YearGroup string `json:"jaargroep,omitempty"`
	Test      string `json:"test"`
	Part      string `json:"part,omitempty"`
	Date      string `json:"date"`
	Score     string `json:"score,omitempty"`
}

// DashboardResultOf is r of pupil p as a dashboard receives it.
func DashboardResultOf(school SchoolID, p Pupil, r Result) DashboardResult {
	h := sha256.Sum256([]byte(string(school) + "\x00" + r.Key + "\x00" + r.Digest))
	return DashboardResult{ID: "res_" + hex.EncodeToString(h[:12]), Key: r.Key, Pupil: p.LASKey, Group: p.GroupKey,
		YearGroup: p.YearGroup, Test: r.Test, Part: r.Part, Date: r.Date, Score: r.Score}
}

// FeedPage is one page of a dashboard's results feed.
type FeedPage struct {
	School    SchoolID          `json:"school"`
	Recipient string            `json:"recipient"`
	Results   []DashboardResult `json:"results"`
	// Next is the cursor of the next page; More says whether it has results
	// already.
	Next string `json:"next"`
	More bool   `json:"more"`
}
