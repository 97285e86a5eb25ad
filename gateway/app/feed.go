package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
)

// Feed page sizes.
const (
	DefaultFeedLimit = 500
	MaxFeedLimit     = 5000
)

// feedRecipient checks that the school has a dashboards recipient of kind
// feed by that name.
func (a *App) feedRecipient(ctx context.Context, id gateway.SchoolID, name string) (gateway.Recipient, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.Recipient{}, err
	}
	r, ok := s.Recipient(name)
	if !ok || r.Processing != gateway.ProcessingDashboards || r.Kind != gateway.RecipientFeed {
		return r, invalidf("school %s has no dashboards recipient %q of kind feed (recipient add --kind feed)", id, name)
	}
	return r, nil
}

// Feed returns the school's results for a dashboard that pulls them, in
// the order they were taken in, from cursor on (empty: the start). The
// school must grant dashboards right now (ErrConsentRequired otherwise);
// a page that holds results is on the school's audit chain (recipient,
// records, digest) before it is returned, and kept as signed evidence.
func (a *App) Feed(ctx context.Context, id gateway.SchoolID, recipient, cursor string, limit int) (gateway.FeedPage, error) {
	page := gateway.FeedPage{School: id, Recipient: recipient, Results: []gateway.DashboardResult{}, Next: cursor}
	r, err := a.feedRecipient(ctx, id, recipient)
	if err != nil {
		return page, err
	}
	if limit <= 0 {
		limit = DefaultFeedLimit
	}
	limit = min(limit, MaxFeedLimit)
	after, err := parseCursor(cursor)
	if err != nil {
		return page, err
	}
	if err := a.gate.Require(ctx, id, gateway.ProcessingDashboards); err != nil {
		return page, err
	}
	rs, more, err := a.resultsAfter(ctx, id, after, limit)
	if err != nil || len(rs) == 0 {
		return page, err
	}
	pupils, err := a.pupilsOf(ctx, id, rs)
	if err != nil {
		return page, err
	}
	for _, r := range rs {
		if p, ok := pupils[r.Pupil]; ok && p.LASKey != "" {
			page.Results = append(page.Results, gateway.DashboardResultOf(id, p, r))
		}
	}
	page.Next, page.More = cursorOf(rs[len(rs)-1]), more
	if err := a.recordFeedPage(ctx, r, page, rs); err != nil {
		return gateway.FeedPage{School: id, Recipient: recipient, Results: []gateway.DashboardResult{}, Next: cursor}, err
	}
	return page, nil
}

// feedPos is a place in the feed: a result's intake time and key.
type feedPos struct {
	at  time.Time
	key string
}

func (p feedPos) before(r gateway.Result) bool {
	if !r.SubmittedAt.Equal(p.at) {
		return p.at.Before(r.SubmittedAt)
	}
	return p.key < r.Key
}

func cursorOf(r gateway.Result) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(r.SubmittedAt.UnixNano(), 10) + "|" + r.Key))
}

func parseCursor(c string) (feedPos, error) {
	if c == "" {
		return feedPos{key: ""}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	ns, key, ok := strings.Cut(string(b), "|")
	n, perr := strconv.ParseInt(ns, 10, 64)
	if err != nil || !ok || perr != nil {
		return feedPos{}, invalidf("cursor: not one this feed gave out")
	}
	return feedPos{at: time.Unix(0, n).UTC(), key: key}, nil
}

// resultsAfter returns up to limit of the school's results after pos, in
// feed order, and whether there are more.
func (a *App) resultsAfter(ctx context.Context, id gateway.SchoolID, pos feedPos, limit int) ([]gateway.Result, bool, error) {
	var rs []gateway.Result
	start := pos.at.IsZero() && pos.key == ""
	err := a.st.WalkResults(ctx, id, func(r gateway.Result) error {
		if start || pos.before(r) {
			rs = append(rs, r)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(rs, func(x, y gateway.Result) int {
		if c := x.SubmittedAt.Compare(y.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	if len(rs) > limit {
		return rs[:limit], true, nil
	}
	return rs, false, nil
}

func (a *App) pupilsOf(ctx context.Context, id gateway.SchoolID, rs []gateway.Result) (map[gateway.PupilID]gateway.Pupil, error) {
	var ids []gateway.PupilID
	for _, r := range rs {
		if !slices.Contains(ids, r.Pupil) {
			ids = append(ids, r.Pupil)
		}
	}
	return a.st.PupilsByID(ctx, id, ids)
}

// recordFeedPage puts a page on the school's audit chain and keeps its
// signed evidence, before the page is handed out.
func (a *App) recordFeedPage(ctx context.Context, r gateway.Recipient, page gateway.FeedPage, rs []gateway.Result) error {
	id, recipient := page.School, r.Name
	body, err := json.Marshal(page.Results)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	_, err = a.log.School(ctx, id, gateway.AuditExport, "feed", map[string]string{"processing": string(gateway.ProcessingDashboards),
		"recipient": recipient, "kind": string(gateway.RecipientFeed), "records": strconv.Itoa(len(page.Results)), "sha256": digest})
	if err != nil {
		return fmt.Errorf("record the feed page: %w", err)
	}
	now := a.now().UTC()
	evID := "ex_feed_" + digest[:16] + "_" + strconv.FormatInt(now.UnixNano(), 36)
	var pupils []gateway.PupilID
	for _, x := range rs {
		if !slices.Contains(pupils, x.Pupil) {
			pupils = append(pupils, x.Pupil)
		}
	}
	_, err = a.keepExport(ctx, gateway.ExportEvidence{ID: evID, School: id, Processing: gateway.ProcessingDashboards,
		Recipient: recipient, Endpoint: "feed:" + recipient, Basis: r.Basis, Records: len(page.Results),
		SHA256: digest, CreatedAt: now, Details: map[string]string{"next": page.Next}}, pupils, delivery.KeysOf(rs))
	return err
}
