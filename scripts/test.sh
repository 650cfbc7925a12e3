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
exec node --import tsx --test --test-reporter=spec test/*.test.ts
