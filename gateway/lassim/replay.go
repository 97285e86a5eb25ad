package lassim

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Replay answers from recorded response envelopes in a directory. For a call
// it serves the first file that exists of:
//
//	<BRIN><dependancecode>_<Operation>.xml   e.g. 99DE00_HaalLeerlinggegevens.xml
//	<Operation>.xml                          e.g. HaalLeerlinggegevens.xml
//	default.xml
//
// A recorded SOAP Fault is answered as that fault (HTTP 500).
type Replay struct {
	Dir string
}

// NewReplay checks that dir exists and holds at least one .xml file.
func NewReplay(dir string) (*Replay, error) {
	m, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("replay directory %s holds no .xml files", dir)
	}
	return &Replay{Dir: dir}, nil
}

// Answer finds the recorded answer for op and school (BRIN+dependancecode).
func (r *Replay) Answer(op uwlr.Operation, school string) (any, error) {
	for _, name := range []string{school + "_" + op.Name + ".xml", op.Name + ".xml", "default.xml"} {
		b, err := os.ReadFile(filepath.Join(r.Dir, name))
		if err != nil {
			continue
		}
		if f := recordedFault(b); f != nil {
			return nil, f
		}
		return rawEnvelope(b), nil
	}
	return nil, soap.NewFault(soap.CodeInterneFout, "no recorded answer for "+op.Name)
}

func recordedFault(b []byte) *soap.Fault {
	_, err := soap.ReadLeerlinggegevens(bytes.NewReader(b), soap.Handler{})
	var se *soap.Error
	if asSOAPError(err, &se) && se.Code != "" {
		return &soap.Fault{Code: se.Code, String: se.Message}
	}
	return nil
}

type rawEnvelope []byte

func (r rawEnvelope) WriteEnvelope(w io.Writer) error {
	_, err := w.Write(r)
	return err
}
