#!/usr/bin/env bash
# The main job on the built-in data (after scripts/setup.sh). Today: check the machine with
# `deepfake-lab doctor` and run the first notebook; the pipeline's next chapters join as they land.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p output/notebooks
echo "demo: step 1 of 2: deepfake-lab doctor" >&2
node bin/deepfake-lab.js doctor
echo "demo: step 2 of 2: running notebooks/00-environment.ipynb through Jupyter" >&2
node --import tsx scripts/run-notebooks.ts notebooks/00-environment.ipynb
cat >&2 <<'MSG'
demo: done. Open output/notebooks/00-environment.html in a browser, or run `npm run notebook`.
demo: next in the pipeline (coming chapters): 01 scraping, 02 face extraction, 03 the autoencoder,
      04 the latent space, 05 swapping.
MSG
