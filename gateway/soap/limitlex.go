package soap

import (
	"bytes"
	"fmt"
	"io"
)

// The limits lexGuard enforces, as its errors name them.
var (
	msgRun   = fmt.Sprintf("text, comment or CDATA of more than %d bytes between two element tags", MaxTextBytes)
	msgTag   = fmt.Sprintf("an element tag of more than %d bytes (its attributes included)", MaxTextBytes)
	msgDepth = fmt.Sprintf("elements nested deeper than %d", MaxDepth)
)

// lexGuard sits between an answer's bytes and encoding/xml and follows the
// XML lexically (text, element tags with quoted attribute values, comments,
// CDATA, processing instructions, directives), so that what encoding/xml
// would buffer whole is bounded before it is buffered: a run between two
// element tags or one element tag longer than MaxTextBytes, or elements
// nested deeper than MaxDepth, fail the read. It only counts: the bytes
// pass unchanged, and encoding/xml still checks that they are well formed.
// The single-byte encodings a LAS may declare keep '<', '>' and quotes
// where ASCII has them, so it reads the bytes before transcoding.
type lexGuard struct {
	r     io.Reader
	err   error // sticky, once a limit is hit
	off   int64 // bytes passed, for messages
	state lexState
	run   int  // bytes of the current run between element tags
	tag   int  // bytes of the current element tag
	depth int  // open elements
	n     int  // terminator bytes matched ("--", "]]", "?") or directive nesting
	quote byte // the quote of an attribute value (or directive literal) being read
	last  byte // the previous byte of a tag outside quotes, for "/>"
	end   bool // the tag is an end tag
}

type lexState uint8

const (
	lexText      lexState = iota
	lexOpen               // after '<'
	lexBang               // after "<!"
	lexBangDash           // after "<!-"
	lexComment            // in <!-- ... -->
	lexCDATA              // in <![ ... ]]>
	lexPI                 // in <? ... ?>
	lexDirective          // in <! ... > (a DOCTYPE)
	lexTag                // in an element tag
)

func newLexGuard(r io.Reader) *lexGuard { return &lexGuard{r: r} }

func (g *lexGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if i, lerr := g.scan(p[:n]); lerr != nil {
		// Pass the bytes before the violation; the next Read fails.
		g.err = lerr
		if i == 0 {
			return 0, lerr
		}
		return i, nil
	}
	return n, err
}

// scan follows b; on a violation it returns the bytes of b before it.
// Text and element tags, nearly all of an answer, are scanned a run at a
// time; the rest byte by byte.
func (g *lexGuard) scan(b []byte) (int, error) {
	for i := 0; i < len(b); {
		switch g.state {
		case lexText:
			j := bytes.IndexByte(b[i:], '<')
			if j < 0 {
				j = len(b) - i
			}
			if g.run += j; g.run > MaxTextBytes {
				return i, g.fail(i, msgRun)
			}
			if i += j; i < len(b) {
				g.run++
				g.state = lexOpen
				i++
			}
		case lexTag:
			n, msg := g.tagRun(b[i:])
			if msg != "" {
				return i, g.fail(i, msg)
			}
			i += n
		default:
			if msg := g.step(b[i]); msg != "" {
				return i, g.fail(i, msg)
			}
			i++
		}
	}
	g.off += int64(len(b))
	return len(b), nil
}

func (g *lexGuard) fail(i int, msg string) *LimitError {
	return limitf("%s (at byte %d)", msg, g.off+int64(i))
}

// step follows one byte outside text; it returns the limit it broke, if any.
func (g *lexGuard) step(c byte) string {
	switch g.state {
	case lexOpen:
		switch c {
		case '!':
			g.state = lexBang
		case '?':
			g.state, g.n = lexPI, 0
		default:
			g.state, g.run, g.tag, g.quote, g.last, g.end = lexTag, 0, 2, 0, c, c == '/'
			return ""
		}
	case lexBang:
		switch c {
		case '-':
			g.state = lexBangDash
		case '[':
			g.state, g.n = lexCDATA, 0
		default:
			g.state, g.n, g.quote = lexDirective, 1, 0
		}
	case lexBangDash:
		g.state, g.n = lexComment, 0
		if c != '-' {
			g.state, g.n, g.quote = lexDirective, 1, 0 // not a comment: encoding/xml refuses it
		}
	case lexComment:
		g.close(c, '-', 2)
	case lexCDATA:
		g.close(c, ']', 2)
	case lexPI:
		g.close(c, '?', 1)
	case lexDirective:
		g.directive(c)
	}
	if g.run++; g.run > MaxTextBytes {
		return msgRun
	}
	return ""
}

// close ends a comment, CDATA section or processing instruction at '>'
// after at least need bytes mark.
func (g *lexGuard) close(c, mark byte, need int) {
	switch {
	case c == mark:
		g.n++
	case c == '>' && g.n >= need:
		g.state = lexText
	default:
		g.n = 0
	}
}

// directive follows a <!...> declaration: nested <...>, quoted literals.
func (g *lexGuard) directive(c byte) {
	switch {
	case g.quote != 0:
		if c == g.quote {
			g.quote = 0
		}
	case c == '"' || c == '\'':
		g.quote = c
	case c == '<':
		g.n++
	case c == '>':
		if g.n--; g.n == 0 {
			g.state = lexText
		}
	}
}

// tagRun follows an element tag up to its '>' (or the end of b) and
// counts the depth; it returns the bytes it followed.
func (g *lexGuard) tagRun(b []byte) (int, string) {
	for k := 0; k < len(b); k++ {
		if g.quote != 0 { // an attribute value: up to its closing quote
			j := bytes.IndexByte(b[k:], g.quote)
			if j < 0 {
				j = len(b) - k - 1
			} else {
				g.quote = 0
			}
			k += j
			g.tag += j + 1
			g.last = b[k]
			continue
		}
		c := b[k]
		g.tag++
		switch c {
		case '"', '\'':
			g.quote = c
		case '>':
			if g.tag > MaxTextBytes {
				return k, msgTag
			}
			return k + 1, g.closeTag()
		}
		g.last = c
	}
	if g.tag > MaxTextBytes {
		return 0, msgTag
	}
	return len(b), ""
}

// closeTag ends an element tag: a start tag opens an element (unless it
// ends in "/>"), an end tag closes one.
func (g *lexGuard) closeTag() string {
	g.state, g.run = lexText, 0
	switch {
	case g.end:
		g.depth = max(g.depth-1, 0)
	case g.last != '/':
		if g.depth++; g.depth > MaxDepth {
			return msgDepth
		}
	}
	return ""
}
