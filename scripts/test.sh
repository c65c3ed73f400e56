#!/usr/bin/env bash
# Installs the test tools on first use, runs every test project of the solution and ends with
# one line "N passed, N failed"
# (summed over all projects from their TRX reports). Exit status is non-zero when a test
# failed or a project did not run. Extra arguments go to `dotnet test` (e.g. a --filter).
set -uo pipefail
cd "$(dirname "$0")/.."
results=$(mktemp -d "${TMPDIR:-/tmp}/ghi-test-results.XXXXXX")
trap 'rm -rf "$results"' EXIT

# helm, promtool/prometheus and kubectl, installed once (scripts/tools.sh); a tool that cannot be
# installed fails only the tests that need it, with the fix in their message.
./scripts/tools.sh || echo "some tools are missing; the tests that need them will fail and say how to install them" >&2

dotnet build Operator.sln -nologo -v:q -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

# One project at a time: the integration tests start real processes and servers, and on two
# cores running projects side by side only makes their timings flaky.
status=0
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  dotnet test "$proj" --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results/$name" \
    --blame-hang-timeout 10m "$@" || status=1
done

passed=0; failed=0
for trx in "$results"/*/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
# Failed and skipped tests by name with the first lines of their messages (a skip's reason), so a
# CI log that keeps only its tail still says what failed and nothing is skipped unseen.
for trx in "$results"/*/*.trx; do
  [ -e "$trx" ] || continue
  if command -v python3 >/dev/null; then
    python3 - "$trx" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    label = {"Failed": "FAILED", "NotExecuted": "SKIPPED"}.get(r.get("outcome"))
    if label is None:
        continue
    print("  " + label + " " + r.get("testName", "?"))
    msg = r.find("t:Output/t:ErrorInfo/t:Message", ns)
    for line in ((msg.text or "") if msg is not None else "").strip().splitlines()[:6]:
        print("    " + line[:600])
PY
  else
    grep -o 'testName="[^"]*"[^>]*outcome="\(Failed\|NotExecuted\)"' "$trx" | sed 's/testName="\([^"]*\)".*outcome="\([A-Za-z]*\)"/  \2 \1/'
  fi
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # a test host crashed or timed out without reporting a failed test
fi
echo "${passed} passed, ${failed} failed"
exit "$status"
