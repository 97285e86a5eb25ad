// Package webhook pushes JSON to a recipient's endpoint signed as Standard
// Webhooks (https://www.standardwebhooks.com/) sign: three headers,
// webhook-id (the caller's stable message id, on which the receiver
// de-duplicates), webhook-timestamp (unix seconds) and webhook-signature
// ("v1," + the standard base64 of HMAC-SHA256 over id "." timestamp "."
// body, keyed with the decoded bytes of a "whsec_" secret). Any receiver
// library of that specification verifies what Client.Send posts; Verify is
// the same check, for tests and for anyone embedding a receiver.
//
// Limits. The package only signs and posts: it does not queue, retry or
// decide consent; the caller does, by the *Error's Class and RetryAfter. It
// posts only to https URLs (http only to a loopback host, for tests and a
// local receiver) without user info (CheckURL), never follows a redirect
// (a recipient that moved is a configuration change a person makes), and
// reads at most Client.MaxResponseBytes of an answer. It never logs, never
// prints a secret or key, and its errors name only the endpoint's host and
// a short one-line snippet of the answer, never the URL's path or query nor
// what was sent. Time and randomness are inputs (Client.Now, NewSecret's
// reader).
package webhook
