package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Nature is how personal data was affected by a breach.
type Nature string

// The natures of a breach, in report order.
const (
	NatureRead   Nature = "read"   // looked at by someone not entitled to
	NatureCopy   Nature = "copy"   // copied out
	NatureAlter  Nature = "alter"  // changed
	NatureDelete Nature = "delete" // deleted or made unavailable
	NatureTheft  Nature = "theft"  // a device or medium holding the data stolen
)

// Natures lists every nature in report order.
var Natures = []Nature{NatureRead, NatureCopy, NatureAlter, NatureDelete, NatureTheft}

// Incident is what only a person knows of a breach: the facts of the
// notification the store cannot tell, as given in an incident file
// (ParseIncident). The keys of the file are the JSON keys below, except
// not_given. A fact not given is nil (null in JSON) and its key is listed
// in NotGiven; the report never fills one in.
type Incident struct {
	// DiscoveredAt is when the breach was discovered (RFC 3339 in the file).
	DiscoveredAt *time.Time `json:"discovered_at"`
	// Nature is what happened to the data: one or more of Natures, in
	// report order.
	Nature []Nature `json:"nature"`
	// Component is which part of the security failed, How how it failed.
	Component *string `json:"component"`
	How       *string `json:"how"`
	// Cause is the cause of the breach.
	Cause *string `json:"cause"`
	// Detection is how the breach was discovered.
	Detection *string `json:"detection"`
	// Measures are the measures taken (to end the breach, limit its
	// consequences, prevent a repeat).
	Measures *string `json:"measures"`
	// Consequences are the possible consequences for the people concerned.
	Consequences *string `json:"consequences"`
	// Risk is the assessment of the risk to the people concerned.
	Risk *string `json:"risk"`
	// Reporter is who reports the breach (optional: never in NotGiven).
	Reporter *string `json:"reporter"`
	// NotGiven lists the keys of the facts not given, in the order above.
	NotGiven []string `json:"not_given"`
}

// factKeys are the keys of the facts the notification needs, in order.
var factKeys = []string{"discovered_at", "nature", "component", "how", "cause", "detection", "measures", "consequences", "risk"}

// incidentKeys are every key an incident file may hold.
var incidentKeys = append(slices.Clone(factKeys), "reporter")

// Limits of an incident file: a fact is prose, not an attachment.
const (
	maxIncidentFile = 1 << 20 // bytes
	maxFactText     = 20000   // characters of one fact
	maxReporter     = 200     // characters, one line
)

// NoIncident is the incident of a report made without an incident file:
// every fact not given.
func NoIncident() Incident { return Incident{NotGiven: slices.Clone(factKeys)} }

// ParseIncident reads an incident file: one JSON object whose keys are
// those of Incident, every key optional. A null value, an empty string or
// one of white space only is a fact not given. Text is trimmed; \r\n
// becomes \n. It returns gateway.InvalidFields naming every unknown or
// repeated key and every bad value (the reason never repeats the value):
// discovered_at must be an RFC 3339 date and time with its offset, nature
// a non-empty list of distinct natures, the texts strings (reporter a
// single line).
func ParseIncident(data []byte) (Incident, error) {
	if len(data) > maxIncidentFile {
		return Incident{}, gateway.InvalidFields{{Reason: fmt.Sprintf("the incident file is larger than %d bytes", maxIncidentFile)}}
	}
	fields, bad := incidentObject(data)
	if bad != nil {
		return Incident{}, bad
	}
	var problems gateway.InvalidFields
	in := Incident{}
	texts := map[string]**string{"component": &in.Component, "how": &in.How, "cause": &in.Cause, "detection": &in.Detection,
		"measures": &in.Measures, "consequences": &in.Consequences, "risk": &in.Risk, "reporter": &in.Reporter}
	for _, f := range fields {
		var p []gateway.Problem
		switch dst, ok := texts[f.key]; {
		case f.problem != "":
			p = []gateway.Problem{{Position: f.key, Reason: f.problem}}
		case f.key == "discovered_at":
			in.DiscoveredAt, p = discoveredAt(f.raw)
		case f.key == "nature":
			in.Nature, p = natures(f.raw)
		case ok:
			limit, oneLine := maxFactText, false
			if f.key == "reporter" {
				limit, oneLine = maxReporter, true
			}
			*dst, p = text(f.key, f.raw, limit, oneLine)
		}
		problems = append(problems, p...)
	}
	if len(problems) > 0 {
		return Incident{}, problems
	}
	in.NotGiven = in.notGiven()
	return in, nil
}

