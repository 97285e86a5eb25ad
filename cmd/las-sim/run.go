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
	"os"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
)

// options are las-sim's flags.
type options struct {
	addr, credsOut, profile, tlsCert, tlsKey, clientCA string
	resultsLog, replay, schooljaar                     string
	schools, pupils, churn                             int
	seed                                               uint64
	latency                                            time.Duration
	faultRate                                          float64
}

// parseFlags returns the options, or the exit code when las-sim must stop.
func parseFlags(args []string, stderr io.Writer) (options, int, bool) {
	var o options
	fs := flag.NewFlagSet("las-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	fs.IntVar(&o.schools, "schools", 3, "number of schools")
	fs.IntVar(&o.pupils, "pupils", 100, "pupils per school")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the synthetic data (same seed, same data)")
	fs.StringVar(&o.credsOut, "credentials-out", "", "write the schools' credentials to this JSON file")
	fs.StringVar(&o.profile, "profile", "standard", "vendor profile: "+strings.Join(lassim.ProfileNames(), "|"))
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM key for --tls-cert")
	fs.StringVar(&o.clientCA, "client-ca", "", "require client certificates signed by this PEM CA (mTLS)")
	fs.StringVar(&o.resultsLog, "results-log", "", "append every received results message to this JSONL file")
	fs.DurationVar(&o.latency, "latency", 0, "delay added to every call")
	fs.Float64Var(&o.faultRate, "fault-rate", 0, "share of calls (0..1) answered with Server.TijdelijkNietBeschikbaar")
	fs.StringVar(&o.replay, "replay", "", "answer data requests with recorded response files from this directory")
	fs.StringVar(&o.schooljaar, "schooljaar", "", "school year the LAS holds data for (default: current, switching on 1 August)")
	fs.IntVar(&o.churn, "churn", 0, "pupils changed after every HaalLeerlinggegevens answer (for laatstontvangengegevens)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, 0, false
		}
		return o, 2, false
	}
	return o, 0, true
}

// check refuses flags that do not go together.
func (o options) check() error {
	switch {
	case o.schools < 1 || o.pupils < 1:
		return errors.New("--schools and --pupils must be at least 1")
	case o.faultRate < 0 || o.faultRate > 1:
		return errors.New("--fault-rate must be between 0 and 1")
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case o.clientCA != "" && o.tlsCert == "":
		return errors.New("--client-ca needs --tls-cert and --tls-key")
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseFlags(args, stderr)
	if !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "las-sim: "+format+"\n", a...)
		return 1
	}
	prof, err := lassim.LookupProfile(o.profile)
	if err != nil {
		return fail("%v", err)
	}
	if err := o.check(); err != nil {
		return fail("%v", err)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fail("listen: %v", err)
	}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	endpoint := fmt.Sprintf("%s://%s%s", scheme, ln.Addr().String(), prof.Path)
	sim, closeLog, err := newSim(o, prof, endpoint)
	if err != nil {
		return fail("%v", err)
	}
	defer closeLog()
	if o.tlsCert != "" {
		if ln, err = tlsListener(ln, o); err != nil {
			return fail("%v", err)
		}
	}
	// The SOAP server's timeouts and header cap (soap.NewHTTPServer).
	srv := sim.HTTPServer(endpoint)
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

// newSim builds the world and the simulator the flags describe, opens the
// results log and writes the credentials file; closeLog closes the log.
func newSim(o options, prof lassim.Profile, endpoint string) (sim *lassim.Sim, closeLog func(), err error) {
	now := time.Now()
	year := o.schooljaar
	if year == "" {
		year = gateway.SchoolYearAt(now)
	}
	world := lassim.NewWorld(lassim.Options{Seed: o.seed, Schools: o.schools, Pupils: o.pupils, Profile: prof,
		Schooljaar: year, Now: now, Endpoint: endpoint})
	sim = lassim.NewSim(world, prof, o.seed)
	sim.Latency, sim.FaultRate, sim.ChurnPerCall = o.latency, o.faultRate, o.churn
	closeLog = func() {}
	if o.replay != "" {
		if sim.Replay, err = lassim.NewReplay(o.replay); err != nil {
			return nil, closeLog, err
		}
	}
	if o.resultsLog != "" {
		// A restarted las-sim remembers the result keys it accepted.
		if old, err := os.Open(o.resultsLog); err == nil {
			_, err = sim.LoadResults(old)
			old.Close()
			if err != nil {
				return nil, closeLog, fmt.Errorf("results log %s: %v", o.resultsLog, err)
			}
		}
		f, err := os.OpenFile(o.resultsLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, closeLog, fmt.Errorf("results log: %v", err)
		}
		closeLog = func() { f.Close() }
		sim.Results = f
	}
	if o.credsOut != "" {
		b, _ := json.MarshalIndent(world.Credentials(), "", "  ")
		if err := os.WriteFile(o.credsOut, append(b, '\n'), 0o600); err != nil {
			closeLog()
			return nil, func() {}, fmt.Errorf("credentials: %v", err)
		}
	}
	return sim, closeLog, nil
}

// tlsListener serves ln over TLS with the flags' certificate and, for
// mTLS, their client CA.
func tlsListener(ln net.Listener, o options) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %v", err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.clientCA != "" {
		pem, err := os.ReadFile(o.clientCA)
		if err != nil {
			return nil, fmt.Errorf("client CA: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s holds no PEM certificate", o.clientCA)
		}
		conf.ClientCAs, conf.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tls.NewListener(ln, conf), nil
}
