package lassim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

var startTagRE = regexp.MustCompile(`<([A-Za-z_][^\s/>]*)`)

// tagPrefixes returns the set of prefixes ("" for none) of the start tags in doc.
func tagPrefixes(doc []byte) map[string]int {
	out := map[string]int{}
	for _, m := range startTagRE.FindAllSubmatch(doc, -1) {
		p, _, ok := strings.Cut(string(m[1]), ":")
		if !ok {
			p = ""
		}
		out[p]++
	}
	return out
}

// TestProfiles serves every vendor profile over loopback HTTP and reads it
// with the real soap client: each answer parses without warnings and shows
// the vendor's quirks on the wire.
func TestProfiles(t *testing.T) {
	for _, tt := range []struct {
		profile string
		check   func(t *testing.T, e *simEnv, raw []byte, c *collected)
	}{
		{"standard", func(t *testing.T, e *simEnv, raw []byte, c *collected) {
			b := body(t, raw)
			if !bytes.HasPrefix(b, []byte(`<leerlinggegevens_antwoord xmlns="`+uwlr.NSLeerlinggegevens+`">`)) {
				t.Errorf("answer does not open in the default namespace: %.200s", b)
			}
			if p := tagPrefixes(b); len(p) != 1 || p[""] == 0 {
				t.Errorf("tag prefixes %v, want only unprefixed tags", p)
			}
			if got, want := childNames(t, raw, "school"), []string{"schooljaar", "brincode", "dependancecode", "aanmaakdatum", "auteur", "xsdversie"}; !slices.Equal(got, want) {
				t.Errorf("school children %v, want XSD order %v", got, want)
			}
			if c.sum.School.Xsdversie != "2.2" || len(e.world.Schools[0].Creds.Autorisatiesleutel) != 32 {
				t.Errorf("xsdversie %q, key length %d", c.sum.School.Xsdversie, len(e.world.Schools[0].Creds.Autorisatiesleutel))
			}
			if bytes.Contains(raw, []byte("<voorvoegsel></voorvoegsel>")) {
				t.Error("standard profile sends empty voorvoegsel elements")
			}
		}},
		{"magister", func(t *testing.T, e *simEnv, raw []byte, c *collected) {
			b := body(t, raw)
			if !bytes.HasPrefix(b, []byte(`<le:leerlinggegevens_antwoord xmlns:le="`+uwlr.NSLeerlinggegevens+`">`)) {
				t.Errorf("answer does not open with prefix le: %.200s", b)
			}
			if p := tagPrefixes(b); len(p) != 1 || p["le"] == 0 {
				t.Errorf("tag prefixes %v, want only le:", p)
			}
			if got, want := childNames(t, raw, "school"), []string{"dependancecode", "brincode", "schooljaar", "auteur", "xsdversie", "commentaar"}; !slices.Equal(got, want) {
				t.Errorf("school children %v, want Magister's order %v", got, want)
			}
			if !bytes.Contains(raw, []byte("<le:voorvoegsel></le:voorvoegsel>")) {
				t.Error("no empty <le:voorvoegsel></le:voorvoegsel> in the raw answer")
			}
			if c.sum.School.Xsdversie != "2.3" {
				t.Errorf("xsdversie %q, want 2.3", c.sum.School.Xsdversie)
			}
			eckOnly := 0
			for _, l := range c.pupils {
				if l.Key == "" {
					if !eckidRE.MatchString(l.Eckid) {
						t.Errorf("pupil without key has eckid %q", l.Eckid)
					}
					eckOnly++
				}
				if l.Geslacht != "" {
					t.Errorf("pupil %s has geslacht %q; the smalle set has none", l.Key, l.Geslacht)
				}
			}
			if eckOnly == 0 || eckOnly == len(c.pupils) {
				t.Errorf("%d of %d pupils without key, want some but not all", eckOnly, len(c.pupils))
			}
			noEck := 0
			for _, tc := range c.teachers {
				if tc.Eckid == "" {
					noEck++
				}
			}
			if noEck == 0 {
				t.Error("no teacher without eckid")
			}
		}},
		{"somtoday", func(t *testing.T, e *simEnv, raw []byte, c *collected) {
			key := e.world.Schools[0].Creds.Autorisatiesleutel
			if len(key) != 88 || !regexp.MustCompile(`^[A-Za-z0-9+/]{88}$`).MatchString(key) {
				t.Errorf("key %q: want 88 base64 characters", key)
			}
			if c.sum.School.Xsdversie != "2.2" {
				t.Errorf("xsdversie %q", c.sum.School.Xsdversie)
			}
		}},
		{"esis", func(t *testing.T, e *simEnv, raw []byte, c *collected) {
			if len(c.vestigingen) != 2 || c.sum.Vestigingen != 2 {
				t.Fatalf("vestigingen %+v (summary %d), want 2", c.vestigingen, c.sum.Vestigingen)
			}
			vest := map[string]int{}
			for _, v := range c.vestigingen {
				vest[v.Key] = 0
			}
			for _, l := range c.pupils {
				if l.Vestiging == nil {
					t.Errorf("pupil %s has no vestiging", l.Key)
					continue
				}
				if _, ok := vest[l.Vestiging.Key]; !ok {
					t.Errorf("pupil %s refers to unknown vestiging %q", l.Key, l.Vestiging.Key)
				}
				vest[l.Vestiging.Key]++
			}
			for k, n := range vest {
				if n == 0 {
					t.Errorf("no pupil at vestiging %s", k)
				}
			}
			// Full EDEXML records: what the gateway must never keep is sent.
			for _, el := range []string{"<bsn>", "<etniciteit>", "<land_vader>", "<land_moeder>", "<postcodenl>", "<gebruikersnaam>", "<voornamen>"} {
				if n := bytes.Count(raw, []byte(el)); n < len(c.pupils) && el != "<voornamen>" || n == 0 {
					t.Errorf("%d %s elements for %d pupils", n, el, len(c.pupils))
				}
			}
			if got := childNames(t, raw, "leerlinggegevens"); !slices.Equal(got, []string{"school", "vestigingen", "groepen", "leerlingen", "leerkrachten"}) {
				t.Errorf("leerlinggegevens children %v", got)
			}
			if !e.world.Schools[0].Creds.ClientCertRequired || len(e.world.Schools[0].Creds.Autorisatiesleutel) != 40 {
				t.Errorf("credentials %+v: want client_cert_required and a 40-character key", e.world.Schools[0].Creds)
			}
		}},
		{"iddink", func(t *testing.T, e *simEnv, raw []byte, c *collected) {
			cr := e.world.Schools[0].Creds
			if cr.SubscriptionKey == "" || !regexp.MustCompile(`^[0-9A-F]{32}$`).MatchString(cr.Autorisatiesleutel) {
				t.Errorf("credentials %+v: want a subscription key and a 32-digit upper-case hex key", cr)
			}
			if p := tagPrefixes(body(t, raw)); len(p) != 1 || p["le"] == 0 {
				t.Errorf("tag prefixes %v, want only le:", p)
			}
			if c.sum.School.Xsdversie != "2.3" {
				t.Errorf("xsdversie %q", c.sum.School.Xsdversie)
			}
		}},
	} {
		t.Run(tt.profile, func(t *testing.T) {
			const pupils = 200
			e := startSim(t, lassim.Options{Seed: 11, Pupils: pupils, Profile: lassim.Profiles[tt.profile]}, nil)
			c := e.pull(t, 0, soap.Request{})
			if c.sum.Outcome != soap.OutcomeData || len(c.pupils) != pupils || c.sum.Leerlingen != pupils {
				t.Fatalf("outcome %s, %d pupils (summary %d), want data with %d", c.sum.Outcome, len(c.pupils), c.sum.Leerlingen, pupils)
			}
			if len(c.sum.Warnings) != 0 || c.sum.DroppedWarnings != 0 {
				t.Errorf("warnings %q", c.sum.Warnings)
			}
			if len(c.groups) != 8 || len(c.teachers) != 8+3 {
				t.Errorf("%d groups, %d teachers, want 8 and 11", len(c.groups), len(c.teachers))
			}
			tt.check(t, e, e.raw(t, 0, uwlr.OpHaalLeerlinggegevens), c)
		})
	}
}

