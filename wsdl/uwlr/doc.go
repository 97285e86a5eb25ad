// Package uwlr holds the UWLR 2.2/2.3 wire types, written by hand and proven
// against the official XSDs in ../Schemas (every message we emit validates with
// xmllint; the round-trip tests read the real-world samples).
//
// gowsdl v0.5.0 cannot generate usable types for these schemas (xs:group refs,
// name choices and mixed group lists are lost), so `make generate` keeps only its
// reference skeleton in ../reference, and reference_test.go compares the
// operation names and SOAPActions there and in the WSDLs with names.go.
//
// Field names are Dutch on purpose: this is the wire layer. Elements are
// declared in exact XSD order so that marshalling emits schema-valid messages;
// reading is lenient because encoding/xml matches children by local name in
// any order and with any namespace prefix. Dates stay strings here, so that
// a bad date from a vendor is reported by the mapping layer, never silently
// zeroed. The package does no I/O and imports only the standard library.
package uwlr
