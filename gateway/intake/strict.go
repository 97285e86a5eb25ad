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
	"slices"
	"strconv"
	"strings"
	"sync"
)

var (
	rawType  = reflect.TypeFor[json.RawMessage]()
	termType = reflect.TypeFor[term]()
)

// decode checks raw against the type of v and decodes it into v when it
// passes. It reports whether it did.
func (c *checker) decode(raw []byte, v any, pos string) bool {
	before := c.total
	c.walk(raw, reflect.TypeOf(v).Elem(), pos)
	if c.total > before {
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
		s, ok := stringValue(raw)
		if !ok {
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
		i := 0
		eachElement(raw, func(it []byte) {
			c.walk(it, t.Elem(), index(pos, i))
			i++
		})
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
	info := fieldsOf(t)
	var seen []string // a record has a handful of members
	eachMember(raw, func(name string, v []byte) {
		ft, known := info.fields[name]
		switch {
		case !known:
			c.add(field(pos, name), "unknown field")
		case slices.Contains(seen, name):
			c.add(field(pos, name), "given twice")
		default:
			c.walk(v, ft, field(pos, name))
		}
		seen = append(seen, name)
	})
	for _, name := range info.required {
		if !slices.Contains(seen, name) {
			c.add(field(pos, name), "is required")
		}
	}
}

// structInfo is what walkObject needs of a struct type.
type structInfo struct {
	fields   map[string]reflect.Type // by JSON name
	required []string
}

// structInfos caches structInfo by type (the types of format.go: a fixed,
// small set).
var structInfos sync.Map

func fieldsOf(t reflect.Type) *structInfo {
	if info, ok := structInfos.Load(t); ok {
		return info.(*structInfo)
	}
	info := &structInfo{fields: map[string]reflect.Type{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		info.fields[name] = f.Type
		if f.Tag.Get("intake") == "required" {
			info.required = append(info.required, name)
		}
	}
	structInfos.Store(t, info)
	return info
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
