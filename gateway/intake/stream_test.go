package intake_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
)

// reorder writes doc's top-level members in the given order (members not
// named are left out).
func reorder(t *testing.T, doc string, order ...string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, k := range order {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%q: %s", k, v))
		}
	}
	return "{" + strings.Join(parts, ",\n") + "}"
}

// TestReadAnyOrder: "school", "tests" and "results" may come in any order;
// a result may refer to a test defined after it (its trial flag, part and
// digest come from that definition), and the batch is the same.
func TestReadAnyOrder(t *testing.T) {
	f, err := os.ReadFile("testdata/good.json")
	if err != nil {
		t.Fatal(err)
	}
	want, problems := read(t, string(f), options())
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, order := range [][]string{
		{"results", "tests", "school"},
		{"school", "results", "tests"},
		{"tests", "results", "school"},
	} {
		got, problems := read(t, reorder(t, string(f), order...), options())
		if len(problems) > 0 {
			t.Errorf("order %v: problems\n%s", order, show(problems))
			continue
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("order %v: batch differs:\n%s\nwant\n%s", order, g, w)
		}
	}

	// A definition after the results replaces a stored one: SPEL-M4 is
	// stored as a trial test without parts; the file redefines it.
	doc := `{"results": [{"pupil_id": "p_1", "test": "SPEL-M4", "part": "D1", "date": "2025-01-20", "score": 3}],
		"tests": [{"code": "SPEL-M4", "parts": [{"seq": 1, "code": "D1"}]}]}`
	b, problems := read(t, doc, options())
	if len(problems) > 0 {
		t.Fatalf("redefined after its results: %v", problems)
	}
	if r := b.Results[0]; r.Trial || r.Digest != intake.Digest(gateway.Result{Pupil: "p_1", Test: "SPEL-M4", Part: "D1", Date: "2025-01-20", Score: "3"}) {
		t.Errorf("result on a test defined after it: trial %v digest %s", r.Trial, r.Digest)
	}
}

// TestReadProblemsBeforeTests: the checks that need a test's definition
// wait for "tests" when it comes after "results", and their problems stand
// in document order among the others.
func TestReadProblemsBeforeTests(t *testing.T) {
	doc := `{"results": [` + res(`"test": "TAAL-M4", "date": "2025-13-01"`) + `,` + good + `,` + res(`"part": "P9"`) + `,` +
		res(`"pupil_id": "p_404", "test": "TAAL-M4"`) + `],
		"school": "12AB00", "extra": 1,
		"tests": [{"code": "REK-M4", "parts": [{"seq": 1, "code": "P1"}]}, {"code": ""}]}`
	_, problems := read(t, doc, options())
	wantProblems := []want{
		{"results[0].test", "test TAAL-M4 is not defined"},
		{"results[0].date", "not a real date"},
		{"results[2].part", "P9 is not a part of test REK-M4"},
		{"results[3].pupil_id", "no pupil p_404"},
		{"results[3].test", "test TAAL-M4 is not defined"},
		{"extra", "unknown field"},
		{"tests[1].code", "must not be empty"},
	}
	if len(problems) != len(wantProblems) {
		t.Fatalf("problems:\n%s\nwant %v", show(problems), wantProblems)
	}
	for i, w := range wantProblems {
		if p := problems[i]; p.Position != w.pos || !strings.Contains(p.Reason, w.reason) {
			t.Errorf("problem %d = %q, want %s: ...%s...", i, p, w.pos, w.reason)
		}
	}

	// "tests" that is no array, after the results: no complaint about
	// undefined tests on top of it.
	_, problems = read(t, `{"results": [`+res(`"test": "TAAL-M4"`)+`], "tests": 7}`, options())
	if len(problems) != 1 || problems[0].Position != "tests" {
		t.Errorf("tests not an array after the results:\n%s", show(problems))
	}
}

