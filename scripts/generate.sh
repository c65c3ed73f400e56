#!/usr/bin/env bash
# Regenerates every generated file (CRD YAML and its copy in the Helm chart).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f operator/Greenhouse.Operator/Crds/CrdCommand.cs ]; then
  # dotnet run starts the program in the project folder, hence the absolute path.
  dotnet run --project operator/Greenhouse.Operator -- crds --output "$PWD/crds"
fi
