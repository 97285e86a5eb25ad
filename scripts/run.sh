#!/usr/bin/env bash
# `make run`: a simulated LAS with three schools, then a connection check and
# the conformance suite against the first school. The simulator keeps running
# (Ctrl-C stops it) so you can try the commands the script prints.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${UWLR_RUN_DIR:-./run}
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
echo "Try:"
echo "  bin/uwlr-gateway las fetch ${conn[*]} --out $dir/school1.xml"
echo "  bin/uwlr-gateway las parse --file $dir/school1.xml --json"
echo
echo "las-sim keeps running; press Ctrl-C to stop."
wait $sim
