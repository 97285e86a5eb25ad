package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/service"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the vault keys that seal ECK iDs and secrets"}
	cmd.AddCommand(a.keysGenerateCommand(), a.keysRotateCommand(), a.keysRewrapCommand())
	return cmd
}

func (a *app) keysGenerateCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{Use: "generate", Short: "Create a new key file (0600); never overwrites", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErr("--out FILE is required")
			}
			kr, err := vault.Generate(rand.Reader, time.Now())
			if err != nil {
				return err
			}
			if err := kr.SaveNew(out); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			fmt.Fprintf(a.stdout, "key file %s created (term %d active); keep a backup: without it sealed data cannot be opened\n", out, kr.ActiveTerm())
			a.auditKeys(cmd.Context(), gateway.AuditKeyGenerate, map[string]string{"key": "vault key file", "active_term": fmt.Sprint(kr.ActiveTerm())})
			return nil
		}}
	cmd.Flags().StringVar(&out, "out", "", "key file to create")
	return cmd
}

func (a *app) keysRotateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "rotate", Short: "Add a new active key term (old terms still open old data)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := a.keysPath()
			if path == "" {
				return usageErr("keys rotate needs the key file: --vault-keys FILE")
			}
			kr, err := a.loadKeys()
			if err != nil {
				return err
			}
			next, err := kr.Rotate(rand.Reader, time.Now())
			if err != nil {
				return err
			}
			if err := next.Save(path); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			fmt.Fprintf(a.stdout, "term %d is now active (terms %v); run `keys rewrap` to re-seal older data\n", next.ActiveTerm(), next.Terms())
			a.auditKeys(cmd.Context(), gateway.AuditKeyRotate, map[string]string{"active_term": fmt.Sprint(next.ActiveTerm()), "terms": fmt.Sprint(next.Terms())})
			return nil
		}}
	return cmd
}

func (a *app) keysRewrapCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "rewrap", Short: "Re-seal everything with the active term (resumable: done schools are skipped)", Args: cobra.NoArgs,
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
			schools, err := st.Schools(ctx)
			if err != nil {
				return err
			}
			tty := isTerminal(a.stderr)
			total, skipped := 0, 0
			for i, s := range schools {
				if tty {
					fmt.Fprintf(a.stderr, "\rrewrap [%d/%d] %s ", i+1, len(schools), s.ID)
				}
				n, err := rewrapSchool(ctx, st, kr, s)
				total += n // the school secret may be re-sealed before a hold is found
				if errors.Is(err, errHeld) {
					skipped++
					fmt.Fprintf(a.stdout, "%s: skipped: a held sync is waiting (approve it, then run rewrap again)\n", s.ID)
					continue
				}
				if err != nil {
					return fmt.Errorf("rewrap %s: %w (already re-sealed schools stay done; run again to resume)", s.ID, err)
				}
			}
			if tty {
				fmt.Fprintln(a.stderr)
			}
			n, err := service.RewrapEvidenceKey(ctx, st, kr)
			if err != nil {
				return fmt.Errorf("rewrap the evidence key: %w", err)
			}
			total += n
			if _, err := a.auditLog(st).Gateway(ctx, gateway.AuditKeyRewrap, "cli", map[string]string{"values": fmt.Sprint(total),
				"schools": fmt.Sprint(len(schools) - skipped), "skipped": fmt.Sprint(skipped), "active_term": fmt.Sprint(kr.ActiveTerm())}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "re-sealed %d values in %d schools with term %d", total, len(schools)-skipped, kr.ActiveTerm())
			if skipped > 0 {
				fmt.Fprintf(a.stdout, "; %d schools skipped", skipped)
			}
			fmt.Fprintln(a.stdout)
			if skipped > 0 {
				return errReported
			}
			return nil
		}}
	return cmd
}

var errHeld = errors.New("held sync pending")

// auditKeys records a key event on the gateway chain of the configured
// store. Key files live outside the store and are often made before it:
// an embedded store that does not exist yet is not created for this (the
// key file keeps each term's creation time); the command says so.
func (a *app) auditKeys(ctx context.Context, kind gateway.AuditKind, details map[string]string) {
	if or(a.sf.driver, a.cfg.Store.Driver) == "bolt" {
		if _, err := os.Stat(filepath.Join(a.dataDir(), "gateway.db")); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(a.stderr, "note: %s not recorded in an audit log: no store exists yet in %s\n", kind, a.dataDir())
			return
		}
	}
	st, err := a.openStore(ctx)
	if err == nil {
		defer st.Close()
		_, err = a.auditLog(st).Gateway(ctx, kind, "cli", details)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "warning: %s not recorded in the audit log: %v\n", kind, err)
	}
}

