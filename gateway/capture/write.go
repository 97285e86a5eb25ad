package capture

import (
	"crypto/sha256"
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
)

// qname writes a name as it came: prefix:local.
func (rw *rewriter) qname(n xml.Name) {
	if n.Space != "" {
		rw.out.WriteString(n.Space)
		rw.out.WriteByte(':')
	}
	rw.out.WriteString(n.Local)
}

// start writes a kept element's start tag with the attributes n keeps:
// namespace declarations always, an eckid as its numbered marker, any
// other value scrubbed.
func (rw *rewriter) start(t xml.StartElement, n *node) {
	rw.out.WriteByte('<')
	rw.qname(t.Name)
	for _, a := range t.Attr {
		decl := a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns"
		var v string
		switch {
		case decl || n.all:
			v = rw.scrub(a.Value)
		case a.Name.Local == "eckid" && n.attrs["eckid"]:
			if a.Value == "" {
				continue
			}
			v = mapping.RedactedEckIDPrefix + strconv.Itoa(rw.number(a.Value))
		case n.attrs[a.Name.Local]:
			v = rw.scrub(a.Value)
		default:
			rw.stats.Dropped++
			continue
		}
		rw.out.WriteByte(' ')
		rw.qname(a.Name)
		rw.out.WriteString(`="`)
		xml.EscapeText(rw.out, []byte(v))
		rw.out.WriteByte('"')
	}
	rw.out.WriteByte('>')
}

func (rw *rewriter) end(name xml.Name) {
	rw.out.WriteString("</")
	rw.qname(name)
	rw.out.WriteByte('>')
}

// text writes the character data of a kept element: white space between
// elements as it is, the text of a kept field scrubbed, any other text
// (text inside a list element) left out.
func (rw *rewriter) text(n *node, data xml.CharData) {
	if len(strings.TrimSpace(string(data))) == 0 {
		rw.out.Write(data)
		return
	}
	if !n.text {
		rw.stats.Dropped++
		return
	}
	xml.EscapeText(rw.out, []byte(rw.scrub(string(data))))
}

// scrub replaces what the scrubber finds: ECK iDs by their numbered
// marker, keys by KeyMarker.
func (rw *rewriter) scrub(s string) string {
	return rw.sc.Replace(s, func(k soap.ScrubKind, found string) string {
		switch k {
		case soap.ScrubEckID:
			return mapping.RedactedEckIDPrefix + strconv.Itoa(rw.number(found))
		case soap.ScrubSecret:
			rw.stats.Keys++
			return KeyMarker
		}
		return "redacted:" + string(k)
	})
}

// number is the number of an ECK iD in this capture. The same ECK iD gets
// the same number however it was written: an URL and its bare tail, in any
// letter case.
func (rw *rewriter) number(eckid string) int {
	canon := strings.ToLower(eckid)
	if tail := hexTail(canon); tail != "" {
		canon = tail
	}
	sum := sha256.Sum256([]byte(canon))
	var h [16]byte
	copy(h[:], sum[:])
	n, ok := rw.nums[h]
	if !ok {
		n = len(rw.nums) + 1
		rw.nums[h] = n
	}
	return n
}

// hexTail returns the longest run of at least 128 hex digits in s.
func hexTail(s string) string {
	best, start := "", -1
	for i := 0; i <= len(s); i++ {
		hex := i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f')
		switch {
		case hex && start < 0:
			start = i
		case !hex && start >= 0:
			if i-start >= 128 && i-start > len(best) {
				best = s[start:i]
			}
			start = -1
		}
	}
	return best
}
