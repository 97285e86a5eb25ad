package report

import "github.com/uwlr-gateway/uwlr-gateway/gateway"

// Data subjects of a category.
const (
	SubjectPupils   = "pupils"
	SubjectTeachers = "teachers"
	SubjectAccounts = "accounts" // people who log in to the admin API
	SubjectSchool   = "school"   // the school's own secrets
)

// What the gateway itself does to protect a category at rest.
const (
	protectionSealed = "AES-256-GCM, sealed by the vault; the keys are in the vault key file, outside the store"
	protectionNone   = "none by the gateway (disk, backup or Redis encryption is the operator's)"
	protectionSigned = "signed (XML-DSig), not encrypted; the ECK iDs inside are sealed (AES-256-GCM)"
)

// Category is one kind of personal data (or secret) the store holds for a
// school, with how many records hold it.
type Category struct {
	// Name is a stable identifier, e.g. "pupil_birth_date".
	Name        string `json:"name"`
	Description string `json:"description"`
	Subjects    string `json:"subjects"`
	// Records is how many records (pupils, teachers, results, ...) hold it.
	Records int `json:"records"`
	// Encrypted says whether the gateway itself encrypts it at rest.
	Encrypted  bool   `json:"encrypted_at_rest"`
	Protection string `json:"protection"`
}

// categoryDef describes a category; its count comes from a tally.
type categoryDef struct {
	name, description, subjects string
	encrypted                   bool
	protection                  string
}

// categories lists every category in report order.
var categories = []categoryDef{
	{"pupil_name", "Name parts (surname, prefix, first name, given names, initials)", SubjectPupils, false, protectionNone},
	{"pupil_birth_date", "Birth date", SubjectPupils, false, protectionNone},
	{"pupil_gender", "Gender", SubjectPupils, false, protectionNone},
	{"pupil_groups", "Year group and group membership (home and composite groups)", SubjectPupils, false, protectionNone},
	{"pupil_eckid", "ECK iD", SubjectPupils, true, protectionSealed},
	{"pupil_las_key", "LAS pupil key", SubjectPupils, false, protectionNone},
	{"teacher_name", "Name parts (surname, prefix, first name)", SubjectTeachers, false, protectionNone},
	{"teacher_email", "E-mail address", SubjectTeachers, false, protectionNone},
	{"teacher_roles", "Roles and group links", SubjectTeachers, false, protectionNone},
	{"teacher_eckid", "ECK iD", SubjectTeachers, true, protectionSealed},
	{"test_results", "Test results (test, date, score, processor id)", SubjectPupils, false, protectionNone},
	{"delivery_evidence", "Evidence of deliveries (the results messages as sent: LAS keys, results, ECK iDs)", SubjectPupils, false, protectionSigned},
	{"login_records", "Login records (account, time, outcome, pupil id)", SubjectAccounts, false, protectionNone},
	{"school_credentials", "LAS credentials (autorisatiesleutel, client key passphrase, results receiver key)", SubjectSchool, true, protectionSealed},
}

// tally counts, per category name, the records that hold it.
type tally map[string]int

func (t tally) pupil(p gateway.Pupil) {
	t.add("pupil_name", p.LastName != "" || p.Prefix != "" || p.FirstName != "" || p.GivenNames != "" || p.Initials != "")
	t.add("pupil_birth_date", p.BirthDate != "")
	t.add("pupil_gender", p.Gender != "")
	t.add("pupil_groups", p.YearGroup != "" || p.GroupKey != "" || len(p.CompositeGroupKeys) > 0)
	t.add("pupil_eckid", len(p.SealedEckID) > 0)
	t.add("pupil_las_key", p.LASKey != "")
}

func (t tally) teacher(x gateway.Teacher) {
	t.add("teacher_name", x.LastName != "" || x.Prefix != "" || x.FirstName != "")
	t.add("teacher_email", x.Email != "")
	t.add("teacher_roles", len(x.Roles) > 0 || len(x.GroupKeys) > 0 || len(x.CompositeGroupKeys) > 0)
	t.add("teacher_eckid", len(x.SealedEckID) > 0)
}

func (t tally) school(s gateway.School) {
	t.add("school_credentials", len(s.SealedKey) > 0)
	t.add("school_credentials", len(s.SealedKeyPassphrase) > 0)
	t.add("school_credentials", s.Results != nil && len(s.Results.SealedKey) > 0)
}

func (t tally) add(name string, held bool) {
	if held {
		t[name]++
	}
}

// held returns the categories with at least one record, in report order.
func (t tally) held() []Category {
	out := []Category{}
	for _, c := range categories {
		if n := t[c.name]; n > 0 {
			out = append(out, Category{Name: c.name, Description: c.description, Subjects: c.subjects, Records: n,
				Encrypted: c.encrypted, Protection: c.protection})
		}
	}
	return out
}
