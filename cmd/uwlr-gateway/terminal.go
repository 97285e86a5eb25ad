package main

// Terminal-safe human output. Every string that came from outside (a LAS:
// names, keys, fault texts, school keys; a user or a file: recipient
// names, contact persons, actors, reasons) goes through safe before it is
// printed for a human, so that a control character, an ANSI escape, a line
// break or a bidi override in it can neither move the cursor, recolour the
// screen, reorder what is shown nor forge a line of our own. JSON output
// (--json) carries the exact values and never goes through it.

import (
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// safe is outside text as one line of a terminal (soap.OneLine).
func safe[T ~string](s T) string { return soap.OneLine(string(s)) }

// safeList is a list of outside strings, each made safe, as "[a b c]".
func safeList[T ~string](ss []T) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = safe(s)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// safeLines is text of several lines (an error from a library) made safe
// line by line; the lines after the first are indented, so that none can
// pass for a line of its own.
func safeLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = soap.OneLine(l)
	}
	return strings.Join(lines, "\n  ")
}
