package gateway

import (
	"log/slog"
	"time"
)

// ExportEvidence is the signed record of one export of personal data to a
// recipient under an optional processing (dashboards, legal, research): who
// received what, when, how many records, and the digest of exactly what was
// sent. Package evidence signs it (SignExport) and reads it back only from a
// document whose signature verifies (VerifyExport).
type ExportEvidence struct {
	// ID names the export: an XML NCName, e.g. "ex_" + the export's id.
	ID         string
	School     SchoolID
	Processing Processing
	// Recipient is the recipient's name (Recipient.Name).
	Recipient string
	// Endpoint is where the data went: a URL or "file:<name>"
	// (Recipient.Endpoint); may be empty.
	Endpoint string
	// Basis is the contract or legal basis the export rests on.
	Basis string
	// Records is how many records the export held.
	Records int
	// SHA256 is the lower-case hex SHA-256 of the bytes sent or written.
	SHA256 string
	// Files maps a file name to its lower-case hex SHA-256, for an export
	// of several files; may be nil.
	Files map[string]string
	// Details holds further facts, e.g. study, purpose, k, suppressed
	// counts; never a pupil's personal data. May be nil.
	Details map[string]string
	// CreatedAt is when the export was made.
	CreatedAt time.Time
}

// LogValue logs an export by its ids and count only, never its recipient,
// basis or details.
func (e ExportEvidence) LogValue() slog.Value {
	return slog.GroupValue(slog.String("export", e.ID), slog.String("school", string(e.School)),
		slog.String("processing", string(e.Processing)), slog.Int("records", e.Records))
}
