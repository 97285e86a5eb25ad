//go:build unix

package soap_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// The read benchmarks (`make bench`) compare the streaming reader with plain
// encoding/xml Unmarshal of the whole envelope on the same bytes: a whole-school
// HaalLeerlinggegevens answer from the simulated LAS, fetched over HTTP with the
// real client. scripts/bench.sh adds PHP's SoapClient and peak RSS per process.
//
// Besides ns/op, MB/s, B/op and allocs/op each benchmark reports peak-heap-MB:
// the highest runtime HeapAlloc seen during one parse minus HeapAlloc after a
// forced GC just before it (the document bytes themselves are excluded). For
// the stream it is sampled every benchPeakEvery pupils and at the end; for
// Unmarshal it is taken right after Unmarshal returns, while the result is alive.
// HeapAlloc counts garbage not yet collected, so the figure also shows how far
// the GC let the heap grow, not only what the parser kept.
//
// The document is kept in an anonymous mmap, outside the Go heap, as it is in
// production where the reader consumes the HTTP body as it arrives. A 24 MB
// document on the Go heap would double the GC's heap goal (GOGC=100) and let
// that much garbage pile up before a collection, so peak-heap-MB would grow
// with the input size for any parser, streaming or not.

var benchSizes = []struct {
	name   string
	pupils int
}{{"1k", 1000}, {"10k", 10000}, {"50k", 50000}}

const (
	benchSchooljaar = "2024-2025"
	benchPeakEvery  = 2000
)

type benchDoc struct {
	once sync.Once
	b    []byte
	err  error
}

var benchDocs sync.Map // pupils -> *benchDoc

// benchResponse returns the response bytes for a school of the given size,
// generated once per size per test binary.
func benchResponse(b *testing.B, pupils int) []byte {
	b.Helper()
	v, _ := benchDocs.LoadOrStore(pupils, &benchDoc{})
	d := v.(*benchDoc)
	d.once.Do(func() {
		var doc []byte
		if doc, d.err = fetchBenchResponse(pupils); d.err == nil {
			d.b, d.err = benchOffHeap(doc)
		}
	})
	if d.err != nil {
		b.Fatalf("generate %d-pupil response: %v", pupils, d.err)
	}
	return d.b
}

// fetchBenchResponse serves a deterministic one-school world from the
// simulator and fetches its whole-school answer, raw, with soap.Client.Fetch.
func fetchBenchResponse(pupils int) ([]byte, error) {
	return lassim.RecordAnswer(context.Background(), lassim.Options{Seed: 1, Pupils: pupils, Schooljaar: benchSchooljaar,
		Now: time.Date(2024, 10, 1, 8, 0, 0, 0, time.UTC)})
}

// benchOffHeap copies b into anonymous memory the GC neither counts nor scans.
// It is never unmapped: the test binary keeps it to the end.
func benchOffHeap(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return b, nil
	}
	m, err := syscall.Mmap(-1, 0, len(b), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", len(b), err)
	}
	copy(m, b)
	return m, nil
}

// benchEnvelope is the whole response for xml.Unmarshal.
type benchEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Antwoord *uwlr.LeerlinggegevensAntwoord `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens leerlinggegevens_antwoord"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// benchHeapAlloc is the current HeapAlloc (stops the world briefly).
func benchHeapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchBaseline collects garbage and returns the live heap, with the timer stopped.
func benchBaseline(b *testing.B) uint64 {
	b.StopTimer()
	runtime.GC()
	base := benchHeapAlloc()
	b.StartTimer()
	return base
}

func reportPeakHeap(b *testing.B, peak uint64) {
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

var benchSink int // keeps the key lengths alive so the callback is not optimised away

func BenchmarkRead(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run("stream/"+sz.name, func(b *testing.B) {
			doc := benchResponse(b, sz.pupils)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				base := benchBaseline(b)
				n, keyBytes := 0, 0
				sample := func() {
					if h := benchHeapAlloc(); h > base && h-base > peak {
						peak = h - base
					}
				}
				sum, err := soap.ReadLeerlinggegevens(bytes.NewReader(doc), soap.Handler{
					Leerling: func(l *uwlr.Leerling) error {
						n++
						keyBytes += len(l.Key)
						if n%benchPeakEvery == 0 {
							sample()
						}
						return nil
					},
				})
				sample()
				if err != nil {
					b.Fatal(err)
				}
				if n != sz.pupils || sum.Leerlingen != sz.pupils || keyBytes < sz.pupils {
					b.Fatalf("stream read %d pupils (summary %d, %d key bytes), want %d", n, sum.Leerlingen, keyBytes, sz.pupils)
				}
				benchSink += keyBytes
			}
			reportPeakHeap(b, peak)
		})
		b.Run("unmarshal/"+sz.name, func(b *testing.B) {
			doc := benchResponse(b, sz.pupils)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				base := benchBaseline(b)
				var env benchEnvelope
				if err := xml.Unmarshal(doc, &env); err != nil {
					b.Fatal(err)
				}
				if h := benchHeapAlloc(); h > base && h-base > peak {
					peak = h - base
				}
				a := env.Body.Antwoord
				if a == nil || a.Leerlinggegevens == nil {
					b.Fatal("unmarshal: no leerlinggegevens in the body")
				}
				pupils := a.Leerlinggegevens.Leerlingen.Leerling
				keyBytes := 0
				for i := range pupils {
					keyBytes += len(pupils[i].Key)
				}
				if len(pupils) != sz.pupils || keyBytes < sz.pupils {
					b.Fatalf("unmarshal read %d pupils (%d key bytes), want %d", len(pupils), keyBytes, sz.pupils)
				}
				benchSink += keyBytes
			}
			reportPeakHeap(b, peak)
		})
	}
}

// TestBenchResponseShape keeps the benchmark input honest in plain `go test`:
// the simulator's answer for a small school parses the same both ways.
func TestBenchResponseShape(t *testing.T) {
	const pupils = 60
	doc, err := fetchBenchResponse(pupils)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := soap.ReadLeerlinggegevens(bytes.NewReader(doc), soap.Handler{})
	if err != nil {
		t.Fatal(err)
	}
	var env benchEnvelope
	if err := xml.Unmarshal(doc, &env); err != nil {
		t.Fatal(err)
	}
	if env.Body.Antwoord == nil || env.Body.Antwoord.Leerlinggegevens == nil {
		t.Fatal("unmarshal: no leerlinggegevens in the body")
	}
	got := len(env.Body.Antwoord.Leerlinggegevens.Leerlingen.Leerling)
	if sum.Outcome != soap.OutcomeData || sum.Leerlingen != pupils || got != pupils || len(sum.Warnings) != 0 {
		t.Fatalf("stream: outcome %s, %d pupils, warnings %v; unmarshal: %d pupils; want data, %d, none",
			sum.Outcome, sum.Leerlingen, sum.Warnings, got, pupils)
	}
	if again, err := fetchBenchResponse(pupils); err != nil || !bytes.Equal(again, doc) {
		t.Fatal(fmt.Sprint("simulator answer is not deterministic: ", err))
	}
}
