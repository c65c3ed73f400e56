#!/usr/bin/env bash
# Runs every benchmark under bench/ in Release. Each prints its figures as ratios against a
# baseline measured in the same run, and the command that reproduces them.
set -euo pipefail
cd "$(dirname "$0")/.."
only=${BENCH:-}
# The receiver's ingest bench drives wrk (a C load generator; without it a C# one in the bench
# process costs both servers much of the CPU): installed once with apt-get, as make test installs its tools.
if { [ -z "$only" ] || [ "$only" = "Receiver.Bench" ]; } && ! command -v wrk >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  echo "bench: installing wrk with apt-get" >&2
  ("${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends wrk) >/dev/null 2>&1 \
    || echo "bench: could not install wrk (apt-get install wrk); the ingest bench falls back to its C# load generator" >&2
fi
for proj in bench/*/*.csproj; do
  name=$(basename "$(dirname "$proj")")
  [ -z "$only" ] || [ "$only" = "$name" ] || continue
  echo "=== $name ==="
  dotnet run -c Release --project "$proj" -- "$@"
done
