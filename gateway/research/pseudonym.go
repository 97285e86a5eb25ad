package research

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// pseudonymBytes is the length of a pseudonym before hex encoding: 128 bits,
// so that collisions among a school's pupils are out of reach (about 2^64
// pupils before one is likely) while the column stays short.
const pseudonymBytes = 16

// Pseudonym is the study's pseudonym of a pupil: the hex of
// HMAC-SHA256(key, "pupil\x00" + id), truncated to 128 bits (32 hex
// characters). One key gives one pupil the same pseudonym in every export of
// the study; another study's key gives another. Without the key the
// pseudonym cannot be linked back to the pupil id.
func Pseudonym(key []byte, id gateway.PupilID) string {
	return mac(key, "pupil", string(id))
}

// SchoolPseudonym is the study's pseudonym of a school, HMAC-SHA256(key,
// "school\x00" + id) in the same form as Pseudonym. The label keeps a
// school id from ever yielding the pseudonym of a pupil with the same id.
func SchoolPseudonym(key []byte, id gateway.SchoolID) string {
	return mac(key, "school", string(id))
}

func mac(key []byte, label, id string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(label))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil)[:pseudonymBytes])
}
