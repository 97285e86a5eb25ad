package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/research"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// DefaultK is the minimum group size of a study that names none.
const DefaultK = 5

// StudyInput registers a study (K 0: DefaultK).
type StudyInput = gateway.StudyInput

func studyPlace(id gateway.SchoolID, name string) vault.Place {
	return vault.SchoolSecret(id, "study/"+name+"/key")
}

// AddStudy registers a research study for the school with a fresh
// pseudonym key of its own (sealed). The recipient must be one of the
// school's research recipients of kind file or webhook. Bad input is
// ErrInvalid and stores nothing; a name already used is ErrConflict.
func (a *App) AddStudy(ctx context.Context, id gateway.SchoolID, in StudyInput, by string) (gateway.StudyView, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.StudyView{}, err
	}
	if in.K == 0 {
		in.K = DefaultK
	}
	st := gateway.Study{Name: strings.TrimSpace(in.Name), Purpose: strings.TrimSpace(in.Purpose), Recipient: in.Recipient,
		Until: in.Until, K: in.K, Fields: in.Fields, CreatedAt: a.now().UTC(), CreatedBy: or(by, "cli")}
	if err := researchStudy(id, st).Validate(); err != nil {
		return gateway.StudyView{}, invalid(err)
	}
	if today := a.now().In(gateway.Amsterdam).Format(time.DateOnly); st.Until < today {
		return gateway.StudyView{}, invalidf("study %q: --until %s is past (today is %s)", st.Name, st.Until, today)
	}
	if r, ok := s.Recipient(in.Recipient); !ok || r.Processing != gateway.ProcessingResearch ||
		(r.Kind != gateway.RecipientFile && r.Kind != gateway.RecipientWebhook) {
		return gateway.StudyView{}, invalidf("study %q: school %s has no research recipient %q of kind file or webhook (recipient add --processing research)", st.Name, id, in.Recipient)
	}
	key := make([]byte, research.KeySize)
	if _, err := io.ReadFull(a.o.Random, key); err != nil {
		return gateway.StudyView{}, err
	}
	kr, err := a.keyring()
	if err != nil {
		return gateway.StudyView{}, err
	}
	if st.SealedKey, err = kr.Sealer().Seal(studyPlace(id, st.Name), key); err != nil {
		return gateway.StudyView{}, err
	}
	_, err = a.st.UpdateSchool(ctx, id, func(x *gateway.School) error {
		if _, dup := x.Study(st.Name); dup {
			return fmt.Errorf("school %s already has a study %q: %w", id, st.Name, gateway.ErrConflict)
		}
		x.Studies = append(x.Studies, st)
		return nil
	})
	if err != nil {
		return gateway.StudyView{}, err
	}
	_, err = a.log.School(ctx, id, gateway.AuditStudy, st.CreatedBy, map[string]string{"action": "add", "study": st.Name,
		"recipient": st.Recipient, "until": st.Until, "k": strconv.Itoa(st.K), "fields": strings.Join(st.Fields, ",")})
	return st.View(), err
}

// researchStudy is a stored study as package research takes it.
func researchStudy(id gateway.SchoolID, s gateway.Study) research.Study {
	return research.Study{School: id, Name: s.Name, Purpose: s.Purpose, Recipient: s.Recipient, Until: s.Until, K: s.K, Fields: s.Fields}
}

// Studies lists the school's studies.
func (a *App) Studies(ctx context.Context, id gateway.SchoolID) ([]gateway.StudyView, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []gateway.StudyView{}
	for _, st := range s.Studies {
		out = append(out, st.View())
	}
	return out, nil
}

// ResearchExport is one pseudonymised export of a study: its files (the
// CSVs, datapackage.json, manifest.json and the signed manifest.xml) and
// manifest, or the export batch that will push it to a webhook recipient.
type ResearchExport = gateway.ResearchExportResult