// badRecords is a file of n results on a pupil the school does not have.
func badRecords(w io.Writer, n int, testsLast bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	tests := `"tests": [{"code": "REK-M4", "parts": [{"seq": 1, "code": "P1"}]}]`
	if !testsLast {
		fmt.Fprintf(bw, "{%s,\n", tests)
	} else {
		bw.WriteString("{")
	}
	bw.WriteString(`"results": [`)
	for i := range n {
		if i > 0 {
			bw.WriteString(",\n")
		}
		fmt.Fprintf(bw, `{"pupil_id":"p_404","test":"REK-M4","date":"2025-01-20","score":%d}`, i%100)
	}
	bw.WriteString("]")
	if testsLast {
		fmt.Fprintf(bw, ",\n%s", tests)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// TestReadCapsProblems: past MaxProblems, problems are counted, not
// listed: the first ones in document order, then one "and N more".
func TestReadCapsProblems(t *testing.T) {
	for _, testsLast := range []bool{false, true} {
		var doc strings.Builder
		if err := badRecords(&doc, 2500, testsLast); err != nil {
			t.Fatal(err)
		}
		o := options()
		o.MaxProblems = 1000
		_, problems := read(t, doc.String(), o)
		if len(problems) != 1001 {
			t.Fatalf("tests last %v: %d problems, want 1000 and a count of the rest", testsLast, len(problems))
		}
		for i, p := range problems[:1000] {
			if want := fmt.Sprintf("results[%d].pupil_id", i); p.Position != want {
				t.Fatalf("problem %d at %s, want %s", i, p.Position, want)
			}
		}
		if last := problems[1000]; last.Position != "(file)" || !strings.Contains(last.Reason, "and 1500 more") {
			t.Errorf("last problem %q, want (file): and 1500 more", last)
		}
		if n := intake.Count(problems); n != 2500 {
			t.Errorf("Count = %d, want 2500", n)
		}
	}
	// Deferred problems (the test is defined after the results) are capped
	// in document order too.
	var b strings.Builder
	b.WriteString(`{"results": [`)
	for i := range 1500 {
		if i > 0 {
			b.WriteString(",")
		}
		if i%2 == 0 {
			b.WriteString(res(fmt.Sprintf(`"test": "NOPE", "key": "k%d"`, i)))
		} else {
			b.WriteString(res(`"pupil_id": "p_404"`))
		}
	}
	b.WriteString(`], "tests": [{"code": "REK-M4"}]}`)
	o := options()
	o.MaxProblems = 10
	_, problems := read(t, b.String(), o)
	if len(problems) != 11 || intake.Count(problems) != 1500 {
		t.Fatalf("%d problems listed, Count %d:\n%s", len(problems), intake.Count(problems), show(problems))
	}
	for i, p := range problems[:10] {
		want := fmt.Sprintf("results[%d].test", i)
		if i%2 == 1 {
			want = fmt.Sprintf("results[%d].pupil_id", i)
		}
		if p.Position != want {
			t.Errorf("problem %d at %s, want %s", i, p.Position, want)
		}
	}
	if n := intake.Count([]gateway.Problem{{Position: "results[0]", Reason: "x"}}); n != 1 {
		t.Errorf("Count of one problem = %d", n)
	}
}

// TestReadSyntaxAfterProblems: a syntax error far into the stream is the
// one problem reported, at its line and column, whatever came before it.
func TestReadSyntaxAfterProblems(t *testing.T) {
	var doc strings.Builder
	if err := badRecords(&doc, 3000, false); err != nil {
		t.Fatal(err)
	}
	full := doc.String()
	broken := strings.Replace(full, `"score":7}`+",\n", `"score":7},`+"\n"+`{"test": ]`, 1)
	line := strings.Count(broken[:strings.Index(broken, `{"test": ]`)], "\n") + 1
	_, problems := read(t, broken, options())
	if len(problems) != 1 || problems[0].Position != fmt.Sprintf("line %d column 10", line) ||
		!strings.Contains(problems[0].Reason, "JSON syntax: invalid character ']' looking for beginning of value") {
		t.Errorf("syntax error after bad records:\n%s", show(problems))
	}
	_, problems = read(t, full[:len(full)/2], options())
	if len(problems) != 1 || !strings.Contains(problems[0].Reason, "unexpected end of JSON input") {
		t.Errorf("cut-off file:\n%s", show(problems))
	}
	_, problems = read(t, full+"x", options())
	if len(problems) != 1 || !strings.Contains(problems[0].Reason, "after top-level value") {
		t.Errorf("trailing data:\n%s", show(problems))
	}
}

// heapPeak runs f while sampling the heap in use and returns how far it
// rose above what was in use before f, at its highest.
func heapPeak(f func()) uint64 {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	inUse := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64()
	}
	runtime.GC()
	base := inUse()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := inUse(); v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	if v := inUse(); v > peak {
		peak = v
	}
	if peak < base {
		return 0
	}
	return peak - base
}

// TestReadMillionBadRecords: a file of 10^6 bad records, written as a
// stream and never held in memory, is read with a flat heap; the problem
// document stays small.
func TestReadMillionBadRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("10^6 records (-short)")
	}
	const n = 1_000_000
	for _, testsLast := range []bool{false, true} {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(badRecords(pw, n, testsLast)) }()
		o := options()
		o.MaxProblems = 1000
		var problems []gateway.Problem
		var err error
		start := time.Now()
		growth := heapPeak(func() { _, problems, err = intake.Read(pr, testPupils, o) })
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := json.Marshal(problems)
		t.Logf("tests last %v: %d records: heap growth %.1f MiB, %d problems listed (%d in all), problem document %d bytes, %v",
			testsLast, n, float64(growth)/(1<<20), len(problems), intake.Count(problems), len(doc), took.Round(time.Millisecond))
		if growth >= 128<<20 {
			t.Errorf("heap grew by %d MiB reading %d bad records", growth>>20, n)
		}
		if intake.Count(problems) != n || len(problems) != 1001 {
			t.Errorf("%d problems listed, Count %d, want 1001 and %d", len(problems), intake.Count(problems), n)
		}
		if len(doc) >= 1<<20 {
			t.Errorf("problem document of %d bytes", len(doc))
		}
	}
}

