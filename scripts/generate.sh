#!/usr/bin/env bash
# Regenerates every generated file: the CRD YAML in crds/ and its copy in the Helm chart's
# files/crds/, which templates/crds.yaml renders (a template, so `helm upgrade` updates the CRD).
set -euo pipefail
cd "$(dirname "$0")/.."
# dotnet run starts the program in the project folder, hence the absolute path.
dotnet run --project operator/Greenhouse.Operator -- crds --output "$PWD/crds"
if [ -d charts/greenhouse-operator ]; then
  mkdir -p charts/greenhouse-operator/files/crds
  rm -f charts/greenhouse-operator/files/crds/*.yaml
  cp crds/*.yaml charts/greenhouse-operator/files/crds/
fi
