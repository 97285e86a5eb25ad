package soap_test

// Fuzz target for the streaming reader of the four leerlinggegevens answers
// (issue 12, item 7), and the seed helpers the soap fuzz targets share.
// Every name here starts with fz so that it cannot clash with the helpers
// of the other test files of this package.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// fzMaxInput bounds a fuzz input: every run reads it a few times, and a
// run must finish well within fzDeadline.
const fzMaxInput = 256 << 10

// fzDeadline is how long one fuzz input may take before it counts as a hang
// (the Go fuzzer itself has no hang detection).
const fzDeadline = 20 * time.Second

// fzWithin runs fn and fails the test when it does not return within
// fzDeadline. A panic in fn is re-raised in the test goroutine, so the
// fuzzer records it as the crash it is.
func fzWithin[T any](t *testing.T, what string, fn func() T) T {
	t.Helper()
	type result struct {
		v     T
		panic any
		stack []byte
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.panic = p
				r.stack = debug.Stack()
			}
			done <- r
		}()
		r.v = fn()
	}()
	timer := time.NewTimer(fzDeadline)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.panic != nil {
			panic(fmt.Sprintf("%s panicked: %v\n%s", what, r.panic, r.stack))
		}
		return r.v
	case <-timer.C:
		t.Fatalf("%s did not return within %v: a hang", what, fzDeadline)
		panic("unreachable")
	}
}

// fzReadSamplesFile reads a file of the repository's testdata/samples.
func fzReadSamplesFile(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile("../../testdata/samples/" + name)
	if err != nil {
		f.Fatalf("read seed fixture: %v", err)
	}
	return b
}

const (
	fzMagisterSample = "TestCorrect_MagisterHelper_getResult1_leerlinggegevens_antwoord.xml"
	fzSoapUIProject  = "LR-Test-Leerlinggegevens-soapui-project.xml"
)

// fzJaar and fzT0 are the schooljaar and creation time of the simulated LAS.
const fzJaar = "2024-2025"

var fzT0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

// fzLAS is a small simulated school (lassim) behind a soap.Server, driven
// in-process through httptest.NewRecorder: no sockets, so a fuzz worker
// can build its seeds cheaply.
type fzLAS struct {
	world   *lassim.World
	creds   lassim.Credentials
	profile lassim.Profile
}

// fzProfiles are the vendor profiles the seeds come from: default namespace
// (standard), the le: prefix and vendor field order (magister), a long key
// and quoted SOAPAction (somtoday). esis needs a client certificate.
var fzProfiles = []string{soap.StandardProfile, "magister", "somtoday"}

func fzNewLAS(profile string) *fzLAS {
	p := lassim.Profiles[profile]
	w := lassim.NewWorld(lassim.Options{Seed: 12, Schools: 1, Pupils: 4, Profile: p, Schooljaar: fzJaar,
		Now: fzT0, Endpoint: "https://las.invalid" + p.Path})
	return &fzLAS{world: w, creds: w.Credentials()[0], profile: p}
}

// server is a fresh simulator over the shared world: a Sim keeps the keys
// of accepted results, so one per call keeps a fuzz run's memory flat.
func (l *fzLAS) server() *soap.Server {
	return &soap.Server{Backend: lassim.NewSim(l.world, l.profile, 1)}
}

// request is the envelope the gateway's own client sends for op.
func (l *fzLAS) request(tb testing.TB, op uwlr.Operation, r soap.Request, groups *uwlr.GroepenSelectie) []byte {
	tb.Helper()
	cl := soap.NewClient(nil, l.creds.Connection())
	body, err := cl.RequestBody(op, r, groups)
	if err != nil {
		tb.Fatalf("%s request: %v", op.Name, err)
	}
	raw, err := cl.MarshalRequest(body)
	if err != nil {
		tb.Fatalf("%s request: %v", op.Name, err)
	}
	return raw
}

