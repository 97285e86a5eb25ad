package lassim

import (
	"math/rand/v2"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// Profile is one vendor as the simulator plays it: the vendor's wire facts
// from the gateway's own table (soap.Profile: name, xsdversie, SOAPAction
// form, required headers), plus the quirks only a simulated LAS needs
// (docs/UWLR-SPEC.md 6.3). The simulator enforces every header in Headers: a request
// without a value issued to one of its schools gets the HTTP 401 JSON an API
// gateway in front of the LAS answers.
type Profile struct {
	soap.Profile

	Path string // endpoint path, shaped like the vendor's
	// Wire quirks of the answers.
	Prefix               string  // element prefix in answers ("" = default namespace)
	VendorFieldOrder     bool    // school and teacher children in Magister's non-XSD order
	EmptyVoorvoegsel     bool    // send <voorvoegsel></voorvoegsel> when there is none
	EckidOnlyShare       float64 // share of pupils with an ECK iD and no key (UWLR 2.3)
	NoEckidShare         float64 // share of pupils without an ECK iD
	TeachersWithoutEckid bool    // about half the teachers lack an ECK iD
	Vestigingen          bool    // answers carry vestigingen
	// FullRecords sends the whole EDEXML record, also the fields the
	// gateway never keeps: a pupil's BSN, ethnicity, countries (own and
	// parents'), postcode, weight, e-mail, user name and dates of entry; a
	// teacher's given names and user name. Values follow from the record's
	// key (no effect on the generated world).
	FullRecords bool
	// Transport and credential quirks.
	ClientCert  bool // HTTPS with a required client certificate
	KeyLen      int  // autorisatiesleutel length
	KeyUpperHex bool // autorisatiesleutel in upper-case hex (else base64 characters)
}

// quirks are the simulator-only parts of each profile, by soap profile name.
var quirks = map[string]Profile{
	soap.StandardProfile: {Path: "/uwlr/v2", KeyLen: 32},
	"magister": {Path: "/uwlr-l/leerlinggegevens-smalle-set.svc", Prefix: "le",
		VendorFieldOrder: true, EmptyVoorvoegsel: true, EckidOnlyShare: 0.1, TeachersWithoutEckid: true,
		KeyLen: 32, KeyUpperHex: true},
	"esis":     {Path: "/UWLR/UwlrStandaard2.2.svc", Vestigingen: true, FullRecords: true, ClientCert: true, KeyLen: 40},
	"somtoday": {Path: "/services/v2/leerlinggegevens", KeyLen: 88},
	"iddink":   {Path: "/uwlr-l-alles-in-een/V2.3", Prefix: "le", KeyLen: 32, KeyUpperHex: true},
}

// Profiles are the built-in vendor profiles, one for every soap profile, by
// name. A vendor added to the soap table without simulator quirks is played
// with the standard profile's quirks.
var Profiles = buildProfiles()

func buildProfiles() map[string]Profile {
	out := map[string]Profile{}
	for _, sp := range soap.Profiles() {
		p, ok := quirks[sp.Name]
		if !ok {
			p = quirks[soap.StandardProfile]
		}
		p.Profile = sp
		out[sp.Name] = p
	}
	return out
}

// ProfileNames lists the profile names, sorted.
func ProfileNames() []string { return soap.ProfileNames() }

// LookupProfile finds a profile by name ("" is the standard profile); an
// unknown name is gateway.ErrInvalid, listing the known ones.
func LookupProfile(name string) (Profile, error) {
	sp, err := soap.LookupProfile(name)
	if err != nil {
		return Profile{}, err
	}
	return Profiles[sp.Name], nil
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func (p Profile) key(rng *rand.Rand) string {
	if p.KeyUpperHex {
		return strings.ToUpper(randHex(rng, p.KeyLen/2))
	}
	var b strings.Builder
	for i := 0; i < p.KeyLen; i++ {
		b.WriteByte(base64Chars[rng.IntN(len(base64Chars))])
	}
	return b.String()
}
