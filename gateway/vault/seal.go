package vault

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Format of sealed values.
const (
	// FormatVersion is the version byte written by Seal.
	FormatVersion byte = 1
	headerSize         = 4 + 1 // term + version
	nonceSize          = 12
	tagSize            = 16
	// Overhead is how many bytes Seal adds to a plaintext.
	Overhead = headerSize + nonceSize + tagSize
	// label starts the additional data of every seal, so a value sealed by
	// this format can never be taken for one sealed by another program or
	// format that uses the same key.
	label = "uwlr-gateway/v1"
)

// Kinds of record a Place names.
const (
	KindPupil   = "pupil"
	KindTeacher = "teacher"
	KindSchool  = "school"
	// KindGateway is a secret of the gateway itself (the evidence signing
	// key); its place names no school.
	KindGateway = "gateway"
)

// Field names in use.
const (
	FieldEckID              = "eckid"
	FieldAutorisatiesleutel = "autorisatiesleutel"
	FieldKeyPassphrase      = "key_passphrase"
	FieldEvidenceKey        = "evidence_key"
)

var (
	// ErrUnsealFailed: the value was sealed for another place, was altered,
	// is truncated, or has an unknown format version. It wraps
	// gateway.ErrInvalid: opening the same bytes again fails again.
	ErrUnsealFailed = fmt.Errorf("unseal failed: %w", gateway.ErrInvalid)
	// ErrUnknownTerm: the value names a key term the keyring does not hold
	// (an old key file was loaded, or a term was dropped too early). The
	// error names the term number and nothing else of the value.
	ErrUnknownTerm = errors.New("unknown key term")
)

// Place is where a sealed value belongs. The vault binds every value to its
// place: a value opens only at the place it was sealed for.
//
//	Place{Kind: KindPupil, School: s, Record: string(pupilID), Field: FieldEckID}
//	Place{Kind: KindSchool, School: s, Field: FieldAutorisatiesleutel}
type Place struct {
	Kind   string // KindPupil, KindTeacher or KindSchool
	School gateway.SchoolID
	Record string // our pupil id, the teacher key; empty for a school's own secrets
	Field  string
}

// PupilEckID is the place of a pupil's ECK iD.
func PupilEckID(school gateway.SchoolID, pupil gateway.PupilID) Place {
	return Place{Kind: KindPupil, School: school, Record: string(pupil), Field: FieldEckID}
}

// TeacherEckID is the place of a teacher's ECK iD.
func TeacherEckID(school gateway.SchoolID, teacherKey string) Place {
	return Place{Kind: KindTeacher, School: school, Record: teacherKey, Field: FieldEckID}
}

// SchoolSecret is the place of a school's secret, e.g. FieldAutorisatiesleutel.
func SchoolSecret(school gateway.SchoolID, field string) Place {
	return Place{Kind: KindSchool, School: school, Field: field}
}

// GatewaySecret is the place of one of the gateway's own secrets.
func GatewaySecret(field string) Place {
	return Place{Kind: KindGateway, Field: field}
}

// String names the place by ids: "pupil 12AB00/p-1 eckid".
func (p Place) String() string {
	if p.Kind == KindGateway {
		return "gateway " + p.Field
	}
	if p.Record == "" {
		return fmt.Sprintf("%s %s %s", p.Kind, p.School, p.Field)
	}
	return fmt.Sprintf("%s %s/%s %s", p.Kind, p.School, p.Record, p.Field)
}

// LogValue logs the place by its ids.
func (p Place) LogValue() slog.Value { return slog.StringValue(p.String()) }

func (p Place) validate() error {
	switch {
	case p.Kind != KindPupil && p.Kind != KindTeacher && p.Kind != KindSchool && p.Kind != KindGateway:
		return fmt.Errorf("place kind %q: want pupil, teacher, school or gateway: %w", p.Kind, gateway.ErrInvalid)
	case p.Kind == KindGateway && p.School != "":
		return fmt.Errorf("place %s: a gateway secret names no school: %w", p, gateway.ErrInvalid)
	case p.School == "" && p.Kind != KindGateway:
		return fmt.Errorf("place %s: school is empty: %w", p, gateway.ErrInvalid)
	case p.Field == "":
		return fmt.Errorf("place %s: field is empty: %w", p, gateway.ErrInvalid)
	case p.Record == "" && p.Kind != KindSchool && p.Kind != KindGateway:
		return fmt.Errorf("place %s: record is empty: %w", p, gateway.ErrInvalid)
	}
	return nil
}