// results is a BrengLeerresultaten envelope with one score for each of the
// first two keyed pupils of the school.
func (l *fzLAS) results(tb testing.TB) []byte {
	tb.Helper()
	c := l.creds
	msg := &uwlr.LeerresultatenVerzoek{
		School: uwlr.ResultatenSchool{Schooljaar: fzJaar, Brincode: c.Brin, Dependancecode: c.Dependancecode,
			Aanmaakdatum: fzT0.Format(time.RFC3339), Xsdversie: "2.2"},
		Toetsen: uwlr.Toetsen{Toets: []uwlr.Toets{{Toetscode: uwlr.Vocabulaire{Value: "REKENEN-M4"}, Toetsnaam: "Rekenen M4"}}},
	}
	for _, p := range l.world.Schools[0].Pupils() {
		if p.Key == "" || len(msg.Toetsafnames.Toetsafname) == 2 {
			continue
		}
		i := len(msg.Toetsafnames.Toetsafname) + 1
		msg.Toetsafnames.Toetsafname = append(msg.Toetsafnames.Toetsafname, uwlr.Toetsafname{Leerlingid: p.Key,
			Resultaten: []uwlr.Resultaat{{Key: fmt.Sprintf("R%d", i), Afnamedatum: "2025-01-20", Toetscode: "REKENEN-M4", Score: fmt.Sprint(10 * i)}}})
	}
	raw, err := soap.MarshalEnvelope(&uwlr.Autorisatie{Autorisatiesleutel: c.Autorisatiesleutel, Klantcode: c.Klantcode, Klantnaam: c.Klantnaam}, msg)
	if err != nil {
		tb.Fatalf("results request: %v", err)
	}
	return raw
}

// serve posts raw to a fresh server and returns the recorded response.
func (l *fzLAS) serve(raw []byte, soapAction, contentEncoding string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "https://las.invalid"+l.profile.Path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if soapAction != "" {
		req.Header.Set("SOAPAction", soapAction)
	}
	if contentEncoding != "" {
		req.Header.Set("Content-Encoding", contentEncoding)
	}
	rec := httptest.NewRecorder()
	l.server().ServeHTTP(rec, req)
	return rec
}

// fzExchange is one request the simulator answered, for seeds.
type fzExchange struct {
	op       uwlr.Operation
	request  []byte
	status   int
	response []byte
}

// exchanges runs every operation against the simulator: the four
// leerlinggegevens answers with data, geengegevens (another schooljaar) and
// geenwijzigingen (nothing changed since), a results message, and a fault
// (a wrong key).
func (l *fzLAS) exchanges(tb testing.TB) []fzExchange {
	tb.Helper()
	var out []fzExchange
	do := func(op uwlr.Operation, raw []byte) fzExchange {
		rec := l.serve(raw, op.SOAPAction, "")
		x := fzExchange{op: op, request: raw, status: rec.Code, response: rec.Body.Bytes()}
		out = append(out, x)
		return x
	}
	full := soap.Request{Schooljaar: fzJaar}
	do(uwlr.OpHaalLeerlinggegevens, l.request(tb, uwlr.OpHaalLeerlinggegevens, full, nil))
	structuur := do(uwlr.OpHaalStructuur, l.request(tb, uwlr.OpHaalStructuur, full, nil))

	// The stepwise pupil and teacher requests ask for the first group and
	// the first composite group of the structure.
	var groups uwlr.GroepenSelectie
	_, err := soap.ReadLeerlinggegevens(bytes.NewReader(structuur.response), soap.Handler{
		Groep: func(g *uwlr.Groep) error {
			if len(groups.Groep) == 0 {
				groups.Groep = append(groups.Groep, uwlr.GroepSelectie{Key: g.Key})
			}
			return nil
		},
		SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error {
			if len(groups.SamengesteldeGroep) == 0 {
				groups.SamengesteldeGroep = append(groups.SamengesteldeGroep, uwlr.GroepSelectie{Key: g.Key})
			}
			return nil
		},
	})
	if err != nil || len(groups.Groep) == 0 {
		tb.Fatalf("simulated HaalStructuur answer: %v, groups %+v\n%s", err, groups, structuur.response)
	}
	do(uwlr.OpHaalLeerlingen, l.request(tb, uwlr.OpHaalLeerlingen, full, &groups))
	do(uwlr.OpHaalLeerkrachten, l.request(tb, uwlr.OpHaalLeerkrachten, full, &groups))

	do(uwlr.OpHaalLeerlinggegevens, l.request(tb, uwlr.OpHaalLeerlinggegevens, soap.Request{Schooljaar: "2023-2024"}, nil))
	do(uwlr.OpHaalStructuur, l.request(tb, uwlr.OpHaalStructuur, soap.Request{Schooljaar: fzJaar, Since: fzT0.Add(time.Hour)}, nil))
	do(uwlr.OpBrengLeerresultaten, l.results(tb))

	wrong := l.creds.Connection()
	wrong.Autorisatiesleutel = "niet-de-sleutel-van-deze-school"
	cl := soap.NewClient(nil, wrong)
	body, _ := cl.RequestBody(uwlr.OpHaalLeerlingen, full, &groups)
	raw, err := cl.MarshalRequest(body)
	if err != nil {
		tb.Fatal(err)
	}
	do(uwlr.OpHaalLeerlingen, raw)
	return out
}

