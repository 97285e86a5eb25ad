package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// maxJSONBody caps a small JSON request body (a consent change).
const maxJSONBody = 1 << 20

// decodeBody decodes r's JSON body of at most limit bytes into v strictly
// (readBodyMax) and answers a bad one itself: 415 unless it is declared
// application/json, 413 past limit, else 422 naming the field, with shape
// as the detail. false when it answered.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, limit int64, shape string) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeProblem(w, r, Problem{Type: typeMedia, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "send the body as Content-Type: application/json"})
		return false
	}
	fp, tooLarge := readBodyMax(w, r, v, limit)
	switch {
	case tooLarge:
		writeProblem(w, r, Problem{Type: typeInvalid, Title: "Request too large", Status: http.StatusRequestEntityTooLarge,
			Detail: fp.Reason, Errors: []FieldProblem{*fp}})
		return false
	case fp != nil:
		invalid(w, r, shape, *fp)
		return false
	}
	return true
}

// readBodyMax decodes a JSON body of at most limit bytes strictly: exactly
// one JSON value, field names exactly as the JSON tags spell them
// (encoding/json alone would take "Granted" for "granted"), no unknown
// field and no key given twice in one object, each named by a JSON
// pointer. tooLarge: the body passed limit (a 413, not a 422).
func readBodyMax(w http.ResponseWriter, r *http.Request, v any, limit int64) (fp *FieldProblem, tooLarge bool) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &FieldProblem{Field: "", Reason: fmt.Sprintf("the body is larger than %d bytes", mbe.Limit)}, true
	} else if err != nil {
		return &FieldProblem{Field: "", Reason: "the body could not be read"}, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, err = dec.Token(); errors.Is(err, io.EOF) {
			if ptr, dup := duplicateKey(data); dup {
				return &FieldProblem{Field: ptr, Reason: "is given more than once"}, false
			}
			if ptr, bad := inexactKey(data, reflect.TypeOf(v), ""); bad {
				return &FieldProblem{Field: ptr, Reason: "is not a known field (field names are case-sensitive)"}, false
			}
			return nil, false
		} else if err == nil {
			err = errors.New("the body holds more than one JSON value")
		}
	}
	return decodeProblem(err), false
}

// decodeProblem names what encoding/json found wrong.
func decodeProblem(err error) *FieldProblem {
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ute):
		return &FieldProblem{Field: jsonPointer(ute.Field), Reason: "must be a JSON " + jsonType(ute.Type)}
	case errors.Is(err, io.EOF):
		return &FieldProblem{Field: "", Reason: "the body is empty; send a JSON object"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name, uerr := strconv.Unquote(name); uerr == nil {
			return &FieldProblem{Field: jsonPointer(name), Reason: "is not a known field"}
		}
	}
	return &FieldProblem{Field: "", Reason: err.Error()}
}

// inexactKey reports the JSON pointer of the first object key in data
// (already decoded into a value of type t) that names a struct field only
// up to case. Maps and slices are followed into their elements.
func inexactKey(data []byte, t reflect.Type, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return "", false
		}
		names := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ptr := path + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
			ft, ok := names[k]
			if !ok {
				return ptr, true
			}
			if p, bad := inexactKey(obj[k], ft, ptr); bad {
				return p, true
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) == nil {
			for _, k := range slices.Sorted(maps.Keys(obj)) {
				if p, bad := inexactKey(obj[k], t.Elem(), path+"/"+strings.NewReplacer("~", "~0", "/", "~1").Replace(k)); bad {
					return p, true
				}
			}
		}
	case reflect.Slice, reflect.Array:
		var arr []json.RawMessage
		if json.Unmarshal(data, &arr) == nil {
			for i, el := range arr {
				if p, bad := inexactKey(el, t.Elem(), path+"/"+strconv.Itoa(i)); bad {
					return p, true
				}
			}
		}
	}
	return "", false
}

// jsonFields maps the JSON names of a struct's fields (as encoding/json
// spells them, embedded structs' promoted) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || (!f.IsExported() && !f.Anonymous):
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			maps.Copy(out, jsonFields(f.Type))
			continue
		case name == "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// jsonFrame is an object or array being scanned by duplicateKey.
type jsonFrame struct {
	path    string
	object  bool
	keys    map[string]bool
	wantKey bool   // an object's next token is a key (or its end)
	key     string // an object's current key
	index   int    // an array's current index
}

// child is the JSON pointer of the frame's current member.
func (f *jsonFrame) child() string {
	if f.object {
		return f.path + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(f.key)
	}
	return f.path + "/" + strconv.Itoa(f.index)
}

// next moves the frame past a value.
func (f *jsonFrame) next() {
	if f.object {
		f.wantKey = true
	} else {
		f.index++
	}
}

// duplicateKey reports the JSON pointer of the first key given twice in
// one object of data (valid JSON: encoding/json itself keeps the last one
// silently, so a body could say one thing to one reader and another to
// the next).
func duplicateKey(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*jsonFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					top.key = k
					return top.child(), true
				}
				top.keys[k], top.key, top.wantKey = true, k, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			path := ""
			if top != nil {
				path = top.child()
			}
			obj := tok == json.Delim('{')
			stack = append(stack, &jsonFrame{path: path, object: obj, keys: map[string]bool{}, wantKey: obj})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return "", false
			}
			top = stack[len(stack)-1]
		}
		if top != nil {
			top.next()
		}
	}
}

// jsonPointer turns encoding/json's dotted field path into a JSON pointer
// ("" is the whole body).
func jsonPointer(path string) string {
	if path == "" {
		return ""
	}
	var b strings.Builder
	for _, part := range strings.Split(path, ".") {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(part))
	}
	return b.String()
}

// jsonType names the JSON type a Go type decodes from (never the Go type:
// it would show the server's internals).
func jsonType(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return "value"
}
