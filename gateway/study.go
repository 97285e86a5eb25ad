package gateway

import (
	"log/slog"
	"time"
)

// Study is one research study registered for one school (each school
// consents for itself): its purpose, the research recipient its exports go
// to, until when it may export, the minimum group size k and the fields it
// asks for. SealedKey is its pseudonym key (32 random bytes, sealed by the
// vault): two studies never share one, so they cannot link a pupil.
type Study struct {
	Name      string    `json:"name"`
	Purpose   string    `json:"purpose"`
	Recipient string    `json:"recipient"`
	Until     string    `json:"until"`
	K         int       `json:"k"`
	Fields    []string  `json:"fields,omitempty"`
	SealedKey []byte    `json:"sealed_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// LogValue logs a study by name only.
func (s Study) LogValue() slog.Value { return slog.StringValue("study " + s.Name) }

// StudyView is a study as the edges show it (never its key).
type StudyView struct {
	Name      string    `json:"name"`
	Purpose   string    `json:"purpose"`
	Recipient string    `json:"recipient"`
	Until     string    `json:"until"`
	K         int       `json:"k"`
	Fields    []string  `json:"fields"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// View returns the study without its key.
func (s Study) View() StudyView {
	return StudyView{Name: s.Name, Purpose: s.Purpose, Recipient: s.Recipient, Until: s.Until, K: s.K, Fields: s.Fields,
		CreatedAt: s.CreatedAt, CreatedBy: s.CreatedBy}
}

// Study returns the school's study with that name.
func (s School) Study(name string) (Study, bool) {
	for _, x := range s.Studies {
		if x.Name == name {
			return x, true
		}
	}
	return Study{}, false
}