// fzSoapUIRequests are the request envelopes of the soapUI project in
// testdata/samples (UWLR 1, with ${#TestSuite#...} placeholders), as they
// are and rewritten to UWLR 2 with l's credentials filled in.
func fzSoapUIRequests(f *testing.F, l *fzLAS) (asIs, filled [][]byte) {
	f.Helper()
	project := fzReadSamplesFile(f, fzSoapUIProject)
	re := regexp.MustCompile(`(?s)<con:request><!\[CDATA\[(.*?)\]\]></con:request>`)
	c := l.creds
	fill := strings.NewReplacer(
		"/leerresultaten/1/", "/leerresultaten/2/",
		"leerlinggegevensverzoek", uwlr.OpHaalLeerlinggegevens.Request,
		"${#TestSuite#autorisatiesleutel}", c.Autorisatiesleutel,
		"${#TestSuite#klantcode}", c.Klantcode,
		"${#TestSuite#klantnaam}", c.Klantnaam,
		"${#TestSuite#schooljaar}", fzJaar,
		"${#TestSuite#brincode}", c.Brin,
		"${#TestSuite#dependancecode}", c.Dependancecode,
		"${#TestSuite#schoolkey}", "",
		"${#TestSuite#xsdversie}", c.Xsdversie,
		"${#TestSuite#laatstontvangengegevens}", "",
		"${#TestSuite#soapenvelopenamespaceprefix}", "soapenv",
	)
	seen := map[string]bool{}
	for _, m := range re.FindAllSubmatch(project, -1) {
		if !bytes.Contains(m[1], []byte("Envelope")) || seen[string(m[1])] {
			continue
		}
		seen[string(m[1])] = true
		asIs = append(asIs, m[1])
		filled = append(filled, []byte(fill.Replace(string(m[1]))))
	}
	if len(asIs) == 0 {
		f.Fatalf("no request envelopes found in %s", fzSoapUIProject)
	}
	return asIs, filled
}

// fzFaultEnvelope is a SOAP 1.1 fault as a LAS sends it.
func fzFaultEnvelope(prefix, code, text string) string {
	return `<?xml version="1.0" encoding="utf-8"?><` + prefix + `:Envelope xmlns:` + prefix + `="` + uwlr.NSSOAPEnvelope + `"><` + prefix + `:Body><` +
		prefix + `:Fault><faultcode>` + code + `</faultcode><faultstring>` + text + `</faultstring></` + prefix + `:Fault></` +
		prefix + `:Body></` + prefix + `:Envelope>`
}

