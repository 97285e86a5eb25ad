//go:build unix

// Command readbench measures one parse of a UWLR leerlinggegevens response in
// a fresh process, so that the peak RSS it reports belongs to that parser
// alone. scripts/bench.sh runs it beside scripts/bench.php (PHP SoapClient)
// on the same files; it is not part of the gateway.
//
//	readbench gen --pupils N --out FILE
//	readbench parse --mode stream|unmarshal --file FILE [--input mmap|heap]
//
// gen writes the raw whole-school HaalLeerlinggegevens answer for one
// simulated school of N pupils (standard profile, seed 1, fixed dates), as
// fetched over HTTP with soap.Client.Fetch: the same bytes for the same N.
//
// parse first reads the whole file into memory (as the PHP script does), then
// parses it once with soap.ReadLeerlinggegevens (stream) or with xml.Unmarshal
// of the whole envelope (unmarshal), and prints one JSON line:
//
//	{"parser":"go-stream","pupils":50000,"bytes":24103262,"seconds":0.93,
//	 "mb_per_s":25.9,"peak_rss_mb":40.1,"peak_heap_mb":3.5}
//
// seconds covers the parse only; mb_per_s is bytes/1e6/seconds (as go test
// reports MB/s); peak_rss_mb is getrusage ru_maxrss in MiB, so it includes the
// file held in memory and the Go runtime; peak_heap_mb is the highest
// runtime HeapAlloc seen during the parse (sampled every 2000 pupils and at
// the end for stream, right after Unmarshal returns for unmarshal) minus the
// HeapAlloc after a forced GC just before it, in MiB.
//
// By default (--input mmap) the file is read into anonymous memory outside the
// Go heap: it still counts in RSS, but not in the GC's heap goal, which is how
// the reader runs in production (straight from the HTTP body). With --input
// heap the file is an ordinary []byte; the GC then lets garbage grow to about
// the file's size before collecting, and peak_heap_mb grows with the input
// for either mode.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const (
	schooljaar = "2024-2025"
	peakEvery  = 2000
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "parse":
		err = parse(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "readbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: readbench gen --pupils N --out FILE\n       readbench parse --mode stream|unmarshal --file FILE [--input mmap|heap]")
	os.Exit(2)
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	pupils := fs.Int("pupils", 1000, "pupils in the simulated school")
	out := fs.String("out", "", "file to write the response to")
	fs.Parse(args)
	if *out == "" || *pupils < 1 {
		usage()
	}
	doc, err := fetch(*pupils)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, doc, 0o644)
}

// fetch serves a deterministic one-school world from the simulator and
// fetches its whole-school answer, raw, the way the gateway does.
func fetch(pupils int) ([]byte, error) {
	return lassim.RecordAnswer(context.Background(), lassim.Options{Seed: 1, Pupils: pupils, Schooljaar: schooljaar,
		Now: time.Date(2024, 10, 1, 8, 0, 0, 0, time.UTC)})
}

// result is the JSON line; scripts/bench.php prints the same fields.
type result struct {
	Parser     string  `json:"parser"`
	Pupils     int     `json:"pupils"`
	Bytes      int     `json:"bytes"`
	Seconds    float64 `json:"seconds"`
	MBPerS     float64 `json:"mb_per_s"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	PeakHeapMB float64 `json:"peak_heap_mb"`
}

// envelope is the whole response for xml.Unmarshal.
type envelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Antwoord *uwlr.LeerlinggegevensAntwoord `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens leerlinggegevens_antwoord"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

func parse(args []string) error {
	fs := flag.NewFlagSet("parse", flag.ExitOnError)
	mode := fs.String("mode", "stream", "stream (soap.ReadLeerlinggegevens) or unmarshal (xml.Unmarshal of the envelope)")
	file := fs.String("file", "", "response file written by readbench gen")
	input := fs.String("input", "mmap", "where the file is held: mmap (outside the Go heap) or heap")
	fs.Parse(args)
	if *file == "" || (*mode != "stream" && *mode != "unmarshal") || (*input != "mmap" && *input != "heap") {
		usage()
	}
	doc, err := load(*file, *input == "mmap")
	if err != nil {
		return err
	}

	runtime.GC()
	base := heapAlloc()
	var peak uint64
	sample := func() {
		if h := heapAlloc(); h > base && h-base > peak {
			peak = h - base
		}
	}
	res := result{Parser: "go-" + *mode, Bytes: len(doc)}
	start := time.Now()
	switch *mode {
	case "stream":
		keyBytes := 0
		sum, err := soap.ReadLeerlinggegevens(bytes.NewReader(doc), soap.Handler{
			Leerling: func(l *uwlr.Leerling) error {
				res.Pupils++
				keyBytes += len(l.Key)
				if res.Pupils%peakEvery == 0 {
					sample()
				}
				return nil
			},
		})
		sample()
		if err != nil {
			return err
		}
		if sum.Leerlingen != res.Pupils || keyBytes < res.Pupils {
			return fmt.Errorf("stream: %d pupils handled, summary says %d, %d key bytes", res.Pupils, sum.Leerlingen, keyBytes)
		}
	case "unmarshal":
		var env envelope
		if err := xml.Unmarshal(doc, &env); err != nil {
			return err
		}
		sample()
		a := env.Body.Antwoord
		if a == nil || a.Leerlinggegevens == nil {
			return errors.New("unmarshal: no leerlinggegevens in the body")
		}
		keyBytes := 0
		for _, l := range a.Leerlinggegevens.Leerlingen.Leerling {
			res.Pupils++
			keyBytes += len(l.Key)
		}
		if keyBytes < res.Pupils {
			return fmt.Errorf("unmarshal: %d pupils, only %d key bytes", res.Pupils, keyBytes)
		}
		runtime.KeepAlive(&env)
	}
	res.Seconds = time.Since(start).Seconds()
	res.MBPerS = float64(len(doc)) / 1e6 / res.Seconds
	res.PeakRSSMB = maxRSSMiB()
	res.PeakHeapMB = float64(peak) / (1 << 20)
	res.Seconds, res.MBPerS = round(res.Seconds, 4), round(res.MBPerS, 2)
	res.PeakRSSMB, res.PeakHeapMB = round(res.PeakRSSMB, 1), round(res.PeakHeapMB, 1)
	return json.NewEncoder(os.Stdout).Encode(res)
}

// load reads the whole file into memory: an anonymous mapping outside the Go
// heap (offHeap) or an ordinary []byte.
func load(name string, offHeap bool) ([]byte, error) {
	if !offHeap {
		return os.ReadFile(name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("%s is empty", name)
	}
	m, err := syscall.Mmap(-1, 0, int(st.Size()), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", st.Size(), err)
	}
	if _, err := io.ReadFull(f, m); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return m, nil
}

func heapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// maxRSSMiB is this process's peak resident set size in MiB.
func maxRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	if runtime.GOOS == "darwin" {
		return float64(ru.Maxrss) / (1 << 20) // bytes
	}
	return float64(ru.Maxrss) / 1024 // KiB
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