// appendLP appends s prefixed with its length (4 bytes, big endian).
func appendLP(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// additionalData is the AEAD additional data: the label, the header and the
// place, each variable part length-prefixed so no two places collide.
func (p Place) additionalData(header []byte) []byte {
	ad := make([]byte, 0, 4+len(label)+headerSize+16+len(p.Kind)+len(p.School)+len(p.Record)+len(p.Field))
	ad = appendLP(ad, label)
	ad = append(ad, header[:headerSize]...)
	ad = appendLP(ad, p.Kind)
	ad = appendLP(ad, string(p.School))
	ad = appendLP(ad, p.Record)
	return appendLP(ad, p.Field)
}

// Sealer seals values and computes blind indexes. It cannot open anything.
// It is safe for concurrent use.
type Sealer struct{ r *ring }

// Seal encrypts plaintext for place under the keyring's active term and
// returns the sealed bytes (len(plaintext)+Overhead). It returns an error
// wrapping gateway.ErrInvalid for an invalid place, and ErrTermExhausted
// once the term has reached NonceLimit seals. plaintext is not retained.
func (s *Sealer) Seal(place Place, plaintext []byte) ([]byte, error) {
	return s.r.seal(place, plaintext)
}

func (r *ring) seal(place Place, plaintext []byte) ([]byte, error) {
	if err := place.validate(); err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	t := r.terms[r.active]
	if t.seals.Add(1) > NonceLimit {
		return nil, fmt.Errorf("vault: seal %s: key term %d: %w", place, t.n, ErrTermExhausted)
	}
	out := make([]byte, headerSize, headerSize+nonceSize+len(plaintext)+tagSize)
	binary.BigEndian.PutUint32(out, t.n)
	out[4] = FormatVersion
	// The AEAD draws a fresh nonce from crypto/rand and writes it before
	// the ciphertext: header | nonce | ciphertext | tag.
	return t.aead.Seal(out, nil, plaintext, place.additionalData(out)), nil
}

// Opener opens sealed values. It is the only way to decrypt; only
// gateway/delivery holds one for ECK iDs. It is safe for concurrent use.
type Opener struct{ r *ring }

// Open decrypts a value sealed for place under any term of the keyring. It
// returns an error wrapping ErrUnsealFailed (and so gateway.ErrInvalid) when
// the value was sealed for another place, altered, truncated or has an
// unknown version; one wrapping ErrUnknownTerm naming the term when the
// keyring lacks its term; one wrapping gateway.ErrInvalid for an invalid
// place. The caller owns the plaintext and should clear it after use.
func (o *Opener) Open(place Place, sealed []byte) ([]byte, error) {
	return o.r.open(place, sealed)
}

// parseHeader returns the term of a sealed value after checking its length
// and version.
func parseHeader(place Place, sealed []byte) (uint32, error) {
	if len(sealed) < Overhead {
		return 0, fmt.Errorf("vault: open %s: %d bytes is shorter than any sealed value: %w", place, len(sealed), ErrUnsealFailed)
	}
	if v := sealed[4]; v != FormatVersion {
		return 0, fmt.Errorf("vault: open %s: format version %d unknown: %w", place, v, ErrUnsealFailed)
	}
	return binary.BigEndian.Uint32(sealed), nil
}

func (r *ring) open(place Place, sealed []byte) ([]byte, error) {
	if err := place.validate(); err != nil {
		return nil, fmt.Errorf("vault: open: %w", err)
	}
	n, err := parseHeader(place, sealed)
	if err != nil {
		return nil, err
	}
	t, ok := r.terms[n]
	if !ok {
		return nil, fmt.Errorf("vault: open %s: %w %d", place, ErrUnknownTerm, n)
	}
	// dst is nil: never decrypt in place over the caller's sealed bytes.
	plaintext, err := t.aead.Open(nil, nil, sealed[headerSize:], place.additionalData(sealed))
	if err != nil {
		// The AEAD cannot say whether the place is wrong or the bytes were
		// altered, and its error says nothing more; do not pass it on.
		return nil, fmt.Errorf("vault: open %s: %w", place, ErrUnsealFailed)
	}
	return plaintext, nil
}

// Rewrapper moves sealed values to the active term. It decrypts inside the
// vault and never returns plaintext. It is safe for concurrent use.
type Rewrapper struct{ r *ring }

// Rewrap re-seals a value for the same place under the active term. When the
// value already names the active term it returns sealed itself and false
// without decrypting (so it is not a check of integrity) and without using
// up a seal; otherwise it opens, re-seals and returns the new bytes and true.
// Errors are those of Open and Seal.
func (w *Rewrapper) Rewrap(place Place, sealed []byte) (newSealed []byte, changed bool, err error) {
	return w.r.rewrap(place, sealed)
}

func (r *ring) rewrap(place Place, sealed []byte) ([]byte, bool, error) {
	if err := place.validate(); err != nil {
		return nil, false, fmt.Errorf("vault: rewrap: %w", err)
	}
	n, err := parseHeader(place, sealed)
	if err != nil {
		return nil, false, err
	}
	if n == r.active {
		return sealed, false, nil
	}
	plaintext, err := r.open(place, sealed)
	if err != nil {
		return nil, false, err
	}
	defer clear(plaintext)
	out, err := r.seal(place, plaintext)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}
