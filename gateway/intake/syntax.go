package intake

// The syntax check of a file read as a stream. Every byte the decoder is
// given first passes a scanner that follows encoding/json's grammar, its
// messages and its offsets, and counts lines and characters, so that a
// syntax error a million records in is reported as before: "line 3
// column 5" and "JSON syntax: invalid character ...". The decoder's own
// errors carry offsets relative to the value it was decoding and different
// texts, so they are not used.

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// errStop ends the decoder's reading at the first syntax error: nothing
// after it is worth reading.
var errStop = errors.New("intake: syntax error")

// scanState is what the scanner expects next.
type scanState uint8

const (
	sValue        scanState = iota // a value
	sValueOrClose                  // a value or ']' (after '[')
	sKeyOrClose                    // a key string or '}' (after '{')
	sKey                           // a key string (after ',' in an object)
	sAfterValue                    // ':', ',', ']', '}' or the end, by the open container
	sString
	sEscape
	sHex // four hex digits: hex counts them
	sNeg
	sInt  // after 1-9: digits
	sZero // after 0 or an integer's digits: '.', 'e' or the end of the number
	sDot
	sFraction
	sExp
	sExpSign
	sExpDigits
	sLiteral // the rest of true, false or null: lit
)

// container is an open object or array and where in it the scanner is
// (encoding/json's parse states).
type container uint8

const (
	inObjectKey   container = iota // reading a key, or expecting its ':'
	inObjectValue                  // reading a member's value, or expecting ',' or '}'
	inArray                        // reading an element, or expecting ',' or ']'
)

// scanner checks JSON syntax byte by byte.
type scanner struct {
	state scanState
	stack []container
	hex   int
	lit   string // the rest of the literal being read
	word  string // the literal, for messages

	line, col int // of the last byte seen (col in characters, from 1)
	err       *syntaxError
}

type syntaxError struct {
	msg       string
	line, col int
}

func newScanner() *scanner { return &scanner{line: 1} }

// feed scans p; it reports false at the first syntax error.
func (s *scanner) feed(p []byte) bool {
	for _, c := range p {
		if s.err != nil {
			return false
		}
		if c == '\n' {
			s.line, s.col = s.line+1, 0
		} else if c&0xC0 != 0x80 { // not a UTF-8 continuation byte
			s.col++
		}
		s.step(c)
	}
	return s.err == nil
}

// eof ends the input: a top-level value not yet complete is an unexpected
// end.
func (s *scanner) eof() {
	if s.err != nil || len(s.stack) == 0 && (s.state == sAfterValue || s.state == sZero || s.state == sInt ||
		s.state == sFraction || s.state == sExpDigits) {
		return
	}
	s.err = &syntaxError{msg: "unexpected end of JSON input", line: s.line, col: max(s.col, 1)}
}

func (s *scanner) fail(c byte, context string) {
	s.err = &syntaxError{msg: "invalid character " + quoteChar(c) + " " + context, line: s.line, col: max(s.col, 1)}
}

// quoteChar is encoding/json's form of a character in a message.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (s *scanner) step(c byte) {
	switch s.state {
	case sValue, sValueOrClose, sKeyOrClose, sKey, sAfterValue:
		s.structural(c)
	case sString:
		switch {
		case c == '"':
			s.state = sAfterValue
		case c == '\\':
			s.state = sEscape
		case c < 0x20:
			s.fail(c, "in string literal")
		}
	case sEscape:
		switch c {
		case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
			s.state = sString
		case 'u':
			s.state, s.hex = sHex, 0
		default:
			s.fail(c, "in string escape code")
		}
	case sHex:
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			s.fail(c, "in \\u hexadecimal character escape")
		} else if s.hex++; s.hex == 4 {
			s.state = sString
		}
	case sLiteral:
		if c != s.lit[0] {
			s.fail(c, "in literal "+s.word+" (expecting "+quoteChar(s.lit[0])+")")
		} else if s.lit = s.lit[1:]; s.lit == "" {
			s.state = sAfterValue
		}
	default:
		s.number(c)
	}
}

// structural scans where a value, a key, a separator or a closing bracket
// may come.
func (s *scanner) structural(c byte) {
	if isSpace(c) {
		return
	}
	switch s.state {
	case sValueOrClose:
		if c == ']' {
			s.close()
			return
		}
		s.value(c)
	case sValue:
		s.value(c)
	case sKeyOrClose, sKey:
		switch {
		case c == '}' && s.state == sKeyOrClose:
			s.close()
		case c == '"':
			s.state = sString
		default:
			s.fail(c, "looking for beginning of object key string")
		}
	case sAfterValue:
		s.separator(c)
	}
}

