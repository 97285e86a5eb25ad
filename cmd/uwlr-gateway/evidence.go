package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/service"
)

func (a *app) evidenceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Show and verify the signed evidence of result deliveries (non-repudiation)"}
	cmd.AddCommand(a.evidenceShowCommand(), a.evidenceVerifyCommand(), a.evidenceCertCommand())
	return cmd
}

// findEvidence finds the evidence of a delivery: id is a batch id or an
// evidence id; school narrows the search.
func findEvidence(ctx context.Context, st gateway.Store, school, id string) (gateway.Evidence, error) {
	var schools []gateway.SchoolID
	if school != "" {
		schools = []gateway.SchoolID{gateway.SchoolID(school)}
	} else {
		all, err := st.Schools(ctx)
		if err != nil {
			return gateway.Evidence{}, err
		}
		for _, s := range all {
			schools = append(schools, s.ID)
		}
	}
	for _, s := range schools {
		if e, err := st.Evidence(ctx, s, id); err == nil {
			return e, nil
		} else if !errors.Is(err, gateway.ErrNotFound) {
			return gateway.Evidence{}, err
		}
		b, err := st.Batch(ctx, s, id)
		if errors.Is(err, gateway.ErrNotFound) {
			continue
		} else if err != nil {
			return gateway.Evidence{}, err
		}
		if b.Evidence == "" {
			return gateway.Evidence{}, &exitError{code: exitFailure, err: fmt.Errorf("delivery %s of school %s has no evidence (state %s: only accepted deliveries have)", id, s, b.State)}
		}
		return st.Evidence(ctx, s, b.Evidence)
	}
	return gateway.Evidence{}, &exitError{code: exitFailure, err: fmt.Errorf("no delivery or evidence %s found", id)}
}

// evidenceDoc returns the signed XML document of a record (stored gzipped).
func evidenceDoc(e gateway.Evidence) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(e.Doc))
	if err != nil {
		return nil, fmt.Errorf("evidence %s: %w", e.ID, err)
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

func (a *app) evidenceShowCommand() *cobra.Command {
	var id, school, out string
	cmd := &cobra.Command{Use: "show", Short: "Print the signed evidence XML of a delivery (ECK iDs in it are sealed)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return usageErr("--delivery ID is required (a batch id from `results status`, or an evidence id)")
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			e, err := findEvidence(ctx, st, school, id)
			if err != nil {
				return err
			}
			doc, err := evidenceDoc(e)
			if err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, doc, 0o600); err != nil {
					return &exitError{code: exitFailure, err: err}
				}
				fmt.Fprintf(a.stdout, "evidence %s of delivery %s (school %s, %d results) written to %s\n", e.ID, e.Batch, e.School, len(e.Keys), out)
				return nil
			}
			_, err = a.stdout.Write(doc)
			return err
		}}
	cmd.Flags().StringVar(&id, "delivery", "", "delivery (batch) id or evidence id")
	cmd.Flags().StringVar(&school, "school", "", "school id (default: search every school)")
	cmd.Flags().StringVar(&out, "out", "", "write the XML to this file (0600) instead of stdout")
	return cmd
}

// verifyJSON is one verified record.
type verifyJSON struct {
	Evidence string           `json:"evidence"`
	Delivery string           `json:"delivery,omitempty"`
	School   gateway.SchoolID `json:"school,omitempty"`
	OK       bool             `json:"ok"`
	Error    string           `json:"error,omitempty"`
}

func (a *app) evidenceVerifyCommand() *cobra.Command {
	var id, school, file string
	var asJSON bool
	cmd := &cobra.Command{Use: "verify", Short: "Check evidence signatures: one delivery, a file, a school, or everything", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			certs, err := service.EvidenceCerts(ctx, st)
			if errors.Is(err, gateway.ErrNotFound) {
				return &exitError{code: exitFailure, err: errors.New("no evidence key in this store: nothing was ever delivered")}
			} else if err != nil {
				return err
			}
			var results []verifyJSON
			check := func(e gateway.Evidence, doc []byte) {
				r := verifyJSON{Evidence: e.ID, Delivery: e.Batch, School: e.School, OK: true}
				d, err := evidence.Verify(certs, doc)
				switch {
				case err != nil:
					r.OK, r.Error = false, err.Error()
				case e.ID != "" && (d.ID != e.ID || d.Batch != e.Batch || d.School != e.School):
					r.OK, r.Error = false, fmt.Sprintf("the signed document is evidence %s of delivery %s (school %s), not the record it is stored as", d.ID, d.Batch, d.School)
				case e.ID == "":
					r.Evidence, r.Delivery, r.School = d.ID, d.Batch, d.School
				}
				results = append(results, r)
			}
			switch {
			case file != "":
				doc, err := readInput(a, file)
				if err != nil {
					return err
				}
				check(gateway.Evidence{}, doc)
			case id != "":
				e, err := findEvidence(ctx, st, school, id)
				if err != nil {
					return err
				}
				doc, err := evidenceDoc(e)
				if err != nil {
					return err
				}
				check(e, doc)
			default:
				var schools []gateway.SchoolID
				if school != "" {
					schools = []gateway.SchoolID{gateway.SchoolID(school)}
				} else {
					all, err := st.Schools(ctx)
					if err != nil {
						return err
					}
					for _, s := range all {
						schools = append(schools, s.ID)
					}
				}
				for _, s := range schools {
					var ids []string
					if err := st.WalkEvidence(ctx, s, func(e gateway.Evidence) error { ids = append(ids, e.ID); return nil }); err != nil {
						return err
					}
					for _, eid := range ids {
						e, err := st.Evidence(ctx, s, eid)
						if err != nil {
							return err
						}
						doc, err := evidenceDoc(e)
						if err != nil {
							results = append(results, verifyJSON{Evidence: e.ID, Delivery: e.Batch, School: s, Error: err.Error()})
							continue
						}
						check(e, doc)
					}
				}
			}
			bad := 0
			for _, r := range results {
				if !r.OK {
					bad++
				}
			}
			if asJSON {
				if results == nil {
					results = []verifyJSON{}
				}
				if err := writeJSON(a.stdout, map[string]any{"checked": len(results), "failed": bad, "records": results}); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					if r.OK {
						fmt.Fprintf(a.stdout, "OK   %s (delivery %s, school %s)\n", r.Evidence, r.Delivery, r.School)
					} else {
						fmt.Fprintf(a.stdout, "FAIL %s (delivery %s, school %s): %s\n", r.Evidence, r.Delivery, r.School, r.Error)
					}
				}
				fmt.Fprintf(a.stdout, "%d evidence record(s) checked, %d failed\n", len(results), bad)
			}
			if bad > 0 {
				return errReported
			}
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&id, "delivery", "", "one delivery (batch) id or evidence id")
	f.StringVar(&school, "school", "", "only this school")
	f.StringVar(&file, "file", "", "verify an evidence XML file (e.g. from `evidence show --out`)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) evidenceCertCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{Use: "cert", Short: "Print the certificate (PEM) that evidence and audit exports are signed with", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			kr, err := a.loadKeys()
			if err != nil {
				return err
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			k, err := a.service(st, kr).EvidenceKey(ctx)
			if err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, k.CertPEM(), 0o644); err != nil {
					return &exitError{code: exitFailure, err: err}
				}
				fmt.Fprintf(a.stdout, "certificate written to %s (valid until %s)\n", out, k.Certificate().NotAfter.Format(time.DateOnly))
				return nil
			}
			_, err = a.stdout.Write(k.CertPEM())
			return err
		}}
	cmd.Flags().StringVar(&out, "out", "", "write the PEM to this file")
	return cmd
}
