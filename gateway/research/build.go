package research

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// File names of an export.
const (
	PupilsFile      = "pupils.csv"
	ResultsFile     = "results.csv"
	DataPackageFile = "datapackage.json"
)

// Input is what the caller read from the store for the study's school.
// Results of pupils not in Pupils are ignored.
type Input struct {
	Pupils  []gateway.Pupil
	Results []gateway.Result
}

// Export is a built export: its files, by name, and the manifest that
// describes them (for the caller to sign and keep).
type Export struct {
	// Files holds PupilsFile, DataPackageFile and, when the study asks for a
	// result field, ResultsFile.
	Files    map[string][]byte
	Manifest Manifest
}

// Manifest describes an export (gateway.ResearchManifest: the edges show it).
type Manifest = gateway.ResearchManifest

// Build makes the export of s from in. key is the study's secret (at least
// KeySize random bytes, kept sealed by the caller); the same key gives the
// same pseudonyms in every export of the study. today is the export time:
// Until and ages are read on its Europe/Amsterdam date, and it is the
// package's creation time.
//
// Build returns a gateway.ErrInvalid for an invalid study (see Validate), a
// short key, a pupil or result of another school, a pupil listed twice, or a
// value it cannot export faithfully (a birth date, gender, jaargroep, test
// date or score not in its documented form), naming the record by its
// position in Input, never by its content; ErrStudyEnded (also an
// ErrInvalid) when today is after s.Until.
func Build(s Study, key []byte, in Input, today time.Time) (Export, error) {
	if err := s.Validate(); err != nil {
		return Export{}, err
	}
	if len(key) < KeySize {
		return Export{}, fmt.Errorf("research study %q: %w: key has %d bytes, want at least %d", s.Name, gateway.ErrInvalid, len(key), KeySize)
	}
	day := amsterdamDate(today)
	if until, _ := parseDate(s.Until); day.After(until) {
		return Export{}, fmt.Errorf("research study %q: %w (last export day %s, export date %s)", s.Name, ErrStudyEnded, s.Until, day.Format(time.DateOnly))
	}
	fields := columnOrder(s.fields())
	rows, ids, err := pupilRows(s, key, in.Pupils, day)
	if err != nil {
		return Export{}, fmt.Errorf("research study %q: %w", s.Name, err)
	}
	an := anonymise(rows, fields, s.K)
	ex := Export{Files: map[string][]byte{}}
	ex.Manifest = Manifest{
		Study: s.Name, Purpose: s.Purpose, Recipient: s.Recipient, Until: s.Until,
		School: SchoolPseudonym(key, s.School), K: s.K, Fields: fields, CreatedAt: today,
		Pupils: len(an.kept), SuppressedPupils: len(an.suppressed), Generalised: an.generalised,
		Files: map[string]string{},
	}
	if s.has(FieldSchool) {
		ex.Manifest.School = string(s.School)
	}
	ex.Files[PupilsFile] = writePupils(an.kept, fields)
	if withResults(fields) {
		res, suppressed, err := resultRows(s, in.Results, ids, an.suppressed, fields)
		if err != nil {
			return Export{}, fmt.Errorf("research study %q: %w", s.Name, err)
		}
		ex.Files[ResultsFile] = writeResults(res, fields)
		ex.Manifest.Results, ex.Manifest.SuppressedResults = len(res), suppressed
	}
	dp, err := dataPackage(s, ex.Manifest.School, fields, an.generalised, ex.Files, today)
	if err != nil {
		return Export{}, fmt.Errorf("research study %q: %w", s.Name, err)
	}
	ex.Files[DataPackageFile] = dp
	for name, b := range ex.Files {
		sum := sha256.Sum256(b)
		ex.Manifest.Files[name] = hex.EncodeToString(sum[:])
	}
	return ex, nil
}