// separator scans what follows a value (or a key).
func (s *scanner) separator(c byte) {
	n := len(s.stack)
	if n == 0 {
		s.fail(c, "after top-level value")
		return
	}
	switch top := &s.stack[n-1]; {
	case *top == inObjectKey && c == ':':
		*top, s.state = inObjectValue, sValue
	case *top == inObjectKey:
		s.fail(c, "after object key")
	case *top == inObjectValue && c == ',':
		*top, s.state = inObjectKey, sKey
	case *top == inObjectValue && c == '}', *top == inArray && c == ']':
		s.close()
	case *top == inObjectValue:
		s.fail(c, "after object key:value pair")
	case c == ',':
		s.state = sValue
	default:
		s.fail(c, "after array element")
	}
}

// value scans the first byte of a value.
func (s *scanner) value(c byte) {
	switch {
	case c == '{' || c == '[':
		if len(s.stack) >= maxDepth {
			s.fail(c, "exceeded max depth")
			return
		}
		if c == '{' {
			s.stack, s.state = append(s.stack, inObjectKey), sKeyOrClose
		} else {
			s.stack, s.state = append(s.stack, inArray), sValueOrClose
		}
	case c == '"':
		s.state = sString
	case c == '-':
		s.state = sNeg
	case c == '0':
		s.state = sZero
	case c >= '1' && c <= '9':
		s.state = sInt
	case c == 't':
		s.state, s.lit, s.word = sLiteral, "rue", "true"
	case c == 'f':
		s.state, s.lit, s.word = sLiteral, "alse", "false"
	case c == 'n':
		s.state, s.lit, s.word = sLiteral, "ull", "null"
	default:
		s.fail(c, "looking for beginning of value")
	}
}

func (s *scanner) close() {
	s.stack, s.state = s.stack[:len(s.stack)-1], sAfterValue
}

// number scans the states of a number.
func (s *scanner) number(c byte) {
	digit := c >= '0' && c <= '9'
	switch s.state {
	case sNeg:
		switch {
		case c == '0':
			s.state = sZero
		case digit:
			s.state = sInt
		default:
			s.fail(c, "in numeric literal")
		}
		return
	case sInt:
		if digit {
			return
		}
		s.state = sZero
	case sDot:
		if !digit {
			s.fail(c, "after decimal point in numeric literal")
			return
		}
		s.state = sFraction
		return
	case sFraction:
		switch {
		case digit:
		case c == 'e' || c == 'E':
			s.state = sExp
		default:
			s.afterValue(c)
		}
		return
	case sExp:
		if c == '+' || c == '-' {
			s.state = sExpSign
			return
		}
		s.state = sExpSign
	case sExpDigits:
		if digit {
			return
		}
		s.afterValue(c)
		return
	}
	switch s.state {
	case sZero:
		switch c {
		case '.':
			s.state = sDot
		case 'e', 'E':
			s.state = sExp
		default:
			s.afterValue(c)
		}
	case sExpSign:
		if !digit {
			s.fail(c, "in exponent of numeric literal")
			return
		}
		s.state = sExpDigits
	}
}

// afterValue ends a number at c, which belongs to what follows it.
func (s *scanner) afterValue(c byte) {
	s.state = sAfterValue
	s.structural(c)
}

// source is the file as the decoder reads it: every byte passes the
// scanner first, and a failing reader is told apart from bad syntax.
type source struct {
	r       io.Reader
	scan    *scanner
	readErr error // the reader's own error (not io.EOF)
}

func newSource(r io.Reader) *source { return &source{r: r, scan: newScanner()} }

// Read reads from the file; it fails with errStop from the first syntax
// error on, and with the reader's error when the reader fails.
func (s *source) Read(p []byte) (int, error) {
	if s.scan.err != nil {
		return 0, errStop
	}
	if s.readErr != nil {
		return 0, s.readErr
	}
	n, err := s.r.Read(p)
	if !s.scan.feed(p[:n]) {
		return n, errStop
	}
	switch {
	case err == io.EOF:
		if s.scan.eof(); s.scan.err != nil {
			return n, errStop
		}
	case err != nil:
		s.readErr = err
	}
	return n, err
}

// drain reads the rest of the file (after the top-level value), so that
// trailing data is found; it stops at the first syntax error.
func (s *source) drain() error {
	_, err := io.Copy(io.Discard, s)
	return err
}

// syntaxProblem is the file's syntax error as its one problem.
func (s *source) syntaxProblem() (gateway.Problem, bool) {
	e := s.scan.err
	if e == nil {
		return gateway.Problem{}, false
	}
	return gateway.Problem{Position: fmt.Sprintf("line %d column %d", e.line, e.col), Reason: "JSON syntax: " + e.msg}, true
}
