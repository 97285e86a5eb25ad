package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Store is what Breach reads of gateway.Store. Every method reports an
// unknown school as gateway.ErrNotFound.
type Store interface {
	Schools(ctx context.Context) ([]gateway.School, error)
	School(ctx context.Context, id gateway.SchoolID) (gateway.School, error)
	Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, error)
	Pupils(ctx context.Context, id gateway.SchoolID, fn func(gateway.Pupil) error) error
	Teachers(ctx context.Context, id gateway.SchoolID) ([]gateway.Teacher, error)
	WalkResults(ctx context.Context, id gateway.SchoolID, fn func(gateway.Result) error) error
	WalkBatches(ctx context.Context, id gateway.SchoolID, fn func(gateway.Batch) error) error
	WalkEvidence(ctx context.Context, id gateway.SchoolID, fn func(gateway.Evidence) error) error
	WalkLogins(ctx context.Context, fn func(gateway.Login) error) error
	WalkAudit(ctx context.Context, chain string, fn func(gateway.AuditEntry) error) error
}

// BreachOptions say what a breach report covers.
type BreachOptions struct {
	// From and To bound the time window of the breach, both included.
	From, To time.Time
	// School limits the report to one school; empty means every school.
	School gateway.SchoolID
	// Now is when the report is made (required).
	Now time.Time
}

// Window is a time window, both ends included.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Contains reports whether t lies in the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && !t.After(w.To) }

// SchoolBreach is what one school has in the store, and what happened to it
// in the window.
type SchoolBreach struct {
	School gateway.SchoolID `json:"school"`
	// Consent is the school's current opt-in per processing.
	Consent map[gateway.Processing]bool `json:"consent"`
	// LastSyncAt is the start of the last applied or unchanged sync; nil
	// when the school was never synced.
	LastSyncAt *time.Time `json:"last_sync_at"`
	// Pupils counts every pupil of the current snapshot, PupilsLeft those of
	// them marked as left (kept until retention purges them).
	Pupils     int `json:"pupils"`
	PupilsLeft int `json:"pupils_left"`
	Teachers   int `json:"teachers"`
	// Results stored (waiting, delivered or rejected), TrialResults of them
	// from trial or norming tests.
	Results      int `json:"results"`
	TrialResults int `json:"trial_results"`
	// DeliveredBatches and DeliveredResults: batches the receiver accepted
	// in the window (AnsweredAt) and the results they held.
	DeliveredBatches int `json:"delivered_batches"`
	DeliveredResults int `json:"delivered_results"`
	// Evidence counts the stored evidence records of deliveries.
	Evidence int `json:"evidence"`
	// Logins counts the login records that name the school, LoginsInWindow
	// those of them in the window.
	Logins         int `json:"logins"`
	LoginsInWindow int `json:"logins_in_window"`
	// Categories are the kinds of data held, with their protection.
	Categories []Category `json:"categories"`
	// Audit counts the entries of the school's audit chain in the window,
	// per kind.
	Audit map[gateway.AuditKind]int `json:"audit"`
}

// Totals add up the schools of a report; Logins and LoginsInWindow also
// count the records that name no school.
type Totals struct {
	Schools          int `json:"schools"`
	Pupils           int `json:"pupils"`
	PupilsLeft       int `json:"pupils_left"`
	Teachers         int `json:"teachers"`
	Results          int `json:"results"`
	DeliveredResults int `json:"delivered_results"`
	Evidence         int `json:"evidence"`
	Logins           int `json:"logins"`
	LoginsInWindow   int `json:"logins_in_window"`
}

// BreachReport is the draft of a data-breach notification: counts and ids
// only. Times are in UTC; Markdown shows them in Europe/Amsterdam.
type BreachReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	Window      Window    `json:"window"`
	// Scope is the school id, or "all".
	Scope   string         `json:"scope"`
	Schools []SchoolBreach `json:"schools"`
	Totals  Totals         `json:"totals"`
	// GatewayAudit counts the entries of the gateway's own chain (keys,
	// logins, retention runs) in the window, per kind.
	GatewayAudit map[gateway.AuditKind]int `json:"gateway_audit"`
	// Encryption says what the gateway itself encrypts at rest.
	Encryption string `json:"encryption"`
	// CannotKnow lists what the notification needs and the gateway cannot
	// tell.
	CannotKnow []string `json:"cannot_know"`
}

