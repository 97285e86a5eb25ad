package soap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// repeatReader yields chunk over and over, n bytes in all: a large answer
// made as it is read, never held whole by the test.
type repeatReader struct {
	chunk []byte
	left  int64
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.chunk[r.off:])
		n += c
		r.off = (r.off + c) % len(r.chunk)
	}
	r.left -= int64(n)
	return n, nil
}

// streamed is head, then chunk repeated times, then tail.
func streamed(head, chunk string, times int, tail string) io.Reader {
	return io.MultiReader(strings.NewReader(head), &repeatReader{chunk: []byte(chunk), left: int64(len(chunk)) * int64(times)},
		strings.NewReader(tail))
}

func TestReaderLimits(t *testing.T) {
	pupilHead := answerHead + `<lg:leerling key="L1"><lg:achternaam>`
	pupilTail := `</lg:achternaam></lg:leerling>` + answerTail
	groupHead := strings.Replace(answerHead, `<lg:leerlingen>`, `<lg:groepen><lg:groep key="G1"><lg:jaargroep>4</lg:jaargroep><lg:naam>`, 1)
	groupTail := `</lg:naam></lg:groep></lg:groepen></lg:leerlinggegevens></lg:leerlinggegevens_antwoord></s:Body></s:Envelope>`
	a1000 := strings.Repeat("a", 1000)
	tests := []struct {
		name string
		in   io.Reader
		want string // fragment of the error
	}{
		{"a text run cut by comments", streamed(pupilHead, a1000+"<!---->", 200, pupilTail), "more than 65536 bytes"},
		{"a surname cut by child elements", streamed(pupilHead, a1000+"<x/>", 200, pupilTail), "element text of more than 65536 bytes"},
		{"a group name cut by child elements", streamed(groupHead, a1000+"<x/>", 200, groupTail), "element text of more than 65536 bytes"},
		{"a comment of 1 MB", streamed(pupilHead+"<!--", a1000, 1000, "-->"+pupilTail), "more than 65536 bytes"},
		{"a CDATA section of 1 MB", streamed(pupilHead+"<![CDATA[", a1000, 1000, "]]>"+pupilTail), "more than 65536 bytes"},
		{"a processing instruction of 1 MB", streamed(pupilHead+"<?pi ", a1000, 1000, "?>"+pupilTail), "more than 65536 bytes"},
		{"a start tag with 10,000 attributes", streamed(answerHead+`<lg:leerling key="L1"`, ` a="bcdefghijklmnopqrstuvwxyz"`, 10000, `/>`+answerTail),
			"element tag of more than 65536 bytes"},
		{"elements nested 100,000 deep", streamed(pupilHead, "<x>", 100000, ""), "nested deeper than 256"},
		{"a pupil with 200,000 group references", streamed(answerHead+`<lg:leerling key="L1"><lg:samengestelde_groepen>`,
			`<lg:samengestelde_groep key="S1"/>`, 200000, `</lg:samengestelde_groepen></lg:leerling>`+answerTail), "record of more than 1048576 bytes"},
		{"a teacher with 100,000 groups", streamed(strings.Replace(answerHead, "<lg:leerlingen>", `<lg:leerkrachten><lg:leerkracht key="T1"><lg:groepen>`, 1),
			`<lg:groep key="G1"><lg:rol>LRK</lg:rol></lg:groep>`, 100000, `</lg:groepen></lg:leerkracht></lg:leerkrachten></lg:leerlinggegevens></lg:leerlinggegevens_antwoord></s:Body></s:Envelope>`),
			"record of more than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			allocated, _ := heapGrowth(func() { _, err = soap.ReadLeerlinggegevens(tt.in, soap.Handler{}) })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadLeerlinggegevens = %v, want an error mentioning %q", err, tt.want)
			}
			if !errors.Is(err, soap.ErrLimit) {
				t.Errorf("errors.Is(err, soap.ErrLimit) = false: %v", err)
			}
			if allocated > maxHeapGrowth/2 {
				t.Errorf("the read allocated %d KiB", allocated>>10)
			}
		})
	}
}

