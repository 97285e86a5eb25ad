package soap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// decodeCall reads one request envelope from r as a stream, in document
// order: the autorisatie header, the start tag of the request element
// (which names the operation), then authorize (when not nil) before a byte of
// the request's content is interpreted, then the request element, then the
// rest of the document, which must end with the envelope. Problems of the
// request are a Client.OngeldigBericht *Fault; an error of authorize comes
// back as it is.
func decodeCall(r io.Reader, soapAction string, authorize func(uwlr.Operation, *uwlr.Autorisatie) error) (*Call, error) {
	d := newDecoder(r)
	auth, err := readToBody(d)
	if err == nil {
		var se xml.StartElement
		if se, err = firstBodyElement(d); err == nil {
			return decodeRequest(d, se, auth, soapAction, authorize)
		}
	}
	return nil, NewFault(CodeOngeldigBericht, "not a readable SOAP 1.1 request: "+trimErr(err))
}

func decodeRequest(d *xml.Decoder, se xml.StartElement, auth *uwlr.Autorisatie, soapAction string, authorize func(uwlr.Operation, *uwlr.Autorisatie) error) (*Call, error) {
	op, f := requestOperation(se, soapAction)
	if f != nil {
		return nil, f
	}
	if authorize != nil {
		if err := authorize(op, auth); err != nil {
			return nil, err
		}
	}
	var req any
	switch op.Name {
	case uwlr.OpHaalLeerlinggegevens.Name:
		req = &uwlr.LeerlinggegevensVerzoek{}
	case uwlr.OpHaalStructuur.Name:
		req = &uwlr.StructuurVerzoek{}
	case uwlr.OpHaalLeerlingen.Name:
		req = &uwlr.LeerlingenVerzoek{}
	case uwlr.OpHaalLeerkrachten.Name:
		req = &uwlr.LeerkrachtenVerzoek{}
	default:
		req = &uwlr.LeerresultatenVerzoek{}
	}
	if err := d.DecodeElement(req, &se); err != nil {
		return nil, NewFault(CodeOngeldigBericht, "request body: "+trimErr(err))
	}
	if f := readToEnd(d); f != nil {
		return nil, f
	}
	return &Call{Op: op, Auth: auth, Request: req}, nil
}

// requestOperation is the operation the request element names; its
// namespace and the SOAPAction header, when given, must agree.
func requestOperation(se xml.StartElement, soapAction string) (uwlr.Operation, *Fault) {
	op, ok := uwlr.OperationByRequest(se.Name.Local)
	if !ok {
		return op, NewFault(CodeOngeldigBericht, fmt.Sprintf("unknown request element %q", se.Name.Local))
	}
	want := uwlr.NSLeerlinggegevens
	if op == uwlr.OpBrengLeerresultaten {
		want = uwlr.NSLeerresultaten
	}
	if se.Name.Space != want {
		return op, NewFault(CodeOngeldigBericht, fmt.Sprintf("request element %q is not in namespace %s", se.Name.Local, want))
	}
	if soapAction != "" {
		if sop, ok := uwlr.OperationBySOAPAction(strings.TrimSpace(soapAction)); ok && sop.Name != op.Name {
			return op, NewFault(CodeOngeldigBericht, fmt.Sprintf("SOAPAction %s does not match body element %s", sop.Name, se.Name.Local))
		}
	}
	return op, nil
}

// readToBody advances d past the start tag of soap:Body and returns the
// autorisatie header met on the way (nil when there was none). The root must
// be a SOAP 1.1 Envelope (any prefix); other header entries and other
// envelope children before the body are skipped.
func readToBody(d *xml.Decoder) (*uwlr.Autorisatie, error) {
	var auth *uwlr.Autorisatie
	sawEnvelope := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, fmt.Errorf("no SOAP body element found")
		} else if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		switch {
		case !ok:
		case !sawEnvelope:
			if se.Name.Local != "Envelope" || se.Name.Space != uwlr.NSSOAPEnvelope {
				return nil, fmt.Errorf("root element is {%s}%s, not a SOAP 1.1 Envelope", se.Name.Space, se.Name.Local)
			}
			sawEnvelope = true
		case se.Name.Local == "Body" && se.Name.Space == uwlr.NSSOAPEnvelope:
			return auth, nil
		case se.Name.Local == "autorisatie":
			auth = &uwlr.Autorisatie{}
			if err := d.DecodeElement(auth, &se); err != nil {
				return nil, fmt.Errorf("autorisatie header: %w", err)
			}
		case se.Name.Local == "Header":
			// descend into the header
		default:
			if err := d.Skip(); err != nil {
				return nil, err
			}
		}
	}
}

// firstBodyElement returns the start tag of the first element in soap:Body.
func firstBodyElement(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return xml.StartElement{}, fmt.Errorf("no SOAP body element found")
		} else if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement: // the decoder checks it closes soap:Body
			return xml.StartElement{}, fmt.Errorf("SOAP body is empty")
		}
	}
}

// readToEnd reads the rest of the document, d being inside soap:Body: it
// must be well-formed, and after the envelope's end tag only blanks and
// comments may follow (one root element; SOAP 1.1 allows no processing
// instructions). It stops at the first thing out of place.
func readToEnd(d *xml.Decoder) *Fault {
	depth := 2 // soap:Envelope, soap:Body
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return NewFault(CodeOngeldigBericht, "request envelope: "+trimErr(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				return NewFault(CodeOngeldigBericht, fmt.Sprintf("element %q after the SOAP envelope", t.Name.Local))
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.Trim(t, " \t\r\n")) > 0 {
				return NewFault(CodeOngeldigBericht, "text after the SOAP envelope")
			}
		case xml.ProcInst, xml.Directive:
			if depth == 0 {
				return NewFault(CodeOngeldigBericht, "markup other than a comment after the SOAP envelope")
			}
		}
	}
}