// TestIddinkSubscriptionHeader: the API gateway in front of the LAS answers
// 401 JSON without a valid subscription key, before any SOAP is read.
func TestIddinkSubscriptionHeader(t *testing.T) {
	e := startSim(t, lassim.Options{Seed: 3, Schools: 2, Pupils: 30, Profile: lassim.Profiles["iddink"]}, nil)
	const header = "IddinkHub-Subscription-Key" // the hub's spelling; names are case-insensitive
	other := e.world.Schools[1].Creds.SubscriptionKey
	for _, tt := range []struct {
		name   string
		value  string // "" sends no header
		wantOK bool
	}{
		{"no header", "", false},
		{"wrong key", "0123456789abcdef0123456789abcdef", false},
		{"own key", e.world.Schools[0].Creds.SubscriptionKey, true},
		{"another school's subscription", other, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn := e.conn(0)
			conn.Header = http.Header{}
			if tt.value != "" {
				conn.Header.Set(header, tt.value)
			}
			cl := soap.NewClient(e.srv.Client(), conn)

			// The raw HTTP answer.
			env, err := cl.MarshalRequest(&uwlr.LeerlinggegevensVerzoek{VerzoekBasis: uwlr.VerzoekBasis{Schooljaar: jaar,
				Brincode: conn.Brincode, Dependancecode: conn.Dependancecode, Xsdversie: conn.Xsdversie}})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(ctxT(t), http.MethodPost, e.endpoint, bytes.NewReader(env))
			req.Header = conn.Header.Clone()
			req.Header.Set("Content-Type", "text/xml; charset=utf-8")
			req.Header.Set("SOAPAction", uwlr.OpHaalLeerlinggegevens.SOAPAction)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.wantOK {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("HTTP %d: %s", resp.StatusCode, raw)
				}
			} else {
				var j struct {
					StatusCode int    `json:"statusCode"`
					Message    string `json:"message"`
				}
				if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/json" ||
					json.Unmarshal(raw, &j) != nil || j.StatusCode != 401 || !strings.Contains(j.Message, "subscription key") {
					t.Fatalf("HTTP %d %s: %s, want 401 JSON about the subscription key", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
				}
			}

			// What the soap client makes of it.
			sum, err := cl.HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar}, soap.Handler{})
			if tt.wantOK {
				if err != nil || sum.Leerlingen != 30 {
					t.Fatalf("HaalLeerlinggegevens = %+v, %v", sum, err)
				}
				return
			}
			se := soapError(t, err)
			if se.Class != soap.ClassCredential || se.HTTPStatus != http.StatusUnauthorized || se.Code != "" ||
				!strings.Contains(se.Hint, "subscription key") {
				t.Errorf("error %+v: want class credential, HTTP 401, no fault code, a hint about the subscription key", se)
			}
		})
	}
}

