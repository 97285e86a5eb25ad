package evidence

import (
	"bytes"
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"strconv"

	"github.com/beevik/etree"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Element and attribute names of export evidence (besides the ones delivery
// evidence and audit exports already name).
const (
	tagExportEvidence = "ExportEvidence"
	tagFile           = "File"

	attrProcessing = "processing"
	attrRecipient  = "recipient"
	attrBasis      = "basis"
	attrRecords    = "records"
	attrSHA256     = "sha256"
	attrName       = "name"
)

// SignExport returns the signed evidence of one export of personal data to
// a recipient: an ev:ExportEvidence root (ID e.ID, school, processing,
// recipient, endpoint, basis, records, sha256, created in RFC 3339 UTC)
// holding one ev:File (name, sha256) per file, sorted by name, then one
// ev:Detail (key, value) per detail, sorted by key, signed as Sign signs
// delivery evidence. The output depends only on its inputs.
//
// Input that cannot be signed is refused with gateway.ErrInvalid, naming
// the field, never its value: an id that is not an XML NCName, an empty
// school, recipient or basis, an unknown processing, a negative count, a
// digest that is not 64 lower-case hex digits, a zero time, an empty file
// name or detail key, and text XML cannot carry.
func SignExport(k *Key, e gateway.ExportEvidence) ([]byte, error) {
	if err := checkExport(e); err != nil {
		return nil, err
	}
	root := newRoot(tagExportEvidence, e.ID)
	root.CreateAttr(attrSchool, string(e.School))
	root.CreateAttr(attrProcessing, string(e.Processing))
	root.CreateAttr(attrRecipient, e.Recipient)
	root.CreateAttr(attrEndpoint, e.Endpoint)
	root.CreateAttr(attrBasis, e.Basis)
	root.CreateAttr(attrRecords, strconv.Itoa(e.Records))
	root.CreateAttr(attrSHA256, e.SHA256)
	root.CreateAttr(attrCreated, formatTime(e.CreatedAt))
	for _, name := range sortedKeys(e.Files) {
		f := root.CreateElement(prefix + ":" + tagFile)
		f.CreateAttr(attrName, name)
		f.CreateAttr(attrSHA256, e.Files[name])
		root.CreateCharData("\n")
	}
	for _, key := range sortedKeys(e.Details) {
		d := root.CreateElement(prefix + ":" + tagDetail)
		d.CreateAttr(attrKey, key)
		d.CreateAttr(attrValue, e.Details[key])
		root.CreateCharData("\n")
	}
	out, err := signRoot(k, root, exclusiveC14N())
	if err != nil {
		return nil, fmt.Errorf("evidence: sign export %s: %w", e.ID, err)
	}
	return out, nil
}

// checkExport validates export evidence before it is signed.
func checkExport(e gateway.ExportEvidence) error {
	if !ncName.MatchString(e.ID) {
		return fmt.Errorf("evidence: sign export: %w: export id is not an XML NCName", gateway.ErrInvalid)
	}
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("evidence: sign export %s: %w: %s", e.ID, gateway.ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case e.School == "":
		return invalid("school is empty")
	case !e.Processing.Valid():
		return invalid("processing is not a known processing")
	case e.Recipient == "":
		return invalid("recipient is empty")
	case e.Basis == "":
		return invalid("basis is empty")
	case e.Records < 0:
		return invalid("records %d is negative", e.Records)
	case !isSHA256Hex(e.SHA256):
		return invalid("digest is not 64 lower-case hex digits")
	case e.CreatedAt.IsZero():
		return invalid("creation time is zero")
	}
	fields := map[string]string{"school": string(e.School), "recipient": e.Recipient,
		"endpoint": e.Endpoint, "basis": e.Basis}
	if f := checkStrings(fields); f != "" {
		return invalid("%s holds characters XML cannot carry", f)
	}
	for name, sum := range e.Files {
		switch {
		case name == "" || !validXMLString(name):
			return invalid("a file name is empty or holds characters XML cannot carry")
		case !isSHA256Hex(sum):
			return invalid("a file digest is not 64 lower-case hex digits")
		}
	}
	for key, v := range e.Details {
		if key == "" || !validXMLString(key) || !validXMLString(v) {
			return invalid("a detail key is empty or a detail holds characters XML cannot carry")
		}
	}
	return nil
}

// VerifyExport checks signed export evidence against the trusted
// certificates, as Verify does, and returns what it records, read only from
// the validated element. Files and Details are nil when the export has
// none; CreatedAt is in UTC. Every failure wraps ErrInvalidSignature,
// except an empty certs, which wraps gateway.ErrInvalid.
func VerifyExport(certs []*x509.Certificate, doc []byte) (gateway.ExportEvidence, error) {
	v, id, err := verifyRoot(certs, doc, tagExportEvidence)
	if err != nil {
		return gateway.ExportEvidence{}, verifyErr(id, err)
	}
	e, err := readExport(v)
	if err != nil {
		return gateway.ExportEvidence{}, verifyErr(id, fmt.Errorf("%w: %w", ErrInvalidSignature, err))
	}
	return e, nil
}

func readExport(v *etree.Element) (gateway.ExportEvidence, error) {
	r := attrReader{el: v}
	e := gateway.ExportEvidence{
		ID:         r.get(idAttr),
		School:     gateway.SchoolID(r.get(attrSchool)),
		Processing: gateway.Processing(r.get(attrProcessing)),
		Recipient:  r.get(attrRecipient),
		Endpoint:   r.get(attrEndpoint),
		Basis:      r.get(attrBasis),
		Records:    r.int(attrRecords),
		SHA256:     r.get(attrSHA256),
		CreatedAt:  r.time(attrCreated),
	}
	if r.err != nil {
		return gateway.ExportEvidence{}, r.err
	}
	for _, el := range v.ChildElements() {
		var m *map[string]string
		var keyAttr, valAttr string
		switch {
		case is(el, tagFile):
			m, keyAttr, valAttr = &e.Files, attrName, attrSHA256
		case is(el, tagDetail):
			m, keyAttr, valAttr = &e.Details, attrKey, attrValue
		default:
			return gateway.ExportEvidence{}, fmt.Errorf("unexpected element <%s> in the export evidence", el.Tag)
		}
		if len(el.ChildElements()) != 0 {
			return gateway.ExportEvidence{}, fmt.Errorf("<%s> holds elements", el.Tag)
		}
		er := attrReader{el: el}
		key, val := er.get(keyAttr), er.get(valAttr)
		if er.err != nil {
			return gateway.ExportEvidence{}, er.err
		}
		if *m == nil {
			*m = map[string]string{}
		}
		if _, dup := (*m)[key]; dup {
			return gateway.ExportEvidence{}, fmt.Errorf("<%s> %s occurs twice", el.Tag, keyAttr)
		}
		(*m)[key] = val
	}
	return e, nil
}

// IsExport reports whether doc's root element is an export's evidence
// (SignExport) rather than a delivery's (Sign); it reads the first element
// only and says nothing of the signature.
func IsExport(doc []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local == tagExportEvidence
		}
	}
}
