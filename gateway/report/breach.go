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
	Tokens(ctx context.Context) ([]gateway.Token, error)
}

// BreachOptions say what a breach report covers.
type BreachOptions struct {
	// From and To bound the time window of the breach, both included.
	From, To time.Time
	// School limits the report to one school; empty means every school.
	School gateway.SchoolID
	// Now is when the report is made (required).
	Now time.Time
	// Incident holds the facts only a person knows (ParseIncident); nil
	// means none were given: every fact is then reported as not given.
	Incident *Incident
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
	// Contact is the school's contact person (its beheerder, also the
	// contact in case of a breach); nil when the school has named none.
	Contact *Contact `json:"contact"`
	// Accounts counts the admin tokens scoped to the school active now.
	Accounts int `json:"accounts"`
	// SubmittedBatches and SubmittedResults: batches of results taken in
	// (submitted) in the window (CreatedAt) and the results they held;
	// batches split from another are not counted again.
	SubmittedBatches int `json:"submitted_batches"`
	SubmittedResults int `json:"submitted_results"`
	// AtStart and AtEnd are what the school held at the window's start and
	// end (the counts above are of now), derived as the report's
	// CountDerivation says.
	AtStart HeldAt `json:"at_start"`
	AtEnd   HeldAt `json:"at_end"`
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
	// Accounts counts the admin tokens scoped to one or more of the schools
	// active now, each once; SubmittedResults the results taken in during
	// the window.
	Accounts         int `json:"accounts"`
	SubmittedResults int `json:"submitted_results"`
	// AtStart and AtEnd add up the schools' (Accounts: each token once).
	AtStart HeldAt `json:"at_start"`
	AtEnd   HeldAt `json:"at_end"`
}

// BreachReport is the draft of a data-breach notification: counts and ids
// only. Times are in UTC; Markdown shows them in Europe/Amsterdam.
//
// The JSON keys are stable (README, "report breach"): generated_at,
// window {from, to}, duration {seconds, text}, scope, incident (the facts
// of Incident, null when not given, and not_given), schools (per school:
// school, consent, last_sync_at, pupils, pupils_left, teachers, results,
// trial_results, delivered_batches, delivered_results, evidence, logins,
// logins_in_window, categories [{name, description, subjects, records,
// encrypted_at_rest, protection}], audit, contact {name, email, phone,
// updated_at} or null, accounts, submitted_batches, submitted_results,
// at_start and at_end {at, pupils {at_least, at_most}, pupils_left,
// teachers {at_least, at_most}, accounts}), totals (the same counts added
// up), gateway_accounts {at_start, at_end, now}, count_derivation
// {pupils, teachers, accounts}, gateway_audit, encryption,
// special_categories {held, statement}, cannot_know. New keys may be
// added; none is renamed or dropped.
type BreachReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	Window      Window    `json:"window"`
	// Duration is the window's length.
	Duration Duration `json:"duration"`
	// Scope is the school id, or "all".
	Scope string `json:"scope"`
	// Incident is what the person making the report told of the breach.
	Incident Incident       `json:"incident"`
	Schools  []SchoolBreach `json:"schools"`
	Totals   Totals         `json:"totals"`
	// GatewayAccounts counts the admin tokens that reach every school
	// (operators, viewers of every school).
	GatewayAccounts AccountCounts `json:"gateway_accounts"`
	// CountDerivation says how the counts at the window's start and end
	// are derived.
	CountDerivation Derivation `json:"count_derivation"`
	// GatewayAudit counts the entries of the gateway's own chain (keys,
	// logins, retention runs) in the window, per kind.
	GatewayAudit map[gateway.AuditKind]int `json:"gateway_audit"`
	// Encryption says what the gateway itself encrypts at rest.
	Encryption string `json:"encryption"`
	// SpecialCategories: none are held, and why.
	SpecialCategories SpecialCategories `json:"special_categories"`
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
	"Exactly how many people were concerned where a count at the window's start or end is a range: the store keeps the current records only (see how each count is derived).",
	"When the breach really began and ended, if not at the ends of the window given: the duration is the window's.",
	"The facts only a person knows (discovery, nature, what failed and how, cause, detection, measures, consequences, risk): they come from the incident file, and those not given say so.",
	"Schools that were offboarded: their data is gone from the store and they are not listed (their audit chains remain).",
	"Whether the audit log is complete: the hash chain shows edits and gaps, but not a rewrite by someone who could write to the store.",
}

