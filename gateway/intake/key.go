package intake

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// keyEncoding is lowercase base32 without padding: letters and digits only,
// so a derived key fits the key pattern of the file and the XSD's tpKey.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// derivedKeyLength is 26 base32 characters, 130 bits of the hash: far
// beyond any chance of two results of one school colliding.
const derivedKeyLength = 26

// ResultKey derives the key of a result that the publisher gave none:
// "r_" and 26 lowercase base32 characters of a SHA-256 over school, pupil,
// test, part and date. It depends on what the result is about, not on its
// content, so submitting the same session again yields the same key and a
// corrected score keeps it.
func ResultKey(school gateway.SchoolID, pupil gateway.PupilID, test, part, date string) string {
	h := sha256.New()
	fields(h, "uwlr-gateway result key v1", string(school), string(pupil), test, part, date)
	return "r_" + keyEncoding.EncodeToString(h.Sum(nil))[:derivedKeyLength]
}

// Digest identifies the content of a result: hex SHA-256 over a canonical
// encoding of pupil, test, part, date, score, OSO result, processor and
// trial flag. Same content, same digest; key, school, batch and submission
// time do not count.
func Digest(r gateway.Result) string {
	h := sha256.New()
	fields(h, "uwlr-gateway result digest v1", string(r.Pupil), r.Test, r.Part, r.Date, r.Score, osoText(r.OSO), r.Processor, strconv.FormatBool(r.Trial))
	return hex.EncodeToString(h.Sum(nil))
}

// fields writes each string with its length before it, so that no two
// different lists of strings give the same bytes.
func fields(h hash.Hash, ss ...string) {
	var n [8]byte
	for _, s := range ss {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
}

// osoText is the canonical text of an OSO result: every field in a fixed
// order, each length-prefixed, absent values told apart from empty ones.
func osoText(o *gateway.OSOResult) string {
	if o == nil {
		return ""
	}
	var b strings.Builder
	put := func(present bool, s string) {
		if !present {
			b.WriteString("-")
			return
		}
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteString(":")
		b.WriteString(s)
	}
	num := func(p *int) {
		if p == nil {
			put(false, "")
			return
		}
		put(true, strconv.Itoa(*p))
	}
	b.WriteString("oso;")
	if s := o.Score; s != nil {
		put(true, "score")
		num(s.Items)
		num(s.Correct)
		num(s.Wrong)
		num(s.Read)
		put(true, s.Seconds)
		put(true, s.Ability)
		put(true, s.AbilityScale)
		if iv := s.Interval; iv != nil {
			put(true, iv.Low)
			put(true, iv.High)
		} else {
			put(false, "")
		}
	} else {
		put(false, "")
	}
	put(true, strconv.Itoa(len(o.References)))
	for _, ref := range o.References {
		put(true, ref.Code)
		put(true, ref.ComparisonGroup)
		put(true, ref.Value)
		put(true, ref.Qualification)
	}
	return b.String()
}
