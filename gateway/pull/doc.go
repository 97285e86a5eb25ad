// Package pull runs one school's sync: consent check -> fetch (streamed) ->
// map and check (mapping.Checker: data minimisation, and every record and
// reference problem recorded once on the run) -> seal ECK iDs -> stage ->
// diff -> thresholds -> atomic swap. Links to groups the answer never
// defines are dropped, also from pupils staged before the answer ended.
// Until the swap readers see the old snapshot; a LAS failure
// or crash mid-sync leaves it intact. Pupils missing from the LAS are marked
// left, never deleted. Identity is the ECK iD (through its blind index)
// first and the LAS key second, so a pupil who gains an ECK iD is merged,
// not duplicated.
//
// A run (or an approval) given the school's sync lock stages with it as a
// fence (gateway.StageOption): if another process took the lock over in the
// meantime, the store refuses the swap, nothing is applied, and the run is
// recorded as failed with error class "conflict".
//
// The run records its pull time on the school with Store.UpdateSchool, so
// a change made to the school during the run (a key rewrap, a new results
// receiver) is kept.
//
// It holds a Sealer, never an Opener: nothing here can decrypt an ECK iD.
package pull
