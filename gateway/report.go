package gateway

import (
	"fmt"
	"log/slog"
	"time"
)

// The result types of the gateway's use cases: what the application layer
// returns and the edges (CLI, HTTP API) print. They hold ids, counts,
// states and classified reasons only, never personal data.

// Receipt is where one result stands: the state, time, reason and evidence
// of the batch that delivers its current version.
type Receipt struct {
	Key        string     `json:"key"`
	Pupil      PupilID    `json:"pupil"`
	Test       string     `json:"test"`
	Part       string     `json:"part,omitempty"`
	Date       string     `json:"date"`
	State      BatchState `json:"state"`
	At         time.Time  `json:"at"`
	Reason     string     `json:"reason,omitempty"`
	ErrorClass ErrorClass `json:"error_class,omitempty"`
	FaultCode  string     `json:"fault_code,omitempty"`
	Batch      string     `json:"batch"`
	Attempts   int        `json:"attempts"`
	// NextAttempt is when a queued result is due (nil unless queued).
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	Evidence    string     `json:"evidence,omitempty"`
}

// Submission is what a results submission queued.
type Submission struct {
	School    SchoolID `json:"school"`
	Results   int      `json:"results"`
	New       int      `json:"new"`
	Changed   int      `json:"changed"`
	Unchanged int      `json:"unchanged"`
	Tests     int      `json:"tests"`
	Batches   []string `json:"batches"`
	// Held is set when las_exchange is not granted: the batches wait, held,
	// until it is.
	Held bool `json:"held"`
	// Recipients are the school's dashboards recipients that get a copy of
	// every batch, each held while dashboards is not granted.
	Recipients []SubmissionCopy `json:"recipients,omitempty"`
}

// SubmissionCopy is what one dashboards recipient got of a submission.
type SubmissionCopy struct {
	Recipient string   `json:"recipient"`
	Batches   []string `json:"batches"`
	Held      bool     `json:"held"`
}

// Problem is one bad record of an input (a results file), by position
// ("results[12].score") and reason; never the bad value.
type Problem struct {
	Position string `json:"position"`
	Reason   string `json:"reason"`
}

func (p Problem) String() string {
	if p.Position == "" { // the input as a whole
		return p.Reason
	}
	return p.Position + ": " + p.Reason
}

// ConsentApplied is what a consent change did.
type ConsentApplied struct {
	Change  ConsentChange
	Changed bool
	// Held counts the batches that need the processing (results to the
	// LAS, dashboards copies, export batches) held back by its revocation;
	// Released those queued again when it was granted.
	Held, Released int
	// StillInFlight counts deliveries that were under way and had not ended
	// when the wait for them ran out.
	StillInFlight int
}

// AuditReport is the outcome of verifying audit chains.
type AuditReport struct {
	OK       bool           `json:"ok"`
	Chains   int            `json:"chains"`
	Entries  int            `json:"entries"`
	Problems []AuditProblem `json:"problems"`
}

// AuditProblem is one finding of an audit verification: the sequence
// number it is about and what was seen, in sequence numbers and hashes only.
type AuditProblem struct {
	Chain  string `json:"chain"`
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

func (p AuditProblem) String() string {
	return fmt.Sprintf("chain %s seq %d: %s: %s", p.Chain, p.Seq, p.Kind, p.Detail)
}

// DeliveryEvidence is what the signed evidence of one delivery attempt
// records: what delivery hands the signer and what verification returns.
//
// Request and Response are complete XML documents (UTF-8). Request is the
// envelope as stored, not as sent: every ECK iD is replaced by its sealed
// form and the autorisatiesleutel removed. RequestSHA256 is the hex SHA-256
// of the exact bytes that were sent, so the request on the wire can still
// be matched against this record.
type DeliveryEvidence struct {
	// ID is the evidence id: an XML NCName, "ev_" + batch + "_" + attempt.
	ID            string
	Batch         string
	School        SchoolID
	Attempt       int
	Endpoint      string
	SentAt        time.Time
	AnsweredAt    time.Time
	RequestSHA256 string
	Request       []byte
	Response      []byte
}

// LogValue logs a delivery by its ids, never its envelopes.
func (d DeliveryEvidence) LogValue() slog.Value {
	return slog.GroupValue(slog.String("evidence", d.ID), slog.String("batch", d.Batch),
		slog.String("school", string(d.School)), slog.Int("attempt", d.Attempt))
}

// EvidenceCheck is the outcome of verifying one evidence record.
type EvidenceCheck struct {
	Evidence string   `json:"evidence"`
	Delivery string   `json:"delivery,omitempty"`
	School   SchoolID `json:"school,omitempty"`
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"`
}

// SchoolStatus is how a school stands, for its page: consent, the last
// connection test and sync, the next planned sync, a held sync and the
// outbox by state.
type SchoolStatus struct {
	School  SchoolID
	Consent Consent
	// Connection is the last connection test (nil: none yet).
	Connection *ConnectionCheck
	// LastSync is the newest sync run (nil: never synced).
	LastSync *SyncRun
	// NextRun is the next planned nightly sync (zero: none planned).
	NextRun time.Time
	// HeldSync is the run id of a sync held for approval ("" when none).
	HeldSync string
	Outbox   map[BatchState]int
}

// Fault is a classified failure as an edge shows it: the LAS's fault code
// (or the HTTP status), the class, the fix hint and the message (which the
// SOAP client has already redacted of our key).
type Fault struct {
	Code       string     `json:"code"`
	Class      ErrorClass `json:"class"`
	Hint       string     `json:"hint"`
	Message    string     `json:"message,omitempty"`
	HTTPStatus int        `json:"http_status,omitempty"`
}
