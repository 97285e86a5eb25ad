package report_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/report"
)

func TestParseIncident(t *testing.T) {
	in, err := report.ParseIncident([]byte(`{
		"discovered_at": "2026-03-15T08:12:00+01:00",
		"nature": ["copy", "read"],
		"component": "  the Redis server of the store ",
		"how": "reachable from the internet\r\nwithout a password",
		"cause": "a firewall rule changed during maintenance",
		"detection": "the hosting provider's abuse report",
		"measures": "rule restored; password set; keys rotated",
		"consequences": "pupils' names and birth dates may be known to others",
		"risk": "medium",
		"reporter": "Piet Privacy, DPO of the processor"
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.DiscoveredAt == nil || !in.DiscoveredAt.Equal(time.Date(2026, 3, 15, 7, 12, 0, 0, time.UTC)) || in.DiscoveredAt.Location() != time.UTC {
		t.Errorf("discovered_at = %v", in.DiscoveredAt)
	}
	if !slices.Equal(in.Nature, []report.Nature{report.NatureRead, report.NatureCopy}) {
		t.Errorf("nature = %v, want read, copy (report order)", in.Nature)
	}
	if in.Component == nil || *in.Component != "the Redis server of the store" || in.How == nil || *in.How != "reachable from the internet\nwithout a password" {
		t.Errorf("component %v, how %v: want trimmed text with \\n line ends", in.Component, in.How)
	}
	if in.Risk == nil || *in.Risk != "medium" || in.Reporter == nil || len(in.NotGiven) != 0 {
		t.Errorf("risk %v, reporter %v, not given %v", in.Risk, in.Reporter, in.NotGiven)
	}

	// Facts left out, null, empty or blank are not given; never filled in.
	in, err = report.ParseIncident([]byte(`{"nature": null, "cause": "", "risk": "  \n ", "measures": "password set"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"discovered_at", "nature", "component", "how", "cause", "detection", "consequences", "risk"}
	if !slices.Equal(in.NotGiven, want) || in.Cause != nil || in.Risk != nil || in.Nature != nil || in.Reporter != nil {
		t.Errorf("not given %v (want %v); %+v", in.NotGiven, want, in)
	}
	if in, err := report.ParseIncident([]byte(`{}`)); err != nil || len(in.NotGiven) != 9 {
		t.Errorf("an empty object: %+v, %v", in, err)
	}
	if got := report.NoIncident(); len(got.NotGiven) != 9 || got.NotGiven[0] != "discovered_at" || got.DiscoveredAt != nil {
		t.Errorf("NoIncident() = %+v", got)
	}
}

func TestParseIncidentRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		fields     []string // positions named, in order
		reason     string   // part of the first reason
	}{
		{"unknown key", `{"cause": "x", "severity": "high"}`, []string{"severity"}, "not a known key"},
		{"two unknown keys", `{"when": "x", "nature": ["read"], "what": "y"}`, []string{"when", "what"}, "known: discovered_at"},
		{"the output's own key", `{"not_given": []}`, []string{"not_given"}, "not a known key"},
		{"repeated key", `{"cause": "x", "cause": "y"}`, []string{"cause"}, "more than once"},
		{"date only", `{"discovered_at": "2026-03-15"}`, []string{"discovered_at"}, "RFC 3339"},
		{"no offset", `{"discovered_at": "2026-03-15T08:12:00"}`, []string{"discovered_at"}, "offset"},
		{"time as a number", `{"discovered_at": 1773558720}`, []string{"discovered_at"}, "JSON string"},
		{"nature as a string", `{"nature": "read"}`, []string{"nature"}, "JSON array"},
		{"nature empty", `{"nature": []}`, []string{"nature"}, "one or more of read, copy, alter, delete, theft"},
		{"nature unknown", `{"nature": ["read", "leak", 7]}`, []string{"nature[1]", "nature[2]"}, "one of read, copy"},
		{"nature repeated", `{"nature": ["copy", "copy"]}`, []string{"nature[1]"}, "repeats"},
		{"text as an object", `{"measures": {"done": true}}`, []string{"measures"}, "JSON string"},
		{"text with a control character", `{"how": "a\u0007b"}`, []string{"how"}, "control character"},
		{"reporter on two lines", `{"reporter": "Piet\nPrivacy"}`, []string{"reporter"}, "line break"},
		{"reporter too long", `{"reporter": "` + strings.Repeat("p", 201) + `"}`, []string{"reporter"}, "longer than 200"},
		{"fact too long", `{"risk": "` + strings.Repeat("r", 20001) + `"}`, []string{"risk"}, "longer than 20000"},
		{"every problem at once", `{"discovered_at": "yesterday", "nature": ["melt"], "risk": 3, "x": 1}`,
			[]string{"discovered_at", "nature[0]", "risk", "x"}, "RFC 3339"},
		{"empty file", " \n", []string{""}, "empty"},
		{"not JSON", `cause: everything`, []string{""}, "not JSON"},
		{"cut off", `{"cause": "x"`, []string{""}, "not JSON"},
		{"an array", `[{"cause": "x"}]`, []string{""}, "one JSON object"},
		{"two objects", `{"cause": "x"} {"risk": "y"}`, []string{""}, "more than one JSON value"},
	} {
		_, err := report.ParseIncident([]byte(tc.file))
		var bad gateway.InvalidFields
		if !errors.Is(err, gateway.ErrInvalid) || !errors.As(err, &bad) {
			t.Errorf("%s: %v, want InvalidFields", tc.name, err)
			continue
		}
		var got []string
		for _, p := range bad {
			got = append(got, p.Position)
		}
		if !slices.Equal(got, tc.fields) || !strings.Contains(bad[0].Reason, tc.reason) {
			t.Errorf("%s: %v names %v, want %v with a reason saying %q", tc.name, err, got, tc.fields, tc.reason)
		}
		if strings.Contains(err.Error(), "leak") || strings.Contains(err.Error(), "yesterday") {
			t.Errorf("%s: the message repeats a value: %v", tc.name, err)
		}
	}
	if _, err := report.ParseIncident(make([]byte, 1<<20+1)); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("a file over 1 MiB: %v", err)
	}
}