// FuzzSyntaxAsEncodingJSON: the streaming syntax check accepts what
// encoding/json accepts and reports an error where encoding/json does,
// with its message (at the end of the input only that there is one).
func FuzzSyntaxAsEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2.5e-3, true, null, "x\u00e9\n"]}`, "{\"results\": [\n  {\"test\": }\n]}", `[1 2]`, `{"a" 1}`,
		`{"a":1,}`, `{1}`, `[-]`, `[1.]`, `[1e]`, `["\x"]`, `["\u12g4"]`, `[tru]`, "[\"a\nb\"]", `{} {}`, `  `, `"é" x`, `0`, `-0.5E+2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := json.Unmarshal(data, &v)
		_, problems, rerr := intake.Read(strings.NewReader(string(data)), testPupils, options())
		if rerr != nil {
			t.Fatal(rerr)
		}
		syntax := len(problems) == 1 && strings.HasPrefix(problems[0].Reason, "JSON syntax: ")
		se, isSyntax := err.(*json.SyntaxError)
		switch {
		case !isSyntax && syntax:
			t.Fatalf("encoding/json accepts %q (%v); Read says %v", data, err, problems)
		case isSyntax && !syntax:
			t.Fatalf("encoding/json: %v at %d in %q; Read says %v", se, se.Offset, data, problems)
		case isSyntax && int(se.Offset) < len(data):
			off := int(se.Offset)
			line := 1 + strings.Count(string(data[:off]), "\n")
			col := max(1, utf8.RuneCount(data[strings.LastIndexByte(string(data[:off]), '\n')+1:off]))
			want := gateway.Problem{Position: fmt.Sprintf("line %d column %d", line, col), Reason: "JSON syntax: " + se.Error()}
			if problems[0] != want && utf8.Valid(data) {
				t.Fatalf("%q: Read says %q, want %q", data, problems[0], want)
			}
		}
	})
}
