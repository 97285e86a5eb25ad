#!/usr/bin/env bash
# Usage: scripts/bench-sync.sh        (from anywhere; prints Markdown tables)
#
# Whole-school sync benchmarks (pull.Syncer.Sync: parse + map + seal + store):
#   1. go test -bench BenchmarkSync: per-pupil cost of one first sync of a
#      fresh store, and of a second, unchanged sync, 10k pupils, bolt and redis
#   2. syncbench rss: peak RSS of one sync of a 10k / 25k / 50k-pupil school,
#      each in a fresh process, the answer streamed from a file on disk
#   3. syncbench many: 200 schools x 300 pupils against las-sim with 100 ms
#      latency, 16 concurrent syncs, against the floor schools x latency /
#      concurrency (and the same with no latency, for the compute share)
#   4. syncbench file (bolt) beside PHP SoapClient merely parsing the same
#      10k and 50k answer files (scripts/bench.php), each in a fresh process
# Needs go; Redis at $REDIS_URL (default redis://127.0.0.1:6379/0, see
# scripts/redis.sh) for the redis rows; php-cli + php-soap for the PHP rows.
# Redis keys go under a random uwlrbench:<hex>: prefix and are deleted with
# SCAN + DEL afterwards; nothing is flushed.
# Knobs: BENCH_RUNS=3 (medians of process runs) BENCH_RSS_SIZES="10000 25000 50000"
#        BENCH_PHP_SIZES="10000 50000" BENCH_TIME=3x (go test -benchtime) GO=go PHP=php
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
PHP=${PHP:-php}
RUNS=${BENCH_RUNS:-3}
RSS_SIZES=${BENCH_RSS_SIZES:-10000 25000 50000}
PHP_SIZES=${BENCH_PHP_SIZES:-10000 50000}
BENCHTIME=${BENCH_TIME:-3x}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}

