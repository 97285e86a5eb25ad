package intake

// Splitting JSON that is known to be valid (every record has passed the
// syntax check and the decoder): the members of an object and the elements
// of an array as slices of the record, without a decoder per object.

import "encoding/json"

// eachMember calls f with the name and value of every member of the object
// raw, in order.
func eachMember(raw []byte, f func(name string, value []byte)) {
	i := skipSpace(raw, 1) // past '{'
	for i < len(raw) && raw[i] == '"' {
		n := stringEnd(raw[i:])
		name, _ := stringValue(raw[i : i+n])
		i = skipSpace(raw, i+n)
		i = skipSpace(raw, i+1) // past ':'
		n = valueEnd(raw[i:])
		f(name, raw[i:i+n])
		i = skipSpace(raw, i+n)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
}

// eachElement calls f with every element of the array raw, in order.
func eachElement(raw []byte, f func(value []byte)) {
	i := skipSpace(raw, 1) // past '['
	for i < len(raw) && raw[i] != ']' {
		n := valueEnd(raw[i:])
		f(raw[i : i+n])
		i = skipSpace(raw, i+n)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
}

// stringValue decodes a JSON string; ok is false when raw is not one.
func stringValue(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	plain := true
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c >= 0x80 { // escapes, and UTF-8 to be checked as encoding/json does
			plain = false
			break
		}
	}
	if plain {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd is the length of the string at the start of b.
func stringEnd(b []byte) int {
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd is the length of the value at the start of b.
func valueEnd(b []byte) int {
	switch b[0] {
	case '"':
		return stringEnd(b)
	case '{', '[':
		depth := 0
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				i += stringEnd(b[i:]) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	i := 0 // a number or a literal
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	return i
}
