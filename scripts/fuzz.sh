#!/usr/bin/env bash
# Runs every Go fuzz target of the module (func FuzzX(f *testing.F) in a
# _test.go file, as `go test -list Fuzz` lists them) for FUZZTIME each, one
# after the other, and fails when any of them finds a crash. The input of a
# crash is saved by go test under <package>/testdata/fuzz/FuzzX/; from then
# on the plain `go test` runs it as a regression case.
#
#   FUZZTIME          time per target (go test -fuzztime), default 15s
#   FUZZMINIMIZETIME  time to minimise a new input (-fuzzminimizetime),
#                     default 10s: go's 60s stalls on the XML seeds
#   FUZZ              regexp: only targets whose name matches (default all)
#   GO                the go command (default go)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-15s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10s}
FUZZ=${FUZZ:-.}

# Packages with a fuzz target: only these are built for listing.
mapfile -t dirs < <(grep -rlE --include='*_test.go' --exclude-dir=testdata --exclude-dir=vendor --exclude-dir=.git \
	'^func Fuzz[A-Za-z0-9_]*\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\)' . | xargs -r -n1 dirname | sort -u)
if [ ${#dirs[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi

targets=()
for dir in "${dirs[@]}"; do
	pkg=./${dir#./}
	list=$("$GO" test -list '^Fuzz' "$pkg") || { echo "fuzz: cannot list the targets of $pkg:" >&2; echo "$list" >&2; exit 1; }
	while read -r name; do
		if [[ $name == Fuzz* ]] && [[ $name =~ $FUZZ ]]; then
			targets+=("$pkg $name")
		fi
	done <<<"$list"
done
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz target matches FUZZ=$FUZZ" >&2
	exit 1
fi

failed=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "=== $name ($pkg) for $FUZZTIME"
	if ! "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg"; then
		failed+=("$name ($pkg)")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
	echo "fuzz: each crash input is saved under <package>/testdata/fuzz/<target>/; go test reruns it" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets ran $FUZZTIME each without a crash"
