package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The parts of the notification the processing agreement lists that are
// neither counts nor the incident's facts: the duration, the special
// categories, the contact person.

// Duration is the length of the window: the duration of the breach as far
// as the report knows it.
type Duration struct {
	Seconds int64 `json:"seconds"`
	// Text is the same in words: "13 days, 23 hours and 59 minutes".
	Text string `json:"text"`
}

func durationOf(w Window) Duration {
	d := w.To.Sub(w.From)
	return Duration{Seconds: int64(d / time.Second), Text: inWords(d)}
}

// inWords says a duration in days, hours and minutes (seconds when
// shorter than a minute), leaving out the parts that are zero.
func inWords(d time.Duration) string {
	if d < time.Minute {
		return plural(int(d/time.Second), "second")
	}
	days, rest := int(d/(24*time.Hour)), d%(24*time.Hour)
	var parts []string
	for _, p := range []struct {
		n    int
		unit string
	}{{days, "day"}, {int(rest / time.Hour), "hour"}, {int(rest % time.Hour / time.Minute), "minute"}} {
		if p.n > 0 {
			parts = append(parts, plural(p.n, p.unit))
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// SpecialCategories says whether the gateway holds special categories of
// personal data (GDPR article 9), and why.
type SpecialCategories struct {
	Held      bool   `json:"held"`
	Statement string `json:"statement"`
}

var specialCategories = SpecialCategories{Held: false, Statement: "None. The gateway holds no special categories of personal " +
	"data (GDPR article 9: racial or ethnic origin, health, religion, ...), no data on criminal convictions and no national " +
	"identification numbers. Data minimisation in the mapping from UWLR (package mapping) keeps, of a pupil, only name " +
	"parts, gender, birth date, LAS key, year group, group links and the ECK iD (sealed), and of a teacher only name, " +
	"e-mail address, roles, group links and the ECK iD (sealed); every other field a LAS sends is dropped before anything " +
	"is stored, among them etniciteit, land, land_vader, land_moeder, gewicht, BSN, onderwijsnummer, sofinummer, " +
	"rijksregisternummer and postcodes."}

// Contact is a school's contact person as the report names them: for the
// school's own DPO, the one personal datum in the report.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
	// UpdatedAt is when the school last set it.
	UpdatedAt time.Time `json:"updated_at"`
}

func contactOf(c *gateway.SchoolContact) *Contact {
	if c == nil {
		return nil
	}
	return &Contact{Name: c.Name, Email: c.Email, Phone: c.Phone, UpdatedAt: c.UpdatedAt.UTC()}
}

// checkIncident holds the incident's facts to the window and the time of
// the report: a breach is discovered after it began and before it is
// reported.
func checkIncident(in Incident, win Window, now time.Time) error {
	if in.DiscoveredAt == nil {
		return nil
	}
	switch at := *in.DiscoveredAt; {
	case at.After(now):
		return gateway.InvalidFields{{Position: "discovered_at", Reason: "lies after the time of the report: a breach is reported after its discovery"}}
	case at.Before(win.From):
		return gateway.InvalidFields{{Position: "discovered_at",
			Reason: "lies before the window's start (--from): a breach is discovered after it began; correct the date or the window"}}
	}
	return nil
}