// fzAnswerSeeds are the reader's seeds: the real Magister answer (as sent
// and as a bare answer element, also cut short and in ISO-8859-1), the
// simulator's answers for three vendor profiles, and faults.
func fzAnswerSeeds(f *testing.F) [][]byte {
	f.Helper()
	sample := fzReadSamplesFile(f, fzMagisterSample)
	seeds := [][]byte{sample}
	s := string(sample)
	if start, end := strings.Index(s, "<le:leerlinggegevens_antwoord"), strings.Index(s, "</SOAP-ENV:Body>"); start >= 0 && end > start {
		seeds = append(seeds, []byte(s[start:end]))
	}
	seeds = append(seeds, sample[:len(sample)/2],
		[]byte(strings.Replace(s, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1)))
	for _, name := range fzProfiles {
		for _, x := range fzNewLAS(name).exchanges(f) {
			if x.op != uwlr.OpBrengLeerresultaten {
				seeds = append(seeds, x.response)
			}
		}
	}
	seeds = append(seeds,
		[]byte(fzFaultEnvelope("soap", "soap:Client.AutorisatieOngeldig", "Autorisatie ongeldig")),
		[]byte(fzFaultEnvelope("s", "s:Server.TijdelijkNietBeschikbaar", "onderhoud")),
	)
	return seeds
}

// fzRecords is what a Handler was given, copied.
type fzRecords struct {
	Kinds       []soap.AnswerKind
	Schools     []uwlr.School
	Vestigingen []uwlr.Vestiging
	Groepen     []uwlr.Groep
	Comps       []uwlr.SamengesteldeGroep
	Leerlingen  []uwlr.Leerling
	Leerkrachen []uwlr.Leerkracht
}

func (r *fzRecords) handler() soap.Handler {
	return soap.Handler{
		Answer:             func(k soap.AnswerKind) error { r.Kinds = append(r.Kinds, k); return nil },
		School:             func(s *uwlr.School) error { r.Schools = append(r.Schools, *s); return nil },
		Vestiging:          func(v *uwlr.Vestiging) error { r.Vestigingen = append(r.Vestigingen, *v); return nil },
		Groep:              func(g *uwlr.Groep) error { r.Groepen = append(r.Groepen, *g); return nil },
		SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error { r.Comps = append(r.Comps, *g); return nil },
		Leerling:           func(l *uwlr.Leerling) error { r.Leerlingen = append(r.Leerlingen, *l); return nil },
		Leerkracht:         func(l *uwlr.Leerkracht) error { r.Leerkrachen = append(r.Leerkrachen, *l); return nil },
	}
}

// fzRead reads data once with a recording handler.
type fzReadResult struct {
	sum  *soap.Summary
	err  error
	recs fzRecords
}

func fzRead(t *testing.T, what string, rd func() *bytes.Reader, chunk func(*bytes.Reader) interface{ Read([]byte) (int, error) }) fzReadResult {
	t.Helper()
	return fzWithin(t, what, func() fzReadResult {
		var res fzReadResult
		res.sum, res.err = soap.ReadLeerlinggegevens(chunk(rd()), res.recs.handler())
		return res
	})
}

// fzAnswerOf re-encodes what a read handed over as one answer of kind k,
// with encoding/xml: the records as a LAS would send them.
func fzAnswerOf(k soap.AnswerKind, r *fzRecords) ([]byte, error) {
	type container struct {
		XMLName      xml.Name
		School       []uwlr.School      `xml:"school"`
		Vestigingen  *uwlr.Vestigingen  `xml:"vestigingen"`
		Groepen      *uwlr.Groepen      `xml:"groepen"`
		Leerlingen   *uwlr.Leerlingen   `xml:"leerlingen"`
		Leerkrachten *uwlr.Leerkrachten `xml:"leerkrachten"`
	}
	type answer struct {
		XMLName   xml.Name
		Container container
	}
	answerName := map[soap.AnswerKind]string{
		soap.AnswerLeerlinggegevens: uwlr.OpHaalLeerlinggegevens.Response,
		soap.AnswerStructuur:        uwlr.OpHaalStructuur.Response,
		soap.AnswerLeerlingen:       uwlr.OpHaalLeerlingen.Response,
		soap.AnswerLeerkrachten:     uwlr.OpHaalLeerkrachten.Response,
	}[k]
	c := container{XMLName: xml.Name{Space: uwlr.NSLeerlinggegevens, Local: string(k)}, School: r.Schools}
	if len(r.Vestigingen) > 0 {
		c.Vestigingen = &uwlr.Vestigingen{Vestiging: r.Vestigingen}
	}
	if len(r.Groepen)+len(r.Comps) > 0 {
		c.Groepen = &uwlr.Groepen{Groep: r.Groepen, SamengesteldeGroep: r.Comps}
	}
	if len(r.Leerlingen) > 0 {
		c.Leerlingen = &uwlr.Leerlingen{Leerling: r.Leerlingen}
	}
	if len(r.Leerkrachen) > 0 {
		c.Leerkrachten = &uwlr.Leerkrachten{Leerkracht: r.Leerkrachen}
	}
	return soap.MarshalEnvelope(nil, answer{XMLName: xml.Name{Space: uwlr.NSLeerlinggegevens, Local: answerName}, Container: c})
}

