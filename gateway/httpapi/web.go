package httpapi

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

//go:embed web/*.html web/*.css
var webFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"t": func(lang, key string) string {
		if s, ok := texts[lang][key]; ok {
			return s
		}
		return key
	},
	"when": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(amsterdam).Format("2006-01-02 15:04")
	},
	"whenT": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(amsterdam).Format("2006-01-02 15:04")
	},
	"join": strings.Join,
}).ParseFS(webFiles, "web/*.html"))

var amsterdam = gateway.Amsterdam

// webRoutes registers the school-admin page: server-rendered, no
// JavaScript needed, Dutch with English available (?lang=en).
func (s *Server) webRoutes() {
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/schools", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, r *http.Request) {
		b, _ := webFiles.ReadFile("web/style.css")
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(b)
	})
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.sameOrigin(s.login))
	s.mux.HandleFunc("POST /logout", s.sameOrigin(s.logout))
	s.mux.HandleFunc("GET /schools", s.page(s.schoolsPage))
	s.mux.HandleFunc("GET /schools/{school}", s.page(s.schoolPage))
	s.mux.HandleFunc("POST /schools/{school}/consent", s.action(s.consentAction))
	s.mux.HandleFunc("POST /schools/{school}/test-connection", s.action(s.testAction))
	s.mux.HandleFunc("POST /schools/{school}/approve", s.action(s.approveAction))
	s.mux.HandleFunc("POST /schools/{school}/sync", s.action(s.syncAction))
	s.mux.HandleFunc("POST /schools/{school}/contact", s.action(s.contactAction))
	s.mux.HandleFunc("POST /schools/{school}/recipients/{name}/remove", s.action(s.removeRecipientAction))
}

// crossOrigin refuses a form posted from another site: Sec-Fetch-Site must
// be same-origin or none (typed, bookmarked), or, from a browser that does
// not send it, Origin must be this server's host. A request with neither
// is no browser's, so no cross-site forgery. The login form has no session
// to bind a CSRF token to (login CSRF: a page elsewhere logging the victim
// in as the attacker), so this check is its protection; the other forms
// have it on top of their CSRF token.
var crossOrigin = http.NewCrossOriginProtection()

// sameOrigin answers a cross-site post with 403 before anything else.
func (s *Server) sameOrigin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := crossOrigin.Check(r); err != nil {
			s.log(r).Warn("cross-site form post refused", "route", r.Pattern)
			s.render(w, r, http.StatusForbidden, "error.html", pageData{Error: texts[langOf(r)]["denied"] + " (cross-site)"})
			return
		}
		h(w, r)
	}
}

