package app

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Failed logins are recorded per client address and window: the first
// failure of a window is audited (and kept as a login record) at once, as
// any login is; the rest are counted here and written as one aggregate
// audit entry when the window closes (count, throttled, first, last,
// reasons), so a flood adds two entries per address and window, not one
// per attempt. A window closes DefaultLoginWindow after its first attempt:
// its aggregate is written by the next failed login after that (of any
// address), by RunLoginFlush, or by FlushLogins at shutdown. In memory per
// process (see throttle.go): a process killed mid-window loses the
// window's count, never its first failure.

// failure is one failed login as the windows count it.
type failure struct{ reason, account, via string }

// maxWindowAccounts bounds the distinct accounts an aggregate names.
const maxWindowAccounts = 5

// failWindow is one address's failed logins in one window.
type failWindow struct {
	key         string
	first, last time.Time
	count       int // failures checked against the store, the first included
	throttled   int // attempts refused unchecked (LoginThrottled)
	reasons     map[string]int
	accounts    []string // distinct, at most maxWindowAccounts
	vias        []string
	elem        *list.Element
}

// worth reports whether the window has more than its first failure,
// which was written at once.
func (w *failWindow) worth() bool { return w.count > 1 || w.throttled > 0 }

// note adds a failure's reason, account and route.
func (w *failWindow) note(f failure) {
	w.reasons[f.reason]++
	if !slices.Contains(w.accounts, f.account) && len(w.accounts) < maxWindowAccounts {
		w.accounts = append(w.accounts, f.account)
	}
	if f.via != "" && !slices.Contains(w.vias, f.via) {
		w.vias = append(w.vias, f.via)
	}
}

// failedLogins are the open windows, at most lim.Addresses (the oldest is
// closed early to make room), in the order they opened.
type failedLogins struct {
	mu    sync.Mutex
	lim   LoginLimits
	m     map[string]*failWindow
	order list.List // of *failWindow, oldest first
	// lost counts throttled attempts no window could take (all full).
	lost int
}

func newFailedLogins(l LoginLimits) *failedLogins {
	return &failedLogins{lim: l.withDefaults(), m: map[string]*failWindow{}}
}

// open starts key's window at now, closing the oldest when full.
func (fl *failedLogins) open(key string, now time.Time) (*failWindow, []failWindow) {
	var closed []failWindow
	for len(fl.m) >= fl.lim.Addresses {
		closed = append(closed, fl.close(fl.order.Front().Value.(*failWindow))...)
	}
	w := &failWindow{key: key, first: now, last: now, reasons: map[string]int{}}
	w.elem = fl.order.PushBack(w)
	fl.m[key] = w
	return w, closed
}

// close removes w, returning it when it has something to write.
func (fl *failedLogins) close(w *failWindow) []failWindow {
	fl.order.Remove(w.elem)
	delete(fl.m, w.key)
	if w.worth() {
		return []failWindow{*w}
	}
	return nil
}

// expire closes the windows opened a window's length before now.
func (fl *failedLogins) expire(now time.Time) []failWindow {
	var closed []failWindow
	for e := fl.order.Front(); e != nil; e = fl.order.Front() {
		w := e.Value.(*failWindow)
		if now.Sub(w.first) < fl.lim.Window {
			break
		}
		closed = append(closed, fl.close(w)...)
	}
	return closed
}

// fail counts a failed login of key at now: first when it is the first
// failure of its window (to be written at once); closed are the windows
// that closed meanwhile, to be written.
func (fl *failedLogins) fail(key string, f failure, now time.Time) (first bool, closed []failWindow) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	closed = fl.expire(now)
	w, ok := fl.m[key]
	if !ok {
		var more []failWindow
		w, more = fl.open(key, now)
		closed = append(closed, more...)
	}
	first = w.count == 0
	w.count++
	w.last = now
	w.note(f)
	return first, closed
}

// throttle counts an attempt refused unchecked. It writes nothing, so it
// only takes a window when there is room (else it is lost, and counted).
func (fl *failedLogins) throttle(key string, now time.Time) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	w, ok := fl.m[key]
	if !ok {
		if len(fl.m) >= fl.lim.Addresses {
			fl.lost++
			return
		}
		w, _ = fl.open(key, now)
	}
	w.throttled++
	w.last = now
}

// take closes the windows due at now, or every window (all).
func (fl *failedLogins) take(now time.Time, all bool) ([]failWindow, int) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	lost := fl.lost
	fl.lost = 0
	if !all {
		return fl.expire(now), lost
	}
	var closed []failWindow
	for e := fl.order.Front(); e != nil; e = fl.order.Front() {
		closed = append(closed, fl.close(e.Value.(*failWindow))...)
	}
	return closed, lost
}

func (fl *failedLogins) len() int {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return len(fl.m)
}

// aggregateDetails are the audit details of a closed window.
func (w failWindow) aggregateDetails() map[string]string {
	reasons := make([]string, 0, len(w.reasons))
	for _, r := range slices.Sorted(maps.Keys(w.reasons)) {
		reasons = append(reasons, r+":"+strconv.Itoa(w.reasons[r]))
	}
	return map[string]string{"account": or(strings.Join(w.accounts, ","), "unknown"), "ok": "false", "via": strings.Join(w.vias, ","),
		"remote": w.key, "count": strconv.Itoa(w.count), "throttled": strconv.Itoa(w.throttled),
		"first": w.first.UTC().Format(time.RFC3339Nano), "last": w.last.UTC().Format(time.RFC3339Nano), "reasons": strings.Join(reasons, ",")}
}

// writeAggregates audits closed windows in the gateway chain (ctx carries
// the gateway-wide scope); lost throttled attempts are logged.
func (a *App) writeAggregates(ctx context.Context, ws []failWindow, lost int) error {
	if lost > 0 {
		a.slog.Warn("failed logins throttled while every login window was taken: not itemised", "attempts", lost)
	}
	var errs []error
	for _, w := range ws {
		d := w.aggregateDetails()
		if _, err := a.log.Append(ctx, gateway.AuditChainGateway, gateway.AuditLogin, "", strings.SplitN(d["account"], ",", 2)[0], d); err != nil {
			errs = append(errs, fmt.Errorf("failed logins of a window not audited: %w", err))
		}
	}
	return errors.Join(errs...)
}

// FlushLogins writes the aggregate of every open window of failed logins
// now (at shutdown: they are in memory only). Failures to write are
// returned joined.
func (a *App) FlushLogins(ctx context.Context) error {
	ws, lost := a.edge().fails.take(a.now(), true)
	return a.writeAggregates(gatewayScope(ctx), ws, lost)
}

// RunLoginFlush writes the aggregates of closed windows every fifth of a
// window until ctx ends, then those of all open windows (FlushLogins).
func (a *App) RunLoginFlush(ctx context.Context) {
	t := time.NewTicker(a.edge().fails.lim.Window / 5)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := a.FlushLogins(context.WithoutCancel(ctx)); err != nil {
				a.slog.Warn("failed logins not audited at shutdown", "error", err)
			}
			return
		case <-t.C:
			ws, lost := a.edge().fails.take(a.now(), false)
			if err := a.writeAggregates(gatewayScope(ctx), ws, lost); err != nil {
				a.slog.Warn("failed logins not audited", "error", err)
			}
		}
	}
}

// gatewayScope is ctx (never cancelled) with the gateway-wide scope: the
// gateway records logins in its own chain whatever the caller may see.
func gatewayScope(ctx context.Context) context.Context {
	return gateway.WithScope(context.WithoutCancel(ctx), gateway.Scope{All: true})
}