func TestLookupProfile(t *testing.T) {
	if got := lassim.ProfileNames(); !slices.Equal(got, []string{"esis", "iddink", "magister", "somtoday", "standard"}) {
		t.Errorf("ProfileNames = %v", got)
	}
	paths := map[string]string{}
	for _, name := range lassim.ProfileNames() {
		p, err := lassim.LookupProfile(name)
		if err != nil || p.Name != name || p.Path == "" || p.Xsdversie == "" || p.KeyLen == 0 {
			t.Errorf("LookupProfile(%q) = %+v, %v", name, p, err)
		}
		// The vendor facts are the gateway's own table, not a copy.
		if sp, _ := soap.LookupProfile(name); !reflect.DeepEqual(p.Profile, sp) || !reflect.DeepEqual(lassim.Profiles[name], p) {
			t.Errorf("profile %s: wire facts %+v, soap table %+v", name, p.Profile, sp)
		}
		// Distinct paths: every vendor has its own simulator quirks (a
		// vendor without them would get the standard path).
		if other, ok := paths[p.Path]; ok {
			t.Errorf("profiles %s and %s share the path %s: give %s its own quirks", other, name, p.Path, name)
		}
		paths[p.Path] = name
	}
	if p, err := lassim.LookupProfile(""); err != nil || p.Name != "standard" {
		t.Errorf("LookupProfile(\"\") = %+v, %v", p.Name, err)
	}
	if _, err := lassim.LookupProfile("nope"); !errors.Is(err, gateway.ErrInvalid) || !strings.Contains(err.Error(), "standard") {
		t.Errorf("LookupProfile(nope) error %v: want ErrInvalid listing the known profiles", err)
	}
}

// TestCredentialsCarryVendorHeaders: for every profile, each header the
// vendor requires has its value in the credentials file under the header's
// field name, and Credentials.Connection sends it, in the vendor's
// SOAPAction form, so that the simulator lets the request in.
func TestCredentialsCarryVendorHeaders(t *testing.T) {
	for _, name := range lassim.ProfileNames() {
		t.Run(name, func(t *testing.T) {
			prof := lassim.Profiles[name]
			e := startSim(t, lassim.Options{Seed: 9, Schools: 1, Pupils: 10, Profile: prof}, nil)
			c := e.world.Credentials()[0]
			raw, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var file map[string]any
			if err := json.Unmarshal(raw, &file); err != nil {
				t.Fatal(err)
			}
			conn := c.Connection()
			for _, h := range prof.Headers {
				v, _ := file[h.Field].(string)
				if len(v) != 32 || conn.Header.Get(h.Name) != v {
					t.Errorf("header %s: credentials %s = %q, connection sends %q", h.Name, h.Field, v, conn.Header.Get(h.Name))
				}
			}
			if len(conn.Header) != len(prof.Headers) {
				t.Errorf("connection headers %v, want only %d vendor headers", conn.Header, len(prof.Headers))
			}
			if _, ok := file[soap.FieldSubscriptionKey]; ok != (name == "iddink") {
				t.Errorf("credentials file %s: subscription_key present = %v", raw, ok)
			}
			if conn.QuoteSOAPAction != prof.QuoteSOAPAction || conn.Xsdversie != prof.Xsdversie {
				t.Errorf("connection quote %v xsdversie %s, profile %v %s", conn.QuoteSOAPAction, conn.Xsdversie, prof.QuoteSOAPAction, prof.Xsdversie)
			}
			conn.Endpoint = e.endpoint
			if sum, err := soap.NewClient(e.srv.Client(), conn).HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar}, soap.Handler{}); err != nil || sum.Leerlingen != 10 {
				t.Errorf("HaalLeerlinggegevens = %+v, %v", sum, err)
			}
		})
	}
}
