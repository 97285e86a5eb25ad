package soap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const (
	envelopeOpen = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">`
	envelopeClose = `</soap:Envelope>`
)

// WriteEnvelope writes a SOAP 1.1 envelope with an optional autorisatie header
// and body as the single body element. The body is marshalled with its fields
// in XSD order, children qualified through the default namespace of the root.
func WriteEnvelope(w io.Writer, auth *uwlr.Autorisatie, body any) error {
	var buf bytes.Buffer
	buf.WriteString(envelopeOpen)
	if auth != nil {
		buf.WriteString(`<soap:Header>`)
		if err := xml.NewEncoder(&buf).Encode(auth); err != nil {
			return fmt.Errorf("marshal autorisatie header: %w", err)
		}
		buf.WriteString(`</soap:Header>`)
	}
	buf.WriteString(`<soap:Body>`)
	if err := xml.NewEncoder(&buf).Encode(body); err != nil {
		return fmt.Errorf("marshal %T: %w", body, err)
	}
	buf.WriteString(`</soap:Body>`)
	buf.WriteString(envelopeClose)
	_, err := w.Write(buf.Bytes())
	return err
}

// MarshalEnvelope is WriteEnvelope into a byte slice.
func MarshalEnvelope(auth *uwlr.Autorisatie, body any) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteEnvelope(&buf, auth, body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeFault writes a SOAP 1.1 Fault envelope. faultcode and faultstring are
// unqualified, as the SOAP 1.1 schema requires.
func writeFault(w io.Writer, code, text string) error {
	var buf bytes.Buffer
	buf.WriteString(envelopeOpen)
	buf.WriteString(`<soap:Body><soap:Fault><faultcode>soap:`)
	xml.EscapeText(&buf, []byte(code))
	buf.WriteString(`</faultcode><faultstring>`)
	xml.EscapeText(&buf, []byte(text))
	buf.WriteString(`</faultstring></soap:Fault></soap:Body>`)
	buf.WriteString(envelopeClose)
	_, err := w.Write(buf.Bytes())
	return err
}

// bodyStart advances d to the first element inside soap:Body and returns it.
// Any namespace prefix is accepted; the SOAP envelope namespace is required.
// When header is non-nil, an autorisatie element in soap:Header is decoded into it
// and *found reports whether one was there.
func bodyStart(d *xml.Decoder, header *uwlr.Autorisatie, found *bool) (xml.StartElement, error) {
	inBody := false
	sawEnvelope := false
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return xml.StartElement{}, fmt.Errorf("no SOAP body element found")
			}
			return xml.StartElement{}, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "Body" && inBody {
				return xml.StartElement{}, fmt.Errorf("SOAP body is empty")
			}
			continue
		}
		switch {
		case !sawEnvelope:
			if se.Name.Local != "Envelope" || se.Name.Space != uwlr.NSSOAPEnvelope {
				return xml.StartElement{}, fmt.Errorf("root element is {%s}%s, not a SOAP 1.1 Envelope", se.Name.Space, se.Name.Local)
			}
			sawEnvelope = true
		case inBody:
			return se, nil
		case se.Name.Local == "Body" && se.Name.Space == uwlr.NSSOAPEnvelope:
			inBody = true
		case se.Name.Local == "autorisatie" && header != nil:
			if err := d.DecodeElement(header, &se); err != nil {
				return xml.StartElement{}, fmt.Errorf("autorisatie header: %w", err)
			}
			if found != nil {
				*found = true
			}
		case se.Name.Local == "Header":
			// descend into the header
		default:
			if err := d.Skip(); err != nil {
				return xml.StartElement{}, err
			}
		}
	}
}
