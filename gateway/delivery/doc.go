// Package delivery sends results to the school's LAS (or its results
// receiver) with BrengLeerresultaten: from the durable outbox in the store,
// in capped batches whose result keys never change, with consent checked at
// the moment of sending, retries with backoff for temporary failures, dead
// letters for the rest, and signed evidence of every accepted delivery.
//
// # Room and limits
//
// This is the only package that is given a vault opener for ECK iDs: it
// opens them for one batch, just before the request is built, and counts
// every opening in the audit log (purpose and number, never a value). The
// plain ECK iDs live only in the request bytes of that one call; the
// evidence keeps the sealed form instead (the pupil's own sealed value from
// the store), and the autorisatiesleutel is removed by gateway/soap before
// delivery sees the exchange.
//
// Submit takes validated results (gateway/intake) into the outbox in
// batches of at most BatchSize results. A Worker claims due batches (the
// store leases each to one worker; a worker that dies loses its lease and
// another sends the batch again, with the same keys), checks consent, sends,
// and settles the batch: accepted (with evidence), queued again after a
// backoff (temporary faults, network errors), split (the receiver named one
// bad pupil or score: the batch is halved until the bad results stand
// alone) or rejected (credential, request and version faults; too many
// attempts). Without las_exchange a batch is held, not sent; revoking
// consent holds queued batches and granting it again releases them
// (gateway/consent calls HoldBatches and ReleaseBatches).
//
// Recipients. Submit also stores, in the same outbox step, a copy of each
// batch for every dashboards recipient of the school that is sent to
// (webhook, uwlr); each batch names its recipient and the processing whose
// consent it needs (Batch.Needs), so revoking dashboards holds the copies
// and leaves the LAS's batches alone, and the other way round. A uwlr
// recipient gets BrengLeerresultaten without ECK iDs (only the school's LAS
// gets those); a webhook recipient gets one signed JSON message per batch
// (Pusher; the message id is the same on every resend, each result has a
// stable id). An export batch (research, legal) holds no results: it is
// built when it is sent (BuildExport), from the data of that moment. Every
// push is on the school's audit chain before it leaves and kept as signed
// export evidence.
//
// Exactly once is the receiver's part: a batch whose answer was lost (a
// crash between the receiver's confirmation and our record of it) is sent
// again with the same result keys, which UWLR receivers treat as the same
// results. las-sim does, and counts such resends.
package delivery