// notGiven lists the keys of the facts that are nil, in order.
func (in Incident) notGiven() []string {
	given := map[string]bool{"discovered_at": in.DiscoveredAt != nil, "nature": in.Nature != nil, "component": in.Component != nil,
		"how": in.How != nil, "cause": in.Cause != nil, "detection": in.Detection != nil, "measures": in.Measures != nil,
		"consequences": in.Consequences != nil, "risk": in.Risk != nil}
	out := []string{}
	for _, k := range factKeys {
		if !given[k] {
			out = append(out, k)
		}
	}
	return out
}

type incidentField struct {
	key string
	raw json.RawMessage
	// problem says why the key itself is bad (unknown, repeated).
	problem string
}

// incidentObject splits the file into its top-level keys and values, in
// file order, and marks every unknown or repeated key; a file that is not
// one JSON object is refused as a whole.
func incidentObject(data []byte) ([]incidentField, gateway.InvalidFields) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, gateway.InvalidFields{{Reason: "the incident file is empty: give a JSON object"}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	notJSON := func(err error) gateway.InvalidFields {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return gateway.InvalidFields{{Reason: fmt.Sprintf("the incident file is not JSON (at byte %d: %v)", se.Offset, se)}}
		}
		return gateway.InvalidFields{{Reason: "the incident file is not JSON: " + err.Error()}}
	}
	if tok, err := dec.Token(); err != nil {
		return nil, notJSON(err)
	} else if tok != json.Delim('{') {
		return nil, gateway.InvalidFields{{Reason: "the incident file must hold one JSON object"}}
	}
	var out []incidentField
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notJSON(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, notJSON(err)
		}
		f := incidentField{key: key, raw: raw}
		switch {
		case !slices.Contains(incidentKeys, key):
			f.problem = "is not a known key (known: " + strings.Join(incidentKeys, ", ") + ")"
		case seen[key]:
			f.problem = "is given more than once"
		}
		seen[key] = true
		out = append(out, f)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, notJSON(err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, gateway.InvalidFields{{Reason: "the incident file holds more than one JSON value"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, notJSON(err)
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func discoveredAt(raw json.RawMessage) (*time.Time, []gateway.Problem) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, []gateway.Problem{{Position: "discovered_at", Reason: "must be a JSON string"}}
	}
	if s = strings.TrimSpace(s); s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, []gateway.Problem{{Position: "discovered_at",
			Reason: "must be an RFC 3339 date and time with its offset, e.g. 2026-03-15T09:30:00+01:00"}}
	}
	t = t.UTC()
	return &t, nil
}

func natures(raw json.RawMessage) ([]Nature, []gateway.Problem) {
	if isNull(raw) {
		return nil, nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, []gateway.Problem{{Position: "nature", Reason: "must be a JSON array of strings"}}
	}
	if len(list) == 0 {
		return nil, []gateway.Problem{{Position: "nature", Reason: "is empty: give one or more of " + natureList() + ", or leave the key out"}}
	}
	var bad []gateway.Problem
	got := map[Nature]bool{}
	for i, r := range list {
		pos := fmt.Sprintf("nature[%d]", i)
		var s string
		switch {
		case json.Unmarshal(r, &s) != nil:
			bad = append(bad, gateway.Problem{Position: pos, Reason: "must be a JSON string"})
		case !slices.Contains(Natures, Nature(s)):
			bad = append(bad, gateway.Problem{Position: pos, Reason: "must be one of " + natureList()})
		case got[Nature(s)]:
			bad = append(bad, gateway.Problem{Position: pos, Reason: "repeats an earlier nature"})
		}
		got[Nature(s)] = true
	}
	if len(bad) > 0 {
		return nil, bad
	}
	var out []Nature
	for _, n := range Natures {
		if got[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func natureList() string {
	s := make([]string, len(Natures))
	for i, n := range Natures {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}

// text reads a fact given in words.
func text(key string, raw json.RawMessage, limit int, oneLine bool) (*string, []gateway.Problem) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, []gateway.Problem{{Position: key, Reason: "must be a JSON string"}}
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	allowed := func(r rune) bool { return !unicode.IsControl(r) || (!oneLine && (r == '\n' || r == '\t')) }
	switch {
	case s == "":
		return nil, nil
	case utf8.RuneCountInString(s) > limit:
		return nil, []gateway.Problem{{Position: key, Reason: fmt.Sprintf("is longer than %d characters", limit)}}
	case strings.IndexFunc(s, func(r rune) bool { return !allowed(r) }) >= 0:
		what := "a control character"
		if oneLine {
			what = "a line break, tab or other control character"
		}
		return nil, []gateway.Problem{{Position: key, Reason: "holds " + what}}
	}
	return &s, nil
}
