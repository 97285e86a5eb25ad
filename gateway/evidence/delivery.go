package evidence

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Element and attribute names of delivery evidence.
const (
	tagEvidence = "Evidence"
	tagRequest  = "Request"
	tagResponse = "Response"

	attrBatch         = "batch"
	attrSchool        = "school"
	attrAttempt       = "attempt"
	attrEndpoint      = "endpoint"
	attrSent          = "sent"
	attrAnswered      = "answered"
	attrRequestSHA256 = "request-sha256"
)

// The evidence of one delivery attempt records a gateway.DeliveryEvidence:
// Request is the envelope as stored (ECK iDs sealed, key removed) and
// RequestSHA256 the digest of the exact bytes sent.

// Sign returns the signed evidence document of d: an ev:Evidence root in
// Namespace whose attributes carry the metadata, with ev:Request and
// ev:Response holding the two envelopes as elements, and an enveloped
// XML-DSig signature (RSA-SHA256, SHA-256, exclusive c14n, KeyInfo with the
// certificate) over the root, as its first child. Comments and CDATA markup of the envelopes
// are not kept (see Verify for what round-trips). Errors wrap
// gateway.ErrInvalid for input that cannot be signed, naming the field,
// never its value.
func Sign(k *Key, d gateway.DeliveryEvidence) ([]byte, error) {
	return signDelivery(k, d, exclusiveC14N())
}

func signDelivery(k *Key, d gateway.DeliveryEvidence, canon dsig.Canonicalizer) ([]byte, error) {
	if !ncName.MatchString(d.ID) {
		return nil, fmt.Errorf("evidence: sign: %w: evidence id is not an XML NCName", gateway.ErrInvalid)
	}
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("evidence: sign %s: %w: %s", d.ID, gateway.ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case d.Batch == "":
		return nil, invalid("batch is empty")
	case d.School == "":
		return nil, invalid("school is empty")
	case d.Attempt < 1:
		return nil, invalid("attempt %d is not positive", d.Attempt)
	case d.Endpoint == "":
		return nil, invalid("endpoint is empty")
	case d.SentAt.IsZero() || d.AnsweredAt.IsZero():
		return nil, invalid("sent or answered time is zero")
	case !isSHA256Hex(d.RequestSHA256):
		return nil, invalid("request digest is not 64 lower-case hex digits")
	}
	if f := checkStrings(map[string]string{"batch": d.Batch, "school": string(d.School), "endpoint": d.Endpoint}); f != "" {
		return nil, invalid("%s holds characters XML cannot carry", f)
	}
	req, err := parseEmbedded(d.Request)
	if err != nil {
		return nil, invalid("request: %v", err)
	}
	resp, err := parseEmbedded(d.Response)
	if err != nil {
		return nil, invalid("response: %v", err)
	}
	if countSignatures(req)+countSignatures(resp) != 0 {
		// goxmldsig would consider a nested signature with an empty
		// reference as the signature of our root.
		return nil, invalid("an envelope holds an XML signature")
	}

	root := newRoot(tagEvidence, d.ID)
	root.CreateAttr(attrBatch, d.Batch)
	root.CreateAttr(attrSchool, string(d.School))
	root.CreateAttr(attrAttempt, strconv.Itoa(d.Attempt))
	root.CreateAttr(attrEndpoint, d.Endpoint)
	root.CreateAttr(attrSent, formatTime(d.SentAt))
	root.CreateAttr(attrAnswered, formatTime(d.AnsweredAt))
	root.CreateAttr(attrRequestSHA256, d.RequestSHA256)
	root.CreateElement(prefix + ":" + tagRequest).AddChild(req)
	root.CreateCharData("\n")
	root.CreateElement(prefix + ":" + tagResponse).AddChild(resp)
	root.CreateCharData("\n")
	if dup, found := duplicateID(root); found {
		return nil, invalid("ID %q occurs more than once (the evidence id or an ID inside an envelope)", dup)
	}

	out, err := signRoot(k, root, canon)
	if err != nil {
		return nil, fmt.Errorf("evidence: sign %s: %w", d.ID, err)
	}
	return out, nil
}

