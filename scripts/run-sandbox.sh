#!/usr/bin/env bash
# `make run`: the whole local stack: Kubernetes API emulator (127.0.0.1:6443 or the next free port),
# the GreenhouseIntegration CRD, the Greenhouse simulator, the operator and the local kubelet that runs
# receivers as processes on 127.0.0.2, .3, ... State and logs in .run/sandbox/ (wiped at start).
# Stop with Ctrl+C: every child process is stopped. Extra arguments go to `sandbox run`
# (--port, --greenhouse-port, --control-port, --candidates, --state, --rbac: the operator runs as its
# ServiceAccount under the chart's RBAC, rendered with the helm of `make tools`).
set -euo pipefail
cd "$(dirname "$0")/.."
config=${CONFIG:-Debug}
for project in operator/Greenhouse.Operator operator/Greenhouse.Receiver sandbox/Sandbox; do
  dotnet build "$project" -c "$config" -nologo -v:q -clp:ErrorsOnly >/dev/null
done
exec dotnet "sandbox/Sandbox/bin/$config/net10.0/Sandbox.dll" run "$@"
