package gateway

import (
	"context"
	"log/slog"
	"time"
)

// AuditKind names what an audit entry records.
type AuditKind string

// Audit kinds. Details never hold personal data: ids, counts, states and
// classified reasons only.
const (
	AuditSchoolAdd       AuditKind = "school.add"       // a school enrolled or its connection changed
	AuditSchoolReceiver  AuditKind = "school.receiver"  // the results receiver set or cleared
	AuditSchoolRemove    AuditKind = "school.remove"    // offboarding: every record of the school deleted
	AuditSchoolContact   AuditKind = "school.contact"   // the school's contact person set or changed (which fields, never the values)
	AuditConsent         AuditKind = "consent.change"   // one processing granted or revoked
	AuditKeyGenerate     AuditKind = "key.generate"     // a vault key file or the evidence key created
	AuditKeyRotate       AuditKind = "key.rotate"       // a new active key term
	AuditKeyRewrap       AuditKind = "key.rewrap"       // values re-sealed with the active term
	AuditSync            AuditKind = "sync"             // a sync run (counts only)
	AuditSyncApprove     AuditKind = "sync.approve"     // a held sync approved
	AuditResultsSubmit   AuditKind = "results.submit"   // results taken in (counts only)
	AuditResultsRetry    AuditKind = "results.retry"    // dead letters queued again
	AuditDelivery        AuditKind = "delivery"         // a batch settled: accepted, rejected, held, split
	AuditDecrypt         AuditKind = "decrypt"          // ECK iDs opened: purpose and count, never values
	AuditRetentionPurge  AuditKind = "retention.purge"  // the purge receipt of a retention run
	AuditLogin           AuditKind = "login"            // a login (or failed login) to the admin API
	AuditEvidenceExport  AuditKind = "audit.export"     // an audit export written for a school
	AuditBreachReport    AuditKind = "report.breach"    // a breach report produced
	AuditDeliveryRequeue AuditKind = "delivery.release" // held batches released after consent was granted
	AuditTokenCreate     AuditKind = "token.create"     // an admin token created (never its secret)
	AuditTokenRevoke     AuditKind = "token.revoke"     // an admin token revoked
	AuditLASCapture      AuditKind = "las.capture"      // a raw capture of a LAS answer, before it is written: who, why, file, delete-by date
	AuditLASCaptureEnd   AuditKind = "las.capture.end"  // the raw capture written (bytes) or not (outcome)
	AuditLASCheck        AuditKind = "las.check"        // las check run for the school: outcome and counts
	AuditLASConformance  AuditKind = "las.conformance"  // the conformance cases run for the school: passed and failed
)

// AuditChainGateway is the chain of gateway-wide events (keys, logins);
// each school has its own chain, AuditChainOf(school).
const AuditChainGateway = "gateway"

// AuditChainOf is the chain of one school's events. It outlives the school:
// offboarding deletes the school's data, not its audit chain.
func AuditChainOf(school SchoolID) string { return "school/" + string(school) }

// AuditEntry is one entry of an append-only, hash-chained audit log. Hash
// is the SHA-256 (hex) of the entry's canonical form, which includes Prev,
// the Hash of the entry before it (empty for the first). Seq counts from 1
// per chain.
type AuditEntry struct {
	Chain   string            `json:"chain"`
	Seq     uint64            `json:"seq"`
	At      time.Time         `json:"at"`
	Kind    AuditKind         `json:"kind"`
	School  SchoolID          `json:"school,omitempty"`
	Actor   string            `json:"actor,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	Prev    string            `json:"prev"`
	Hash    string            `json:"hash"`
}

// LogValue logs an entry by chain, sequence and kind.
func (e AuditEntry) LogValue() slog.Value {
	return slog.GroupValue(slog.String("chain", e.Chain), slog.Uint64("seq", e.Seq), slog.String("kind", string(e.Kind)))
}

// AuditStore keeps audit chains; part of Store. Chains are append-only: the
// store offers no way to change or delete an entry.
type AuditStore interface {
	// AppendAudit appends e to e.Chain if it extends the chain's head
	// (e.Seq is head.Seq+1 and e.Prev is head.Hash); otherwise it returns
	// ErrConflict and appends nothing (another writer came first: rebuild
	// the entry on the new head and try again).
	AppendAudit(ctx context.Context, e AuditEntry) error
	// AuditHead returns the last entry of a chain; the zero entry (Seq 0)
	// when the chain is empty or unknown.
	AuditHead(ctx context.Context, chain string) (AuditEntry, error)
	// WalkAudit calls fn for every entry of a chain, in sequence order, as stored.
	WalkAudit(ctx context.Context, chain string, fn func(AuditEntry) error) error
	// AuditChains lists every chain, ordered by name.
	AuditChains(ctx context.Context) ([]string, error)
}

// Login is one login (or failed login) to the gateway by an account (an
// admin API token), kept for the processing agreement's login logging.
// Pupil is set when the login concerned one pupil.
type Login struct {
	ID      string    `json:"id"`
	Account string    `json:"account"`
	School  SchoolID  `json:"school,omitempty"`
	Pupil   PupilID   `json:"pupil,omitempty"`
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	// What is set on a record of a read of personal data (not a login):
	// what was read ("pupils", "held diff", "receipts", "evidence") and
	// how many records. Reads are kept, and expire, like logins.
	What    string `json:"what,omitempty"`
	Records int    `json:"records,omitempty"`
}

// LoginStore keeps login records; part of Store.
type LoginStore interface {
	AddLogin(ctx context.Context, l Login) error
	// WalkLogins calls fn for every login record, oldest first.
	WalkLogins(ctx context.Context, fn func(Login) error) error
	// DeleteLogins deletes records by id and returns how many existed.
	DeleteLogins(ctx context.Context, ids []string) (int, error)
}

// SecretStore keeps the gateway's own sealed secrets (the evidence signing
// key); part of Store.
type SecretStore interface {
	// GatewaySecret returns a stored value, or ErrNotFound.
	GatewaySecret(ctx context.Context, name string) ([]byte, error)
	// PutGatewaySecret stores a value. With ifAbsent it keeps an existing
	// value and returns it (so two processes agree on one key); otherwise it
	// replaces it and returns v.
	PutGatewaySecret(ctx context.Context, name string, v []byte, ifAbsent bool) ([]byte, error)
}