// amsterdamDate is t's calendar date on the school's clock, as midnight UTC
// (so it compares with dates parsed by parseDate).
func amsterdamDate(t time.Time) time.Time {
	y, m, d := t.In(gateway.Amsterdam).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// columnOrder returns fields in the order of AllowedFields.
func columnOrder(fields []string) []string {
	var out []string
	for _, f := range AllowedFields {
		if slices.Contains(fields, f) {
			out = append(out, f)
		}
	}
	return out
}

func withResults(fields []string) bool {
	return slices.ContainsFunc(fields, func(f string) bool { return slices.Contains(resultFields, f) })
}

// pupilRows builds one row per pupil with the pupil fields asked for, and
// maps each pupil id to its pseudonym. It reads only the id, school,
// birth date, gender and jaargroep of a pupil.
func pupilRows(s Study, key []byte, pupils []gateway.Pupil, day time.Time) ([]pupilRow, map[gateway.PupilID]string, error) {
	rows := make([]pupilRow, 0, len(pupils))
	ids := make(map[gateway.PupilID]string, len(pupils))
	for i, p := range pupils {
		if p.School != s.School {
			return nil, nil, fmt.Errorf("%w: pupil %d: of another school", gateway.ErrInvalid, i)
		}
		if _, dup := ids[p.ID]; dup || p.ID == "" {
			return nil, nil, fmt.Errorf("%w: pupil %d: empty or repeated pupil id", gateway.ErrInvalid, i)
		}
		r := pupilRow{pseudonym: Pseudonym(key, p.ID), vals: map[string]string{}}
		ids[p.ID] = r.pseudonym
		if s.has(FieldSchool) {
			r.vals[FieldSchool] = string(s.School)
		}
		if s.has(FieldBirthYear) || s.has(FieldAge) {
			year, age, err := birth(p.BirthDate, day)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: pupil %d: birth date %v", gateway.ErrInvalid, i, err)
			}
			r.vals[FieldBirthYear], r.vals[FieldAge] = year, age
		}
		if s.has(FieldGender) {
			if !slices.Contains([]string{"", "0", "1", "2", "9"}, p.Gender) {
				return nil, nil, fmt.Errorf("%w: pupil %d: gender not one of 0, 1, 2, 9", gateway.ErrInvalid, i)
			}
			r.vals[FieldGender] = p.Gender
		}
		if s.has(FieldYearGroup) {
			if p.YearGroup != "" && !yearGroups[p.YearGroup] {
				return nil, nil, fmt.Errorf("%w: pupil %d: jaargroep not in the EDEX enumeration", gateway.ErrInvalid, i)
			}
			r.vals[FieldYearGroup] = p.YearGroup
		}
		rows = append(rows, r)
	}
	return rows, ids, nil
}

// birth returns the birth year and the age in whole years on day of a birth
// date; both empty when the date is unknown. Someone born on 29 February is
// a year older from 1 March in a common year.
func birth(date string, day time.Time) (year, age string, err error) {
	if date == "" {
		return "", "", nil
	}
	b, err := parseDate(date)
	if err != nil {
		return "", "", fmt.Errorf("not a date (YYYY-MM-DD)")
	}
	if b.After(day) {
		return "", "", fmt.Errorf("after the export date")
	}
	n := day.Year() - b.Year()
	if day.Month() < b.Month() || day.Month() == b.Month() && day.Day() < b.Day() {
		n--
	}
	return strconv.Itoa(b.Year()), strconv.Itoa(n), nil
}

// yearGroups is the EDEXJaargroepType enumeration, the values mapping lets
// through (mapping.ValidJaargroep; repeated here, as this room may import
// only gateway).
var yearGroups = map[string]bool{
	"B": true, "D": true,
	"0": true, "1": true, "2": true, "3": true, "4": true, "5": true, "6": true, "7": true, "8": true,
	"11": true, "12": true, "13": true, "14": true, "15": true, "16": true,
	"S": true, "V": true, "C": true, "N": true, "H": true,
}
