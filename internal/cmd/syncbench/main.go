//go:build unix

// Command syncbench measures whole-school syncs (pull.Syncer.Sync: parse, map,
// seal, store) in a fresh process, so the peak RSS it reports belongs to the
// gateway side alone. scripts/bench-sync.sh runs it; it is not part of the
// gateway.
//
//	syncbench gen  --pupils N --out FILE
//	syncbench rss  --pupils N --store bolt|redis [--answer FILE]
//	syncbench file --file FILE --store bolt|redis
//	syncbench many --schools 200 --pupils 300 --latency 100ms --concurrency 16 --store bolt|redis
//
// gen writes the raw HaalLeerlinggegevens answer of a simulated N-pupil school
// (seed 1, standard profile, fixed dates: the bytes of `readbench gen`).
//
// file syncs one school from such a file into a fresh store: a small HTTP
// handler on loopback streams the file from disk for every request, so the
// process holds neither the simulator nor the whole answer; peak RSS is the
// gateway's (the Go runtime, the HTTP client, the reader, mapping, sealing and
// the store's client side; for bolt, the pages of its memory-mapped file that
// were touched; for redis, not the server). It prints one JSON line:
//
//	{"mode":"file","store":"bolt","pupils":50000,"bytes":..,"seconds":..,
//	 "peak_rss_mb":..,"peak_rss_anon_mb":..,"peak_heap_mb":..}
//
// seconds is the Sync call (HTTP read included); peak_rss_mb is getrusage
// ru_maxrss (MiB) at the end; peak_rss_anon_mb is the highest RssAnon of
// /proc/self/status sampled every 1000 pupils (RSS minus file-backed pages,
// which for bolt are its mmap); peak_heap_mb is the highest runtime HeapAlloc
// sampled every 1000 pupils and at the end, in MiB (not minus a baseline).
//
// rss is file for an N-pupil school: it first runs `syncbench gen` in a child
// process (so the simulator's memory never enters this one) unless --answer
// names an existing file, which it then reuses (or writes, when missing).
//
// many generates a las-sim world of --schools schools of --pupils pupils in
// this process, serves it on loopback with --latency added to every call, and
// syncs every school once with a pool of --concurrency workers, each school
// with its own soap.Client from its Credentials.Connection(); it prints the
// wall time, the floor schools x latency / concurrency, their ratio and the
// process's CPU time (user + system) during the syncs. The simulator shares
// the CPUs with the syncs here, and its CPU time is in cpu_seconds.
//
// Redis: $REDIS_URL (default redis://127.0.0.1:6379/0), a fresh key prefix per
// run; every key under it is deleted at the end with SCAN + DEL (never FLUSH).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

const schooljaar = "2024-2025"

