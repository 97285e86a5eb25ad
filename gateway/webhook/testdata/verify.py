#!/usr/bin/env python3
"""An independent Standard Webhooks verifier, written from the specification
(https://www.standardwebhooks.com/) with the Python standard library only, so
that the Go tests of package webhook do not check the Go code against itself.

    verify.py SECRET_FILE HEADERS_FILE BODY_FILE [NOW_UNIX_SECONDS]

SECRET_FILE holds "whsec_<base64>" (surrounding white space ignored),
HEADERS_FILE a JSON object of the received headers (names in any case),
BODY_FILE the received body, byte for byte. NOW defaults to the system clock.

Exit status: 0 the message verifies; 1 it does not (the reason on stderr);
2 the files or arguments are unusable.
"""
import base64
import binascii
import hashlib
import hmac
import json
import sys
import time

TOLERANCE_SECONDS = 5 * 60
PREFIX = "whsec_"


def usage(msg):
    print("verify.py: " + msg, file=sys.stderr)
    sys.exit(2)


def reject(msg):
    print("verify.py: rejected: " + msg, file=sys.stderr)
    sys.exit(1)


def main(argv):
    if len(argv) not in (4, 5):
        usage("usage: verify.py SECRET_FILE HEADERS_FILE BODY_FILE [NOW]")
    try:
        with open(argv[1], encoding="utf-8") as f:
            secret = f.read().strip()
        with open(argv[2], encoding="utf-8") as f:
            headers = {k.lower(): v for k, v in json.load(f).items()}
        with open(argv[3], "rb") as f:
            body = f.read()
        now = int(argv[4]) if len(argv) == 5 else int(time.time())
    except (OSError, ValueError) as e:
        usage(str(e))
    if not secret.startswith(PREFIX):
        usage("secret does not start with " + PREFIX)
    try:
        key = base64.b64decode(secret[len(PREFIX):], validate=True)
    except binascii.Error:
        usage("secret is not base64")

    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        reject("missing webhook-id, webhook-timestamp or webhook-signature")
    if not timestamp.isdigit():
        reject("webhook-timestamp is not unix seconds")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        reject("timestamp outside the tolerance")

    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for sig in signatures.split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return 0
    reject("no v1 signature matches")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
