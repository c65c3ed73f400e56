#!/usr/bin/env bash
# Runs every benchmark under bench/ in Release. Each prints its figures as ratios against a
# baseline measured in the same run, and the command that reproduces them.
set -euo pipefail
cd "$(dirname "$0")/.."
only=${BENCH:-}
for proj in bench/*/*.csproj; do
  name=$(basename "$(dirname "$proj")")
  [ -z "$only" ] || [ "$only" = "$name" ] || continue
  echo "=== $name ==="
  dotnet run -c Release --project "$proj" -- "$@"
done
