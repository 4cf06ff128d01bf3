#!/usr/bin/env bash
# Offline smoke test: mock upstream + composed supergraph + Hive Gateway, all on 127.0.0.1.
# Usage (from bench/peers/mesh, after npm ci):  npm run smoke
set -euo pipefail
cd "$(dirname "$0")/.."

MOCK_PORT="${MOCK_PORT:-8787}"
PORT="${PORT:-4000}"
GQL="http://127.0.0.1:${PORT}/graphql"
LOG_DIR="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

MOCK_PORT="$MOCK_PORT" MOCK_LOG_BODY=1 node scripts/mock-upstream.mjs 2>"$LOG_DIR/mock.log" &
pids+=($!)

node_modules/.bin/mesh-compose -o supergraph.graphql >"$LOG_DIR/compose.log" 2>&1

OPENAI_BASE_URL="http://127.0.0.1:${MOCK_PORT}/v1" OPENAI_API_KEY="sk-smoke-test" PORT="$PORT" \
  node_modules/.bin/hive-gateway supergraph --host 127.0.0.1 >"$LOG_DIR/gateway.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 60); do
  curl -sf -o /dev/null "$GQL?query=%7B__typename%7D" && break
  sleep 0.5
done

gql() { # gql QUERY [VARIABLES_JSON]
  node -e 'process.stdout.write(JSON.stringify({query: process.argv[1], variables: JSON.parse(process.argv[2])}))' \
    "$1" "${2:-{\}}" | curl -sS "$GQL" -H 'content-type: application/json' --data-binary @-
  echo
}

echo "== upload a file (multipart, GraphQL multipart request spec)"
printf 'hello vector store\n' >"$LOG_DIR/hello.txt"
upload=$(curl -sS "$GQL" -H 'graphql-require-preflight: 1' \
  -F operations='{"query":"mutation($f: File!) { createFile(input: {file: $f, purpose: assistants}) { id filename bytes purpose } }","variables":{"f":null}}' \
  -F map='{"0":["variables.f"]}' -F 0=@"$LOG_DIR/hello.txt")
echo "$upload"
file_id=$(node -e 'console.log(JSON.parse(process.argv[1]).data.createFile.id)' "$upload")

echo "== create a vector store holding it"
created=$(gql 'mutation($ids: [String]) { createVectorStore(input: {name: "smoke", file_ids: $ids}) { ... on Vector_store { id name file_counts { total } } ... on ErrorResponse { error { message } } } }' "{\"ids\":[\"$file_id\"]}")
echo "$created"
store_id=$(node -e 'console.log(JSON.parse(process.argv[1]).data.createVectorStore.id)' "$created")

echo "== queries/example.graphql"
gql "$(cat queries/example.graphql)" "{\"storeId\":\"$store_id\"}"

echo "== documented error status (429) -> ErrorResponse union member"
gql '{ getVectorStore(vector_store_id: "rate_limited") { __typename ... on ErrorResponse { error { message code } } } }'

echo "== undocumented error status (404) -> top-level GraphQL error"
gql '{ retrieveFile(file_id: "file_missing") { id } }'

echo "== upstream requests seen by the mock"
sed -e 's/ body=.*//' "$LOG_DIR/mock.log"
rm -rf "$LOG_DIR"
