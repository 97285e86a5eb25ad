package conformance_test

import (
	"encoding/xml"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/conformance"
)

const soapUIProject = "../../testdata/samples/LR-Test-Leerlinggegevens-soapui-project.xml"

// suiteStep is one test step of the official SoapUI suite.
type suiteStep struct {
	name     string
	expected string // the fault code its XPath assertion wants
}

var faultcodeRE = regexp.MustCompile(`<faultcode>[^<]*:([A-Za-z.]+)</faultcode>`)

// readSuite parses the SoapUI project and returns, per test case name, its
// test steps with the fault code of their XPath Match assertion ("" when the
// step has none).
func readSuite(t *testing.T) map[string][]suiteStep {
	t.Helper()
	f, err := os.Open(soapUIProject)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	out := map[string][]suiteStep{}
	var testCase string
	var step *suiteStep
	var inXPath, inContent bool
	var content strings.Builder
	attr := func(se xml.StartElement, name string) string {
		for _, a := range se.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", soapUIProject, err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			switch tt.Name.Local {
			case "testCase":
				testCase = attr(tt, "name")
				out[testCase] = nil
			case "testStep":
				step = &suiteStep{name: attr(tt, "name")}
			case "assertion":
				inXPath = step != nil && attr(tt, "type") == "XPath Match"
			case "content":
				if inXPath {
					inContent = true
					content.Reset()
				}
			}
		case xml.CharData:
			if inContent {
				content.Write(tt)
			}
		case xml.EndElement:
			switch tt.Name.Local {
			case "content":
				if inContent {
					inContent = false
					m := faultcodeRE.FindStringSubmatch(content.String())
					if m == nil {
						t.Fatalf("step %q: XPath content %q holds no faultcode", step.name, content.String())
					}
					if step.expected != "" && step.expected != m[1] {
						t.Fatalf("step %q asserts two fault codes", step.name)
					}
					step.expected = m[1]
				}
			case "assertion":
				inXPath = false
			case "testStep":
				out[testCase] = append(out[testCase], *step)
				step = nil
			case "testCase":
				testCase = ""
			}
		}
	}
	return out
}

// TestCasesCoverSuite is the proof of the mapping: every test step of the
// official negative suite LAS-LG-F01 maps to at least one Case with the same
// suite step name and the fault code the suite's XPath assertion expects, and
// no Case claims a step or code the suite does not have.
func TestCasesCoverSuite(t *testing.T) {
	suite := readSuite(t)
	steps := suite["LAS-LG-F01"]
	if len(steps) != 13 {
		t.Fatalf("LAS-LG-F01 has %d test steps in %s, want 13 (parser broken?): %+v", len(steps), soapUIProject, steps)
	}
	if pos, ok := suite["LAS-LG-Nxx"]; !ok || len(pos) == 0 {
		t.Fatalf("positive test case LAS-LG-Nxx not found")
	} else {
		for _, s := range pos {
			if s.expected != "" {
				t.Errorf("positive step %q expects fault %s", s.name, s.expected)
			}
		}
	}

	cases := conformance.Cases()
	bySuite := map[string][]conformance.Case{}
	names := map[string]bool{}
	for _, c := range cases {
		bySuite[c.Suite] = append(bySuite[c.Suite], c)
		if names[c.Name] || c.Name == "" {
			t.Errorf("case name %q empty or used twice", c.Name)
		}
		names[c.Name] = true
	}
	suiteCode := map[string]string{}
	for _, s := range steps {
		if s.expected == "" || !strings.HasPrefix(s.expected, "Client.") {
			t.Errorf("suite step %q: expected code %q", s.name, s.expected)
		}
		suiteCode[s.name] = s.expected
		cs := bySuite[s.name]
		if len(cs) == 0 {
			t.Errorf("suite step %q (%s) has no Case", s.name, s.expected)
		}
		for _, c := range cs {
			if c.Expected != s.expected {
				t.Errorf("Case %q maps suite step %q but expects %q; the suite expects %q", c.Name, s.name, c.Expected, s.expected)
			}
		}
	}
	for _, c := range cases {
		if c.Suite == "LAS-LG-Nxx" {
			if c.Expected != "" {
				t.Errorf("positive Case %q expects fault %q", c.Name, c.Expected)
			}
			continue
		}
		if _, ok := suiteCode[c.Suite]; !ok {
			t.Errorf("Case %q claims suite step %q, which LAS-LG-F01 does not have", c.Name, c.Suite)
		}
	}
	if cases[0].Suite != "LAS-LG-Nxx" || cases[0].Expected != "" {
		t.Errorf("first Case %+v: want the valid request first, so a wrong target is not mistaken for a conforming LAS", cases[0])
	}
}