var dataNow = time.Date(2024, 10, 1, 8, 0, 0, 0, time.UTC)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "rss":
		err = rss(os.Args[2:])
	case "file":
		err = file(os.Args[2:])
	case "many":
		err = many(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "syncbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: syncbench gen  --pupils N --out FILE
       syncbench rss  --pupils N --store bolt|redis [--answer FILE]
       syncbench file --file FILE --store bolt|redis
       syncbench many --schools N --pupils N --latency D --concurrency N --store bolt|redis`)
	os.Exit(2)
}

func worldOpts(pupils int) lassim.Options {
	return lassim.Options{Seed: 1, Schools: 1, Pupils: pupils, Schooljaar: schooljaar, Now: dataNow}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	pupils := fs.Int("pupils", 1000, "pupils in the simulated school")
	out := fs.String("out", "", "file to write the answer to")
	fs.Parse(args)
	if *out == "" || *pupils < 1 {
		usage()
	}
	doc, err := lassim.RecordAnswer(context.Background(), worldOpts(*pupils))
	if err != nil {
		return err
	}
	return os.WriteFile(*out, doc, 0o644)
}

// stores

type benchStore struct {
	st    gateway.Store
	close func() error
}

func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

func openStore(ctx context.Context, kind, dir string) (benchStore, error) {
	switch kind {
	case "bolt":
		st, err := boltstore.Open(filepath.Join(dir, "gateway.db"), boltstore.Options{})
		if err != nil {
			return benchStore{}, err
		}
		return benchStore{st: st, close: st.Close}, nil
	case "redis":
		var r [8]byte
		_, _ = rand.Read(r[:])
		prefix := "uwlrbench:" + hex.EncodeToString(r[:]) + ":"
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		st, err := redisstore.Open(octx, redisURL(), prefix)
		if err != nil {
			return benchStore{}, err
		}
		return benchStore{st: st, close: func() error {
			err := st.Close()
			if derr := deletePrefix(redisURL(), prefix); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete keys under %s: %w", prefix, derr))
			}
			return err
		}}, nil
	}
	return benchStore{}, fmt.Errorf("unknown store %q (bolt or redis)", kind)
}

// addSchool puts a school with these credentials into st, with las_exchange granted.
func addSchool(ctx context.Context, st gateway.Store, sealer *vault.Sealer, c lassim.Credentials, endpoint string) (gateway.School, error) {
	id := gateway.SchoolIDFor(c.Brin, c.Dependancecode, "")
	sealed, err := sealer.Seal(vault.SchoolSecret(id, vault.FieldAutorisatiesleutel), []byte(c.Autorisatiesleutel))
	if err != nil {
		return gateway.School{}, err
	}
	s := gateway.School{ID: id, Brin: c.Brin, Dependancecode: c.Dependancecode, Vendor: c.Profile, Endpoint: endpoint,
		Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Xsdversie: c.Xsdversie, SealedKey: sealed}
	if err := st.PutSchool(ctx, s); err != nil {
		return gateway.School{}, err
	}
	if _, _, err := consent.New(st, nil).Set(ctx, id, gateway.ProcessingLASExchange, true, "syncbench"); err != nil {
		return gateway.School{}, err
	}
	return s, nil
}

// one school from a file

type fileResult struct {
	Mode          string  `json:"mode"`
	Store         string  `json:"store"`
	Pupils        int     `json:"pupils"`
	Bytes         int64   `json:"bytes"`
	Status        string  `json:"status"`
	Seconds       float64 `json:"seconds"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	PeakRSSAnonMB float64 `json:"peak_rss_anon_mb"`
	PeakHeapMB    float64 `json:"peak_heap_mb"`
	CPUSeconds    float64 `json:"cpu_seconds"`
}

func file(args []string) error {
	fs := flag.NewFlagSet("file", flag.ExitOnError)
	name := fs.String("file", "", "answer file written by `syncbench gen` or `readbench gen`")
	store := fs.String("store", "bolt", "bolt or redis")
	fs.Parse(args)
	if *name == "" {
		usage()
	}
	return syncFile("file", *name, *store, 0)
}

