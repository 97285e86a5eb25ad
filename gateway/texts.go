package gateway

import "time"

// Free texts are what a LAS or a run wrote in words: a sync run's warnings
// and error, a connection check's message, a batch's reason. They may name
// LAS keys and repeat a LAS's fault text, so retention clears them after a
// while (Store.ExpireTexts); codes and classes (ErrorClass, FaultCode,
// Status), counts and times stay for good. Each record dates its texts by
// TextsAt, and says whether it has any by HasTexts.

// ExpiredTexts counts the records whose free texts Store.ExpireTexts
// cleared (or, in a dry run, would clear).
type ExpiredTexts struct {
	SyncRuns         int `json:"sync_runs"`
	ConnectionChecks int `json:"connection_checks"`
	Batches          int `json:"batches"`
}

// Total is the number of records counted.
func (x ExpiredTexts) Total() int { return x.SyncRuns + x.ConnectionChecks + x.Batches }

// TextsAt is when a run's texts were written: FinishedAt, or StartedAt for
// a run that never finished.
func (r SyncRun) TextsAt() time.Time {
	if r.FinishedAt.IsZero() {
		return r.StartedAt
	}
	return r.FinishedAt
}

// HasTexts reports whether the run holds warnings or an error text.
func (r SyncRun) HasTexts() bool { return len(r.Warnings) > 0 || r.Error != "" }

// WithoutTexts returns the run without its warnings and error text; its
// ErrorClass stays.
func (r SyncRun) WithoutTexts() SyncRun {
	r.Warnings, r.Error = nil, ""
	return r
}

// TextsAt is when the check was made.
func (c ConnectionCheck) TextsAt() time.Time { return c.At }

// HasTexts reports whether the check holds a message (the LAS's fault
// text). The hint is the gateway's own advice for the error class and stays.
func (c ConnectionCheck) HasTexts() bool { return c.Message != "" }

// WithoutTexts returns the check without its message.
func (c ConnectionCheck) WithoutTexts() ConnectionCheck {
	c.Message = ""
	return c
}

// TextsAt is when the batch last changed: UpdatedAt, or CreatedAt for a
// batch never updated.
func (b Batch) TextsAt() time.Time {
	if b.UpdatedAt.IsZero() {
		return b.CreatedAt
	}
	return b.UpdatedAt
}

// HasTexts reports whether the batch holds a reason.
func (b Batch) HasTexts() bool { return b.Reason != "" }

// WithoutTexts returns the batch without its reason; ErrorClass and
// FaultCode stay.
func (b Batch) WithoutTexts() Batch {
	b.Reason = ""
	return b
}

// TextsExpire reports whether a record whose texts date from at, and that
// has some, is cleared by ExpireTexts(before).
func TextsExpire(has bool, at, before time.Time) bool { return has && at.Before(before) }
