package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("las-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr       = fs.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
		schools    = fs.Int("schools", 3, "number of schools")
		pupils     = fs.Int("pupils", 100, "pupils per school")
		seed       = fs.Uint64("seed", 1, "seed for the synthetic data (same seed, same data)")
		credsOut   = fs.String("credentials-out", "", "write the schools' credentials to this JSON file")
		profile    = fs.String("profile", "standard", "vendor profile: "+strings.Join(lassim.ProfileNames(), "|"))
		tlsCert    = fs.String("tls-cert", "", "serve HTTPS with this PEM certificate")
		tlsKey     = fs.String("tls-key", "", "PEM key for --tls-cert")
		clientCA   = fs.String("client-ca", "", "require client certificates signed by this PEM CA (mTLS)")
		resultsLog = fs.String("results-log", "", "append every received results message to this JSONL file")
		latency    = fs.Duration("latency", 0, "delay added to every call")
		faultRate  = fs.Float64("fault-rate", 0, "share of calls (0..1) answered with Server.TijdelijkNietBeschikbaar")
		replay     = fs.String("replay", "", "answer data requests with recorded response files from this directory")
		schooljaar = fs.String("schooljaar", "", "school year the LAS holds data for (default: current, switching on 1 August)")
		churn      = fs.Int("churn", 0, "pupils changed after every HaalLeerlinggegevens answer (for laatstontvangengegevens)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "las-sim: "+format+"\n", a...)
		return 1
	}
	prof, err := lassim.LookupProfile(*profile)
	if err != nil {
		return fail("%v", err)
	}
	if *schools < 1 || *pupils < 1 {
		return fail("--schools and --pupils must be at least 1")
	}
	if *faultRate < 0 || *faultRate > 1 {
		return fail("--fault-rate must be between 0 and 1")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return fail("--tls-cert and --tls-key go together")
	}
	if *clientCA != "" && *tlsCert == "" {
		return fail("--client-ca needs --tls-cert and --tls-key")
	}
	now := time.Now()
	year := *schooljaar
	if year == "" {
		year = gateway.SchoolYearAt(now)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail("listen: %v", err)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	endpoint := fmt.Sprintf("%s://%s%s", scheme, ln.Addr().String(), prof.Path)

	world := lassim.NewWorld(lassim.Options{Seed: *seed, Schools: *schools, Pupils: *pupils, Profile: prof,
		Schooljaar: year, Now: now, Endpoint: endpoint})
	sim := lassim.NewSim(world, prof, *seed)
	sim.Latency, sim.FaultRate, sim.ChurnPerCall = *latency, *faultRate, *churn
	if *replay != "" {
		if sim.Replay, err = lassim.NewReplay(*replay); err != nil {
			return fail("%v", err)
		}
	}
	if *resultsLog != "" {
		// A restarted las-sim remembers the result keys it accepted.
		if old, err := os.Open(*resultsLog); err == nil {
			_, err = sim.LoadResults(old)
			old.Close()
			if err != nil {
				return fail("results log %s: %v", *resultsLog, err)
			}
		}
		f, err := os.OpenFile(*resultsLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fail("results log: %v", err)
		}
		defer f.Close()
		sim.Results = f
	}
	if *credsOut != "" {
		b, _ := json.MarshalIndent(world.Credentials(), "", "  ")
		if err := os.WriteFile(*credsOut, append(b, '\n'), 0o600); err != nil {
			return fail("credentials: %v", err)
		}
	}

	srv := &http.Server{Handler: sim.Handler(endpoint), ReadHeaderTimeout: 10 * time.Second}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fail("TLS certificate: %v", err)
		}
		conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if *clientCA != "" {
			pem, err := os.ReadFile(*clientCA)
			if err != nil {
				return fail("client CA: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fail("client CA %s holds no PEM certificate", *clientCA)
			}
			conf.ClientCAs, conf.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		ln = tls.NewListener(ln, conf)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on %s\n", endpoint)
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	select {
	case err := <-errc:
		return fail("serve: %v", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fail("shutdown: %v", err)
	}
	return 0
}