// Breach builds a breach report over the window [o.From, o.To] for one
// school or all. It returns gateway.ErrInvalid for a missing o.Now, a
// missing end of the window or a window that is empty or runs backwards,
// gateway.InvalidFields for an incident discovered before the window or
// after o.Now, gateway.ErrNotFound for an unknown o.School, and wraps store
// errors with the school id.
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
	incident := NoIncident()
	if o.Incident != nil {
		incident = *o.Incident
		if err := checkIncident(incident, win, o.Now); err != nil {
			return BreachReport{}, fmt.Errorf("breach report: incident: %w", err)
		}
	}
	r := BreachReport{GeneratedAt: o.Now.UTC(), Window: win, Duration: durationOf(win), Scope: ScopeAll, Incident: incident,
		Schools: []SchoolBreach{}, CountDerivation: derivation, Encryption: encryptionNote, SpecialCategories: specialCategories,
		CannotKnow: cannotKnow}

	schools, err := reportSchools(ctx, st, o.School)
	if err != nil {
		return BreachReport{}, err
	}
	if o.School != "" {
		r.Scope = string(o.School)
	}
	in := inputs{win: win, now: r.GeneratedAt}
	if in.logins, in.loginsInWindow, err = countLogins(ctx, st, win); err != nil {
		return BreachReport{}, err
	}
	if in.tokens, err = st.Tokens(ctx); err != nil {
		return BreachReport{}, fmt.Errorf("breach report: admin tokens: %w", err)
	}
	for _, s := range schools {
		sb, err := schoolBreach(ctx, st, s, in)
		if err != nil {
			return BreachReport{}, err
		}
		r.Schools = append(r.Schools, sb)
	}
	r.Totals = totals(r.Schools, in)
	if o.School == "" {
		// Records that name no school count in the totals only.
		r.Totals.Logins += in.logins[""]
		r.Totals.LoginsInWindow += in.loginsInWindow[""]
	}
	r.GatewayAccounts = AccountCounts{AtStart: gatewayAccounts(in.tokens, win.From), AtEnd: gatewayAccounts(in.tokens, win.To),
		Now: gatewayAccounts(in.tokens, r.GeneratedAt)}
	if r.GatewayAudit, err = countAudit(ctx, st, gateway.AuditChainGateway, win); err != nil {
		return BreachReport{}, err
	}
	return r, nil
}

// inputs are what every school's part of the report reads beside its own
// records: the window, the time of the report, the login records per
// school and the admin tokens.
type inputs struct {
	win                    Window
	now                    time.Time
	logins, loginsInWindow map[gateway.SchoolID]int
	tokens                 []gateway.Token
}

// reportSchools returns the one school asked for, or every school.
func reportSchools(ctx context.Context, st Store, id gateway.SchoolID) ([]gateway.School, error) {
	if id == "" {
		schools, err := st.Schools(ctx)
		if err != nil {
			return nil, fmt.Errorf("breach report: list schools: %w", err)
		}
		return schools, nil
	}
	s, err := st.School(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("breach report: school %s: %w", id, err)
	}
	return []gateway.School{s}, nil
}

