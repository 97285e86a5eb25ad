package mapping

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// eckidPattern is the advisory ECK iD format (docs/UWLR-SPEC.md §5).
var eckidPattern = regexp.MustCompile(`^https://ketenid\.nl/[a-z0-9]+/[0-9a-f]{128}$`)

// ValidEckID reports whether id has the production/pilot ECK iD form
// https://ketenid.nl/<segment>/<128 lowercase hex>. Other forms are kept
// (the ECK iD is opaque) but warned about.
func ValidEckID(id string) bool { return eckidPattern.MatchString(id) }

// RedactedEckIDPrefix starts the marker a redacted capture of an answer
// (package capture) puts where the LAS sent an ECK iD: "redacted:eckid:3",
// numbered per capture, the same number for the same ECK iD. Such a marker
// is no format problem: it is not warned about, and uniqueness checks still
// work on it.
const RedactedEckIDPrefix = "redacted:eckid:"

// IsRedactedEckID reports whether id is a redacted capture's marker.
func IsRedactedEckID(id string) bool {
	n, ok := strings.CutPrefix(id, RedactedEckIDPrefix)
	if !ok || n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// jaargroepen is the EDEXJaargroepType enumeration (docs/UWLR-SPEC.md §2.3).
var jaargroepen = map[string]bool{
	"B": true, "D": true,
	"0": true, "1": true, "2": true, "3": true, "4": true, "5": true, "6": true, "7": true, "8": true,
	"11": true, "12": true, "13": true, "14": true, "15": true, "16": true,
	"S": true, "V": true, "C": true, "N": true, "H": true,
}

// ValidJaargroep reports whether s is a value of the EDEXJaargroepType
// enumeration: B, D, 0-8, 11-16, S, V, C, N, H.
func ValidJaargroep(s string) bool { return jaargroepen[s] }

// roleCodes is the EDEX rol enumeration (docs/UWLR-SPEC.md §2.3, LeerkrachtType).
var roleCodes = []string{"ADJ", "ADM", "CON", "DIR", "ICT", "IB", "KLA", "LRK", "LOS", "LOC", "OWA", "OUD", "RT", "SMW", "STA", "VAK"}

// RoleCodes returns the EDEX teacher role codes.
func RoleCodes() []string { return slices.Clone(roleCodes) }

// IsRoleCode reports whether s is one of the EDEX teacher role codes. A
// Teacher's Roles hold these codes next to free role texts.
func IsRoleCode(s string) bool { return slices.Contains(roleCodes, s) }

// gender maps an xs:integer geslacht (NEN-ISO 5218) to its canonical form:
// "0", "1", "2" or "9". The XSD type is an integer enumeration, so lexical
// variants of the same value ("01", "+1", surrounding white space) are the
// same value and accepted.
func gender(s string) (string, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	switch n {
	case 0, 1, 2, 9:
		return strconv.Itoa(n), true
	}
	return "", false
}

// xsDate checks an xs:date with a four-digit year, YYYY-MM-DD, optionally
// followed by a time zone (Z, or +hh:mm / -hh:mm up to 14:00) that is
// stripped. It returns the date part.
func xsDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return "", false
	}
	date, zone := s[:10], s[10:]
	if !validZone(zone) {
		return "", false
	}
	for i := 0; i < 10; i++ {
		c := date[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return "", false
			}
		} else if c < '0' || c > '9' {
			return "", false
		}
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil { // month and day ranges, leap years
		return "", false
	}
	if date[:4] == "0000" { // xs:date has no year zero
		return "", false
	}
	return date, true
}

func validZone(z string) bool {
	switch {
	case z == "" || z == "Z":
		return true
	case len(z) != 6 || (z[0] != '+' && z[0] != '-') || z[3] != ':':
		return false
	}
	hh, err1 := strconv.Atoi(z[1:3])
	mm, err2 := strconv.Atoi(z[4:6])
	if err1 != nil || err2 != nil || z[1] < '0' || z[4] < '0' { // Atoi accepts a sign
		return false
	}
	return hh < 14 && mm <= 59 || hh == 14 && mm == 0
}

// sortedKeys returns the non-empty keys sorted and de-duplicated, in a new
// slice (nil when there are none).
func sortedKeys(keys []string) []string {
	var out []string
	for _, k := range keys {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
