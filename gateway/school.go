package gateway

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

// SchoolID identifies a school: BRIN + dependancecode ("12AB00"), or the
// LAS's schoolkey for schools without a BRIN.
type SchoolID string

var brinDep = regexp.MustCompile(`^\d{2}[A-Z]{2}\d{2}$`)

// SchoolIDFor returns the id of a school: brin+dependancecode ("00" when
// empty), or the schoolkey when there is no BRIN.
func SchoolIDFor(brin, dependancecode, schoolkey string) SchoolID {
	if brin == "" {
		return SchoolID(schoolkey)
	}
	if dependancecode == "" {
		dependancecode = "00"
	}
	return SchoolID(brin + dependancecode)
}

// IsBrin reports whether the id has the BRIN+dependancecode form.
func (id SchoolID) IsBrin() bool { return brinDep.MatchString(string(id)) }

// schoolKey is what a school id and a LAS schoolkey may hold. A school id
// names a directory (exports, captures), an audit chain and store keys, and
// is printed on terminals and pages; a schoolkey becomes the id of a school
// without a BRIN. So both are short, without separators of paths or keys,
// without spaces or control characters, and never "." or "..".
var schoolKey = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// schoolKeyRule says what schoolKey allows, for error messages.
const schoolKeyRule = "1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', and not \".\" or \"..\""

// validSchoolKey checks a school id or schoolkey; the error quotes the
// value (%q), so a bad one cannot move a terminal's cursor or forge a line.
func validSchoolKey(what, s string) error {
	if !schoolKey.MatchString(s) || s == "." || s == ".." {
		return fmt.Errorf("%w: %s %q must be %s", ErrInvalid, what, s, schoolKeyRule)
	}
	return nil
}

// Valid checks the id against the school key rule: 1 to 64 characters of
// A-Z, a-z, 0-9, '.', '_' and '-', neither "." nor "..". It returns
// ErrInvalid otherwise.
func (id SchoolID) Valid() error { return validSchoolKey("school id", string(id)) }

// School is one enrolled school and how to reach its LAS. Secrets are held
// sealed by the vault; this type never carries them in plain text.
type School struct {
	ID             SchoolID
	Brin           string
	Dependancecode string
	Schoolkey      string
	Vendor         string // vendor profile name, e.g. "magister"
	Endpoint       string
	Klantcode      string
	Klantnaam      string
	Xsdversie      string
	Gegevenssetid  string
	// SealedKey is the autorisatiesleutel, sealed by the vault.
	SealedKey []byte
	// ClientCertFile/ClientKeyFile: optional mTLS credentials on disk;
	// SealedKeyPassphrase is the sealed passphrase of an encrypted key file.
	ClientCertFile      string
	ClientKeyFile       string
	SealedKeyPassphrase []byte
	// SealedSecrets are the values of the HTTP headers the vendor profile
	// requires (e.g. the Iddink hub's subscription key), sealed by the
	// vault, by the profile's field name ("subscription_key").
	SealedSecrets map[string][]byte `json:",omitempty"`
	CreatedAt     time.Time
	// LastPulledAt is the start of the last applied or unchanged sync, used
	// as laatstontvangengegevens when the vendor profile allows it.
	LastPulledAt time.Time
	// Results is the receiver of this school's results; nil means its LAS.
	Results *ResultsReceiver `json:",omitempty"`
	// Contact is the school's contact person; nil until the school names one.
	Contact *SchoolContact `json:",omitempty"`
	// Recipients receive the school's data under its optional processings
	// (dashboards, legal, research), each only while that one is granted.
	Recipients []Recipient `json:",omitempty"`
	// Studies are the research studies registered for the school.
	Studies []Study `json:",omitempty"`
}

// SchoolContact is the school's contact person for the gateway: its
// "beheerder" under the processing agreement, also the person to contact in
// case of a data breach. It is personal data: it is never logged, never put
// in an audit entry (the audit records that it changed and by whom, not the
// values), and it is shown only to the school's own admins and to
// operators, and in a breach report for the school's DPO.
type SchoolContact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// Phone is optional.
	Phone string `json:"phone,omitempty"`
	// UpdatedAt and UpdatedBy say when and by whom it was last set.
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// LogValue logs that a contact is set, never who it is.
func (c SchoolContact) LogValue() slog.Value { return slog.StringValue("contact person (not logged)") }

// LogValue logs the school by id only.
func (s School) LogValue() slog.Value { return slog.StringValue(string(s.ID)) }

// Validate checks the identity and connection fields of a school: the id
// and the schoolkey (when given) follow the school key rule (SchoolID.Valid).
func (s School) Validate() error {
	if s.ID == "" {
		return fmt.Errorf("%w: school id is empty (it must be %s)", ErrInvalid, schoolKeyRule)
	}
	if err := s.ID.Valid(); err != nil {
		return err
	}
	if s.Schoolkey != "" {
		if err := validSchoolKey("schoolkey", s.Schoolkey); err != nil {
			return err
		}
	}
	switch {
	case s.Brin != "" && s.ID != SchoolIDFor(s.Brin, s.Dependancecode, ""):
		return fmt.Errorf("%w: school id %s does not match BRIN %s dependancecode %s", ErrInvalid, s.ID, s.Brin, s.Dependancecode)
	case s.Endpoint == "":
		return fmt.Errorf("%w: school %s: endpoint is empty", ErrInvalid, s.ID)
	case len(s.SealedKey) == 0:
		return fmt.Errorf("%w: school %s: no autorisatiesleutel", ErrInvalid, s.ID)
	}
	return nil
}

// Processing is one optional processing a school must opt in to.
type Processing string

const (
	ProcessingLASExchange Processing = "las_exchange" // pupil data and results with its LAS
	ProcessingDashboards  Processing = "dashboards"   // results to the school's dashboards
	ProcessingLegal       Processing = "legal"        // data needed for legal requirements
	ProcessingResearch    Processing = "research"     // pseudonymised data for research/statistics
)

// Processings lists every processing, in a fixed order.
var Processings = []Processing{ProcessingLASExchange, ProcessingDashboards, ProcessingLegal, ProcessingResearch}

// Valid reports whether p is a known processing.
func (p Processing) Valid() bool {
	for _, q := range Processings {
		if p == q {
			return true
		}
	}
	return false
}

// ConsentChange is one recorded change of one processing for one school.
type ConsentChange struct {
	School     SchoolID
	Processing Processing
	Old, New   bool
	By         string
	At         time.Time
}

// Consent is a school's current opt-ins. Absent means not granted.
type Consent map[Processing]bool
