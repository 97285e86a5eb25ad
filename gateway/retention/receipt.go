package retention

import (
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// SchoolReceipt says what was purged at one school (or, in a dry run, what
// would be).
type SchoolReceipt struct {
	School gateway.SchoolID `json:"school"`
	// Pupils purged: they left two years ago or longer.
	Pupils int `json:"pupils"`
	// Results of those pupils (all of them, trial results included), and
	// of pupils the school no longer knows.
	Results int `json:"results"`
	// TrialResults of pupils who stay, tested two years ago or longer.
	TrialResults int `json:"trial_results"`
	// Evidence records that named a purged (or unknown) pupil or a purged
	// result.
	Evidence int `json:"evidence"`
	// Batches are ended or held delivery batches none of whose results is
	// left (they list the result keys).
	Batches int `json:"batches"`
	// HeldBatches are delivery batches held two years ago or longer
	// (las_exchange not granted), deleted with their HeldResults.
	HeldBatches int `json:"held_batches"`
	HeldResults int `json:"held_results"`
	// Texts counts the records whose free texts (warnings, fault texts,
	// reasons) were cleared, one year after they were written.
	Texts gateway.ExpiredTexts `json:"texts"`
	// Stale is set when the school's data is no longer refreshed (a Stale*
	// reason); its current pupils are then marked left as of LeftAsOf.
	// MarkedLeft counts those marked in this run.
	Stale      string `json:"stale,omitempty"`
	LeftAsOf   string `json:"left_as_of,omitempty"`
	MarkedLeft int    `json:"marked_left"`
	// Skipped counts records kept because their date could not be read (a
	// pupil's LeftOn, a trial result's Date); they need a person's look.
	Skipped int `json:"skipped,omitempty"`
	// Error is set when the school's purge failed part-way; a second run
	// finishes it.
	Error string `json:"error,omitempty"`
}

// Purged reports whether anything was (or would be) deleted or cleared at
// the school.
func (s SchoolReceipt) Purged() bool {
	return s.Pupils+s.Results+s.TrialResults+s.Evidence+s.Batches+s.HeldBatches+s.HeldResults+s.Texts.Total() > 0
}

// Changed reports whether the run changed (or would change) anything at the
// school: Purged, or pupils marked left.
func (s SchoolReceipt) Changed() bool { return s.Purged() || s.MarkedLeft > 0 }

// Receipt is the outcome of a run: per school and in total, with the dates
// the rules were applied at.
type Receipt struct {
	At     time.Time `json:"at"`
	DryRun bool      `json:"dry_run"`
	// Today is the Europe/Amsterdam date of At; Cutoff the latest start date
	// (left, tested, logged in, held, written) that has expired by Today
	// under the two-year rules, TextCutoff under the one-year rule of free
	// texts.
	Today      string          `json:"today"`
	Cutoff     string          `json:"cutoff"`
	TextCutoff string          `json:"text_cutoff"`
	Schools    []SchoolReceipt `json:"schools"`
	// Logins is the number of login records purged (they are gateway-wide).
	Logins int `json:"logins"`
	// AuditPersonal is the number of audit entries whose personal part
	// (actor, account, remote address, ...) was deleted.
	AuditPersonal int `json:"audit_personal"`

	Pupils       int                  `json:"pupils"`
	Results      int                  `json:"results"`
	TrialResults int                  `json:"trial_results"`
	Evidence     int                  `json:"evidence"`
	Batches      int                  `json:"batches"`
	HeldBatches  int                  `json:"held_batches"`
	HeldResults  int                  `json:"held_results"`
	Texts        gateway.ExpiredTexts `json:"texts"`
	// StaleSchools counts the schools whose data is no longer refreshed;
	// MarkedLeft their pupils marked left in this run.
	StaleSchools int `json:"stale_schools"`
	MarkedLeft   int `json:"marked_left"`
	Skipped      int `json:"skipped,omitempty"`
	// Compacted is set when the store rewrote its files after the purge, so
	// that nothing deleted stays readable in them (see Options.Compact).
	Compacted bool `json:"compacted"`
	// Rules lists every rule with what it purged, cleared or marked (or
	// would), in the order the README gives them.
	Rules []RuleReceipt `json:"rules"`
}

// deleted reports whether the run deleted or cleared anything.
func (rc Receipt) deleted() bool {
	return rc.Pupils+rc.Results+rc.TrialResults+rc.Evidence+rc.Batches+rc.HeldBatches+rc.HeldResults+
		rc.Texts.Total()+rc.Logins+rc.AuditPersonal > 0
}

func (rc *Receipt) add(sr SchoolReceipt) {
	rc.Schools = append(rc.Schools, sr)
	rc.Pupils += sr.Pupils
	rc.Results += sr.Results
	rc.TrialResults += sr.TrialResults
	rc.Evidence += sr.Evidence
	rc.Batches += sr.Batches
	rc.HeldBatches += sr.HeldBatches
	rc.HeldResults += sr.HeldResults
	rc.Texts.SyncRuns += sr.Texts.SyncRuns
	rc.Texts.ConnectionChecks += sr.Texts.ConnectionChecks
	rc.Texts.Batches += sr.Texts.Batches
	rc.MarkedLeft += sr.MarkedLeft
	rc.Skipped += sr.Skipped
	if sr.Stale != "" {
		rc.StaleSchools++
	}
}

// RuleReceipt is one retention rule and what it purged, cleared or marked
// (or, in a dry run, would).
type RuleReceipt struct {
	// Rule names the rule.
	Rule string `json:"rule"`
	// Records says what the rule applies to.
	Records string `json:"records"`
	// Kept says how long they are kept, and from when.
	Kept string `json:"kept"`
	// OnOrBefore is the latest start date that has expired today (empty
	// for a rule that follows another rule rather than a date).
	OnOrBefore string `json:"on_or_before,omitempty"`
	// Action is what happens to them: delete, clear texts, mark left.
	Action string `json:"action"`
	Count  int    `json:"count"`
}

// rules lists the rules with the receipt's counts.
func rules(rc Receipt, staleAfter time.Duration) []RuleReceipt {
	stale := "las_exchange not granted, or no successful sync for " + strconv.Itoa(int(staleAfter.Hours()/24)) + " days (retention.stale_after)"
	if staleAfter <= 0 {
		stale = "las_exchange not granted"
	}
	return []RuleReceipt{
		{"pupil_left", "pupils who left", "2 years after the left date", rc.Cutoff, "delete", rc.Pupils},
		{"results_of_pupil", "results of a purged pupil, or of a pupil the school no longer knows", "as long as the pupil", "", "delete", rc.Results},
		{"trial_result", "results of trial and norming tests", "2 years after the test date", rc.Cutoff, "delete", rc.TrialResults},
		{"evidence", "delivery evidence that names a purged pupil or result", "as long as the pupil and result", "", "delete", rc.Evidence},
		{"batch_without_results", "ended and held delivery batches none of whose results is left", "as long as their results", "", "delete", rc.Batches},
		{"held_batch", "delivery batches held because las_exchange is not granted", "2 years after they were held", rc.Cutoff, "delete", rc.HeldBatches},
		{"held_batch_results", "the results of those held batches", "2 years after the batch was held", rc.Cutoff, "delete", rc.HeldResults},
		{"login_record", "login records", "2 years after the login (or as long as the pupil it names)", rc.Cutoff, "delete", rc.Logins},
		{"audit_personal", "the personal part of audit entries: a person as actor, account, remote address, by, name, e-mail", "2 years after the entry", rc.Cutoff, "delete", rc.AuditPersonal},
		{"sync_run_texts", "warnings and error texts of sync runs (status, class and counts stay)", "1 year after the run", rc.TextCutoff, "clear texts", rc.Texts.SyncRuns},
		{"connection_check_text", "the LAS's fault message of the last connection check (class and code stay)", "1 year after the check", rc.TextCutoff, "clear texts", rc.Texts.ConnectionChecks},
		{"batch_reason", "the reason (fault text) of delivery batches (class and code stay)", "1 year after the batch last changed", rc.TextCutoff, "clear texts", rc.Texts.Batches},
		{"stale_school", "current pupils of a school whose data is no longer refreshed: " + stale, "marked left as of the last successful sync; then pupil_left", "", "mark left", rc.MarkedLeft},
	}
}

// schoolDetails is the purge receipt of one school for the audit log:
// counts and dates only.
func schoolDetails(sr SchoolReceipt, rc Receipt) map[string]string {
	d := map[string]string{
		"pupils":              strconv.Itoa(sr.Pupils),
		"results":             strconv.Itoa(sr.Results),
		"trial_results":       strconv.Itoa(sr.TrialResults),
		"evidence":            strconv.Itoa(sr.Evidence),
		"batches":             strconv.Itoa(sr.Batches),
		"held_batches":        strconv.Itoa(sr.HeldBatches),
		"held_results":        strconv.Itoa(sr.HeldResults),
		"sync_run_texts":      strconv.Itoa(sr.Texts.SyncRuns),
		"check_texts":         strconv.Itoa(sr.Texts.ConnectionChecks),
		"batch_texts":         strconv.Itoa(sr.Texts.Batches),
		"today":               rc.Today,
		"left_on_or_before":   rc.Cutoff,
		"tested_on_or_before": rc.Cutoff,
		"texts_on_or_before":  rc.TextCutoff,
		"period_years":        strconv.Itoa(Period),
	}
	if sr.Stale != "" {
		d["stale"], d["left_as_of"], d["marked_left"] = sr.Stale, sr.LeftAsOf, strconv.Itoa(sr.MarkedLeft)
	}
	if sr.Skipped > 0 {
		d["skipped"] = strconv.Itoa(sr.Skipped)
	}
	if sr.Error != "" {
		d["outcome"] = "incomplete"
	}
	return d
}

// gatewayDetails is the run's receipt for the gateway chain: the totals.
func gatewayDetails(rc Receipt, failures int) map[string]string {
	purged := 0
	for _, s := range rc.Schools {
		if s.Changed() {
			purged++
		}
	}
	d := map[string]string{
		"schools":                strconv.Itoa(len(rc.Schools)),
		"schools_purged":         strconv.Itoa(purged),
		"pupils":                 strconv.Itoa(rc.Pupils),
		"results":                strconv.Itoa(rc.Results),
		"trial_results":          strconv.Itoa(rc.TrialResults),
		"evidence":               strconv.Itoa(rc.Evidence),
		"batches":                strconv.Itoa(rc.Batches),
		"held_batches":           strconv.Itoa(rc.HeldBatches),
		"held_results":           strconv.Itoa(rc.HeldResults),
		"texts":                  strconv.Itoa(rc.Texts.Total()),
		"stale_schools":          strconv.Itoa(rc.StaleSchools),
		"marked_left":            strconv.Itoa(rc.MarkedLeft),
		"logins":                 strconv.Itoa(rc.Logins),
		"audit_personal":         strconv.Itoa(rc.AuditPersonal),
		"compacted":              strconv.FormatBool(rc.Compacted),
		"today":                  rc.Today,
		"left_on_or_before":      rc.Cutoff,
		"tested_on_or_before":    rc.Cutoff,
		"logged_in_on_or_before": rc.Cutoff,
		"texts_on_or_before":     rc.TextCutoff,
		"period_years":           strconv.Itoa(Period),
	}
	if rc.Skipped > 0 {
		d["skipped"] = strconv.Itoa(rc.Skipped)
	}
	if failures > 0 {
		d["outcome"] = "incomplete"
		d["errors"] = strconv.Itoa(failures)
	}
	return d
}
