package research

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// The Data Package (https://specs.frictionlessdata.io/data-package/) that
// describes an export: a tabular-data-package with one tabular-data-resource
// per CSV file, each with its Table Schema, size and SHA-256. Field types
// follow the data as written, after generalisation: a 5-year band is a
// string, not a year.

type dpPackage struct {
	Profile     string       `json:"profile"`
	Name        string       `json:"name"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Created     string       `json:"created"`
	School      string       `json:"school"` // as Manifest.School
	Resources   []dpResource `json:"resources"`
}

type dpResource struct {
	Name      string    `json:"name"`
	Path      string    `json:"path"`
	Profile   string    `json:"profile"`
	Format    string    `json:"format"`
	Mediatype string    `json:"mediatype"`
	Encoding  string    `json:"encoding"`
	Hash      string    `json:"hash"`
	Bytes     int       `json:"bytes"`
	Dialect   dpDialect `json:"dialect"`
	Schema    dpSchema  `json:"schema"`
}

type dpDialect struct {
	Delimiter      string `json:"delimiter"`
	LineTerminator string `json:"lineTerminator"`
	QuoteChar      string `json:"quoteChar"`
	DoubleQuote    bool   `json:"doubleQuote"`
	Header         bool   `json:"header"`
}

type dpSchema struct {
	Fields        []dpField      `json:"fields"`
	MissingValues []string       `json:"missingValues"`
	PrimaryKey    []string       `json:"primaryKey,omitempty"`
	ForeignKeys   []dpForeignKey `json:"foreignKeys,omitempty"`
}

type dpField struct {
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	Description string         `json:"description"`
	Constraints *dpConstraints `json:"constraints,omitempty"`
}

type dpConstraints struct {
	Required bool     `json:"required,omitempty"`
	Pattern  string   `json:"pattern,omitempty"`
	Enum     []string `json:"enum,omitempty"`
}

type dpForeignKey struct {
	Fields    []string    `json:"fields"`
	Reference dpReference `json:"reference"`
}

type dpReference struct {
	Resource string   `json:"resource"`
	Fields   []string `json:"fields"`
}

// dataPackage returns datapackage.json for files (pupils.csv and, when
// present, results.csv); school is Manifest.School.
func dataPackage(s Study, school string, fields, generalised []string, files map[string][]byte, created time.Time) ([]byte, error) {
	p := dpPackage{
		Profile:     "tabular-data-package",
		Name:        slug(s.Name),
		Title:       s.Name,
		Description: s.Purpose,
		Created:     created.UTC().Format(time.RFC3339),
		School:      school,
	}
	pupils := resource("pupils", PupilsFile, files[PupilsFile], pupilSchema(fields, generalised))
	pupils.Schema.PrimaryKey = []string{pupilColumn}
	p.Resources = append(p.Resources, pupils)
	if b, ok := files[ResultsFile]; ok {
		results := resource("results", ResultsFile, b, resultSchema(fields))
		results.Schema.ForeignKeys = []dpForeignKey{{
			Fields:    []string{pupilColumn},
			Reference: dpReference{Resource: "pupils", Fields: []string{pupilColumn}},
		}}
		p.Resources = append(p.Resources, results)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // ends with a newline
	enc.SetEscapeHTML(false)     // a title with "&" stays readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("data package: %w", err)
	}
	return buf.Bytes(), nil
}

func resource(name, path string, b []byte, schema dpSchema) dpResource {
	sum := sha256.Sum256(b)
	return dpResource{
		Name: name, Path: path, Profile: "tabular-data-resource",
		Format: "csv", Mediatype: "text/csv", Encoding: "utf-8",
		Hash: "sha256:" + hex.EncodeToString(sum[:]), Bytes: len(b),
		Dialect: dpDialect{Delimiter: ",", LineTerminator: "\r\n", QuoteChar: `"`, DoubleQuote: true, Header: true},
		Schema:  schema,
	}
}

// pseudonymField is the pupil column of both files.
func pseudonymField(desc string) dpField {
	return dpField{Name: pupilColumn, Type: "string", Description: desc,
		Constraints: &dpConstraints{Required: true, Pattern: fmt.Sprintf("[0-9a-f]{%d}", 2*pseudonymBytes)}}
}

func pupilSchema(fields, generalised []string) dpSchema {
	banded := func(step string) bool { return slices.Contains(generalised, step) }
	sc := dpSchema{MissingValues: []string{""}, Fields: []dpField{
		pseudonymField("the study's pseudonym of the pupil (HMAC-SHA256 of the gateway's pupil id under the study key, 128 bits, hex)")}}
	for _, f := range onlyOf(fields, pupilFields) {
		var d dpField
		switch f {
		case FieldSchool:
			d = dpField{Name: f, Type: "string", Description: "the gateway's id of the school"}
		case FieldBirthYear:
			d = dpField{Name: f, Type: "year", Description: "year of birth"}
			if banded(StepBirthYearBand) {
				d = dpField{Name: f, Type: "string", Description: `5-year band of the year of birth, "2015-2019"`}
			}
		case FieldAge:
			d = dpField{Name: f, Type: "integer", Description: "age in whole years on the export date (Europe/Amsterdam)"}
			if banded(StepAgeBand) {
				d = dpField{Name: f, Type: "string", Description: `5-year band of the age in whole years on the export date, "5-9"`}
			}
		case FieldGender:
			d = dpField{Name: f, Type: "string", Description: "gender, NEN-ISO 5218: 0 not known, 1 male, 2 female, 9 not applicable",
				Constraints: &dpConstraints{Enum: []string{"0", "1", "2", "9"}}}
			if banded(StepGenderAny) {
				d = dpField{Name: f, Type: "string", Description: `gender, generalised away: always "*"`,
					Constraints: &dpConstraints{Enum: []string{"*"}}}
			}
		case FieldYearGroup:
			d = dpField{Name: f, Type: "string", Description: "jaargroep (EDEX: 0-8, 11-16 or a letter code)"}
			if banded(StepYearGroupBand) {
				d.Description = `jaargroep in 2-year bands ("1-2" ... "7-8", "11-12" ... "15-16"); 0 and letter codes "other"`
			}
		}
		sc.Fields = append(sc.Fields, d)
	}
	return sc
}

func resultSchema(fields []string) dpSchema {
	sc := dpSchema{MissingValues: []string{""}, Fields: []dpField{
		pseudonymField("the pupil's pseudonym, as in pupils.csv")}}
	for _, f := range onlyOf(fields, resultFields) {
		switch f {
		case FieldTest:
			sc.Fields = append(sc.Fields, dpField{Name: f, Type: "string", Description: "test code (UWLR toets code)"})
		case FieldPart:
			sc.Fields = append(sc.Fields, dpField{Name: f, Type: "string", Description: "test part code; empty for the whole test"})
		case FieldDate:
			sc.Fields = append(sc.Fields, dpField{Name: f, Type: "date", Description: "the day the test was taken"})
		case FieldScore:
			sc.Fields = append(sc.Fields, dpField{Name: f, Type: "number", Description: "score; empty for an OSO result, which has none"})
		}
	}
	return sc
}