// totals adds up the schools; accounts count each token once.
func totals(schools []SchoolBreach, in inputs) Totals {
	t := Totals{AtStart: HeldAt{At: in.win.From, Pupils: exactly(0), Teachers: exactly(0)},
		AtEnd: HeldAt{At: in.win.To, Pupils: exactly(0), Teachers: exactly(0)}}
	ids := make([]gateway.SchoolID, 0, len(schools))
	for _, sb := range schools {
		ids = append(ids, sb.School)
		t.Schools++
		t.Pupils += sb.Pupils
		t.PupilsLeft += sb.PupilsLeft
		t.Teachers += sb.Teachers
		t.Results += sb.Results
		t.DeliveredResults += sb.DeliveredResults
		t.Evidence += sb.Evidence
		t.Logins += sb.Logins
		t.LoginsInWindow += sb.LoginsInWindow
		t.SubmittedResults += sb.SubmittedResults
		for _, p := range []struct{ sum, one *HeldAt }{{&t.AtStart, &sb.AtStart}, {&t.AtEnd, &sb.AtEnd}} {
			p.sum.Pupils = p.sum.Pupils.plus(p.one.Pupils)
			p.sum.PupilsLeft += p.one.PupilsLeft
			p.sum.Teachers = p.sum.Teachers.plus(p.one.Teachers)
		}
	}
	t.Accounts = accounts(in.tokens, in.now, ids...)
	t.AtStart.Accounts = accounts(in.tokens, in.win.From, ids...)
	t.AtEnd.Accounts = accounts(in.tokens, in.win.To, ids...)
	return t
}

// schoolBreach counts one school's records, streaming each kind; the login
// records naming it were counted across the gateway.
func schoolBreach(ctx context.Context, st Store, s gateway.School, in inputs) (SchoolBreach, error) {
	fail := func(what string, err error) (SchoolBreach, error) {
		return SchoolBreach{}, fmt.Errorf("breach report: school %s: %s: %w", s.ID, what, err)
	}
	win := in.win
	sb := SchoolBreach{School: s.ID, Consent: map[gateway.Processing]bool{}, Logins: in.logins[s.ID],
		LoginsInWindow: in.loginsInWindow[s.ID], Contact: contactOf(s.Contact), Accounts: accounts(in.tokens, in.now, s.ID)}
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
	atStart, atEnd := pupilsAt{at: win.From}, pupilsAt{at: win.To}
	err = st.Pupils(ctx, s.ID, func(p gateway.Pupil) error {
		sb.Pupils++
		if p.LeftOn != "" {
			sb.PupilsLeft++
		}
		held.pupil(p)
		atStart.pupil(p)
		atEnd.pupil(p)
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
	if err := countOutput(ctx, st, s.ID, win, &sb, held); err != nil {
		return SchoolBreach{}, err
	}
	held["login_records"] = sb.Logins
	sb.Categories = held.held()
	chain, err := readChain(ctx, st, s.ID, win)
	if err != nil {
		return SchoolBreach{}, err
	}
	sb.Audit = chain.inWindow
	for _, h := range []struct {
		out *HeldAt
		p   pupilsAt
	}{{&sb.AtStart, atStart}, {&sb.AtEnd, atEnd}} {
		*h.out = HeldAt{At: h.p.at, Teachers: chain.teachersAt(h.p.at, s.CreatedAt), Accounts: accounts(in.tokens, h.p.at, s.ID)}
		h.out.Pupils, h.out.PupilsLeft = chain.pupilsAt(h.p, s.CreatedAt)
	}
	return sb, nil
}

// countOutput counts a school's results, its batches submitted and
// delivered in the window and its evidence records.
func countOutput(ctx context.Context, st Store, id gateway.SchoolID, win Window, sb *SchoolBreach, held tally) error {
	fail := func(what string, err error) error {
		return fmt.Errorf("breach report: school %s: %s: %w", id, what, err)
	}
	err := st.WalkResults(ctx, id, func(r gateway.Result) error {
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
	err = st.WalkBatches(ctx, id, func(b gateway.Batch) error {
		if b.State == gateway.BatchAccepted && win.Contains(b.AnsweredAt) {
			sb.DeliveredBatches++
			sb.DeliveredResults += len(b.Keys)
		}
		if b.Parent == "" && win.Contains(b.CreatedAt) {
			sb.SubmittedBatches++
			sb.SubmittedResults += len(b.Keys)
		}
		return nil
	})
	if err != nil {
		return fail("batches", err)
	}
	err = st.WalkEvidence(ctx, id, func(gateway.Evidence) error {
		sb.Evidence++
		return nil
	})
	if err != nil {
		return fail("evidence", err)
	}
	held["delivery_evidence"] = sb.Evidence
	return nil
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