// rewrapSchool re-seals one school's secret and ECK iDs. The snapshot is
// copied into a stage and swapped atomically, so a crash leaves either the
// old or the re-sealed snapshot; a school already on the active term is left
// alone, which makes the command resumable.
func rewrapSchool(ctx context.Context, st gateway.Store, kr *vault.Keyring, s gateway.School) (int, error) {
	n := 0
	sealed, changed, err := kr.Rewrap(schoolKeyPlace(s.ID), s.SealedKey)
	if err != nil {
		return 0, err
	}
	if changed {
		s.SealedKey = sealed
		n++
	}
	if s.Results != nil && len(s.Results.SealedKey) > 0 {
		v, ch, err := kr.Rewrap(vault.SchoolSecret(s.ID, service.FieldResultsKey), s.Results.SealedKey)
		if err != nil {
			return 0, err
		}
		if ch {
			r := *s.Results
			r.SealedKey = v
			s.Results = &r
			changed = true
			n++
		}
	}
	if len(s.SealedKeyPassphrase) > 0 {
		v, ch, err := kr.Rewrap(vault.SchoolSecret(s.ID, vault.FieldKeyPassphrase), s.SealedKeyPassphrase)
		if err != nil {
			return 0, err
		}
		if ch {
			s.SealedKeyPassphrase = v
			changed = true
			n++
		}
	}
	if changed {
		if err := st.PutSchool(ctx, s); err != nil {
			return 0, err
		}
	}
	// Is there anything sealed with an old term?
	stale := false
	err = st.Pupils(ctx, s.ID, func(p gateway.Pupil) error {
		if len(p.SealedEckID) > 0 && vault.TermOf(p.SealedEckID) != kr.ActiveTerm() {
			stale = true
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	teachers, err := st.Teachers(ctx, s.ID)
	if err != nil {
		return n, err
	}
	for _, t := range teachers {
		if len(t.SealedEckID) > 0 && vault.TermOf(t.SealedEckID) != kr.ActiveTerm() {
			stale = true
		}
	}
	if !stale {
		return n, nil
	}
	if _, err := st.StagedRun(ctx, s.ID); err == nil {
		return n, errHeld
	} else if !errors.Is(err, gateway.ErrNotFound) {
		return n, err
	}
	stage, err := st.Stage(ctx, s.ID, fmt.Sprintf("rewrap_%d", time.Now().UnixNano()))
	if err != nil {
		return n, err
	}
	batch := make([]gateway.Pupil, 0, 1000)
	err = st.Pupils(ctx, s.ID, func(p gateway.Pupil) error {
		if len(p.SealedEckID) > 0 {
			v, ch, err := kr.Rewrap(vault.Place{Kind: "pupil", School: s.ID, Record: string(p.ID), Field: "eckid"}, p.SealedEckID)
			if err != nil {
				return fmt.Errorf("pupil %s: %w", p.ID, err)
			}
			if ch {
				p.SealedEckID = v
				n++
			}
		}
		batch = append(batch, p)
		if len(batch) == cap(batch) {
			if err := stage.PutPupils(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = stage.PutPupils(ctx, batch)
	}
	if err == nil {
		for i, t := range teachers {
			if len(t.SealedEckID) == 0 {
				continue
			}
			v, ch, rerr := kr.Rewrap(vault.Place{Kind: "teacher", School: s.ID, Record: t.Key, Field: "eckid"}, t.SealedEckID)
			if rerr != nil {
				err = fmt.Errorf("teacher %s: %w", t.Key, rerr)
				break
			}
			if ch {
				teachers[i].SealedEckID = v
				n++
			}
		}
	}
	if err == nil {
		err = stage.PutTeachers(ctx, teachers)
	}
	if err == nil {
		var gs []gateway.Group
		var cs []gateway.CompositeGroup
		if gs, cs, err = st.Groups(ctx, s.ID); err == nil {
			err = stage.PutGroups(ctx, gs, cs)
		}
	}
	if err != nil {
		_ = stage.Discard(context.WithoutCancel(ctx))
		return n, err
	}
	return n, stage.Commit(ctx)
}
