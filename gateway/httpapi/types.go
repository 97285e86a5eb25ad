package httpapi

import (
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The JSON views of the API that are not domain types (the domain's result
// types, gateway.Receipt and friends, are served as they are); openapi.json
// describes them all.

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

// ContactView is a school's contact person (personal data: served to the
// school's own admins, its viewers and operators only, never logged).
type ContactView struct {
	School    gateway.SchoolID `json:"school"`
	Name      string           `json:"name"`
	Email     string           `json:"email"`
	Phone     string           `json:"phone,omitempty"`
	UpdatedAt time.Time        `json:"updated_at"`
	UpdatedBy string           `json:"updated_by"`
}

// ExportQueued is the answer to an export for a webhook recipient: the
// outbox batch that builds and pushes it, and whether it is held until the
// school grants the processing.
type ExportQueued struct {
	School gateway.SchoolID `json:"school"`
	Export string           `json:"export"` // the study or the legal basis
	Queued string           `json:"queued"`
	Held   bool             `json:"held"`
}