// FuzzLeerlinggegevensReader: soap.ReadLeerlinggegevens on any bytes never
// panics and never hangs; an error comes with no summary and is not blamed
// on the handler (which never fails here), a fault is a classified
// *soap.Error; and what it reads from an answer is stable: the same when
// the body arrives one byte at a time or in odd chunks, with or without
// handler funcs, and when the records it handed over are sent again as
// encoding/xml writes them.
func FuzzLeerlinggegevensReader(f *testing.F) {
	for _, s := range fzAnswerSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fzMaxInput {
			t.Skip("input larger than fzMaxInput")
		}
		plain := func(r *bytes.Reader) interface{ Read([]byte) (int, error) } { return r }
		src := func() *bytes.Reader { return bytes.NewReader(data) }
		got := fzRead(t, "ReadLeerlinggegevens", src, plain)

		if got.err != nil {
			if got.sum != nil {
				t.Fatalf("error %v came with a summary %+v", got.err, got.sum)
			}
			if got.err.Error() == "" {
				t.Fatalf("error %#v has no text", got.err)
			}
			var ce *soap.CallerError
			if errors.As(got.err, &ce) {
				t.Fatalf("error %v is a CallerError, but the handler never failed", got.err)
			}
			var se *soap.Error
			if errors.As(got.err, &se) {
				fzCheckFaultError(t, se)
			}
		} else {
			fzCheckSummary(t, got.sum, &got.recs)
		}

		// Stable: the same bytes read in other chunks give the same outcome.
		for _, alt := range []struct {
			name  string
			chunk func(*bytes.Reader) interface{ Read([]byte) (int, error) }
		}{
			{"one byte at a time", func(r *bytes.Reader) interface{ Read([]byte) (int, error) } { return iotest.OneByteReader(r) }},
			{"half reads, EOF with the data", func(r *bytes.Reader) interface{ Read([]byte) (int, error) } {
				return iotest.DataErrReader(iotest.HalfReader(r))
			}},
		} {
			again := fzRead(t, "ReadLeerlinggegevens "+alt.name, src, alt.chunk)
			if (again.err == nil) != (got.err == nil) || (got.err != nil && again.err.Error() != got.err.Error()) {
				t.Fatalf("read %s: error %v, read at once: %v", alt.name, again.err, got.err)
			}
			if !reflect.DeepEqual(again.sum, got.sum) || !reflect.DeepEqual(again.recs, got.recs) {
				t.Fatalf("read %s gives another result:\n%+v\n%+v\nread at once:\n%+v\n%+v", alt.name, again.sum, again.recs, got.sum, got.recs)
			}
		}
		if got.err != nil {
			return
		}
		bare := fzWithin(t, "ReadLeerlinggegevens with an empty Handler", func() fzReadResult {
			s, err := soap.ReadLeerlinggegevens(bytes.NewReader(data), soap.Handler{})
			return fzReadResult{sum: s, err: err}
		})
		if bare.err != nil || !reflect.DeepEqual(bare.sum, got.sum) {
			t.Fatalf("with an empty Handler: %+v, %v; want %+v", bare.sum, bare.err, got.sum)
		}

		// Stable: the records sent again as encoding/xml writes them read
		// back the same.
		if got.sum.Outcome != soap.OutcomeData || len(got.recs.Kinds) != 1 {
			return
		}
		again, err := fzAnswerOf(got.recs.Kinds[0], &got.recs)
		if err != nil {
			t.Fatalf("encode what was read: %v", err)
		}
		back := fzRead(t, "ReadLeerlinggegevens of the re-encoded answer", func() *bytes.Reader { return bytes.NewReader(again) }, plain)
		if back.err != nil {
			t.Fatalf("the records read, encoded again, do not read back: %v\n%s", back.err, again)
		}
		if !reflect.DeepEqual(back.recs, got.recs) || !reflect.DeepEqual(back.sum, got.sum) {
			t.Fatalf("the records read, encoded again, read back otherwise:\n%+v\n%+v\nfirst read:\n%+v\n%+v\nre-encoded:\n%s",
				back.sum, back.recs, got.sum, got.recs, again)
		}
	})
}

