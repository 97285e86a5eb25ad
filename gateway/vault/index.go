package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// IndexSize is the length of a blind index.
const IndexSize = sha256.Size

// indexLabel separates index HMACs from any other use of the index key.
const indexLabel = "uwlr-gateway/v1/index"

// Index returns the blind index of value at school: HMAC-SHA256 under the
// index key over the label, the school id and the normalised value, each
// length-prefixed. It is deterministic, so the pull finds an existing pupil
// by the index of the ECK iD the LAS sends without opening anything, and it
// does not change when the encryption terms rotate. It returns nil for a
// value that is empty after normalising (the LAS sent no ECK iD).
//
// The index is per school, not global: the same ECK iD at two schools gives
// two unrelated indexes, so the store cannot be used to link one child
// across schools (the ECK iD is pseudonymous per chain partner and must not
// become a cross-school key here). Nothing in the gateway needs to find a
// pupil across schools; a pupil who moves is a new record at the new school.
//
// Normalising trims surrounding white space and lower-cases: the scheme,
// host and hexadecimal hash of an ECK iD are case-insensitive, so two
// spellings of one ECK iD find the same pupil.
func (s *Sealer) Index(school gateway.SchoolID, value string) []byte {
	v := normalise(value)
	if v == "" {
		return nil
	}
	m := hmac.New(sha256.New, *s.r.indexKey)
	var buf []byte
	buf = appendLP(buf, indexLabel)
	buf = appendLP(buf, string(school))
	buf = appendLP(buf, v)
	m.Write(buf)
	clear(buf)
	return m.Sum(nil)
}

func normalise(v string) string { return strings.ToLower(strings.TrimSpace(v)) }
