// Package evidence signs and verifies the gateway's non-repudiation records
// with XML-DSig. It is the only importer of goxmldsig and etree.
//
// It signs three kinds of document, each with the gateway's own RSA key (Key,
// 3072 bits, with a self-signed certificate that verifiers pin):
//
//   - gateway.DeliveryEvidence evidence (Sign, Verify): for one attempt to deliver results,
//     the SOAP request as stored and the receiver's answer, embedded as XML
//     elements under an ev:Evidence root whose attributes carry the batch,
//     school, attempt, endpoint, times and the SHA-256 of the bytes sent.
//   - An audit export for a school's data protection officer (ExportAudit,
//     VerifyAuditExport): the school's audit entries under ev:AuditExport.
//   - gateway.ExportEvidence (SignExport, VerifyExport; IsExport tells it
//     apart): one export to a recipient under an optional processing (a
//     dashboard push or feed page, a research or legal export) under
//     ev:ExportEvidence: recipient, processing, basis, record count, the
//     SHA-256 of what was sent and of each file, details; never the data.
//
// All are in Namespace, and carry one enveloped signature over the root
// (Reference URI "#" + the root's ID attribute), as the root's first child:
// RSA-SHA256, SHA-256 digest, exclusive XML canonicalisation 1.0 without
// comments, KeyInfo with the certificate. Exclusive c14n makes the canonical
// form of each embedded envelope independent of where it sits (it is the
// form Verify returns), and keeps the signature valid if the document is
// ever embedded in another. xmlsec1 verifies what this package writes:
//
//	xmlsec1 --verify --pubkey-cert-pem cert.pem --enabled-key-data rsa \
//	    --id-attr:ID urn:uwlr-gateway:evidence:1:Evidence evidence.xml
//
// (AuditExport or ExportEvidence instead of Evidence for the other kinds.)
//
// Limits. The package never sees a plain ECK iD or an autorisatiesleutel:
// callers seal the ECK iDs and remove the key before they hand over the
// request; Sign only parses the envelopes and checks that they can be
// signed, it does not read their content. It never logs;
// its errors name fields and ids, never values from the envelopes, and Key
// prints only its certificate's subject, expiry and fingerprint.
//
// Verification trusts only the element goxmldsig's Validate returns (the
// signed root rebuilt from the bytes whose digest was checked): every field
// is read from it, never from the document as parsed. Before that, Verify
// refuses a document in which an ID value occurs on more than one element
// (signature wrapping), one with more than one signature or unsigned
// content inside the signature, and one signed with other algorithms than
// the ones above. Every such failure wraps ErrInvalidSignature. The
// certificate must be one the caller trusts and valid at the time of
// verification (goxmldsig reads the system clock for that; a new key's
// certificate is valid for ten years, evidence is kept for two).
//
// Sign refuses envelopes it cannot sign so that xmlsec1 agrees: a document
// type declaration, an embedded XML signature, undeclared prefixes, and the
// few namespace and attribute arrangements that goxmldsig v1.6.1
// canonicalises differently from the W3C algorithm (see checkNamespaces).
package evidence