// fzCheckSummary: a summary agrees with what the handler was given.
func fzCheckSummary(t *testing.T, sum *soap.Summary, r *fzRecords) {
	t.Helper()
	switch {
	case sum == nil:
		t.Fatal("no error and no summary")
	case sum.Outcome != soap.OutcomeData && sum.Outcome != soap.OutcomeGeenWijzigingen && sum.Outcome != soap.OutcomeGeenGegevens:
		t.Fatalf("outcome %q", sum.Outcome)
	case sum.Warnings == nil || len(sum.Warnings) != 0 || sum.DroppedWarnings != 0:
		t.Fatalf("warnings %#v (dropped %d), want an empty list", sum.Warnings, sum.DroppedWarnings)
	case sum.Vestigingen != len(r.Vestigingen) || sum.Groepen != len(r.Groepen) || sum.SamengesteldeGroepen != len(r.Comps) ||
		sum.Leerlingen != len(r.Leerlingen) || sum.Leerkrachten != len(r.Leerkrachen):
		t.Fatalf("summary %+v, handler got %d vestigingen, %d groepen, %d samengestelde groepen, %d leerlingen, %d leerkrachten",
			sum, len(r.Vestigingen), len(r.Groepen), len(r.Comps), len(r.Leerlingen), len(r.Leerkrachen))
	case len(r.Schools) > 0 && sum.School != r.Schools[len(r.Schools)-1]:
		t.Fatalf("summary school %+v, the handler's last %+v", sum.School, r.Schools[len(r.Schools)-1])
	case sum.Outcome == soap.OutcomeData && len(r.Kinds) == 0:
		t.Fatalf("outcome data, but Answer was never called")
	}
	for _, k := range r.Kinds {
		switch k {
		case soap.AnswerLeerlinggegevens, soap.AnswerStructuur, soap.AnswerLeerlingen, soap.AnswerLeerkrachten:
		default:
			t.Fatalf("answer kind %q", k)
		}
	}
}

// fzCheckFaultError: a fault read from a LAS is classified and usable.
func fzCheckFaultError(t *testing.T, se *soap.Error) {
	t.Helper()
	switch se.Class {
	case soap.ClassCredential, soap.ClassRequest, soap.ClassVersion, soap.ClassTemporary:
	default:
		t.Fatalf("fault %+v has class %q", se, se.Class)
	}
	if se.Hint == "" {
		t.Fatalf("fault %+v has no hint", se)
	}
	if strings.Contains(se.Code, ":") {
		t.Fatalf("fault code %q still has its prefix", se.Code)
	}
	if !errors.Is(se, soap.KindOf(se.Class)) {
		t.Fatalf("fault %+v does not unwrap to %v", se, soap.KindOf(se.Class))
	}
	if se.Class.Retryable() != errors.Is(se, gateway.ErrTransient) {
		t.Fatalf("fault %+v: Retryable %v, errors.Is(ErrTransient) %v", se, se.Class.Retryable(), errors.Is(se, gateway.ErrTransient))
	}
	_ = se.Error()
}
