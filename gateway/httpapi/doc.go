// Package httpapi is the gateway's admin HTTP edge: the REST API under
// /api/v1 (its OpenAPI 3 document is openapi.json, served at
// /api/v1/openapi.json), the server-rendered school-admin page, Prometheus
// /metrics, /healthz and /readyz.
//
// # Room and limits
//
// It is the only importer of the Prometheus client. It reaches the rest of
// the gateway only through the App interface it declares (the application
// layer, gateway/app, satisfies it): it puts the caller's scope in the
// context (gateway.WithScope) and the application layer enforces it inside
// every store call. It holds no store and no business rule of its own:
// token policy, login logging and every act live in gateway/app.
//
// Authentication: bearer tokens (stored as SHA-256 hashes) with the roles
// operator (every school), school-admin (the schools on the token), viewer
// (read-only) and dashboard (the schools on the token; it reads the results
// feed of its recipient and nothing else: every other API route refuses it
// with 403, centrally in the route helper, and the web page refuses it at
// login). A school outside the caller's scope answers 404, as if it did
// not exist. Every refused token is told the same 401, whatever the
// reason (revoked, expired, unknown, malformed); the reason is in the
// audit entry. Failed logins are limited per client address (RemoteAddr:
// no X-Forwarded-For is trusted) by the application layer: past the limit
// a login is 429 with Retry-After and its token is not checked. Failed
// logins are audited per address and window (the first at once, the rest
// as one aggregate), every web login is audited (the processing
// agreement's login logging) and kept as a login record for retention; an
// API token's use is audited as a login at most once an hour (its
// LastUsedAt is the time of that audited login). The web page's forms are
// refused (403) when posted from another site (Sec-Fetch-Site, Origin):
// for the login form, which has no session yet, that is its CSRF
// protection; the others carry a CSRF token too. Its status messages are
// keys of a fixed list (notice.go), never text from the URL.
//
// Limits (limits.go): headers are read under a short deadline, a body
// under a short one too (a long one for the results upload), idle
// connections and header sizes are bounded, and Listener caps the open
// connections.
//
// A research study's export and a legal disclosure carry data out of the
// gateway: only operator and school-admin tokens ask for them, and while
// the school does not grant the processing they answer 403 and hand
// nothing out. For a file recipient the export is the answer; for a
// webhook recipient it is queued for the outbox (202).
//
// Errors are RFC 9457 problem details, from one table (statusOf) of error
// kinds; a bad field is named in "errors". A 5xx carries only the request
// id; the error itself is logged once, with that id. Logs never hold a
// token secret, name, birth date, ECK iD or request body.
package httpapi
