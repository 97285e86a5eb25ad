package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Result is the outcome of one case.
type Result struct {
	Name     string `json:"name"`
	Expected string `json:"expected"` // fault code, or "answer"
	Got      string `json:"got"`      // fault code, "answer", or the transport failure
	OK       bool   `json:"ok"`
	Detail   string `json:"detail,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Endpoint string   `json:"endpoint"`
	Passed   int      `json:"passed"`
	Failed   int      `json:"failed"`
	Cases    []Result `json:"cases"`
}

// Options tune how requests are sent.
type Options struct {
	QuoteSOAPAction bool
	Header          http.Header // extra headers, e.g. a subscription key
}

// Run sends every case to t.Endpoint over hc and compares the fault codes.
// progress, when set, is called after each case.
func Run(ctx context.Context, hc *http.Client, t Target, o Options, progress func(Result)) (*Report, error) {
	if t.Xsdversie == "" {
		t.Xsdversie = "2.2"
	}
	if t.Endpoint == "" || t.Autorisatiesleutel == "" || t.Klantcode == "" || t.Klantnaam == "" || t.Schooljaar == "" {
		return nil, errors.New("conformance: endpoint, key, klantcode, klantnaam and schooljaar are required")
	}
	if t.Brincode == "" && t.Schoolkey == "" {
		return nil, errors.New("conformance: a brincode or schoolkey of a school the key grants is required")
	}
	rep := &Report{Endpoint: t.Endpoint}
	for _, c := range Cases() {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res := runCase(ctx, hc, t, o, c)
		rep.Cases = append(rep.Cases, res)
		if res.OK {
			rep.Passed++
		} else {
			rep.Failed++
		}
		if progress != nil {
			progress(res)
		}
	}
	return rep, nil
}

func runCase(ctx context.Context, hc *http.Client, t Target, o Options, c Case) Result {
	res := Result{Name: c.Name, Expected: c.Expected}
	if res.Expected == "" {
		res.Expected = "answer"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Endpoint, bytes.NewReader(c.build(t).envelope()))
	if err != nil {
		res.Got = "bad endpoint: " + err.Error()
		return res
	}
	for k, vs := range o.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	action := uwlr.OpHaalLeerlinggegevens.SOAPAction
	if o.QuoteSOAPAction {
		action = `"` + action + `"`
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", action)
	resp, err := hc.Do(req)
	if err != nil {
		res.Got = "no answer: " + err.Error()
		return res
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 64<<20)
	_, err = soap.ReadLeerlinggegevens(body, soap.Handler{})
	var se *soap.Error
	switch {
	case err == nil:
		res.Got = "answer"
		if resp.StatusCode != http.StatusOK {
			res.Got = fmt.Sprintf("answer with HTTP %d", resp.StatusCode)
		}
	case errors.As(err, &se) && se.Code != "":
		res.Got = se.Code
		res.Detail = se.Message
		if resp.StatusCode != http.StatusInternalServerError {
			res.Detail = fmt.Sprintf("fault sent with HTTP %d (SOAP 1.1 wants 500)", resp.StatusCode)
		}
	default:
		res.Got = fmt.Sprintf("HTTP %d, not a UWLR answer", resp.StatusCode)
		res.Detail = err.Error()
	}
	res.OK = res.Got == res.Expected
	return res
}
