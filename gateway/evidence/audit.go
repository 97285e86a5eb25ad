package evidence

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Element and attribute names of an audit export.
const (
	tagAuditExport = "AuditExport"
	tagEntry       = "Entry"
	tagDetail      = "Detail"

	attrCreated = "created"
	attrChain   = "chain"
	attrSeq     = "seq"
	attrAt      = "at"
	attrKind    = "kind"
	attrActor   = "actor"
	attrPrev    = "prev"
	attrHash    = "hash"
	attrKey     = "key"
	attrValue   = "value"
)

// ExportAudit returns a signed XML export of audit entries for a school's
// data protection officer: an ev:AuditExport root (ID "ax_" and a digest
// of its content, school, created) holding one ev:Entry per entry in the
// given order (chain, seq, at in RFC 3339 UTC, kind, school, actor, prev,
// hash; each detail an ev:Detail key/value child, sorted by key), signed
// as Sign signs delivery evidence. The output depends only on its inputs.
//
// An entry of another school is refused (gateway.ErrInvalid): an export
// must not show one school's events to another. Entries without a school
// (gateway-wide events the caller chose to include) are allowed. Nothing
// checks the hash chain here; package audit does that.
func ExportAudit(k *Key, school gateway.SchoolID, at time.Time, entries []gateway.AuditEntry) ([]byte, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("evidence: export audit of school %s: %w: %s", school, gateway.ErrInvalid, fmt.Sprintf(format, args...))
	}
	if school == "" {
		return nil, fmt.Errorf("evidence: export audit: %w: school is empty", gateway.ErrInvalid)
	}
	if at.IsZero() {
		return nil, invalid("creation time is zero")
	}
	if f := checkStrings(map[string]string{"school": string(school)}); f != "" {
		return nil, invalid("school id holds characters XML cannot carry")
	}
	id := auditExportID(school, at, entries)
	root := newRoot(tagAuditExport, id)
	root.CreateAttr(attrSchool, string(school))
	root.CreateAttr(attrCreated, formatTime(at))
	for _, e := range entries {
		if e.School != "" && e.School != school {
			return nil, invalid("entry %s/%d belongs to another school", e.Chain, e.Seq)
		}
		fields := map[string]string{"chain": e.Chain, "kind": string(e.Kind), "school": string(e.School),
			"actor": e.Actor, "prev": e.Prev, "hash": e.Hash}
		if f := checkStrings(fields); f != "" {
			return nil, invalid("entry seq %d: %s holds characters XML cannot carry", e.Seq, f)
		}
		for key, v := range e.Details {
			if !validXMLString(key) || !validXMLString(v) {
				return nil, invalid("entry seq %d: a detail holds characters XML cannot carry", e.Seq)
			}
		}
		if e.At.IsZero() {
			return nil, invalid("entry seq %d: time is zero", e.Seq)
		}
		el := root.CreateElement(prefix + ":" + tagEntry)
		el.CreateAttr(attrChain, e.Chain)
		el.CreateAttr(attrSeq, strconv.FormatUint(e.Seq, 10))
		el.CreateAttr(attrAt, formatTime(e.At))
		el.CreateAttr(attrKind, string(e.Kind))
		el.CreateAttr(attrSchool, string(e.School))
		el.CreateAttr(attrActor, e.Actor)
		el.CreateAttr(attrPrev, e.Prev)
		el.CreateAttr(attrHash, e.Hash)
		for _, key := range sortedKeys(e.Details) {
			d := el.CreateElement(prefix + ":" + tagDetail)
			d.CreateAttr(attrKey, key)
			d.CreateAttr(attrValue, e.Details[key])
		}
		root.CreateCharData("\n")
	}
	out, err := signRoot(k, root, exclusiveC14N())
	if err != nil {
		return nil, fmt.Errorf("evidence: export audit of school %s: %w", school, err)
	}
	return out, nil
}

// VerifyAuditExport checks a signed audit export against the trusted
// certificates, as Verify does, and returns its school and entries, read
// only from the validated element. Entries without details have nil
// Details; times are in UTC.
func VerifyAuditExport(certs []*x509.Certificate, doc []byte) (gateway.SchoolID, []gateway.AuditEntry, error) {
	v, id, err := verifyRoot(certs, doc, tagAuditExport)
	if err != nil {
		return "", nil, verifyErr(id, err)
	}
	school, entries, err := readAuditExport(v)
	if err != nil {
		return "", nil, verifyErr(id, fmt.Errorf("%w: %w", ErrInvalidSignature, err))
	}
	return school, entries, nil
}

func readAuditExport(v *etree.Element) (gateway.SchoolID, []gateway.AuditEntry, error) {
	r := attrReader{el: v}
	school := gateway.SchoolID(r.get(attrSchool))
	r.time(attrCreated)
	if r.err != nil {
		return "", nil, r.err
	}
	var entries []gateway.AuditEntry
	for _, el := range v.ChildElements() {
		if !is(el, tagEntry) {
			return "", nil, fmt.Errorf("unexpected element <%s> in the export", el.Tag)
		}
		r := attrReader{el: el}
		e := gateway.AuditEntry{
			Chain:  r.get(attrChain),
			Seq:    r.uint(attrSeq),
			At:     r.time(attrAt),
			Kind:   gateway.AuditKind(r.get(attrKind)),
			School: gateway.SchoolID(r.get(attrSchool)),
			Actor:  r.get(attrActor),
			Prev:   r.get(attrPrev),
			Hash:   r.get(attrHash),
		}
		for _, d := range el.ChildElements() {
			if !is(d, tagDetail) {
				return "", nil, fmt.Errorf("unexpected element <%s> in an entry", d.Tag)
			}
			dr := attrReader{el: d}
			key, val := dr.get(attrKey), dr.get(attrValue)
			if dr.err != nil {
				return "", nil, dr.err
			}
			if e.Details == nil {
				e.Details = map[string]string{}
			}
			if _, dup := e.Details[key]; dup {
				return "", nil, fmt.Errorf("entry seq %d has a detail twice", e.Seq)
			}
			e.Details[key] = val
		}
		if r.err != nil {
			return "", nil, r.err
		}
		entries = append(entries, e)
	}
	return school, entries, nil
}

// auditExportID names an export by what it holds: the same school, time
// and entries give the same id.
func auditExportID(school gateway.SchoolID, at time.Time, entries []gateway.AuditEntry) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d", school, formatTime(at), len(entries))
	for _, e := range entries {
		fmt.Fprintf(h, "\x00%s\x00%d\x00%s", e.Chain, e.Seq, e.Hash)
	}
	return "ax_" + hex.EncodeToString(h.Sum(nil)[:12])
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