// ScopeAll is the Scope of a report on every school.
const ScopeAll = "all"

const encryptionNote = "The gateway itself encrypts ECK iDs (of pupils and teachers) and school credentials " +
	"(autorisatiesleutel, client key passphrase, results receiver key) with AES-256-GCM; the keys are kept in the " +
	"vault key file, outside the store, and ECK iDs are looked up by a keyed blind index (HMAC-SHA256) without " +
	"decrypting them. Everything else is stored as is. Whether the disk, the backups or the Redis server holding " +
	"the store were encrypted is up to the operator; the gateway does not know."

var cannotKnow = []string{
	"Which records an attacker actually read, copied or changed: the store keeps no log of reads.",
	"Whether the vault key file was exposed too; if it was, treat the sealed ECK iDs and credentials as readable.",
	"Whether the operator's disk, backup or Redis encryption and access controls were in place.",
	"What happened to copies outside the gateway: at the LAS, at the results receiver, in backups or in other systems' logs.",
	"How many people were concerned at the time of the breach: the counts are of what the store holds now; syncs and retention runs since then changed them.",
	"Schools that were offboarded: their data is gone from the store and they are not listed (their audit chains remain).",
	"Whether the audit log is complete: the hash chain shows edits and gaps, but not a rewrite by someone who could write to the store.",
}

// Breach builds a breach report over the window [o.From, o.To] for one
// school or all. It returns gateway.ErrInvalid for a missing o.Now, a
// missing end of the window or a window that is empty or runs backwards,
// gateway.ErrNotFound for an unknown o.School, and wraps store errors with
// the school id.
func Breach(ctx context.Context, st Store, o BreachOptions) (BreachReport, error) {
	switch {
	case o.Now.IsZero():
		return BreachReport{}, fmt.Errorf("breach report: %w: no time given", gateway.ErrInvalid)
	case o.From.IsZero() || o.To.IsZero():
		return BreachReport{}, fmt.Errorf("breach report: %w: the window needs a start and an end", gateway.ErrInvalid)
	case !o.From.Before(o.To):
		return BreachReport{}, fmt.Errorf("breach report: %w: the window starts at %s, not before its end %s",
			gateway.ErrInvalid, o.From.UTC().Format(time.RFC3339), o.To.UTC().Format(time.RFC3339))
	}
	win := Window{From: o.From.UTC(), To: o.To.UTC()}
	r := BreachReport{GeneratedAt: o.Now.UTC(), Window: win, Scope: ScopeAll, Schools: []SchoolBreach{},
		Encryption: encryptionNote, CannotKnow: cannotKnow}

	var schools []gateway.School
	if o.School != "" {
		s, err := st.School(ctx, o.School)
		if err != nil {
			return BreachReport{}, fmt.Errorf("breach report: school %s: %w", o.School, err)
		}
		schools, r.Scope = []gateway.School{s}, string(o.School)
	} else {
		var err error
		if schools, err = st.Schools(ctx); err != nil {
			return BreachReport{}, fmt.Errorf("breach report: list schools: %w", err)
		}
	}

	logins, inWindow, err := countLogins(ctx, st, win)
	if err != nil {
		return BreachReport{}, err
	}
	for _, s := range schools {
		sb, err := schoolBreach(ctx, st, s, win, logins[s.ID], inWindow[s.ID])
		if err != nil {
			return BreachReport{}, err
		}
		r.Schools = append(r.Schools, sb)
		t := &r.Totals
		t.Schools++
		t.Pupils += sb.Pupils
		t.PupilsLeft += sb.PupilsLeft
		t.Teachers += sb.Teachers
		t.Results += sb.Results
		t.DeliveredResults += sb.DeliveredResults
		t.Evidence += sb.Evidence
		t.Logins += sb.Logins
		t.LoginsInWindow += sb.LoginsInWindow
	}
	if o.School == "" {
		// Records that name no school count in the totals only.
		r.Totals.Logins += logins[""]
		r.Totals.LoginsInWindow += inWindow[""]
	}
	if r.GatewayAudit, err = countAudit(ctx, st, gateway.AuditChainGateway, win); err != nil {
		return BreachReport{}, err
	}
	return r, nil
}

