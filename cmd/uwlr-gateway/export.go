package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

func (c *edge) studyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "study", Short: "Research studies a school takes part in (pseudonymised exports under research)"}
	cmd.AddCommand(c.studyAddCommand(), c.studyListCommand())
	return cmd
}

func (c *edge) studyAddCommand() *cobra.Command {
	var id, by, fields string
	var in app.StudyInput
	var asJSON bool
	cmd := &cobra.Command{Use: "add", Short: "Register a study for one school, with a pseudonym key of its own", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			if fields != "" {
				in.Fields = strings.Split(fields, ",")
			}
			st, err := a.AddStudy(ctx, gateway.SchoolID(id), in, operator(by).String())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, st)
			}
			fmt.Fprintf(c.stdout, "school %s: study %s registered (k=%d, until %s, to %s)\n", id, soap.OneLine(st.Name), st.K, st.Until, st.Recipient)
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringVar(&in.Name, "name", "", "the study's name")
	f.StringVar(&in.Purpose, "purpose", "", "what the study is for (shown in every export's manifest)")
	f.StringVar(&in.Recipient, "recipient", "", "the school's research recipient the exports go to (kind file or webhook)")
	f.StringVar(&in.Until, "until", "", "the last day the study may export (YYYY-MM-DD)")
	f.IntVar(&in.K, "k", app.DefaultK, "minimum group size on the quasi-identifiers (school, jaargroep, gender, birth year); at least 2")
	f.StringVar(&fields, "fields", "", "comma-separated fields (birth_year or age, gender, jaargroep, school, test, part, date, score; default all but school and age)")
	byFlag(cmd, &by)
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) studyListCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List the school's studies", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			sts, err := a.Studies(ctx, gateway.SchoolID(id))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, sts)
			}
			for _, st := range sts {
				fmt.Fprintf(c.stdout, "%s  k=%d  until %s  to %s  %s\n", soap.OneLine(st.Name), st.K, st.Until, st.Recipient, soap.OneLine(st.Purpose))
			}
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) exportCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Exports under research and legal (each only while the school grants it; exit 3 otherwise)"}
	cmd.AddCommand(c.exportResearchCommand(), c.exportLegalCommand())
	return cmd
}

func (c *edge) exportResearchCommand() *cobra.Command {
	var id, study, dir, by string
	var asJSON bool
	cmd := &cobra.Command{Use: "research", Short: "Write a study's pseudonymised export (Frictionless Data Package, signed manifest) to a directory",
		Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			ex, err := a.ExportResearch(ctx, gateway.SchoolID(id), study, dir != "", operator(by).String())
			if err != nil {
				return err
			}
			if ex.Queued == "" {
				if err := writeFiles(dir, ex.Files); err != nil {
					return err
				}
			}
			if asJSON {
				ex.Files = nil // written to DIR, not printed
				return writeJSON(c.stdout, ex)
			}
			if ex.Queued != "" {
				fmt.Fprintf(c.stdout, "school %s: study %s queued for its webhook as batch %s%s (deliver or serve sends it)\n", id, soap.OneLine(study),
					ex.Queued, map[bool]string{true: ", held until research is granted"}[ex.Held])
				return nil
			}
			m := ex.Manifest
			fmt.Fprintf(c.stdout, "school %s: study %s exported to %s: %d pupils, %d results (k=%d; %d pupils and %d results suppressed",
				id, soap.OneLine(study), dir, m.Pupils, m.Results, m.K, m.SuppressedPupils, m.SuppressedResults)
			if len(m.Generalised) > 0 {
				fmt.Fprintf(c.stdout, "; generalised: %s", strings.Join(m.Generalised, ", "))
			}
			fmt.Fprintf(c.stdout, "); evidence %s\n", ex.Evidence)
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringVar(&study, "study", "", "the study's name")
	f.StringVar(&dir, "out", "", "directory to write the export to (created; files of the same names are replaced); a study whose recipient is a webhook is queued instead and takes no --out")
	byFlag(cmd, &by)
	f.BoolVar(&asJSON, "json", false, "print JSON (the manifest)")
	return cmd
}

func (c *edge) exportLegalCommand() *cobra.Command {
	var id, basis, out, by string
	var asJSON bool
	cmd := &cobra.Command{Use: "legal", Short: "Write a disclosure under a configured legal basis (legal.bases): exactly its fields, as CSV",
		Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			ex, err := a.ExportLegal(ctx, gateway.SchoolID(id), basis, out != "", operator(by).String())
			if err != nil {
				return err
			}
			if ex.Queued == "" {
				if err := writeFileAtomic(out, ex.CSV); err != nil {
					return err
				}
				if err := writeFileAtomic(out+".evidence.xml", ex.Signed); err != nil {
					return err
				}
			}
			if asJSON {
				ex.CSV, ex.Signed = nil, nil // written to FILE, not printed
				return writeJSON(c.stdout, ex)
			}
			if ex.Queued != "" {
				fmt.Fprintf(c.stdout, "school %s: disclosure under %s queued for its webhook as batch %s%s (deliver or serve sends it)\n", id,
					soap.OneLine(basis), ex.Queued, map[bool]string{true: ", held until legal is granted"}[ex.Held])
				return nil
			}
			fmt.Fprintf(c.stdout, "school %s: %d records disclosed under %s to %s (signed evidence %s.evidence.xml)\n",
				id, ex.Records, soap.OneLine(basis), out, out)
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringVar(&basis, "basis", "", "the legal basis (a name from legal.bases)")
	f.StringVar(&out, "out", "", "the CSV file to write (its signed evidence goes beside it, FILE.evidence.xml); a basis whose recipient is a webhook is queued instead and takes no --out")
	byFlag(cmd, &by)
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// writeFiles writes files into dir (created), each atomically.
func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := writeFileAtomic(filepath.Join(dir, n), files[n]); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes a file readable by its owner only, through a
// temporary file renamed into place.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
