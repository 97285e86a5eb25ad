package delivery

import (
	"context"
	"encoding/json"
	"maps"
	"strconv"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Built is an export built at the moment of sending: the event type, the
// data of the message, how many records it holds, the digest of each file
// in it and what the evidence should say besides.
type Built struct {
	Type    string
	Data    any
	Records int
	Files   map[string]string
	Details map[string]string
}

// BuildExport builds the export an export batch names (a study's research
// export, a legal disclosure) from the school's data of this moment.
type BuildExport func(ctx context.Context, s gateway.School, b gateway.Batch) (Built, error)

// exportPush sends an export batch to its webhook recipient: built now,
// consent checked again, on the audit chain before a byte leaves, signed
// evidence of what was sent.
func (a *attempt) exportPush(ctx context.Context) Outcome {
	w, b := a.w, a.c.Batch
	if a.to.Kind != gateway.RecipientWebhook {
		return a.reject(ctx, "an export batch goes to a webhook recipient; "+a.to.Name+" is of kind "+string(a.to.Kind))
	}
	if w.Build == nil || w.Push == nil || w.SignExport == nil {
		return a.reject(ctx, "no export builder or webhook sender configured")
	}
	pusher, err := w.Push(ctx, a.school, *a.to)
	if err != nil {
		return a.reject(ctx, "no connection to the recipient: "+err.Error())
	}
	built, err := w.Build(ctx, a.school, b)
	if err != nil {
		return a.reject(ctx, "the export could not be built: "+err.Error())
	}
	body, err := json.Marshal(struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      any    `json:"data"`
	}{built.Type, w.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"), built.Data})
	if err != nil {
		return a.reject(ctx, "the export message could not be built: "+err.Error())
	}
	id := "ex_" + b.ID + "_"
	return a.pushMessage(ctx, pusher, body, built.Records, func(sent gateway.Batch, ans Pushed, digest string) (string, error) {
		details := map[string]string{"batch": b.ID, "message": MessageID(b.ID), "status": strconv.Itoa(ans.Status), "export": b.Export,
			"attempt": strconv.Itoa(sent.Attempts)}
		maps.Copy(details, built.Details)
		return w.keepSigned(ctx, gateway.ExportEvidence{ID: id + strconv.Itoa(sent.Attempts), School: b.School, Processing: b.Needs(),
			Recipient: a.to.Name, Endpoint: a.to.Endpoint(), Basis: a.to.Basis, Records: built.Records, SHA256: digest, Files: built.Files,
			CreatedAt: w.Now().UTC(), Details: details}, nil, nil)
	}, map[string]string{"export": b.Export})
}
