package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// A page action sends the user back to the school's page with ?msg= naming
// what happened: a key of a fixed list, never a text, so a link cannot
// make the page say anything (a phishing line in the gateway's own
// voice). An unknown key shows nothing.
const (
	noticeConsent  = "consent"
	noticeTested   = "tested"
	noticeApproved = "approved"
	noticeSync     = "sync"
	noticeContact  = "contact"
	noticeRemoved  = "removed"
)

// notices are the keys ?msg= may name; each has its text "msg."+key.
var notices = []string{noticeConsent, noticeTested, noticeApproved, noticeSync, noticeContact, noticeRemoved}

// notice is what an action tells the page: its key and, for a consent
// change, how many result batches it held and released.
type notice struct {
	key            string
	held, released int
}

// query is the notice as the page's query string.
func (n notice) query() string {
	q := url.Values{"msg": {n.key}}
	if n.held > 0 {
		q.Set("held", strconv.Itoa(n.held))
	}
	if n.released > 0 {
		q.Set("released", strconv.Itoa(n.released))
	}
	return q.Encode()
}

// maxNoticeCount bounds a count the page repeats.
const maxNoticeCount = 1_000_000

// noticeText is the message the request's ?msg= names, in its language;
// "" for none or an unknown key. Only a consent change's counts are taken,
// as whole numbers.
func noticeText(r *http.Request) string {
	q := r.URL.Query()
	key := q.Get("msg")
	if !slices.Contains(notices, key) {
		return ""
	}
	lang := langOf(r)
	msg := texts[lang]["msg."+key]
	if key != noticeConsent {
		return msg
	}
	for _, c := range []struct{ param, text string }{{"held", "msg.held"}, {"released", "msg.released"}} {
		if n, err := strconv.Atoi(q.Get(c.param)); err == nil && n > 0 && n <= maxNoticeCount {
			msg += fmt.Sprintf(" %d %s.", n, texts[lang][c.text])
		}
	}
	return msg
}