have_redis=no
hostport=${REDIS_URL#*://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
if command -v redis-cli >/dev/null 2>&1 && redis-cli -h "${hostport%:*}" -p "${hostport##*:}" ping 2>/dev/null | grep -q PONG; then
  have_redis=yes
fi
stores=(bolt)
[ "$have_redis" = yes ] && stores+=(redis)
have_php=no
if command -v "$PHP" >/dev/null 2>&1 && "$PHP" -m 2>/dev/null | grep -qx soap; then
  have_php=yes
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/uwlr-bench-sync.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "bench-sync: building syncbench" >&2
"$GO" build -o "$tmp/syncbench" ./internal/cmd/syncbench

field() { sed -E 's/.*"'"$1"'":"?([^,"}]*)"?.*/\1/'; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
label() { if (( $1 % 1000 == 0 )); then echo "$(( $1 / 1000 ))k"; else echo "$1"; fi; }
mb() { awk -v b="$(stat -c %s "$1" 2>/dev/null || stat -f %z "$1")" 'BEGIN {printf "%.1f", b / 1e6}'; }

# 1. go test -bench
echo "bench-sync: go test -bench BenchmarkSync (-benchtime $BENCHTIME)" >&2
"$GO" test ./gateway/pull -run '^$' -bench 'BenchmarkSync/' -benchtime "$BENCHTIME" >"$tmp/gobench.txt" 2>&1 || {
  cat "$tmp/gobench.txt" >&2; exit 1; }

# answers: 10k, 25k, 50k (the bytes of `readbench gen`)
declare -A answer
for n in $(printf '%s\n' $RSS_SIZES $PHP_SIZES | sort -n | uniq); do
  echo "bench-sync: generating the $(label "$n")-pupil answer" >&2
  answer[$n]="$tmp/leerlinggegevens-$n.xml"
  "$tmp/syncbench" gen --pupils "$n" --out "${answer[$n]}"
done

# 2. peak RSS per school size
rss_rows=()
for n in $RSS_SIZES; do
  for s in "${stores[@]}"; do
    j="$tmp/rss-$n-$s.jsonl"
    for ((r = 1; r <= RUNS; r++)); do
      echo "bench-sync: rss $(label "$n") $s run $r/$RUNS" >&2
      (cd "$tmp" && ./syncbench rss --pupils "$n" --store "$s" --answer "${answer[$n]}") >>"$j"
    done
    rss_rows+=("| $(label "$n") | $(mb "${answer[$n]}") | $s | $(field seconds <"$j" | median) | $(field peak_rss_mb <"$j" | median) | $(field peak_rss_anon_mb <"$j" | median) | $(field peak_heap_mb <"$j" | median) |")
  done
done

# 3. many schools against las-sim
many_rows=()
for s in "${stores[@]}"; do
  for lat in 100ms 0s; do
    echo "bench-sync: many $s latency $lat" >&2
    out=$(cd "$tmp" && ./syncbench many --schools 200 --pupils 300 --latency "$lat" --concurrency 16 --store "$s")
    floor=$(field floor_seconds <<<"$out"); ratio=$(field ratio <<<"$out")
    [ "$lat" = 0s ] && floor="-" && ratio="-"
    many_rows+=("| $s | $lat | $(field applied <<<"$out")/200 | $(field wall_seconds <<<"$out") | $floor | $ratio | $(field slowest_sync_seconds <<<"$out") | $(field cpu_seconds <<<"$out") | $(field peak_rss_mb <<<"$out") |")
  done
done

# 4. our whole sync vs PHP SoapClient parsing only
php_rows=()
for n in $PHP_SIZES; do
  j="$tmp/file-$n.jsonl"; p="$tmp/php-$n.jsonl"
  for ((r = 1; r <= RUNS; r++)); do
    echo "bench-sync: file $(label "$n") run $r/$RUNS" >&2
    (cd "$tmp" && ./syncbench file --file "${answer[$n]}" --store bolt) >>"$j"
    if [ "$have_php" = yes ]; then
      "$PHP" scripts/bench.php "${answer[$n]}" >>"$p"
    fi
  done
  php_rows+=("| $(label "$n") | $(mb "${answer[$n]}") | go: parse+map+seal+store (bolt) | $(field seconds <"$j" | median) | $(field peak_rss_mb <"$j" | median) |")
  if [ "$have_php" = yes ]; then
    php_rows+=("| $(label "$n") | $(mb "${answer[$n]}") | php SoapClient: parse only | $(field seconds <"$p" | median) | $(field peak_rss_mb <"$p" | median) |")
  fi
done

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
php_version=n/a
[ "$have_php" = yes ] && php_version=$("$PHP" -r 'echo "PHP ", PHP_VERSION;')
cat <<EOF

Sync benchmarks: one simulated school (las-sim, standard profile, seed 1),
whole-school HaalLeerlinggegevens answer; pull.Syncer with the production
batch size (1000) and thresholds; process figures are medians of $RUNS runs,
each in a fresh process. MB is the answer's size (1e6 bytes); RSS and heap MiB.
$("$GO" version); $php_version; $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?") CPUs${cpu:+, $cpu}; Redis: $have_redis

### 1. Per-pupil cost (go test -bench, -benchtime $BENCHTIME)

First sync of a fresh store per iteration (setup untimed), and a second sync of
the same answer (unchanged) on a store that holds it. The answer is recorded
once and served from memory on loopback (the HTTP read is timed, las-sim is
not). allocs and B per pupil count the timed part only.

| benchmark | ms/op | ns/pupil | allocs/pupil | B/pupil | MB/s |
|-----------|------:|---------:|-------------:|--------:|-----:|
EOF
awk '/^BenchmarkSync\// {
  name=$1; sub(/^BenchmarkSync\//, "", name); sub(/-[0-9]+$/, "", name)
  for (i = 3; i < NF; i++) v[$(i+1)] = $i
  printf "| %s | %.0f | %.0f | %.1f | %.0f | %s |\n", name, v["ns/op"]/1e6, v["ns/pupil"], v["allocs/pupil"], v["B/pupil"], v["MB/s"]
}' "$tmp/gobench.txt"
cat <<EOF

### 2. Peak memory of one sync by school size

syncbench rss: the answer streamed from disk by a handler in the same process
(no simulator in it); a fresh store. peak RSS is ru_maxrss of the whole
process; for bolt it includes the touched pages of the memory-mapped database
file (file-backed, reclaimable); RSS anon leaves those out (peak of RssAnon,
sampled every 1000 pupils); heap is the peak Go HeapAlloc (same sampling).
Redis server memory is not counted.

| pupils | MB | store | seconds | peak RSS MB | peak RSS anon MB | peak heap MB |
|-------:|---:|-------|--------:|------------:|-----------------:|-------------:|
EOF
printf '%s\n' "${rss_rows[@]}"
cat <<EOF

### 3. 200 schools x 300 pupils, 16 concurrent syncs

syncbench many: las-sim in the same process (its CPU time and memory count
too), each school with its own soap.Client; floor = schools x latency /
concurrency. The 0s row is the same run without latency: the compute share.

| store | latency | applied | wall s | floor s | wall/floor | slowest sync s | CPU s | peak RSS MB |
|-------|--------:|--------:|-------:|--------:|-----------:|---------------:|------:|------------:|
EOF
printf '%s\n' "${many_rows[@]}"
cat <<EOF

### 4. Our whole sync vs PHP SoapClient merely parsing

Same answer files. go: syncbench file (HTTP read from disk, parse, map, seal,
store in bolt; seconds is the whole Sync). php: scripts/bench.php (file read
into memory first, then SoapClient parse only; seconds is the parse).

| pupils | MB | what | seconds | peak RSS MB |
|-------:|---:|------|--------:|------------:|
EOF
printf '%s\n' "${php_rows[@]}"
echo
echo '<details><summary>go test output</summary>'
echo
echo '```'
grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$tmp/gobench.txt"
echo '```'
echo '</details>'
