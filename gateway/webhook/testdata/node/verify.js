// Verifies a received message with the Standard Webhooks reference library
// (npm standardwebhooks, pinned in package.json), for the Go tests of
// package webhook.
//
//     node verify.js SECRET_FILE HEADERS_FILE BODY_FILE
//
// The arguments are as for ../verify.py; the library reads the system clock.
// Exit status: 0 the message verifies; 1 it does not; 2 unusable input.
"use strict";
const fs = require("fs");

let Webhook, WebhookVerificationError;
try {
  ({ Webhook, WebhookVerificationError } = require("standardwebhooks"));
} catch (e) {
  console.error("verify.js: cannot load standardwebhooks (run npm ci here): " + e.message);
  process.exit(2);
}

if (process.argv.length !== 5) {
  console.error("usage: node verify.js SECRET_FILE HEADERS_FILE BODY_FILE");
  process.exit(2);
}
let wh, headers, body;
try {
  wh = new Webhook(fs.readFileSync(process.argv[2], "utf8").trim());
  headers = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
  body = fs.readFileSync(process.argv[4]);
} catch (e) {
  console.error("verify.js: " + e.message);
  process.exit(2);
}
try {
  wh.verify(body, headers, { jsonParse: false });
} catch (e) {
  if (e instanceof WebhookVerificationError) {
    console.error("verify.js: rejected: " + e.message);
    process.exit(1);
  }
  console.error("verify.js: " + e.message);
  process.exit(2);
}
