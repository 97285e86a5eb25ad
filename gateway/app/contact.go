package app

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Limits of a contact person's fields: generous for real names, addresses
// and numbers, small enough that a form cannot fill the school record.
const (
	maxContactName  = 200 // characters
	maxContactEmail = 254 // bytes: the longest address SMTP can carry (RFC 5321 forward path)
	maxContactPhone = 32  // characters, separators included
	minPhoneDigits  = 6
	maxPhoneDigits  = 15 // E.164: at most 15 digits, country code included
)

// SchoolContact returns the school's contact person. ErrNotFound when the
// school is not enrolled (or outside the caller's scope), and when it has
// named no contact person yet.
func (a *App) SchoolContact(ctx context.Context, id gateway.SchoolID) (gateway.SchoolContact, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.SchoolContact{}, err
	}
	if s.Contact == nil {
		return gateway.SchoolContact{}, fmt.Errorf("school %s has no contact person set: %w", id, gateway.ErrNotFound)
	}
	return *s.Contact, nil
}

// SetSchoolContact sets the school's contact person (its beheerder, also
// the person to contact in case of a data breach) to c's Name, Email
// (both required) and Phone (optional), trimmed of surrounding white space,
// and returns it as stored, with UpdatedAt and UpdatedBy set here. Bad input is gateway.InvalidFields naming each bad field (name,
// email, phone); nothing is stored then. Only the contact changes, in one
// atomic read-modify-write of the school, so a sync, rewrap or receiver
// change meanwhile keeps what it writes. The school's audit chain records
// which fields changed and by whom, never the values; setting the values
// it already has changes nothing and records nothing.
func (a *App) SetSchoolContact(ctx context.Context, id gateway.SchoolID, c gateway.SchoolContact, by string) (gateway.SchoolContact, error) {
	if _, err := a.school(ctx, id); err != nil {
		return gateway.SchoolContact{}, err
	}
	c = gateway.SchoolContact{Name: strings.TrimSpace(c.Name), Email: strings.TrimSpace(c.Email), Phone: strings.TrimSpace(c.Phone)}
	if err := checkContact(c); err != nil {
		return gateway.SchoolContact{}, fmt.Errorf("contact person of school %s: %w", id, err)
	}
	by = or(by, "cli")
	now := a.now().UTC()
	var changed []string
	action := "set"
	s, err := a.st.UpdateSchool(ctx, id, func(x *gateway.School) error {
		changed, action = contactChanges(x.Contact, c), "set"
		if x.Contact != nil {
			action = "changed"
		}
		if len(changed) > 0 {
			x.Contact = &gateway.SchoolContact{Name: c.Name, Email: c.Email, Phone: c.Phone, UpdatedAt: now, UpdatedBy: by}
		}
		return nil
	})
	if err != nil {
		return gateway.SchoolContact{}, fmt.Errorf("set the contact person of school %s: %w", id, err)
	}
	if len(changed) > 0 {
		if _, err := a.log.School(ctx, id, gateway.AuditSchoolContact, by, map[string]string{
			"action": action, "fields": strings.Join(changed, ",")}); err != nil {
			return *s.Contact, err
		}
	}
	return *s.Contact, nil
}

// contactChanges names the fields c changes of old (every given field when
// there is none yet).
func contactChanges(old *gateway.SchoolContact, c gateway.SchoolContact) []string {
	var was gateway.SchoolContact
	if old != nil {
		was = *old
	}
	var out []string
	for _, f := range []struct {
		name     string
		old, new string
	}{{"name", was.Name, c.Name}, {"email", was.Email, c.Email}, {"phone", was.Phone, c.Phone}} {
		if f.old != f.new || (old == nil && f.new != "") {
			out = append(out, f.name)
		}
	}
	return out
}

// checkContact checks every field and names each bad one; the reasons
// never repeat a value (it is personal data).
func checkContact(c gateway.SchoolContact) error {
	var bad gateway.InvalidFields
	for _, f := range []struct {
		name, reason string
	}{{"name", nameProblem(c.Name)}, {"email", emailProblem(c.Email)}, {"phone", phoneProblem(c.Phone)}} {
		if f.reason != "" {
			bad = append(bad, gateway.Problem{Position: f.name, Reason: f.reason})
		}
	}
	if len(bad) > 0 {
		return bad
	}
	return nil
}

func nameProblem(n string) string {
	switch {
	case n == "":
		return "is required"
	case utf8.RuneCountInString(n) > maxContactName:
		return fmt.Sprintf("is longer than %d characters", maxContactName)
	case strings.IndexFunc(n, unicode.IsControl) >= 0:
		return "holds a line break, tab or other control character"
	}
	return ""
}

// emailProblem accepts a plain address (addr-spec, RFC 5322) whose domain
// is a name with a dot: no display name, no comment, no address literal.
func emailProblem(e string) string {
	switch {
	case e == "":
		return "is required"
	case len(e) > maxContactEmail:
		return fmt.Sprintf("is longer than %d bytes", maxContactEmail)
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Name != "" || addr.Address != e {
		return "is not an e-mail address (give it as name@school.example, without a display name)"
	}
	domain := e[strings.LastIndex(e, "@")+1:]
	if strings.HasPrefix(domain, "[") || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return "is not an e-mail address: its domain must be a name with a dot (name@school.example)"
	}
	return ""
}

// phoneProblem accepts digits with the usual separators and a leading +.
func phoneProblem(p string) string {
	if p == "" {
		return ""
	}
	if utf8.RuneCountInString(p) > maxContactPhone {
		return fmt.Sprintf("is longer than %d characters", maxContactPhone)
	}
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, strings.ContainsRune(" -()./", r):
		default:
			return "may hold only digits, spaces and - ( ) . / (and a leading + for the country code)"
		}
	}
	if digits < minPhoneDigits || digits > maxPhoneDigits {
		return fmt.Sprintf("needs %d to %d digits", minPhoneDigits, maxPhoneDigits)
	}
	return ""
}
