package intake

import (
	"encoding/json"
	"math/big"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// result checks one result record and builds the domain result.
func (rd *reader) result(raw json.RawMessage, pos string) (gateway.Result, bool) {
	before := rd.total
	var r resultRecord
	if !rd.decode(raw, &r, pos) {
		return gateway.Result{}, false
	}
	out := gateway.Result{School: rd.o.School, Test: r.Test, Part: deref(r.Part), Date: r.Date,
		Processor: deref(r.Processor), SubmittedAt: rd.o.Now}

	out.Pupil = rd.pupil(pos, r)
	rd.length(field(pos, "test"), r.Test, 1, 256)
	rd.optLength(field(pos, "part"), r.Part, 1, 256)
	rd.optLength(field(pos, "processor"), r.Processor, 1, 256)
	switch {
	case rd.testsDone:
		if at, reason := rd.testFault(r.Test, r.Part); at != "" {
			rd.add(field(pos, at), "%s", reason)
		}
		def, _ := rd.definition(r.Test)
		out.Trial = def.Trial
	case r.Test != "":
		rd.wait(pos, r.Test, r.Part, indexOf(pos)) // "tests" may still come
	}
	rd.date(field(pos, "date"), r.Date)

	switch {
	case r.Score == nil && r.OSO == nil:
		rd.add(pos, "needs a score or an oso result (a missing score is never filled in)")
	case r.Score != nil && r.OSO != nil:
		rd.add(pos, "has both a score and an oso result; give one")
	case r.Score != nil:
		out.Score = rd.score(field(pos, "score"), r.Score)
	default:
		out.OSO = rd.oso(field(pos, "oso"), r.OSO)
	}

	if rd.total > before {
		return gateway.Result{}, false
	}
	out.Digest = Digest(out)
	rd.key(pos, r.Key, &out)
	if rd.total > before {
		return gateway.Result{}, false
	}
	return out, true
}

// pupil resolves exactly one of pupil_id and las_key.
func (rd *reader) pupil(pos string, r resultRecord) gateway.PupilID {
	var p gateway.Pupil
	var found bool
	switch {
	case r.PupilID != nil && r.LASKey != nil:
		rd.add(pos, "has both pupil_id and las_key; give one")
		return ""
	case r.PupilID != nil:
		if rd.length(field(pos, "pupil_id"), *r.PupilID, 1, 256); *r.PupilID == "" {
			return ""
		}
		p, found = rd.pupils.ByID(gateway.PupilID(*r.PupilID))
		if !found || (p.School != "" && p.School != rd.o.School) {
			rd.add(field(pos, "pupil_id"), "no pupil %s at school %s", *r.PupilID, rd.o.School)
			return ""
		}
	case r.LASKey != nil:
		if rd.length(field(pos, "las_key"), *r.LASKey, 1, 256); *r.LASKey == "" {
			return ""
		}
		p, found = rd.pupils.ByLASKey(*r.LASKey)
		if !found || (p.School != "" && p.School != rd.o.School) {
			rd.add(field(pos, "las_key"), "no pupil with LAS key %s at school %s", *r.LASKey, rd.o.School)
			return ""
		}
	default:
		rd.add(pos, "needs pupil_id or las_key")
		return ""
	}
	return p.ID
}

// definition finds a test by code: a good definition of the file first, then
// the stored ones.
func (rd *reader) definition(code string) (gateway.TestDefinition, bool) {
	if d, ok := rd.defs[code]; ok {
		return d, true
	}
	if _, inFile := rd.defined[code]; inFile { // defined, but the definition is bad
		return gateway.TestDefinition{}, false
	}
	d, ok := rd.o.StoredTests[code]
	return d, ok
}

func hasPart(d gateway.TestDefinition, code string) bool {
	for _, p := range d.Parts {
		if p.Code.Value == code {
			return true
		}
	}
	return false
}

// date checks a test date: YYYY-MM-DD, a real date, from earliestDate up to
// the day of the submission in Europe/Amsterdam.
func (rd *reader) date(pos, s string) {
	if !datePattern.MatchString(s) {
		rd.add(pos, "must be a date YYYY-MM-DD")
		return
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		rd.add(pos, "%s is not a real date", s)
		return
	}
	today := rd.o.Now.In(amsterdam).Format(time.DateOnly)
	switch {
	case s > today:
		rd.add(pos, "%s lies after the day of submission (%s)", s, today)
	case s < earliestDate:
		rd.add(pos, "%s lies before %s", s, earliestDate)
	}
}

// score checks the text of a score against the receiver's score type and
// returns it unchanged.
func (rd *reader) score(pos string, raw json.RawMessage) string {
	s := string(raw)
	if len(s) == 0 || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		rd.add(pos, "must be a number")
		return ""
	}
	if rd.o.ScoreType == gateway.ScoreDecimal {
		v, ok := new(big.Rat).SetString(s)
		if !decimalScore.MatchString(s) || !ok || v.Cmp(maxScore) > 0 {
			rd.add(pos, "must be a non-negative number with at most 4 decimals, without exponent, up to 2^63-1")
			return ""
		}
		return s
	}
	v, ok := new(big.Rat).SetString(s)
	if !integerScore.MatchString(s) || !ok || v.Cmp(maxScore) > 0 {
		rd.add(pos, "must be a non-negative whole number up to 2^63-1, without fraction or exponent (the receiver takes integer scores)")
		return ""
	}
	return s
}

