package gateway

// HeldChange is one pupil difference between a school's current snapshot and
// its held sync. It names the pupil by internal id and LAS key, and the
// changed fields by name only: never a value.
type HeldChange struct {
	Pupil  PupilID `json:"pupil"`
	LASKey string  `json:"las_key,omitempty"`
	// Kind is added, changed, left or returned (a pupil marked left who is
	// back; Fields then lists what else changed).
	Kind   string   `json:"kind"`
	Fields []string `json:"fields,omitempty"`
}

// HeldDiff is what applying the held sync of a school would change: counts,
// and every changed pupil ordered by id.
type HeldDiff struct {
	School  SchoolID     `json:"school"`
	Run     string       `json:"run"`
	Added   int          `json:"added"`
	Changed int          `json:"changed"`
	Left    int          `json:"left"`
	Changes []HeldChange `json:"changes"`
}
