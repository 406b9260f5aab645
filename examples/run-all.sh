#!/usr/bin/env bash
# Runs every example listed in examples/Cargo.toml, in file order, and fails if any fails.
# Each example starts its own fake API server and exits by itself; a hung one is stopped after
# EXAMPLE_TIMEOUT seconds (default 120, which includes compiling it) and counts as failed.
# Usage: bash examples/run-all.sh   (from anywhere inside the repository)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
manifest=examples/Cargo.toml
timeout_seconds="${EXAMPLE_TIMEOUT:-120}"

# Every `name = "..."` line that follows an `[[example]]` header.
mapfile -t names < <(awk '
    /^\[\[example\]\]/ { in_example = 1; next }
    /^\[/ { in_example = 0 }
    in_example && /^name *=/ { gsub(/^name *= *"|" *$/, ""); print; in_example = 0 }
' "$manifest")

if [ "${#names[@]}" -eq 0 ]; then
    echo "run-all: no [[example]] entries in $manifest" >&2
    exit 1
fi

# Build them all first, so the timeout below measures running, not compiling.
if ! cargo build -q -p kinformer-examples --examples; then
    echo "run-all: building the examples failed" >&2
    exit 1
fi

failed=()
for name in "${names[@]}"; do
    echo "=== example $name"
    if timeout "$timeout_seconds" cargo run -q -p kinformer-examples --example "$name"; then
        echo "--- ok $name"
    else
        status=$?
        echo "--- FAILED $name (exit $status)" >&2
        failed+=("$name")
    fi
done

echo "run-all: $(( ${#names[@]} - ${#failed[@]} ))/${#names[@]} examples passed"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "run-all: failed: ${failed[*]}" >&2
    exit 1
fi
