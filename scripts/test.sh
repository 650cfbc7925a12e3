#!/usr/bin/env bash
# The whole test suite (after scripts/setup.sh): type-check, then every test file with node's
# built-in test runner. Notebook tests run real Jupyter on the project kernel.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "test: type-checking (tsc --noEmit, strict)" >&2
node_modules/.bin/tsc --noEmit -p .
echo "test: type-checking lib/ as notebooks compile it (tslab: not strict)" >&2
node_modules/.bin/tsc --noEmit -p tsconfig.notebook.json
echo "test: running test/*.test.ts" >&2
# Two test files at a time: many tests wait on a child process (the CLI, a Jupyter kernel,
# ffmpeg, Chromium), so two overlap well on two cores (313 tests: 15.5 min against 20.7 one file at a time).
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec test/*.test.ts
