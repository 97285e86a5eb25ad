package httpapi

import (
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The bodies of the API (and of the Services it calls); openapi.json
// describes them.

// HeldSync is a held sync and what approving it would change.
type HeldSync struct {
	School  gateway.SchoolID `json:"school"`
	Run     string           `json:"run"`
	Added   int              `json:"added"`
	Changed int              `json:"changed"`
	Left    int              `json:"left"`
	Changes []HeldChange     `json:"changes"`
}

// HeldChange is one pupil in a held sync, by id and LAS key only.
type HeldChange struct {
	Pupil  gateway.PupilID `json:"pupil"`
	LASKey string          `json:"las_key,omitempty"`
	Kind   string          `json:"kind"`
	Fields []string        `json:"fields,omitempty"`
}

// Submitted is what a results submission queued.
type Submitted struct {
	Results   int      `json:"results"`
	New       int      `json:"new"`
	Changed   int      `json:"changed"`
	Unchanged int      `json:"unchanged"`
	Tests     int      `json:"tests"`
	Batches   []string `json:"batches"`
	Held      bool     `json:"held"`
}

// Receipt is where one result stands.
type Receipt struct {
	Key         string             `json:"key"`
	Pupil       gateway.PupilID    `json:"pupil"`
	Test        string             `json:"test"`
	Part        string             `json:"part,omitempty"`
	Date        string             `json:"date"`
	State       gateway.BatchState `json:"state"`
	At          time.Time          `json:"at"`
	Reason      string             `json:"reason,omitempty"`
	ErrorClass  string             `json:"error_class,omitempty"`
	FaultCode   string             `json:"fault_code,omitempty"`
	Batch       string             `json:"batch"`
	Attempts    int                `json:"attempts"`
	NextAttempt *time.Time         `json:"next_attempt,omitempty"`
	Evidence    string             `json:"evidence,omitempty"`
}

// AuditReport is the outcome of verifying the audit chains.
type AuditReport struct {
	OK       bool           `json:"ok"`
	Chains   int            `json:"chains"`
	Entries  int            `json:"entries"`
	Problems []AuditProblem `json:"problems"`
}

// AuditProblem is one finding of the audit verification.
type AuditProblem struct {
	Chain  string `json:"chain"`
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// SchoolView is a school as the API shows it: never a secret.
type SchoolView struct {
	ID              gateway.SchoolID         `json:"id"`
	Brin            string                   `json:"brin,omitempty"`
	Dependancecode  string                   `json:"dependancecode,omitempty"`
	Schoolkey       string                   `json:"schoolkey,omitempty"`
	Profile         string                   `json:"profile"`
	Endpoint        string                   `json:"endpoint"`
	Xsdversie       string                   `json:"xsdversie"`
	ResultsEndpoint string                   `json:"results_endpoint,omitempty"`
	Consent         map[string]bool          `json:"consent"`
	LastPulledAt    *time.Time               `json:"last_pulled_at,omitempty"`
	Connection      *gateway.ConnectionCheck `json:"connection,omitempty"`
	LastSync        *gateway.SyncRun         `json:"last_sync,omitempty"`
	NextRun         *time.Time               `json:"next_run,omitempty"`
	HeldSync        *string                  `json:"held_sync,omitempty"`
	Outbox          map[string]int           `json:"outbox,omitempty"`
}

// ConsentChangeView is one consent change.
type ConsentChangeView struct {
	Processing gateway.Processing `json:"processing"`
	Old        bool               `json:"old"`
	New        bool               `json:"new"`
	By         string             `json:"by"`
	At         time.Time          `json:"at"`
}