// ExportResearch makes a study's pseudonymised export of the school: only
// while the school grants research (checked when it starts and again
// before the data is handed out), refused after the study's last day. The
// export is on the school's audit chain before it is returned, and its
// signed manifest is kept as evidence.
//
// A study whose recipient is a webhook is not written but queued (toFiles
// false); one whose recipient takes files needs toFiles.
func (a *App) ExportResearch(ctx context.Context, id gateway.SchoolID, study string, toFiles bool, by string) (ResearchExport, error) {
	out := ResearchExport{School: id}
	s, err := a.school(ctx, id)
	if err != nil {
		return out, err
	}
	st, ok := s.Study(study)
	if !ok {
		return out, fmt.Errorf("school %s has no study %q (study add): %w", id, study, gateway.ErrNotFound)
	}
	r, ok := s.Recipient(st.Recipient)
	if !ok || r.Processing != gateway.ProcessingResearch {
		return out, invalidf("study %q: its recipient %q is no longer registered", study, st.Recipient)
	}
	if err := fitsRecipient(r, toFiles); err != nil {
		return out, err
	}
	if r.Kind == gateway.RecipientWebhook {
		out.Queued, out.Held, err = a.queueExport(ctx, id, r, gateway.ProcessingResearch, st.Name, by)
		return out, err
	}
	if err := a.gate.Require(ctx, id, gateway.ProcessingResearch); err != nil {
		return out, err
	}
	ex, err := a.buildResearch(ctx, id, st)
	if err != nil {
		return out, err
	}
	if err := a.gate.Require(ctx, id, gateway.ProcessingResearch); err != nil {
		return out, err
	}
	return a.recordResearch(ctx, s, r, st, ex, by)
}

// buildResearch builds a study's export from the school's data of now.
func (a *App) buildResearch(ctx context.Context, id gateway.SchoolID, st gateway.Study) (research.Export, error) {
	key, err := a.open(studyPlace(id, st.Name), st.SealedKey)
	if err != nil {
		return research.Export{}, fmt.Errorf("study %q: open its key: %w", st.Name, err)
	}
	in, err := a.researchInput(ctx, id)
	if err != nil {
		return research.Export{}, err
	}
	ex, err := research.Build(researchStudy(id, st), key, in, a.now())
	if err != nil {
		return research.Export{}, invalid(fmt.Errorf("study %q: %w", st.Name, err))
	}
	return ex, nil
}

// researchInput reads the school's pupils and results.
func (a *App) researchInput(ctx context.Context, id gateway.SchoolID) (research.Input, error) {
	var in research.Input
	if err := a.st.Pupils(ctx, id, func(p gateway.Pupil) error { in.Pupils = append(in.Pupils, p); return nil }); err != nil {
		return in, err
	}
	err := a.st.WalkResults(ctx, id, func(r gateway.Result) error { in.Results = append(in.Results, r); return nil })
	return in, err
}

// recordResearch audits the export, signs its manifest and keeps the
// evidence, then hands the files out.
func (a *App) recordResearch(ctx context.Context, s gateway.School, r gateway.Recipient, st gateway.Study, ex research.Export, by string) (ResearchExport, error) {
	m := ex.Manifest
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return ResearchExport{}, err
	}
	files := map[string]string{}
	for name, sum := range m.Files {
		files[name] = sum
	}
	files["manifest.json"] = sha256Hex(manifest)
	now := a.now().UTC()
	evID := "ex_research_" + files["manifest.json"][:16] + "_" + strconv.FormatInt(now.UnixNano(), 36)
	records := m.Pupils + m.Results
	_, err = a.log.School(ctx, s.ID, gateway.AuditExport, or(by, "cli"), map[string]string{"processing": string(gateway.ProcessingResearch),
		"recipient": r.Name, "kind": string(r.Kind), "study": st.Name, "records": strconv.Itoa(records), "pupils": strconv.Itoa(m.Pupils),
		"suppressed_pupils": strconv.Itoa(m.SuppressedPupils), "k": strconv.Itoa(m.K), "sha256": files["manifest.json"], "evidence": evID})
	if err != nil {
		return ResearchExport{}, fmt.Errorf("record the research export: %w", err)
	}
	signed, err := a.keepExport(ctx, gateway.ExportEvidence{ID: evID, School: s.ID, Processing: gateway.ProcessingResearch, Recipient: r.Name,
		Endpoint: r.Endpoint(), Basis: r.Basis, Records: records, SHA256: files["manifest.json"], Files: files, CreatedAt: now,
		Details: map[string]string{"study": st.Name, "purpose": st.Purpose, "k": strconv.Itoa(m.K), "pupils": strconv.Itoa(m.Pupils),
			"results": strconv.Itoa(m.Results), "suppressed_pupils": strconv.Itoa(m.SuppressedPupils),
			"suppressed_results": strconv.Itoa(m.SuppressedResults), "generalised": strings.Join(m.Generalised, ",")}}, nil, nil)
	if err != nil {
		return ResearchExport{}, err
	}
	out := ResearchExport{School: s.ID, Manifest: m, Evidence: evID, Files: map[string][]byte{}}
	for name, b := range ex.Files {
		out.Files[name] = b
	}
	out.Files["manifest.json"], out.Files["manifest.xml"] = manifest, signed
	return out, nil
}
