#!/usr/bin/env bash
# Regenerates every generated file (CRD YAML and its copy in the Helm chart).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f operator/Greenhouse.Operator/Crds/CrdGenerator.cs ]; then
  dotnet run --project operator/Greenhouse.Operator -- crds --output crds
fi