// securityHeaders: no framing, no inline script or style, no referrer.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// pageData is what every template gets.
type pageData struct {
	Lang, Other string
	CSRF        string
	Token       gateway.Token
	CanWrite    bool
	Message     string
	Error       string
	Data        any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	securityHeaders(w)
	d.Lang = langOf(r)
	d.Other = langEN
	if d.Lang == langEN {
		d.Other = langNL
	}
	if l := r.URL.Query().Get("lang"); l == langNL || l == langEN {
		http.SetCookie(w, &http.Cookie{Name: "uwlr_lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: s.secure})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		s.log(r).Error("render page", "page", name, "error", err)
	}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.session(r); ok {
		http.Redirect(w, r, "/schools", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login.html", pageData{})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	secret := strings.TrimSpace(r.PostFormValue("token"))
	t, err := s.app.Authenticate(r.Context(), secret, remoteIP(r))
	lang := langOf(r)
	if s.throttled(err, "web") {
		setRetryAfter(w, err)
		s.render(w, r, http.StatusTooManyRequests, "login.html", pageData{Error: texts[lang]["too.many"]})
		return
	}
	if err == nil && t.Role == gateway.RoleDashboard {
		// It may read its results feed and nothing else: no page. It is
		// told what a bad token is told.
		s.recordLogin(r, t, false, "web", "a dashboard token may only read its results feed")
		s.render(w, r, http.StatusUnauthorized, "login.html", pageData{Error: texts[lang]["bad.token"]})
		return
	}
	if refused(err) {
		s.recordLogin(r, t, false, "web", err.Error())
		s.render(w, r, http.StatusUnauthorized, "login.html", pageData{Error: texts[lang]["bad.token"]})
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordLogin(r, t, true, "web", "")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.newSession(t), Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure})
	http.Redirect(w, r, "/schools", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	t, sess, ok := s.session(r)
	if !ok || !s.checkCSRF(r, sess) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	// The session ends on the server: a copy of the cookie is refused too.
	if err := s.app.EndSessions(r.Context(), t.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// page serves a page to a logged-in user, with their scope in the context.
func (s *Server) page(h func(w http.ResponseWriter, r *http.Request, d pageData)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, sess, ok := s.session(r)
		if !ok {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		p := principal{token: t, via: "web"}
		h(w, r.WithContext(caller(r.Context(), t, "web")), pageData{CSRF: s.csrfToken(sess), Token: t, CanWrite: p.canWrite(), Message: noticeText(r)})
	}
}

// action handles a form post: session, CSRF token and role are checked,
// then the user goes back to the school's page with a message.
func (s *Server) action(h func(r *http.Request, sc gateway.School, p principal) (notice, error)) http.HandlerFunc {
	return s.sameOrigin(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		t, sess, ok := s.session(r)
		if !ok {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		lang := langOf(r)
		if !s.checkCSRF(r, sess) {
			s.log(r).Warn("form without a valid CSRF token refused", "token", t.ID)
			s.render(w, r, http.StatusForbidden, "error.html", pageData{Error: texts[lang]["denied"] + " (CSRF)"})
			return
		}
		p := principal{token: t, via: "web"}
		ctx := caller(r.Context(), t, "web")
		r = r.WithContext(ctx)
		// A school outside the scope does not exist, whatever the role.
		sc, err := s.app.School(ctx, gateway.SchoolID(r.PathValue("school")))
		if err != nil {
			status, _, _ := statusOf(err)
			s.render(w, r, status, "error.html", pageData{Error: texts[lang]["error"]})
			return
		}
		if !p.canWrite() {
			s.render(w, r, http.StatusForbidden, "error.html", pageData{Error: texts[lang]["viewer"], Data: sc.ID})
			return
		}
		n, err := h(r, sc, p)
		if err != nil {
			status, _, title := statusOf(err)
			detail := err.Error()
			if status >= 500 {
				s.log(r).Error("page action failed", "error", err)
				detail = "request id " + requestID(ctx)
			}
			setRetryAfter(w, err)
			s.render(w, r, status, "error.html", pageData{Error: title + ": " + detail, Data: sc.ID})
			return
		}
		http.Redirect(w, r, "/schools/"+url.PathEscape(string(sc.ID))+"?"+n.query(), http.StatusSeeOther)
	})
}

func (s *Server) schoolsPage(w http.ResponseWriter, r *http.Request, d pageData) {
	schools, err := s.app.Schools(r.Context())
	if err != nil {
		s.render(w, r, http.StatusInternalServerError, "error.html", pageData{Error: texts[langOf(r)]["error"]})
		return
	}
	if len(schools) == 1 {
		http.Redirect(w, r, "/schools/"+url.PathEscape(string(schools[0].ID)), http.StatusSeeOther)
		return
	}
	var views []SchoolView
	for _, sc := range schools {
		v, err := s.view(r, sc, false)
		if err != nil {
			s.render(w, r, http.StatusInternalServerError, "error.html", pageData{Error: texts[langOf(r)]["error"]})
			return
		}
		views = append(views, v)
	}
	d.Data = views
	s.render(w, r, http.StatusOK, "schools.html", d)
}

// schoolPageData is the school page's content.
type schoolPageData struct {
	School      SchoolView
	Processings []processingRow
	Held        *gateway.HeldDiff
	States      []stateCount
	// Contact is the school's contact person; nil when none is set.
	Contact *gateway.SchoolContact
}

type stateCount struct {
	State string
	N     int
}

func (s *Server) schoolPage(w http.ResponseWriter, r *http.Request, d pageData) {
	lang := langOf(r)
	sc, err := s.app.School(r.Context(), gateway.SchoolID(r.PathValue("school")))
	if err != nil {
		status, _, _ := statusOf(err)
		s.render(w, r, status, "error.html", pageData{Error: texts[lang]["error"]})
		return
	}
	v, err := s.view(r, sc, true)
	if err != nil {
		s.log(r).Error("school page", "error", err)
		s.render(w, r, http.StatusInternalServerError, "error.html", pageData{Error: texts[lang]["error"]})
		return
	}
	pd := schoolPageData{School: v, Contact: sc.Contact}
	if pd.Processings, err = s.processingRows(r, sc, v); err != nil {
		s.log(r).Error("school page", "error", err)
		s.render(w, r, http.StatusInternalServerError, "error.html", pageData{Error: texts[lang]["error"]})
		return
	}
	if v.HeldSync != nil {
		if h, err := s.app.HeldDiff(r.Context(), sc.ID); err == nil {
			if len(h.Changes) > 200 {
				h.Changes = h.Changes[:200]
			}
			pd.Held = h
		}
	}
	for _, st := range gateway.BatchStates {
		if n := v.Outbox[string(st)]; n > 0 || st != gateway.BatchSplit {
			pd.States = append(pd.States, stateCount{State: string(st), N: n})
		}
	}
	d.Data = pd
	s.render(w, r, http.StatusOK, "school.html", d)
}

func (s *Server) consentAction(r *http.Request, sc gateway.School, p principal) (notice, error) {
	proc := gateway.Processing(r.PostFormValue("processing"))
	if !proc.Valid() {
		return notice{}, fmt.Errorf("%w: unknown processing", gateway.ErrInvalid)
	}
	grant := r.PostFormValue("granted") == "true"
	a, err := s.app.SetConsent(r.Context(), sc.ID, proc, grant, p.as())
	if err != nil {
		return notice{}, err
	}
	return notice{key: noticeConsent, held: a.Held, released: a.Released}, nil
}

func (s *Server) testAction(r *http.Request, sc gateway.School, _ principal) (notice, error) {
	if _, err := s.app.TestConnection(r.Context(), sc.ID); err != nil {
		return notice{}, err
	}
	return notice{key: noticeTested}, nil
}

func (s *Server) approveAction(r *http.Request, sc gateway.School, p principal) (notice, error) {
	if _, err := s.app.Approve(r.Context(), sc.ID, p.actor()); err != nil {
		return notice{}, err
	}
	return notice{key: noticeApproved}, nil
}

func (s *Server) syncAction(r *http.Request, sc gateway.School, p principal) (notice, error) {
	if err := s.app.SyncNow(r.Context(), sc.ID, p.actor()); err != nil {
		return notice{}, err
	}
	return notice{key: noticeSync}, nil
}
