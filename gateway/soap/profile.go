package soap

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// StandardProfile is the profile of a LAS that follows the UWLR standard
// without known quirks; a school without a vendor profile counts as it.
const StandardProfile = "standard"

// Profile is one LAS vendor's way of speaking UWLR on the wire (docs/UWLR-SPEC.md 6.3
// and shared/uwlr/external/SOURCES.md 3-4): what the gateway must send that
// vendor, and what las-sim reproduces when it plays that vendor. A Profile
// is production data; the simulator adds only its own quirks on top.
type Profile struct {
	// Name is the profile's name: lower case letters only, unique. It is
	// stored as gateway.School.Vendor, chosen with `school add --profile`
	// and `las-sim --profile`, names the config key schedule.cap_<Name>, and
	// is the vendor label of the metrics.
	Name string
	// Xsdversie is the UWLR schema version the vendor expects in requests
	// and answers with: "2.2" or "2.3". It is the default of a school's
	// xsdversie.
	Xsdversie string
	// Incremental is set when the vendor is known to honour
	// laatstontvangengegevens (answer only what changed, or
	// geenwijzigingen). Without it the gateway always pulls the whole
	// school: no public source shows Magister, the Iddink hub, Somtoday or
	// ESIS honouring it (docs/UWLR-SPEC.md 6.4).
	Incremental bool
	// QuoteSOAPAction sends the SOAPAction header as "X" (SOAP 1.1 quoted)
	// instead of X. Only set where the quoted form is the one seen working:
	// Somtoday is reached by PHP's SoapClient, which quotes; Magister, the
	// Iddink hub and ESIS are reached unquoted (SOURCES.md 3.5).
	QuoteSOAPAction bool
	// Headers are the HTTP headers the vendor requires on every request,
	// besides Content-Type and SOAPAction. Their values are per school.
	Headers []VendorHeader
	// DefaultCap is the default of schedule.cap_<Name>: how many nightly
	// syncs one gateway process runs against this vendor at once. It is
	// our own politeness limit, not a published vendor limit (none is
	// published, docs/UWLR-SPEC.md 6.4).
	DefaultCap int
}

// VendorHeader is one HTTP header a vendor requires, and where its
// per-school value comes from.
type VendorHeader struct {
	// Name is the header name in Go's canonical form (http.CanonicalHeaderKey),
	// so http.Header.Get and direct map access agree. HTTP header names are
	// case-insensitive (RFC 9110 5.1), and HTTP/2 sends them in lower case:
	// the Iddink hub documents "IddinkHub-Subscription-Key", which is this
	// table's "Iddinkhub-Subscription-Key".
	Name string
	// Secret marks a value that is a credential: it is sealed at rest and
	// never logged, printed or put in an error.
	Secret bool
	// Flag is the `school add` flag, without the leading dashes, that names
	// the file holding the value (as --key-file does for the
	// autorisatiesleutel).
	Flag string
	// Field is the value's name everywhere else: the per-school credentials
	// field in the store and vault, the las-sim credentials file's JSON key,
	// and the key of the values map taken by Profile.ApplyHeaders.
	Field string
}

// FieldSubscriptionKey is the Field of the Iddink hub's subscription key.
const FieldSubscriptionKey = "subscription_key"

// profiles is the table, sorted by name. Callers get copies (Profiles,
// LookupProfile), so no importer can change another's view of a vendor.
var profiles = []Profile{
	{Name: "esis", Xsdversie: "2.2", DefaultCap: 2},
	{Name: "iddink", Xsdversie: "2.3", DefaultCap: 2, Headers: []VendorHeader{
		// An API-management key in front of the hub, in addition to the
		// autorisatie header (docs/UWLR-SPEC.md 4, SOURCES.md 4).
		{Name: "Iddinkhub-Subscription-Key", Secret: true, Flag: "subscription-key-file", Field: FieldSubscriptionKey},
	}},
	{Name: "magister", Xsdversie: "2.3", DefaultCap: 4},
	{Name: "somtoday", Xsdversie: "2.2", QuoteSOAPAction: true, DefaultCap: 4},
	{Name: StandardProfile, Xsdversie: "2.2", Incremental: true, DefaultCap: 8},
}

// Profiles returns every vendor profile, sorted by name.
func Profiles() []Profile {
	out := make([]Profile, len(profiles))
	for i, p := range profiles {
		out[i] = p.clone()
	}
	return out
}

// ProfileNames returns the names of the vendor profiles, sorted.
func ProfileNames() []string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	return names
}

// LookupProfile returns the profile called name ("" is StandardProfile).
// An unknown name is gateway.ErrInvalid, with the known names in the
// message.
func LookupProfile(name string) (Profile, error) {
	if name == "" {
		name = StandardProfile
	}
	for _, p := range profiles {
		if p.Name == name {
			return p.clone(), nil
		}
	}
	return Profile{}, fmt.Errorf("%w: unknown profile %q (have %s)", gateway.ErrInvalid, name, strings.Join(ProfileNames(), ", "))
}

// UseSince reports whether laatstontvangengegevens may be sent to a LAS of
// the vendor profile called vendor ("" is StandardProfile). An unknown
// vendor gets false: a whole-school pull is always correct, only slower.
func UseSince(vendor string) bool {
	p, err := LookupProfile(vendor)
	return err == nil && p.Incremental
}

// ApplyHeaders sets on h every header p requires, each value taken from
// values by the header's Field. It sets nothing and returns
// gateway.ErrInvalid when a value is missing or contains a line break; the
// error names the fields and headers, never a value.
func (p Profile) ApplyHeaders(h http.Header, values map[string]string) error {
	var problems []string
	for _, vh := range p.Headers {
		switch v := values[vh.Field]; {
		case v == "":
			problems = append(problems, fmt.Sprintf("%s (header %s) is missing", vh.Field, vh.Name))
		case strings.ContainsAny(v, "\r\n"):
			problems = append(problems, fmt.Sprintf("%s (header %s) contains a line break", vh.Field, vh.Name))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: profile %s: %s", gateway.ErrInvalid, p.Name, strings.Join(problems, "; "))
	}
	for _, vh := range p.Headers {
		h.Set(vh.Name, values[vh.Field])
	}
	return nil
}

func (p Profile) clone() Profile {
	p.Headers = slices.Clone(p.Headers)
	return p
}
