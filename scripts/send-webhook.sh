#!/usr/bin/env bash
# `make send-webhook EVENT=update_candidate`: sign an example payload (a name from
# examples/webhooks/ or ../shared/greenhouse/webhooks/, or a path to a JSON file) with the secret `make run-receiver` generated,
# POST it to the running receiver like Greenhouse would, and show the answer.
set -euo pipefail
cd "$(dirname "$0")/.."
event=${1:-update_candidate}
root=.run/receiver
# A file path, else the project's own examples (present on every clone), else Greenhouse's
# documented examples in ../shared (present on developer machines only).
if [ -f "$event" ]; then
  body=$event
elif [ -f "examples/webhooks/${event}.json" ]; then
  body=examples/webhooks/${event}.json
else
  body=../shared/greenhouse/webhooks/${event}.json
fi
[ -f "$body" ] || { echo "no payload '$event': give a JSON file, or an event name from examples/webhooks/ ($(cd examples/webhooks && ls *.json | sed 's/\.json$//' | paste -sd' ')) or ../shared/greenhouse/webhooks/" >&2; exit 1; }
[ -s "$root/secrets/secret_key" ] && [ -f "$root/env" ] || { echo "no receiver secret yet: start the receiver with 'make run-receiver' first" >&2; exit 1; }
# shellcheck disable=SC1091
source "$root/env"

signature=$(openssl dgst -sha256 -hmac "$(cat "$root/secrets/secret_key")" -hex < "$body" | awk '{print $NF}')
event_id=${EVENT_ID:-$(cat /proc/sys/kernel/random/uuid)}
echo "POST $RECEIVER_WEBHOOK_URL  ($body, Greenhouse-Event-ID: $event_id)"
curl -sS -i -X POST \
  -H 'Content-Type: application/json' \
  -H "Signature: sha256 ${signature}" \
  -H "Greenhouse-Event-ID: ${event_id}" \
  -H 'User-Agent: Greenhouse-Webhooks (make send-webhook)' \
  --data-binary @"$body" \
  "$RECEIVER_WEBHOOK_URL"
echo
echo "Then: curl -s $RECEIVER_API_URL/v1/health/sync   or   curl -s '$RECEIVER_API_URL/v1/candidates?pageSize=10'"
