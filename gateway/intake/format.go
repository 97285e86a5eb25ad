package intake

// The records of the results file as they are written. Optional fields are
// pointers so that an explicitly empty value ("name": "") is told apart from
// an absent one. Fields tagged intake:"required" must be present; the
// structural check (strict.go) enforces the tags, the JSON kinds and the
// ranges of the Go number types before anything is decoded.

import (
	"encoding/json"
)

// file is the whole document.
type file struct {
	School  *string           `json:"school"`
	Tests   []json.RawMessage `json:"tests"`
	Results []json.RawMessage `json:"results" intake:"required"`
}

// term is a code that may be bound to a vocabulary: a plain string, or an
// object with value, vocabulary and vocabulary_location.
type term struct {
	Value              string  `json:"value" intake:"required"`
	Vocabulary         *string `json:"vocabulary"`
	VocabularyLocation *string `json:"vocabulary_location"`
	object             bool    // given in the object form
}

// UnmarshalJSON accepts both forms of a term. The structural check has
// already made sure that the value is one of them.
func (t *term) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*t = term{}
		return json.Unmarshal(b, &t.Value)
	}
	type object term // without this method
	t.object = true
	return json.Unmarshal(b, (*object)(t))
}

type testRecord struct {
	Code      term             `json:"code" intake:"required"`
	Name      *string          `json:"name"`
	Version   *term            `json:"version"`
	YearLevel *term            `json:"year_level"`
	Subject   *term            `json:"subject"`
	Trial     *bool            `json:"trial"`
	Norming   *normingRecord   `json:"norming"`
	Hierarchy []hierarchyLevel `json:"hierarchy"`
	Parts     []partRecord     `json:"parts"`
}

type normingRecord struct {
	Vocabulary         *string      `json:"vocabulary"`
	VocabularyLocation *string      `json:"vocabulary_location"`
	Category           *term        `json:"category"`
	Level              *term        `json:"level"`
	Weight             *string      `json:"weight"`
	Norms              []normRecord `json:"norms" intake:"required"`
}

type normRecord struct {
	Term        string        `json:"term" intake:"required"`
	Description *string       `json:"description"`
	Begin       uint64        `json:"begin" intake:"required"`
	End         uint64        `json:"end" intake:"required"`
	Colour      *colourRecord `json:"colour"`
	GradeFrom   *string       `json:"grade_from"`
	GradeTo     *string       `json:"grade_to"`
}

type colourRecord struct {
	Red          uint8  `json:"red" intake:"required"`
	Green        uint8  `json:"green" intake:"required"`
	Blue         uint8  `json:"blue" intake:"required"`
	Transparency string `json:"transparency" intake:"required"`
}

type hierarchyLevel struct {
	Value              string  `json:"value" intake:"required"`
	Vocabulary         *string `json:"vocabulary"`
	VocabularyLocation *string `json:"vocabulary_location"`
	Level              int64   `json:"level" intake:"required"`
}

type partRecord struct {
	Seq     uint64         `json:"seq" intake:"required"`
	Code    term           `json:"code" intake:"required"`
	Name    *string        `json:"name"`
	Norming *normingRecord `json:"norming"`
}

type resultRecord struct {
	Key     *string `json:"key"`
	PupilID *string `json:"pupil_id"`
	LASKey  *string `json:"las_key"`
	Test    string  `json:"test" intake:"required"`
	Part    *string `json:"part"`
	Date    string  `json:"date" intake:"required"`
	// Score is kept as the JSON text of the number, so that "6.5" stays
	// "6.5" and nothing is rounded on the way.
	Score     json.RawMessage `json:"score"`
	OSO       *osoRecord      `json:"oso"`
	Processor *string         `json:"processor"`
}

type osoRecord struct {
	Score      *osoScoreRecord `json:"score"`
	References []osoReference  `json:"references"`
}

// osoScoreRecord: the counts are xs:int in the OSO schema, hence int32.
type osoScoreRecord struct {
	Items        *int32       `json:"items"`
	Correct      *int32       `json:"correct"`
	Wrong        *int32       `json:"wrong"`
	Read         *int32       `json:"read"`
	Seconds      *string      `json:"seconds"`
	Ability      *string      `json:"ability"`
	AbilityScale *string      `json:"ability_scale"`
	Interval     *osoInterval `json:"interval"`
}

type osoInterval struct {
	Low  string `json:"low" intake:"required"`
	High string `json:"high" intake:"required"`
}

type osoReference struct {
	Code            string  `json:"code" intake:"required"`
	ComparisonGroup string  `json:"comparison_group" intake:"required"`
	Value           string  `json:"value" intake:"required"`
	Qualification   *string `json:"qualification"`
}
