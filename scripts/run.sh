#!/usr/bin/env bash
# `make run`: a simulated LAS with three schools, then a connection check and
# the conformance suite against the first school. The simulator keeps running
# (Ctrl-C stops it) so you can try the commands the script prints.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${UWLR_RUN_DIR:-./run}
# Each run starts a new simulated LAS (new port, new keys): start clean.
rm -rf "$dir/data" "$dir/results.jsonl"
mkdir -p "$dir"
creds=$dir/credentials.json
out=$dir/las-sim.out
: > "$out"
bin/las-sim --addr 127.0.0.1:${LAS_SIM_PORT:-0} --schools 3 --pupils 250 --seed 1 \
  --credentials-out "$creds" --results-log "$dir/results.jsonl" --churn 2 >"$out" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$out" && break
  kill -0 $sim 2>/dev/null || { cat "$out"; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$out")
[ -n "$url" ] || { echo "las-sim did not start:"; cat "$out"; exit 1; }
# The first school's credentials; the key goes to a file, never to argv.
read -r brin dep < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))[0]; print(c["brin"], c["dependancecode"])' "$creds")
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["autorisatiesleutel"])' "$creds" > "$dir/school1.key"
chmod 600 "$dir/school1.key"
conn=(--endpoint "$url" --brin "$brin" --dependancecode "$dep" --klantcode UWLRGW --klantnaam uwlr-gateway --key-file "$dir/school1.key")

echo "las-sim: $url (3 schools, credentials in $creds)"
echo
echo "\$ bin/uwlr-gateway las check ${conn[*]}"
bin/uwlr-gateway las check "${conn[@]}"
echo
echo "\$ bin/uwlr-gateway conformance ${conn[*]}"
bin/uwlr-gateway conformance "${conn[@]}"
echo
# The gateway side: a key file, the sim's schools enrolled, las_exchange
# granted for the demo, and a first sync into the embedded store.
export UWLR_VAULT_KEYS_FILE=$dir/vault-keys.json
gw=(bin/uwlr-gateway --data-dir "$dir/data")
[ -f "$UWLR_VAULT_KEYS_FILE" ] || "${gw[@]}" keys generate --out "$UWLR_VAULT_KEYS_FILE"
i=0
while read -r b d k; do
  printf '%s' "$k" > "$dir/school$i.key"; chmod 600 "$dir/school$i.key"
  "${gw[@]}" school add --brin "$b" --dependancecode "$d" --endpoint "$url" --klantcode UWLRGW --klantnaam uwlr-gateway \
    --key-file "$dir/school$i.key" >/dev/null
  "${gw[@]}" consent set --school "$b$d" --processing las_exchange --grant --by "make run demo" --instruction "demo: the school's instruction" >/dev/null
  i=$((i+1))
done < <(python3 -c 'import json,sys
for c in json.load(open(sys.argv[1])): print(c["brin"], c["dependancecode"], c["autorisatiesleutel"])' "$creds")
echo "\$ bin/uwlr-gateway --data-dir $dir/data sync --all"
"${gw[@]}" sync --all
echo
echo "\$ bin/uwlr-gateway --data-dir $dir/data pupils list --school $brin$dep | head -5"
"${gw[@]}" pupils list --school "$brin$dep" > "$dir/pupils.txt"
head -5 "$dir/pupils.txt"
echo
# Results back to the LAS: a demo results file for the first school's pupils
# (a score on one test for each), submitted, delivered and followed.
"${gw[@]}" pupils list --school "$brin$dep" --json | python3 -c '
import json, sys
pupils = json.load(sys.stdin)
school = sys.argv[1]
results = [{"las_key": p["las_key"], "test": "REK-M4", "date": "2026-11-20", "score": i % 40}
           for i, p in enumerate(pupils) if p.get("las_key") and not p.get("left_on")]
json.dump({"school": school, "tests": [{"code": "REK-M4", "name": "Rekenen M4"}], "results": results}, sys.stdout, indent=1)
' "$brin$dep" > "$dir/results.json"
echo "\$ bin/uwlr-gateway --data-dir $dir/data results submit --file $dir/results.json"
"${gw[@]}" results submit --file "$dir/results.json"
echo "\$ bin/uwlr-gateway --data-dir $dir/data deliver"
"${gw[@]}" deliver
echo "\$ bin/uwlr-gateway --data-dir $dir/data results status --school $brin$dep"
"${gw[@]}" results status --school "$brin$dep"
echo "\$ bin/uwlr-gateway --data-dir $dir/data evidence verify"
"${gw[@]}" evidence verify | tail -1
echo "\$ bin/uwlr-gateway --data-dir $dir/data audit verify"
"${gw[@]}" audit verify
echo
# The service: tokens for the web page and API, then `serve` on the
# embedded store (which it holds from now on: stop it to use the CLI).
admin_token=$("${gw[@]}" token create --role school-admin --school "$brin$dep" --name "demo school admin" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
op_token=$("${gw[@]}" token create --role operator --name "demo operator" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
printf '%s\n' "$admin_token" > "$dir/school-admin.token"; printf '%s\n' "$op_token" > "$dir/operator.token"
chmod 600 "$dir/school-admin.token" "$dir/operator.token"
addr=${UWLR_SERVER_ADDR:-127.0.0.1:8080}
UWLR_SERVER_ADDR=$addr "${gw[@]}" serve > "$dir/serve.log" 2>&1 &
srv=$!
trap 'kill $sim $srv 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  grep -q 'serving on' "$dir/serve.log" && break
  kill -0 $srv 2>/dev/null || { cat "$dir/serve.log"; exit 1; }
  sleep 0.1
done
echo "uwlr-gateway serve is running (log: $dir/serve.log):"
echo "  web page:  http://$addr/   log in with the school-admin token $admin_token"
echo "  API:       curl -H 'Authorization: Bearer $op_token' http://$addr/api/v1/schools"
echo "  OpenAPI:   http://$addr/api/v1/openapi.json    metrics: http://$addr/metrics"
echo "  (the tokens are also in $dir/school-admin.token and $dir/operator.token)"
echo
echo "serve holds the embedded store while it runs; after Ctrl-C try (with UWLR_VAULT_KEYS_FILE=$UWLR_VAULT_KEYS_FILE):"
echo "  bin/uwlr-gateway --data-dir $dir/data school list"
echo "  bin/uwlr-gateway --data-dir $dir/data consent show --school $brin$dep"
echo "  bin/uwlr-gateway --data-dir $dir/data sync history --school $brin$dep"
echo "  bin/uwlr-gateway las fetch ${conn[*]} --out $dir/school1.xml"
echo "  bin/uwlr-gateway las parse --file $dir/school1.xml --json"
echo "  bin/uwlr-gateway --data-dir $dir/data audit show --school $brin$dep"
echo "  bin/uwlr-gateway --data-dir $dir/data evidence show --delivery BATCH   (a batch id from results status --json)"
echo "  bin/uwlr-gateway --data-dir $dir/data retention run --dry-run"
echo "  bin/uwlr-gateway --data-dir $dir/data report breach --from 2026-01-01 --to 2026-12-31"
echo "  (las-sim's results log: $dir/results.jsonl)"
echo
echo "las-sim and serve keep running; press Ctrl-C to stop both."
wait $srv