// Verify checks signed delivery evidence against the trusted certificates
// and returns what it records. It refuses a document in which an ID value
// occurs on more than one element, one that holds more than one signature,
// and one signed with other algorithms than Sign uses; the certificate in
// the signature must equal one of certs and be valid now.
//
// Every field is read from the element the signature check returned, never
// from the document as parsed. Request and Response are the exclusive
// canonical form (W3C exc-c14n 1.0, without comments) of the envelopes
// given to Sign: byte for byte what was signed, and byte for byte the input
// when that was already in this form; otherwise the same XML without the
// XML declaration, comments and CDATA markup, with attributes sorted and
// namespace declarations where they are used. Times are in UTC.
//
// Every failure wraps ErrInvalidSignature, except an empty certs, which
// wraps gateway.ErrInvalid.
func Verify(certs []*x509.Certificate, doc []byte) (gateway.DeliveryEvidence, error) {
	v, id, err := verifyRoot(certs, doc, tagEvidence)
	if err != nil {
		return gateway.DeliveryEvidence{}, verifyErr(id, err)
	}
	d, err := readDelivery(v)
	if err != nil {
		return gateway.DeliveryEvidence{}, verifyErr(id, fmt.Errorf("%w: %w", ErrInvalidSignature, err))
	}
	return d, nil
}

func readDelivery(v *etree.Element) (gateway.DeliveryEvidence, error) {
	var d gateway.DeliveryEvidence
	var err error
	r := attrReader{el: v}
	d.ID = r.get(idAttr)
	d.Batch = r.get(attrBatch)
	d.School = gateway.SchoolID(r.get(attrSchool))
	d.Attempt = r.int(attrAttempt)
	d.Endpoint = r.get(attrEndpoint)
	d.SentAt = r.time(attrSent)
	d.AnsweredAt = r.time(attrAnswered)
	d.RequestSHA256 = r.get(attrRequestSHA256)
	if r.err != nil {
		return gateway.DeliveryEvidence{}, r.err
	}
	kids := v.ChildElements()
	if len(kids) != 2 || !is(kids[0], tagRequest) || !is(kids[1], tagResponse) {
		return gateway.DeliveryEvidence{}, fmt.Errorf("the signed root does not hold exactly Request and Response")
	}
	if d.Request, err = embedded(kids[0]); err != nil {
		return gateway.DeliveryEvidence{}, err
	}
	if d.Response, err = embedded(kids[1]); err != nil {
		return gateway.DeliveryEvidence{}, err
	}
	return d, nil
}

// embedded returns the canonical form of the one element inside holder.
func embedded(holder *etree.Element) ([]byte, error) {
	el, err := onlyChildElement(holder)
	if err != nil {
		return nil, err
	}
	return canonical(el)
}

// verifyErr prefixes a verification error with the evidence id when known.
func verifyErr(id string, err error) error {
	if id == "" {
		return fmt.Errorf("evidence: verify: %w", err)
	}
	return fmt.Errorf("evidence: verify %s: %w", id, err)
}

// attrReader reads required attributes of an element, keeping the first
// error.
type attrReader struct {
	el  *etree.Element
	err error
}

func (r *attrReader) get(key string) string {
	v, ok := plainAttr(r.el, key)
	if !ok && r.err == nil {
		r.err = fmt.Errorf("<%s> has no %s attribute", r.el.Tag, key)
	}
	return v
}

func (r *attrReader) int(key string) int {
	s := r.get(key)
	n, err := strconv.Atoi(s)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("<%s> attribute %s is not a number", r.el.Tag, key)
	}
	return n
}

func (r *attrReader) uint(key string) uint64 {
	s := r.get(key)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("<%s> attribute %s is not a number", r.el.Tag, key)
	}
	return n
}

func (r *attrReader) time(key string) time.Time {
	s := r.get(key)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("<%s> attribute %s is not an RFC 3339 time", r.el.Tag, key)
	}
	return t.UTC()
}

// formatTime writes a time as RFC 3339 in UTC with as many fractional
// digits as it has.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
