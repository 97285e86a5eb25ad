package intake

// The structural check. encoding/json stops at the first unknown field, says
// only its name, matches names case-insensitively and accepts null anywhere;
// a publisher needs every fault with its full position. So each value is
// walked against the Go type it will be decoded into before it is decoded:
// exact field names, no duplicates, required fields, JSON kinds, whole
// numbers in the range of the Go type, no null, and strings that XML can
// carry. Only a value that passes is decoded.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

var (
	rawType  = reflect.TypeFor[json.RawMessage]()
	termType = reflect.TypeFor[term]()
)

// checker collects problems.
type checker struct {
	problems []gateway.Problem
}

func (c *checker) add(pos, format string, args ...any) {
	if pos == "" {
		pos = filePosition
	}
	c.problems = append(c.problems, gateway.Problem{Position: pos, Reason: fmt.Sprintf(format, args...)})
}

// decode checks raw against the type of v and decodes it into v when it
// passes. It reports whether it did.
func (c *checker) decode(raw []byte, v any, pos string) bool {
	before := len(c.problems)
	c.walk(raw, reflect.TypeOf(v).Elem(), pos)
	if len(c.problems) > before {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil { // cannot happen after the walk
		c.add(pos, "cannot be read: %v", err)
		return false
	}
	return true
}

func field(pos, name string) string {
	if pos == "" {
		return name
	}
	return pos + "." + name
}

func index(pos string, i int) string { return pos + "[" + strconv.Itoa(i) + "]" }

// walk checks one JSON value (raw is valid JSON: the whole file passed the
// syntax check) against type t.
func (c *checker) walk(raw []byte, t reflect.Type, pos string) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		c.add(pos, "must not be null (leave the field out instead)")
		return
	}
	switch {
	case t == rawType: // checked by the rules that use it
		return
	case t == termType:
		if raw[0] == '"' {
			c.walk(raw, reflect.TypeFor[string](), pos)
			return
		}
		if raw[0] != '{' {
			c.add(pos, "must be a string or an object with value, vocabulary and vocabulary_location")
			return
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		c.walk(raw, t.Elem(), pos)
	case reflect.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			c.add(pos, "must be a string")
			return
		}
		if !xmlText(s) {
			c.add(pos, "contains a character that XML cannot carry (a control character)")
		}
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			c.add(pos, "must be true or false")
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		if !wholeNumber(raw) {
			c.add(pos, "must be a whole number")
		} else if _, err := strconv.ParseInt(string(raw), 10, t.Bits()); err != nil {
			c.add(pos, "must be a whole number from %d to %d", int64(math.MinInt64)>>(64-t.Bits()), int64(math.MaxInt64)>>(64-t.Bits()))
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		if !wholeNumber(raw) {
			c.add(pos, "must be a whole number")
		} else if _, err := strconv.ParseUint(string(raw), 10, t.Bits()); err != nil {
			c.add(pos, "must be a whole number from 0 to %d", uint64(math.MaxUint64)>>(64-t.Bits()))
		}
	case reflect.Slice:
		if raw[0] != '[' {
			c.add(pos, "must be an array")
			return
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			c.add(pos, "must be an array")
			return
		}
		for i, it := range items {
			c.walk(it, t.Elem(), index(pos, i))
		}
	case reflect.Struct:
		c.walkObject(raw, t, pos)
	default:
		panic(fmt.Sprintf("intake: no structural check for %s", t)) // a programming error in format.go
	}
}

// wholeNumber reports whether raw is a JSON number without fraction or
// exponent.
func wholeNumber(raw []byte) bool {
	s := strings.TrimPrefix(string(raw), "-")
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// walkObject checks an object against struct type t: every member must be a
// field of t by its exact JSON name, none twice, and every field tagged
// intake:"required" must be there.
func (c *checker) walkObject(raw []byte, t reflect.Type, pos string) {
	if raw[0] != '{' {
		c.add(pos, "must be an object")
		return
	}
	fields := map[string]reflect.Type{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		fields[name] = f.Type
		if f.Tag.Get("intake") == "required" {
			required = append(required, name)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		c.add(pos, "must be an object")
		return
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			c.add(pos, "must be an object")
			return
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			c.add(pos, "must be an object")
			return
		}
		ft, known := fields[name]
		switch {
		case !known:
			c.add(field(pos, name), "unknown field")
		case seen[name]:
			c.add(field(pos, name), "given twice")
		default:
			c.walk(v, ft, field(pos, name))
		}
		seen[name] = true
	}
	for _, name := range required {
		if !seen[name] {
			c.add(field(pos, name), "is required")
		}
	}
}

// xmlText reports whether every character of s may appear in XML 1.0 text.
func xmlText(s string) bool {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}
