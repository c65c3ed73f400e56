#!/usr/bin/env bash
# `make run-receiver`: start the webhook receiver alone, locally, in webhook-only mode.
# Data lives under .run/receiver/; a random webhook secret is generated once into
# .run/receiver/secrets/secret_key. Ports: RECEIVER_PORT (8080), RECEIVER_GRPC_PORT (8081),
# RECEIVER_HTTP_PORT (8082), all on 127.0.0.1. Stop with Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/.."
root=.run/receiver
public_port=${RECEIVER_PORT:-8080}
grpc_port=${RECEIVER_GRPC_PORT:-8081}
http_port=${RECEIVER_HTTP_PORT:-8082}
mkdir -p "$root/secrets" "$root/data"
if [ ! -s "$root/secrets/secret_key" ]; then
  (umask 077 && openssl rand -hex 32 > "$root/secrets/secret_key")
fi
cat > "$root/env" <<ENV
RECEIVER_WEBHOOK_URL=http://127.0.0.1:${public_port}/webhooks/greenhouse
RECEIVER_API_URL=http://127.0.0.1:${http_port}
RECEIVER_GRPC_ADDRESS=127.0.0.1:${grpc_port}
ENV

echo "Building the receiver..."
if ! build_log=$(dotnet build operator/Greenhouse.Receiver/Greenhouse.Receiver.csproj -nologo -v:q -clp:ErrorsOnly 2>&1); then
  echo "$build_log" >&2
  exit 1
fi

cat <<INFO
Greenhouse receiver (webhook-only mode), data in $root/data
  API authentication is OFF (--Api:Auth:Mode=None, local development only): the APIs below
  answer anyone. In a cluster every call needs a ServiceAccount token (docs/security.md).
  webhook  POST http://127.0.0.1:${public_port}/webhooks/greenhouse   (also /healthz, /readyz)
  gRPC     127.0.0.1:${grpc_port} (h2c: greenhouse.receiver.v1.Candidates, SyncHealth)
  HTTP     http://127.0.0.1:${http_port}/metrics and /v1/... (JSON transcoding)
  secret   $root/secrets/secret_key (Greenhouse's "Secret key"; edit the file to rotate, no restart needed)

Send a signed example event from another terminal, then look the candidate up:
  make send-webhook EVENT=update_candidate
  curl -s http://127.0.0.1:${http_port}/v1/candidates/4100000001
  curl -s 'http://127.0.0.1:${http_port}/v1/candidates:lookup?email=ada.lovelace@example.com&profileUrl=https://linkedin.com/in/ada-lovelace'
  curl -s http://127.0.0.1:${http_port}/v1/health/sync
Or sign by hand:
  body=examples/webhooks/update_candidate.json
  sig=\$(openssl dgst -sha256 -hmac "\$(cat $root/secrets/secret_key)" -hex < "\$body" | awk '{print \$NF}')
  curl -i -H 'Content-Type: application/json' -H "Signature: sha256 \$sig" -H "Greenhouse-Event-ID: \$(cat /proc/sys/kernel/random/uuid)" --data-binary @"\$body" http://127.0.0.1:${public_port}/webhooks/greenhouse
INFO

exec dotnet operator/Greenhouse.Receiver/bin/Debug/net10.0/Greenhouse.Receiver.dll \
  --urls "http://127.0.0.1:${public_port}" \
  --Api:BindAddress=127.0.0.1 --Api:GrpcPort="${grpc_port}" --Api:HttpPort="${http_port}" \
  --Webhook:SecretsDirectory="$root/secrets" \
  --Storage:DataDirectory="$root/data" \
  --Harvest:Enabled=false \
  --Api:Auth:Mode=None