func TestReaderLimitsLeaveRealAnswersAlone(t *testing.T) {
	// A pretty-printed list: its own white space adds up far beyond a text
	// run, but every run between two tags is short.
	indent := "\n" + strings.Repeat(" ", 100)
	in := streamed(answerHead, indent+pupil(`key="L1"`, "Jansen", ""), 5000, indent+answerTail)
	sum, err := soap.ReadLeerlinggegevens(in, soap.Handler{})
	if err != nil || sum.Leerlingen != 5000 {
		t.Fatalf("ReadLeerlinggegevens = %+v, %v; want 5000 pupils", sum, err)
	}

	// A fault whose detail is far larger than any record is still the
	// fault: its detail is skipped, not kept.
	detail := "<d>" + strings.Repeat("x", 60000) + "</d>"
	fault := streamed(`<s:Envelope xmlns:s="`+uwlr.NSSOAPEnvelope+`"><s:Body><s:Fault><faultcode>s:Server.InterneFout</faultcode>`+
		`<faultstring>stuk</faultstring><detail>`, detail, 140, `</detail></s:Fault></s:Body></s:Envelope>`)
	var ferr error
	allocated, _ := heapGrowth(func() { _, ferr = soap.ReadLeerlinggegevens(fault, soap.Handler{}) })
	var se *soap.Error
	if !errors.As(ferr, &se) || se.Code != soap.CodeInterneFout || se.Message != "stuk" {
		t.Errorf("error = %v, want the fault", ferr)
	}
	if allocated > 4<<20 {
		t.Errorf("reading a fault with an 8 MB detail allocated %d KiB: the detail is kept", allocated>>10)
	}
}

func TestFetchRefusesAGzipBomb(t *testing.T) {
	las, _ := hostileLAS(t, true, func(_ context.Context, w io.Writer, _ func()) error {
		return repeat(w, bytes.Repeat([]byte("<x/>"), 1<<14), 1<<30)
	})
	n, err := soap.NewClient(nil, testConn(las.URL)).Fetch(context.Background(), uwlr.OpHaalLeerlinggegevens, testRequest, nil, io.Discard, nil)
	se := asSOAPError(t, err)
	if se.Class != soap.ClassRequest || !strings.Contains(se.Message, "expands more than 100 times") || !errors.Is(err, soap.ErrLimit) {
		t.Errorf("error = %+v", se)
	}
	if n > 64<<20 {
		t.Errorf("Fetch wrote %d MiB of the bomb", n>>20)
	}
}

func TestReadLimiterBoundsConcurrentCalls(t *testing.T) {
	const slots, calls = 2, 6
	var (
		mu            sync.Mutex
		inFlight, top int
	)
	release := make(chan struct{})
	las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		inFlight++
		top = max(top, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		io.WriteString(w, answerFor(r.Header.Get("SOAPAction")))
	})
	lim := soap.NewReadLimiter(slots)
	conn := testConn(las.URL)
	conn.Reads = lim
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := soap.NewClient(nil, conn).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			errs <- err
		}()
	}
	observe.WaitFor(t, "two calls at the LAS and four waiting for a slot", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		seen := fmt.Sprintf("%d at the LAS, limiter %d in use, %d waiting", inFlight, lim.InUse(), lim.Waiting())
		return inFlight == slots && lim.InUse() == slots && lim.Waiting() == calls-slots, seen
	})

	// A call whose caller gives up while waiting leaves without a slot.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := soap.NewClient(nil, conn).HaalLeerlinggegevens(ctx, testRequest, soap.Handler{})
	if se := asSOAPError(t, err); !errors.Is(err, context.Canceled) || se.Class != soap.ClassTemporary {
		t.Errorf("cancelled wait: error = %+v", se)
	}

	close(release)
	for range calls {
		if err := <-errs; err != nil {
			t.Errorf("call: %v", err)
		}
	}
	if top != slots || lim.InUse() != 0 || lim.Waiting() != 0 {
		t.Errorf("at most %d calls at the LAS at once, limiter %d in use and %d waiting after; want %d, 0, 0", top, lim.InUse(), lim.Waiting(), slots)
	}
}
