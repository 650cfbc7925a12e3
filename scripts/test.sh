#!/usr/bin/env bash
# The test suite (after scripts/setup.sh), with node's built-in test runner:
#   bash scripts/test.sh        type-check, then test/unit/*.test.ts, then test/integration/*.test.ts
#   bash scripts/test.sh unit   test/unit only (no type-check): pure functions and in-process library
#                               code, no child process, Jupyter, Chromium or ffmpeg; under a minute
#   bash scripts/test.sh integration   test/integration only (no type-check): the CLI, notebooks
#                               on real Jupyter, Chromium, ffmpeg, longer training
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-all}"
case "$what" in all|unit|integration) ;; *) echo "usage: scripts/test.sh [all|unit|integration]" >&2; exit 2 ;; esac

if [ "$what" = all ]; then
  echo "test: type-checking (tsc --noEmit, strict)" >&2
  node_modules/.bin/tsc --noEmit -p .
  echo "test: type-checking lib/ as notebooks compile it (tslab: not strict)" >&2
  node_modules/.bin/tsc --noEmit -p tsconfig.notebook.json
fi

# Two test files at a time: many integration tests wait on a child process (the CLI, a Jupyter
# kernel, ffmpeg, Chromium), so two overlap well on two cores (313 tests: 15.5 min against 20.7 one
# file at a time).
run() {
  echo "test: running test/$1/*.test.ts" >&2
  node --import tsx --test --test-concurrency=2 --test-reporter=spec "test/$1/"*.test.ts
}

if [ "$what" != all ]; then run "$what"; exit; fi
# Both folders, unit first; the integration tests run even when a unit test failed, and the
# suite fails when either did.
status=0
run unit || status=$?
run integration || status=$?
exit "$status"