func rss(args []string) error {
	fs := flag.NewFlagSet("rss", flag.ExitOnError)
	pupils := fs.Int("pupils", 10000, "pupils in the simulated school")
	store := fs.String("store", "bolt", "bolt or redis")
	answer := fs.String("answer", "", "answer file to reuse (written first when missing)")
	fs.Parse(args)
	name := *answer
	if name == "" {
		dir, err := os.MkdirTemp("", "syncbench-answer")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		name = filepath.Join(dir, "answer.xml")
	}
	if _, err := os.Stat(name); err != nil {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.Command(self, "gen", "--pupils", strconv.Itoa(*pupils), "--out", name)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	return syncFile("rss", name, *store, *pupils)
}

func syncFile(mode, name, kind string, want int) error {
	ctx := context.Background()
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	// Serve the file from disk for every request: nothing of it stays here
	// but the copy buffers.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		f, err := os.Open(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
		io.Copy(w, f)
	}))
	defer srv.Close()
	endpoint := srv.URL + lassim.Profiles["standard"].Path

	dir, err := os.MkdirTemp("", "syncbench-store")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bs, err := openStore(ctx, kind, dir)
	if err != nil {
		return err
	}
	keys, err := vault.Generate(rand.Reader, time.Now())
	if err != nil {
		bs.close()
		return err
	}
	o := worldOpts(1) // the same seed: the same brin and key as the file's school
	o.Endpoint = endpoint
	creds := lassim.NewWorld(o).Schools[0].Creds
	school, err := addSchool(ctx, bs.st, keys.Sealer(), creds, endpoint)
	if err != nil {
		bs.close()
		return err
	}
	client := soap.NewClient(nil, creds.Connection())
	sy := &pull.Syncer{Store: bs.st, Sealer: keys.Sealer(), Consent: consent.New(bs.st, nil), Thresholds: pull.DefaultThresholds}

	var peakHeap, peakAnon uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapAlloc)
		peakAnon = max(peakAnon, rssAnon())
	}
	runtime.GC()
	sample()
	cpu0 := cpuSeconds()
	start := time.Now()
	res, err := sy.Sync(ctx, school, client, pull.Options{Schooljaar: schooljaar, Progress: func(int) { sample() }})
	secs := time.Since(start).Seconds()
	sample()
	out := fileResult{Mode: mode, Store: kind, Pupils: res.Run.Pupils, Bytes: st.Size(), Status: string(res.Run.Status),
		Seconds: round(secs, 3), PeakRSSMB: round(maxRSSMiB(), 1), PeakRSSAnonMB: round(float64(peakAnon)/(1<<20), 1),
		PeakHeapMB: round(float64(peakHeap)/(1<<20), 1), CPUSeconds: round(cpuSeconds()-cpu0, 3)}
	if cerr := bs.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if res.Run.Status != gateway.SyncApplied || (want > 0 && res.Run.Pupils != want) {
		return fmt.Errorf("sync = %s with %d pupils, want applied with %d", res.Run.Status, res.Run.Pupils, want)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// many schools against las-sim

type manyResult struct {
	Mode        string  `json:"mode"`
	Store       string  `json:"store"`
	Schools     int     `json:"schools"`
	Pupils      int     `json:"pupils"`
	LatencyMS   float64 `json:"latency_ms"`
	Concurrency int     `json:"concurrency"`
	Applied     int     `json:"applied"`
	Failed      int     `json:"failed"`
	WallSeconds float64 `json:"wall_seconds"`
	FloorSecs   float64 `json:"floor_seconds"`
	Ratio       float64 `json:"ratio"`
	SlowestSecs float64 `json:"slowest_sync_seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

func many(args []string) error {
	fs := flag.NewFlagSet("many", flag.ExitOnError)
	schools := fs.Int("schools", 200, "schools")
	pupils := fs.Int("pupils", 300, "pupils per school")
	latency := fs.Duration("latency", 100*time.Millisecond, "latency las-sim adds to every call")
	conc := fs.Int("concurrency", 16, "concurrent syncs")
	kind := fs.String("store", "bolt", "bolt or redis")
	fs.Parse(args)
	if *schools < 1 || *pupils < 1 || *conc < 1 {
		usage()
	}
	ctx := context.Background()

	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	prof := lassim.Profiles["standard"]
	endpoint := srv.URL + prof.Path
	world := lassim.NewWorld(lassim.Options{Seed: 7, Schools: *schools, Pupils: *pupils, Profile: prof,
		Schooljaar: schooljaar, Now: dataNow, Endpoint: endpoint})
	sim := lassim.NewSim(world, prof, 7)
	sim.Latency = *latency
	h = sim.Handler(endpoint)

	dir, err := os.MkdirTemp("", "syncbench-store")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bs, err := openStore(ctx, *kind, dir)
	if err != nil {
		return err
	}
	keys, err := vault.Generate(rand.Reader, time.Now())
	if err != nil {
		bs.close()
		return err
	}
	type job struct {
		school gateway.School
		client *soap.Client
	}
	jobs := make([]job, 0, *schools)
	for _, sch := range world.Schools {
		s, err := addSchool(ctx, bs.st, keys.Sealer(), sch.Creds, endpoint)
		if err != nil {
			bs.close()
			return err
		}
		jobs = append(jobs, job{s, soap.NewClient(nil, sch.Creds.Connection())})
	}
	sy := &pull.Syncer{Store: bs.st, Sealer: keys.Sealer(), Consent: consent.New(bs.st, nil), Thresholds: pull.DefaultThresholds}

	var applied, failed atomic.Int64
	var slowest atomic.Int64
	var firstErr error
	var errOnce sync.Once
	ch := make(chan job)
	var wg sync.WaitGroup
	cpu0 := cpuSeconds()
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				t0 := time.Now()
				res, err := sy.Sync(ctx, j.school, j.client, pull.Options{Schooljaar: schooljaar})
				d := int64(time.Since(t0))
				for {
					cur := slowest.Load()
					if d <= cur || slowest.CompareAndSwap(cur, d) {
						break
					}
				}
				if err != nil || res.Run.Status != gateway.SyncApplied || res.Run.Pupils != *pupils {
					failed.Add(1)
					errOnce.Do(func() {
						firstErr = fmt.Errorf("school %s: %s, %d pupils: %v", j.school.ID, res.Run.Status, res.Run.Pupils, err)
					})
					continue
				}
				applied.Add(1)
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	wall := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpu0
	floor := float64(*schools) * latency.Seconds() / float64(*conc)
	out := manyResult{Mode: "many", Store: *kind, Schools: *schools, Pupils: *pupils, LatencyMS: float64(latency.Milliseconds()),
		Concurrency: *conc, Applied: int(applied.Load()), Failed: int(failed.Load()), WallSeconds: round(wall, 3),
		FloorSecs: round(floor, 3), SlowestSecs: round(time.Duration(slowest.Load()).Seconds(), 3), PeakRSSMB: round(maxRSSMiB(), 1),
		CPUSeconds: round(cpu, 2)}
	if floor > 0 {
		out.Ratio = round(wall/floor, 2)
	}
	if err := bs.close(); err != nil {
		return err
	}
	if firstErr != nil {
		json.NewEncoder(os.Stdout).Encode(out)
		return firstErr
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// memory

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

// cpuSeconds is this process's user + system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// rssAnon is RssAnon of /proc/self/status in bytes (0 where there is none).
func rssAnon() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// Redis cleanup: a minimal RESP client (SCAN + DEL), so this command needs no
// Redis library of its own (only redisstore may import one).

func deletePrefix(rawURL, prefix string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	var conn net.Conn
	switch u.Scheme {
	case "redis":
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "6379")
		}
		conn, err = net.DialTimeout("tcp", host, 5*time.Second)
	case "unix":
		conn, err = net.DialTimeout("unix", u.Path, 5*time.Second)
	default:
		return fmt.Errorf("cleanup supports redis:// and unix:// URLs, not %s://", u.Scheme)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	rd := bufio.NewReader(conn)
	cmd := func(args ...string) (any, error) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(conn, b.String()); err != nil {
			return nil, err
		}
		return readRESP(rd)
	}
	if pw, ok := u.User.Password(); ok {
		args := []string{"AUTH", pw}
		if name := u.User.Username(); name != "" {
			args = []string{"AUTH", name, pw}
		}
		if _, err := cmd(args...); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	db := strings.TrimPrefix(u.Path, "/")
	if u.Scheme == "unix" {
		db = u.Query().Get("db")
	}
	if db != "" && db != "0" {
		if _, err := cmd("SELECT", db); err != nil {
			return fmt.Errorf("SELECT: %w", err)
		}
	}
	match := globEscape(prefix) + "*"
	cursor := "0"
	for {
		r, err := cmd("SCAN", cursor, "MATCH", match, "COUNT", "1000")
		if err != nil {
			return fmt.Errorf("SCAN: %w", err)
		}
		arr, ok := r.([]any)
		if !ok || len(arr) != 2 {
			return fmt.Errorf("SCAN: unexpected reply %v", r)
		}
		cursor, _ = arr[0].(string)
		ks, _ := arr[1].([]any)
		if len(ks) > 0 {
			args := []string{"DEL"}
			for _, k := range ks {
				s, _ := k.(string)
				if !strings.HasPrefix(s, prefix) {
					continue
				}
				args = append(args, s)
			}
			if len(args) > 1 {
				if _, err := cmd(args...); err != nil {
					return fmt.Errorf("DEL: %w", err)
				}
			}
		}
		if cursor == "0" || cursor == "" {
			return nil
		}
	}
}

func readRESP(rd *bufio.Reader) (any, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty RESP line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(rd); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown RESP type %q", line[0])
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
