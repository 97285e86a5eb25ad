package gateway

import (
	"log/slog"
	"time"
)

// Term is a value that may be bound to a vocabulary (the UWLR
// "vocabulairegebonden veld"): a test code, subject, year level, ...
type Term struct {
	Value              string `json:"value"`
	Vocabulary         string `json:"vocabulary,omitempty"`
	VocabularyLocation string `json:"vocabulary_location,omitempty"`
}

// TestDefinition describes one test (UWLR toets). Every results message
// repeats the definitions of the tests it reports on.
type TestDefinition struct {
	Code      Term             `json:"code"`
	Version   *Term            `json:"version,omitempty"`
	Name      string           `json:"name,omitempty"`
	YearLevel *Term            `json:"year_level,omitempty"`
	Subject   *Term            `json:"subject,omitempty"`
	Norming   *Norming         `json:"norming,omitempty"`
	Hierarchy []HierarchyLevel `json:"hierarchy,omitempty"`
	Parts     []TestPart       `json:"parts,omitempty"`
	// Trial marks a test of a trial or norming study: its results are kept
	// 2 years after the test date, whatever happens to the pupil.
	Trial bool `json:"trial,omitempty"`
}

// HierarchyLevel is one level of a test hierarchy (UWLR toetshierarchie/ingang).
type HierarchyLevel struct {
	Term
	Level int `json:"level"`
}

// TestPart is one part of a test (UWLR toetsonderdeel).
type TestPart struct {
	Seq     uint64   `json:"seq"`
	Code    Term     `json:"code"`
	Name    string   `json:"name,omitempty"`
	Norming *Norming `json:"norming,omitempty"`
}

// Norming maps scores onto terms (UWLR normering).
type Norming struct {
	Vocabulary         string `json:"vocabulary,omitempty"`
	VocabularyLocation string `json:"vocabulary_location,omitempty"`
	Category           *Term  `json:"category,omitempty"`
	Level              *Term  `json:"level,omitempty"`
	// Weight is a decimal, kept as text so no precision is lost.
	Weight string `json:"weight,omitempty"`
	Norms  []Norm `json:"norms"`
}

// Norm is one band of a Norming.
type Norm struct {
	Term        string     `json:"term"`
	Description string     `json:"description,omitempty"`
	Begin       uint64     `json:"begin"`
	End         uint64     `json:"end"`
	Colour      *NormColor `json:"colour,omitempty"`
	// GradeFrom and GradeTo are school grades (decimal 1.00-10.00), as text.
	GradeFrom string `json:"grade_from,omitempty"`
	GradeTo   string `json:"grade_to,omitempty"`
}

// NormColor is the colour of a norm band; Transparency is a decimal 0-1 as text.
type NormColor struct {
	Red          uint8  `json:"red"`
	Green        uint8  `json:"green"`
	Blue         uint8  `json:"blue"`
	Transparency string `json:"transparency"`
}

// OSOResult is a result in the OSO format: a test score and/or reference
// scores. Decimals are kept as text.
type OSOResult struct {
	Score      *OSOScore      `json:"score,omitempty"`
	References []OSOReference `json:"references,omitempty"`
}

// OSOScore is the OSO toetsscore.
type OSOScore struct {
	Items        *int         `json:"items,omitempty"`   // aantalopgaven
	Correct      *int         `json:"correct,omitempty"` // aantalgoed
	Wrong        *int         `json:"wrong,omitempty"`   // aantalfout
	Read         *int         `json:"read,omitempty"`    // aantalgelezen
	Seconds      string       `json:"seconds,omitempty"` // tijd
	Ability      string       `json:"ability,omitempty"` // vaardigheidsscore
	AbilityScale string       `json:"ability_scale,omitempty"`
	Interval     *OSOInterval `json:"interval,omitempty"`
}

// OSOInterval is a confidence interval of an ability score.
type OSOInterval struct {
	Low  string `json:"low"`
	High string `json:"high"`
}

// OSOReference is an OSO referentiescore.
type OSOReference struct {
	Code            string `json:"code"`             // codereferentiescore (OSO list 11)
	ComparisonGroup string `json:"comparison_group"` // codevergelijkingsgroep (OSO list 22)
	Value           string `json:"value"`
	Qualification   string `json:"qualification,omitempty"`
}

// Result is one result of one pupil on one test (or test part) on one date.
// Key is stable and unique within the school: a resend carries the same key,
// and a corrected result keeps its key.
type Result struct {
	Key    string   `json:"key"`
	School SchoolID `json:"school"`
	Pupil  PupilID  `json:"pupil"`
	Test   string   `json:"test"`           // the test code (TestDefinition.Code.Value)
	Part   string   `json:"part,omitempty"` // the test part code; empty for the whole test
	Date   string   `json:"date"`           // YYYY-MM-DD, the day the test was taken
	// Score is a non-negative number as text ("0" is a real score); empty
	// when OSO is set. A missing score is never filled in.
	Score     string     `json:"score,omitempty"`
	OSO       *OSOResult `json:"oso,omitempty"`
	Processor string     `json:"processor,omitempty"` // resultaatverwerkerid, e.g. a teacher key
	// Trial: the test belongs to a trial or norming study (retention differs).
	Trial bool `json:"trial,omitempty"`
	// Digest identifies the content; a resubmission with the same key and
	// digest is not queued again.
	Digest      string    `json:"digest"`
	Batch       string    `json:"batch,omitempty"` // the batch that delivers this version
	SubmittedAt time.Time `json:"submitted_at"`
}

// LogValue logs a result by its key and pupil id only.
func (r Result) LogValue() slog.Value {
	return slog.GroupValue(slog.String("school", string(r.School)), slog.String("result", r.Key), slog.String("pupil", string(r.Pupil)))
}

// Score types of a results receiver.
const (
	ScoreInteger = "integer" // xs:nonNegativeInteger, the UWLR standard
	ScoreDecimal = "decimal" // a receiver that takes decimal scores (e.g. RTTI)
)

// ResultsReceiver is where a school's results go when that is not its LAS
// endpoint (a results-only receiver), with its own credentials and score
// typing. A nil receiver means: the school's own LAS connection.
type ResultsReceiver struct {
	Endpoint  string `json:"endpoint"`
	Klantcode string `json:"klantcode,omitempty"`
	Klantnaam string `json:"klantnaam,omitempty"`
	// SealedKey is the receiver's autorisatiesleutel sealed by the vault;
	// empty means the school's own key.
	SealedKey []byte `json:"sealed_key,omitempty"`
	Xsdversie string `json:"xsdversie,omitempty"`
	// ScoreType is ScoreInteger (default) or ScoreDecimal.
	ScoreType       string `json:"score_type,omitempty"`
	QuoteSOAPAction bool   `json:"quote_soapaction,omitempty"`
}

// ScoreTypeOf returns the score type results for this school must have.
func (s School) ScoreTypeOf() string {
	if s.Results != nil && s.Results.ScoreType == ScoreDecimal {
		return ScoreDecimal
	}
	for _, r := range s.Recipients {
		if r.Kind == RecipientUWLR && r.ScoreType == ScoreDecimal {
			return ScoreDecimal
		}
	}
	return ScoreInteger
}
