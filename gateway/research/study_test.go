package research_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/research"
)

func TestValidate(t *testing.T) {
	ok := study(5)
	tests := []struct {
		name    string
		edit    func(*research.Study)
		problem string // "" means valid
	}{
		{"a complete study is valid", func(*research.Study) {}, ""},
		{"no fields means the default fields", func(s *research.Study) { s.Fields = nil }, ""},
		{"every allowed field but age", func(s *research.Study) {
			s.Fields = []string{"school", "birth_year", "gender", "jaargroep", "test", "part", "date", "score"}
		}, ""},
		{"age instead of birth year", func(s *research.Study) { s.Fields = []string{"age", "gender"} }, ""},
		{"K of 2 is the least", func(s *research.Study) { s.K = 2 }, ""},
		{"no school", func(s *research.Study) { s.School = "" }, "school: empty"},
		{"no name", func(s *research.Study) { s.Name = "" }, "name: empty"},
		{"no purpose", func(s *research.Study) { s.Purpose = "" }, "purpose: empty"},
		{"no recipient", func(s *research.Study) { s.Recipient = "" }, "recipient: empty"},
		{"no until", func(s *research.Study) { s.Until = "" }, "until: not a date"},
		{"until not a date", func(s *research.Study) { s.Until = "2026-02-30" }, "until: not a date"},
		{"until with a time", func(s *research.Study) { s.Until = "2026-12-31T00:00:00Z" }, "until: not a date"},
		{"K of 1", func(s *research.Study) { s.K = 1 }, "k: must be at least 2, got 1"},
		{"K of 0", func(s *research.Study) { s.K = 0 }, "k: must be at least 2, got 0"},
		{"unknown field", func(s *research.Study) { s.Fields = []string{"gender", "last_name"} }, `fields[1]: unknown field "last_name"`},
		{"the birth date is no field", func(s *research.Study) { s.Fields = []string{"birth_date"} }, `fields[0]: unknown field "birth_date"`},
		{"a field asked twice", func(s *research.Study) { s.Fields = []string{"score", "gender", "score"} }, `fields[2]: field "score" asked twice`},
		{"birth year and age together", func(s *research.Study) { s.Fields = []string{"age", "birth_year"} }, "fields: birth_year and age together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			s.Fields = append([]string(nil), ok.Fields...)
			tt.edit(&s)
			err := s.Validate()
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantInvalid(t, err, tt.problem)
			var fields gateway.InvalidFields
			if !errors.As(err, &fields) || len(fields) != 1 {
				t.Fatalf("err = %v, want exactly one gateway.InvalidFields problem", err)
			}
			// Build refuses the same study.
			if _, err := research.Build(s, key(1), research.Input{}, today); !errors.Is(err, gateway.ErrInvalid) || !strings.Contains(err.Error(), tt.problem) {
				t.Fatalf("Build err = %v, want the validation problem %q", err, tt.problem)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := research.Study{K: 1, Fields: []string{"x"}}.Validate()
	var fields gateway.InvalidFields
	if !errors.As(err, &fields) {
		t.Fatalf("err = %v, want gateway.InvalidFields", err)
	}
	var pos []string
	for _, p := range fields {
		pos = append(pos, p.Position)
	}
	if got, want := strings.Join(pos, ","), "school,name,purpose,recipient,until,k,fields[0]"; got != want {
		t.Fatalf("positions = %s, want %s", got, want)
	}
}

func TestAllowedAndDefaultFields(t *testing.T) {
	want := []string{"school", "birth_year", "age", "gender", "jaargroep", "test", "part", "date", "score"}
	if strings.Join(research.AllowedFields, ",") != strings.Join(want, ",") {
		t.Fatalf("AllowedFields = %v, want %v", research.AllowedFields, want)
	}
	if got := strings.Join(research.DefaultFields, ","); got != "birth_year,gender,jaargroep,test,part,date,score" {
		t.Fatalf("DefaultFields = %s", got)
	}
}
