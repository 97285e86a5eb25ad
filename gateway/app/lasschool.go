package app

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/conformance"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// The LAS tools run for an enrolled school: the connection is still given
// by hand (Target), but the run is an act on the school's data, so the
// school must have granted las_exchange (asked through the consent gate at
// the moment of the act) and the run is recorded on its audit chain. The
// target must name that school: a run cannot be recorded on one school's
// chain while it pulls another's.

// LASRun names the enrolled school a LAS tool runs for and who runs it.
type LASRun struct {
	School gateway.SchoolID
	// By is who runs it, for the audit entry (default "cli").
	By string
}

// maxReason bounds the reason kept on the audit chain.
const maxReason = 200

// lasRun checks a run for a school: enrolled (ErrNotFound), the target
// names it (ErrInvalid) and las_exchange granted now (ErrConsentRequired).
func (a *App) lasRun(ctx context.Context, run LASRun, t Target) (gateway.School, error) {
	s, err := a.school(ctx, run.School)
	if err != nil {
		return s, err
	}
	if got := gateway.SchoolIDFor(t.Brin, t.Dependancecode, t.Schoolkey); got != s.ID {
		return s, invalidf("the connection flags name school %s, not %s (--brin/--dependancecode or --schoolkey must name the school given)", got, s.ID)
	}
	if err := a.gate.Require(ctx, s.ID, gateway.ProcessingLASExchange); err != nil {
		return s, err
	}
	return s, nil
}

// RawCapture is a raw capture asked for: why, and the file it goes to (as
// the user named it, for the audit entry).
type RawCapture struct {
	LASRun
	Reason, File string
}

// FetchRaw writes the target's answer to op to w as it came: a raw
// capture, with every field the LAS sends (ECK iDs, BSNs), for one support
// case. The school must be enrolled, named by the target and have granted
// las_exchange; a reason is required (ErrInvalid). Before a byte is written
// the school's audit chain records who, why, the file and the date by which
// it must be deleted (now + las.capture_ttl); after, the bytes written and
// the outcome. A fault answer is written scrubbed, as by FetchLAS. A failed
// call is the Capture's Err.
func (a *App) FetchRaw(ctx context.Context, rc RawCapture, t Target, op uwlr.Operation, schooljaar string, w io.Writer) (Capture, error) {
	reason := clip((*soap.Scrubber)(nil).Scrub(strings.TrimSpace(rc.Reason)), maxReason)
	if reason == "" {
		return Capture{}, invalidf("a raw capture needs a reason (--reason): it is kept on the school's audit chain")
	}
	if err := a.o.LAS.CheckTarget(t); err != nil {
		return Capture{}, err
	}
	s, err := a.lasRun(ctx, rc.LASRun, t)
	if err != nil {
		return Capture{}, err
	}
	ttl := a.o.LAS.CaptureTTL
	if ttl <= 0 {
		ttl = DefaultCaptureTTL
	}
	by := or(rc.By, "cli")
	deleteBy := a.now().Add(ttl).UTC()
	_, err = a.log.School(ctx, s.ID, gateway.AuditLASCapture, by, map[string]string{"operation": op.Name, "schooljaar": schooljaar,
		"reason": reason, "file": rc.File, "delete_by": deleteBy.Format(time.RFC3339)})
	if err != nil {
		return Capture{}, fmt.Errorf("raw capture of school %s: audit: %w", s.ID, err)
	}
	c, err := a.o.LAS.fetch(ctx, t, op, schooljaar, w, true)
	if err != nil {
		return c, err
	}
	c.DeleteBy = deleteBy
	outcome := "saved"
	if !c.Saved {
		outcome = "not saved"
	}
	d := map[string]string{"operation": op.Name, "file": rc.File, "bytes": strconv.FormatInt(c.Bytes, 10), "outcome": outcome}
	addFault(d, c.Err)
	if _, err := a.log.School(context.WithoutCancel(ctx), s.ID, gateway.AuditLASCaptureEnd, by, d); err != nil {
		return c, fmt.Errorf("raw capture of school %s: audit: %w", s.ID, err)
	}
	return c, nil
}

// addFault adds a failed call's class and fault code to audit details.
func addFault(d map[string]string, err error) {
	if err == nil {
		return
	}
	f := FaultOf(err)
	d["error_class"] = string(f.Class)
	if f.Code != "" {
		d["fault_code"] = f.Code
	}
}

// CheckLASForSchool is CheckLAS for an enrolled school that has granted
// las_exchange (it pulls the school's pupil data, and counts it): the run
// is recorded on the school's audit chain with its outcome and counts.
func (a *App) CheckLASForSchool(ctx context.Context, run LASRun, t Target, schooljaar string, progress func(pupils int)) (Answer, soap.Connection, error) {
	if err := a.o.LAS.CheckTarget(t); err != nil {
		return Answer{}, soap.Connection{}, err
	}
	s, err := a.lasRun(ctx, run, t)
	if err != nil {
		return Answer{}, soap.Connection{}, err
	}
	ans, conn, err := a.o.LAS.CheckLAS(ctx, t, schooljaar, progress)
	if err != nil {
		return ans, conn, err
	}
	d := map[string]string{"operation": uwlr.OpHaalLeerlinggegevens.Name, "schooljaar": schooljaar, "ok": strconv.FormatBool(ans.OK),
		"pupils": strconv.Itoa(ans.Pupils), "groups": strconv.Itoa(ans.Groups), "composite_groups": strconv.Itoa(ans.CompositeGroups),
		"teachers": strconv.Itoa(ans.Teachers), "warnings": strconv.Itoa(len(ans.Warnings) + ans.DroppedWarnings)}
	if ans.Outcome != "" {
		d["outcome"] = ans.Outcome
	}
	if f := ans.Fault; f != nil {
		d["error_class"] = string(f.Class)
		if f.Code != "" {
			d["fault_code"] = f.Code
		}
	}
	if _, err := a.log.School(context.WithoutCancel(ctx), s.ID, gateway.AuditLASCheck, or(run.By, "cli"), d); err != nil {
		return ans, conn, fmt.Errorf("las check of school %s: audit: %w", s.ID, err)
	}
	return ans, conn, nil
}

// ConformanceForSchool is Conformance for an enrolled school that has
// granted las_exchange (its valid case pulls the school's pupil data): the
// run is recorded on the school's audit chain with the cases passed and
// failed.
func (a *App) ConformanceForSchool(ctx context.Context, run LASRun, t Target, schooljaar string, progress func(conformance.Result)) (*conformance.Report, error) {
	if err := a.o.LAS.CheckTarget(t); err != nil {
		return nil, err
	}
	s, err := a.lasRun(ctx, run, t)
	if err != nil {
		return nil, err
	}
	rep, err := a.o.LAS.Conformance(ctx, t, schooljaar, progress)
	if rep == nil {
		return rep, err
	}
	d := map[string]string{"schooljaar": schooljaar, "passed": strconv.Itoa(rep.Passed), "failed": strconv.Itoa(rep.Failed)}
	if err != nil {
		d["interrupted"] = "true"
	}
	if _, aerr := a.log.School(context.WithoutCancel(ctx), s.ID, gateway.AuditLASConformance, or(run.By, "cli"), d); aerr != nil && err == nil {
		err = fmt.Errorf("conformance of school %s: audit: %w", s.ID, aerr)
	}
	return rep, err
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
