// Package audit keeps the append-only, hash-chained audit log that the
// processing agreement asks for: it builds entries, appends them through the
// store, and verifies chains. It imports only gateway and the standard
// library; it never reads or writes storage itself (the store does, through
// the small interfaces declared here) and never logs.
//
// # Chains
//
// There is one chain per school (gateway.AuditChainOf) and one for the
// gateway itself (gateway.AuditChainGateway). Entry n of a chain has Seq n
// (from 1) and Prev, the Hash of entry n-1 ("" for the first); Hash is the
// SHA-256 of the entry's canonical form (see Canonical), which covers every
// field except Hash itself. The store keeps, besides the entries, a head
// record per chain (a copy of the last entry) that it updates in the same
// atomic step as the append, and it appends only on top of the current head
// (a compare-and-set on Seq and Prev), so concurrent writers, also in other
// processes, cannot fork a chain: Log.Append retries a lost race on the new
// head.
//
// # Personal parts
//
// The only personal data of an entry, its Actor when that names a person
// and the details of PersonalKeys (a login's account and remote address),
// is its personal part: Log.Append marks it in AuditEntry.Personal with a
// random salt and a commitment (PersonalSum: a SHA-256 over the salt, the
// entry's place and the values). The store keeps the part in a side record
// apart from the chain and joins it back when it reads the entry; retention
// deletes it two years after the entry. The entry's hash (canonical form 2,
// see Canonical) covers the commitment instead of the values, so a chain
// verifies the same before and after: deleting personal data is not
// tampering. Verify checks a kept part against its commitment, and that an
// entry whose part was deleted holds none of its values. An entry appended
// before personal parts existed (form 1) keeps whatever it holds: its
// values are in its hash.
//
// # What verification detects
//
// VerifyChain (pure) and Verify (streaming over a store) recompute every hash
// and follow the links. Changes made to the stored data after the fact are
// reported as problems:
//
//   - an edited entry, any field, Details and At included (ProblemEdited;
//     the detail says whether the content or the stored hash was changed
//     when the next entry tells);
//   - an entry replaced by one with a correct hash of its own, or edited and
//     re-hashed (ProblemLink: the next entry does not link to it);
//   - entries removed in the middle, i.e. a sequence gap (ProblemRemoved), or
//     removed and the later entries renumbered (ProblemEdited or
//     ProblemLink at the seam);
//   - entries removed from the end while the head record stays
//     (ProblemTruncated);
//   - reordered entries (ProblemReordered; their links are still checked);
//   - an inserted entry: a second entry with a sequence number already used,
//     sequence number 0, or entries beyond the head record (ProblemInserted);
//   - an entry copied in from another chain (ProblemChain, and its links);
//   - a head record that was changed, removed or does not match the last
//     entry (ProblemHead);
//   - a personal part changed, or moved from another entry, and personal
//     values written into an entry whose part was deleted (ProblemPersonal).
//
// # What a hash chain cannot detect
//
// The chain proves only that the stored entries are consistent with each
// other and with the head record, which live in the same store. Someone who
// can write to the store and recomputes hashes (the form is public, there is
// no key) can:
//
//   - rewrite an entry and every entry after it, and the head record, so that
//     the whole chain is consistent again;
//   - remove the newest entries and set the head record to the new last
//     entry (a rollback);
//   - remove a whole chain, head record and all, together with its name in
//     the list of chains;
//   - append forged entries through the store like any writer.
//
// None of this shows in Verify. What shows it is a head hash kept somewhere
// the attacker cannot write: a printed or exported head (Seq and Hash) that is
// later compared with the chain, an export signed by the evidence key, or a
// copy held by the school. Verification also says nothing about whether an
// entry was true when written: the log records what the gateway was told.
//
// # Limits
//
// Verify holds the previous entry of the chain it walks plus bounded
// bookkeeping (at most 1000 problems and 1000 open gaps per chain; beyond
// that problems are counted in one ProblemMore entry, and an entry that fills
// an untracked gap counts as inserted rather than reordered). Times are
// hashed in UTC with nanoseconds, so a store must keep them to the
// nanosecond; the location is not part of the hash.
package audit