// oso checks an OSO result: a test score and/or reference scores.
func (rd *reader) oso(pos string, o *osoRecord) *gateway.OSOResult {
	out := &gateway.OSOResult{}
	if o.Score == nil && len(o.References) == 0 {
		rd.add(pos, "needs a score or at least one reference")
	}
	if s := o.Score; s != nil {
		sp := field(pos, "score")
		if *s == (osoScoreRecord{}) {
			rd.add(sp, "must not be empty")
		}
		score := &gateway.OSOScore{Seconds: deref(s.Seconds), Ability: deref(s.Ability), AbilityScale: deref(s.AbilityScale)}
		for _, c := range []struct {
			name string
			v    *int32
			dst  **int
		}{{"items", s.Items, &score.Items}, {"correct", s.Correct, &score.Correct}, {"wrong", s.Wrong, &score.Wrong}, {"read", s.Read, &score.Read}} {
			if c.v == nil {
				continue
			}
			if *c.v < 0 {
				rd.add(field(sp, c.name), "must be 0 or more")
			}
			n := int(*c.v)
			*c.dst = &n
		}
		rd.decimal(field(sp, "seconds"), s.Seconds, ratZero, nil)
		rd.decimal(field(sp, "ability"), s.Ability, nil, nil)
		rd.optNonEmpty(field(sp, "ability_scale"), s.AbilityScale)
		if iv := s.Interval; iv != nil {
			ip := field(sp, "interval")
			rd.decimal(field(ip, "low"), &iv.Low, nil, nil)
			rd.decimal(field(ip, "high"), &iv.High, nil, nil)
			lo, okLo := new(big.Rat).SetString(iv.Low)
			hi, okHi := new(big.Rat).SetString(iv.High)
			if okLo && okHi && decimalPattern.MatchString(iv.Low) && decimalPattern.MatchString(iv.High) && lo.Cmp(hi) > 0 {
				rd.add(field(ip, "low"), "is above high")
			}
			score.Interval = &gateway.OSOInterval{Low: iv.Low, High: iv.High}
		}
		out.Score = score
	}
	if o.References != nil && len(o.References) == 0 && o.Score != nil {
		rd.add(field(pos, "references"), "must not be empty (leave it out instead)")
	}
	for i, ref := range o.References {
		rp := index(field(pos, "references"), i)
		rd.nonEmpty(field(rp, "code"), ref.Code)
		rd.nonEmpty(field(rp, "comparison_group"), ref.ComparisonGroup)
		rd.nonEmpty(field(rp, "value"), ref.Value)
		rd.optNonEmpty(field(rp, "qualification"), ref.Qualification)
		out.References = append(out.References, gateway.OSOReference{Code: ref.Code, ComparisonGroup: ref.ComparisonGroup,
			Value: ref.Value, Qualification: deref(ref.Qualification)})
	}
	return out
}

// key sets the result's key: the one given, or one derived from what the
// result is about. Keys are unique in the file.
func (rd *reader) key(pos string, given *string, r *gateway.Result) {
	i := indexOf(pos)
	if given != nil {
		if !keyPattern.MatchString(*given) {
			rd.add(field(pos, "key"), "must be 1 to 256 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
			return
		}
		r.Key = *given
		if first, dup := rd.keys[r.Key]; dup {
			rd.add(field(pos, "key"), "%s is also the key of results[%d]", r.Key, first.index)
			return
		}
		rd.keys[r.Key] = keyUse{index: i}
		return
	}
	r.Key = ResultKey(r.School, r.Pupil, r.Test, r.Part, r.Date)
	if first, dup := rd.keys[r.Key]; dup {
		if first.derived {
			rd.add(pos, "same pupil, test, part and date as results[%d]; give each a key if both are meant", first.index)
		} else {
			rd.add(pos, "its derived key %s is the key given to results[%d]", r.Key, first.index)
		}
		return
	}
	rd.keys[r.Key] = keyUse{index: i, derived: true}
}