// schoolBreach counts one school's records, streaming each kind; the login
// records naming it were counted across the gateway.
func schoolBreach(ctx context.Context, st Store, s gateway.School, win Window, logins, loginsInWindow int) (SchoolBreach, error) {
	fail := func(what string, err error) (SchoolBreach, error) {
		return SchoolBreach{}, fmt.Errorf("breach report: school %s: %s: %w", s.ID, what, err)
	}
	sb := SchoolBreach{School: s.ID, Consent: map[gateway.Processing]bool{}, Logins: logins, LoginsInWindow: loginsInWindow}
	if !s.LastPulledAt.IsZero() {
		t := s.LastPulledAt.UTC()
		sb.LastSyncAt = &t
	}
	consent, err := st.Consent(ctx, s.ID)
	if err != nil {
		return fail("consent", err)
	}
	for _, p := range gateway.Processings {
		sb.Consent[p] = consent[p]
	}

	held := tally{}
	held.school(s)
	err = st.Pupils(ctx, s.ID, func(p gateway.Pupil) error {
		sb.Pupils++
		if p.LeftOn != "" {
			sb.PupilsLeft++
		}
		held.pupil(p)
		return nil
	})
	if err != nil {
		return fail("pupils", err)
	}
	teachers, err := st.Teachers(ctx, s.ID)
	if err != nil {
		return fail("teachers", err)
	}
	sb.Teachers = len(teachers)
	for _, t := range teachers {
		held.teacher(t)
	}
	err = st.WalkResults(ctx, s.ID, func(r gateway.Result) error {
		sb.Results++
		if r.Trial {
			sb.TrialResults++
		}
		return nil
	})
	if err != nil {
		return fail("results", err)
	}
	held["test_results"] = sb.Results
	err = st.WalkBatches(ctx, s.ID, func(b gateway.Batch) error {
		if b.State == gateway.BatchAccepted && win.Contains(b.AnsweredAt) {
			sb.DeliveredBatches++
			sb.DeliveredResults += len(b.Keys)
		}
		return nil
	})
	if err != nil {
		return fail("batches", err)
	}
	err = st.WalkEvidence(ctx, s.ID, func(gateway.Evidence) error {
		sb.Evidence++
		return nil
	})
	if err != nil {
		return fail("evidence", err)
	}
	held["delivery_evidence"] = sb.Evidence
	held["login_records"] = sb.Logins
	sb.Categories = held.held()
	if sb.Audit, err = countAudit(ctx, st, gateway.AuditChainOf(s.ID), win); err != nil {
		return SchoolBreach{}, err
	}
	return sb, nil
}

// countLogins counts the login records per school ("" for none), in all and
// in the window.
func countLogins(ctx context.Context, st Store, win Window) (all, inWindow map[gateway.SchoolID]int, err error) {
	all, inWindow = map[gateway.SchoolID]int{}, map[gateway.SchoolID]int{}
	err = st.WalkLogins(ctx, func(l gateway.Login) error {
		all[l.School]++
		if win.Contains(l.At) {
			inWindow[l.School]++
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("breach report: login records: %w", err)
	}
	return all, inWindow, nil
}

// countAudit counts the entries of a chain in the window, per kind. An
// unknown chain has no entries.
func countAudit(ctx context.Context, st Store, chain string, win Window) (map[gateway.AuditKind]int, error) {
	out := map[gateway.AuditKind]int{}
	err := st.WalkAudit(ctx, chain, func(e gateway.AuditEntry) error {
		if win.Contains(e.At) {
			out[e.Kind]++
		}
		return nil
	})
	if err != nil && !errors.Is(err, gateway.ErrNotFound) {
		return nil, fmt.Errorf("breach report: audit chain %s: %w", chain, err)
	}
	return out, nil
}
