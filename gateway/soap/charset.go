package soap

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// NewDecoder returns an XML decoder that reads what a LAS may send: besides
// UTF-8, the single-byte encodings older LAS stacks declare (ISO-8859-1,
// Windows-1252, US-ASCII). The reader and every rewrite of an answer use it.
// It enforces the lexical limits of an answer (limits.go): a text run or
// element tag over MaxTextBytes, or elements nested deeper than MaxDepth,
// fail the read with an error that errors.Is ErrLimit, before encoding/xml
// buffers them.
func NewDecoder(r io.Reader) *xml.Decoder { return newAnswerDecoder(r) }

// newAnswerDecoder is newDecoder behind the lexical limits of an answer.
func newAnswerDecoder(r io.Reader) *xml.Decoder { return newDecoder(newLexGuard(r)) }

// newDecoder reads the encodings a LAS may declare, without the limits of
// an answer (the server side has its own caps, server_limits.go).
func newDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.CharsetReader = charsetReader
	return d
}

func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii":
		return &singleByteReader{r: bufio.NewReader(input)}, nil
	case "windows-1252", "cp1252":
		return &singleByteReader{r: bufio.NewReader(input), cp1252: true}, nil
	}
	return nil, fmt.Errorf("unsupported XML encoding %q (supported: UTF-8, ISO-8859-1, Windows-1252)", label)
}

// cp1252 maps bytes 0x80-0x9F of Windows-1252; the rest equals ISO-8859-1.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

// singleByteReader transcodes a single-byte encoding to UTF-8.
type singleByteReader struct {
	r      *bufio.Reader
	cp1252 bool
	pend   []byte
}

func (s *singleByteReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.pend) > 0 {
			c := copy(p[n:], s.pend)
			s.pend = s.pend[c:]
			n += c
			continue
		}
		b, err := s.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if b < 0x80 {
			p[n] = b
			n++
			continue
		}
		r := rune(b)
		if s.cp1252 && b < 0xA0 {
			r = cp1252[b-0x80]
		}
		var buf [utf8.UTFMax]byte
		s.pend = append(s.pend[:0], buf[:utf8.EncodeRune(buf[:], r)]...)
	}
	return n, nil
}
