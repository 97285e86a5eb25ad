// Package capture writes copies of LAS answers that are fit to keep in a
// file (las fetch): a redacted capture of a leerlinggegevens answer, and a
// scrubbed copy of a SOAP fault answer.
//
// A redacted capture keeps only what the gateway itself keeps: the elements
// and attributes of mapping's allow-lists (mapping.AllowedLeerlingFields and
// its siblings, read once by reflection over the wsdl/uwlr types, so the
// capture and the mapping cannot drift), inside the structure of the answer
// (envelope, body, answer, data element, lists). Everything else is left
// out: BSN and the other numbers, ethnicity, countries, postcodes, e-mail
// and user names of pupils, free text, the SOAP header, comments and
// processing instructions. Every ECK iD, in its eckid attribute or anywhere
// in a kept text, becomes "redacted:eckid:<n>" (mapping.RedactedEckIDPrefix),
// numbered per capture and the same number for the same ECK iD, so the
// capture's references and uniqueness still check; every echo of the
// school's keys (the soap.Scrubber given) becomes "redacted:key". The
// result is still a leerlinggegevens answer that `las parse` reads.
//
// A redacted capture still holds names and birth dates (the allow-lists
// keep them): it is personal data, only less of it.
//
// It streams: tokens are read with encoding/xml and written as they come,
// so memory does not grow with the answer, except for the numbering, which
// keeps a 16-byte hash (never the value) per distinct ECK iD. It never logs
// and its errors carry no text of the answer beyond the XML decoder's
// position and element names.
package capture
