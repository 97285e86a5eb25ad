package gateway

import "time"

// StudyInput is what an operator supplies to define a research study: the
// recipient that receives the pseudonymised extract, the date it ends, the
// k-anonymity threshold and the fields it may contain.
type StudyInput struct {
	Name, Purpose, Recipient, Until string
	K                               int
	Fields                          []string
}

// ResearchExportResult is the outcome of one research export: either the
// generated files (a file recipient) or the outbox entry that will deliver
// them (a webhook recipient), held while its processing is not granted.
type ResearchExportResult struct {
	School   SchoolID          `json:"school"`
	Manifest ResearchManifest  `json:"manifest"`
	Evidence string            `json:"evidence,omitempty"`
	Files    map[string][]byte `json:"files,omitempty"`
	Queued   string            `json:"queued,omitempty"`
	Held     bool              `json:"held,omitempty"`
}

// LegalExportResult is the outcome of one legal disclosure: the CSV and its
// signed evidence (a file recipient) or the outbox entry that will deliver
// them (a webhook recipient), held while its processing is not granted.
type LegalExportResult struct {
	School   SchoolID `json:"school"`
	Basis    string   `json:"basis"`
	Records  int      `json:"records"`
	SHA256   string   `json:"sha256"`
	Evidence string   `json:"evidence,omitempty"`
	CSV      []byte   `json:"csv,omitempty"`
	Signed   []byte   `json:"signed_evidence,omitempty"`
	Queued   string   `json:"queued,omitempty"`
	Held     bool     `json:"held,omitempty"`
}

// ResearchManifest describes a research export (package research builds it): the study, what was written, what was
// generalised or left out to reach k-anonymity, and a digest of each file.
// It holds no personal data.
type ResearchManifest struct {
	Study     string `json:"study"`
	Purpose   string `json:"purpose"`
	Recipient string `json:"recipient"`
	Until     string `json:"until"` // the study's last export day
	// School is the school id when the study asks for FieldSchool, else the
	// study's pseudonym of the school (research.SchoolPseudonym).
	School string   `json:"school"`
	K      int      `json:"k"`
	Fields []string `json:"fields"` // the fields exported, in column order
	// CreatedAt is the export time Build was given.
	CreatedAt time.Time `json:"created_at"`
	// Pupils and Results count the data rows written to pupils.csv and
	// results.csv (0 when there is no results.csv).
	Pupils  int `json:"pupils"`
	Results int `json:"results"`
	// SuppressedPupils counts pupils left out because they stayed in a group
	// smaller than K; SuppressedResults their results left out of
	// results.csv (0 when there is no results.csv).
	SuppressedPupils  int `json:"suppressed_pupils"`
	SuppressedResults int `json:"suppressed_results"`
	// Generalised lists the generalisation steps applied, in order (the
	// Step* constants); empty when none was needed.
	Generalised []string `json:"generalised"`
	// Files maps each file name to the hex SHA-256 of its bytes.
	Files map[string]string `json:"files"`
}
