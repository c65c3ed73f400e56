#!/usr/bin/env bash
# Regenerates every generated file (CRD YAML and its copy in the Helm chart).
set -euo pipefail
cd "$(dirname "$0")/.."
# dotnet run starts the program in the project folder, hence the absolute path.
dotnet run --project operator/Greenhouse.Operator -- crds --output "$PWD/crds"
if [ -d charts/greenhouse-operator ]; then
  mkdir -p charts/greenhouse-operator/crds
  cp crds/*.yaml charts/greenhouse-operator/crds/
fi
