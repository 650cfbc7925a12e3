#!/usr/bin/env bash
# The test suite (after scripts/setup.sh), with node's built-in test runner:
#   bash scripts/test.sh        type-check, then every test of test/unit and test/integration
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

# The files that take minutes go first, so the other slot fills with the short ones meanwhile
# instead of a long file starting last (measured on the 2-core machine: chapters 03-07 about 6 min,
# the WebGPU comparison on SwiftShader 3, chapters 01-02 and the notebook runner 2 each).
LONGEST=(notebook-chapters-03-07 webgpu notebook-chapters-01-02 notebooks video)
files=()
if [ "$what" != unit ]; then
  for f in "${LONGEST[@]}"; do files+=("test/integration/$f.test.ts"); done
fi
for f in test/unit/*.test.ts test/integration/*.test.ts; do
  case "$f" in test/unit/*) [ "$what" = integration ] && continue ;; *) [ "$what" = unit ] && continue ;; esac
  name="$(basename "$f" .test.ts)"
  [[ " ${LONGEST[*]} " == *" $name "* && "$f" == test/integration/* ]] && continue
  files+=("$f")
done

# Two test files at a time: many integration tests wait on a child process (the CLI, a Jupyter
# kernel, ffmpeg, Chromium), so two overlap well on two cores (313 tests: 15.5 min against 20.7 one
# file at a time).
echo "test: running ${#files[@]} test files ($what)" >&2
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
