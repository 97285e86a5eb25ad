package gateway

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"
)

// AuditKind names what an audit entry records.
type AuditKind string

// Audit kinds. Details hold ids, counts, states and classified reasons; the
// only personal data of an entry (the Actor when it names a person, and the
// details package audit declares personal, such as a login's account and
// remote address) is its personal part (AuditPersonal), kept apart and
// deleted two years after the entry.
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
	AuditRecipient       AuditKind = "recipient"        // a recipient registered or removed (never its credentials)
	AuditStudy           AuditKind = "study"            // a research study registered or removed
	AuditExport          AuditKind = "export"           // data about to leave for a recipient: processing, recipient, records, digest
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
//
// Personal, when set, names the entry's personal part (the Actor, some
// Details) and commits to it. The store keeps that part in a side record,
// not in the chain, and joins it back when it reads the entry, until
// DeleteAuditPersonal removes it for good; from then on the entry comes back
// without it (PersonalExpired). The canonical form covers Personal's
// commitment instead of the personal values, so the hashes do not change
// when the part goes (see package audit).
type AuditEntry struct {
	Chain    string            `json:"chain"`
	Seq      uint64            `json:"seq"`
	At       time.Time         `json:"at"`
	Kind     AuditKind         `json:"kind"`
	School   SchoolID          `json:"school,omitempty"`
	Actor    string            `json:"actor,omitempty"`
	Details  map[string]string `json:"details,omitempty"`
	Personal *AuditPersonal    `json:"personal,omitempty"`
	Prev     string            `json:"prev"`
	Hash     string            `json:"hash"`
}

// AuditPersonal describes the personal part of an audit entry and commits
// to it.
type AuditPersonal struct {
	// Actor: the entry's Actor is part of the personal part.
	Actor bool `json:"actor,omitempty"`
	// Keys are the Details keys whose values are part of it, sorted.
	Keys []string `json:"keys,omitempty"`
	// Sum is the commitment: the hex SHA-256 of the personal part with its
	// salt (audit.PersonalForm), fixed when the entry is appended.
	Sum string `json:"sum"`
	// Salt is the commitment's random salt (hex). It lives in the side
	// record with the personal values, never in the chain, and is deleted
	// with them: without it nobody can test guesses (an IPv4 address has
	// only 2^32 values) against Sum. Empty once the part has expired. It is
	// never encoded with the entry.
	Salt string `json:"-"`
}

// AuditPersonalPart is the side record of an entry's personal part, as a
// store keeps it.
type AuditPersonalPart struct {
	Actor   string            `json:"actor,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	Salt    string            `json:"salt"`
}

// PersonalExpired reports whether the entry had a personal part that was
// deleted (or was read without it).
func (e AuditEntry) PersonalExpired() bool { return e.Personal != nil && e.Personal.Salt == "" }

// SplitPersonal returns the entry as the chain keeps it (without the values
// of its personal part and without the salt) and the side record of the
// part. An entry without Personal comes back as it is, with a zero part.
func (e AuditEntry) SplitPersonal() (AuditEntry, AuditPersonalPart) {
	if e.Personal == nil {
		return e, AuditPersonalPart{}
	}
	p := *e.Personal
	part := AuditPersonalPart{Salt: p.Salt}
	p.Salt = ""
	e.Personal = &p
	if p.Actor {
		part.Actor, e.Actor = e.Actor, ""
	}
	if len(p.Keys) > 0 && len(e.Details) > 0 {
		kept := make(map[string]string, len(e.Details))
		part.Details = map[string]string{}
		for k, v := range e.Details {
			if slices.Contains(p.Keys, k) {
				part.Details[k] = v
			} else {
				kept[k] = v
			}
		}
		e.Details = kept
	}
	return e, part
}

// JoinPersonal returns the entry with its side record put back: what the
// store returns while the record is kept. An entry without Personal comes
// back as it is.
func (e AuditEntry) JoinPersonal(part AuditPersonalPart) AuditEntry {
	if e.Personal == nil {
		return e
	}
	p := *e.Personal
	p.Salt = part.Salt
	e.Personal = &p
	if p.Actor {
		e.Actor = part.Actor
	}
	if len(part.Details) > 0 {
		joined := make(map[string]string, len(e.Details)+len(part.Details))
		maps.Copy(joined, e.Details)
		for _, k := range p.Keys {
			if v, ok := part.Details[k]; ok {
				joined[k] = v
			}
		}
		e.Details = joined
	}
	return e
}

// LogValue logs an entry by chain, sequence and kind.
func (e AuditEntry) LogValue() slog.Value {
	return slog.GroupValue(slog.String("chain", e.Chain), slog.Uint64("seq", e.Seq), slog.String("kind", string(e.Kind)))
}

// AuditStore keeps audit chains; part of Store. Chains are append-only: the
// store offers no way to change or delete an entry. The one thing it
// deletes is the personal part of an entry (AuditEntry.Personal), which it
// keeps in a side record beside the chain for that reason.
type AuditStore interface {
	// AppendAudit appends e to e.Chain if it extends the chain's head
	// (e.Seq is head.Seq+1 and e.Prev is head.Hash); otherwise it returns
	// ErrConflict and appends nothing (another writer came first: rebuild
	// the entry on the new head and try again).
	//
	// An entry with Personal set is split (AuditEntry.SplitPersonal): the
	// entry and the head record are stored without the personal values and
	// the salt, and the side record of (e.Chain, e.Seq) holds them, written
	// in the same atomic step. ErrInvalid when Personal has no Salt.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// AuditHead returns the last entry of a chain; the zero entry (Seq 0)
	// when the chain is empty or unknown. Its personal part is joined back
	// as WalkAudit does.
	AuditHead(ctx context.Context, chain string) (AuditEntry, error)
	// WalkAudit calls fn for every entry of a chain, in sequence order, as
	// stored, with its personal part joined back (AuditEntry.JoinPersonal)
	// while the side record is kept; after DeleteAuditPersonal the entry
	// comes back without it (PersonalExpired).
	WalkAudit(ctx context.Context, chain string, fn func(AuditEntry) error) error
	// AuditChains lists every chain, ordered by name.
	AuditChains(ctx context.Context) ([]string, error)
	// DeleteAuditPersonal deletes, for good, the side records of the entries
	// of chain with the given sequence numbers, and returns how many
	// existed. The entries and the head record stay as they are: their
	// hashes cover the commitment, not the personal values. An unknown
	// chain or seq, or an entry without a personal part, is skipped.
	DeleteAuditPersonal(ctx context.Context, chain string, seqs []uint64) (int, error)
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
