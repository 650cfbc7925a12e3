#!/usr/bin/env bash
# The main job on the built-in data (after scripts/setup.sh): check the machine, then run the
# chapters in order through Jupyter with the demo settings: render the two built-in people,
# extract their faces, train the autoencoder, explore its latent space and swap faces. Executed
# notebooks and HTML pages go to output/notebooks/. Re-running skips finished work.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p output/notebooks
start=$(date +%s)
echo "demo: checking the machine (deepfake-lab doctor)" >&2
node bin/deepfake-lab.js doctor
export DEEPFAKE_NB_PROFILE="${DEEPFAKE_NB_PROFILE:-demo}"
chapters=(notebooks/0*.ipynb)
echo "demo: running ${#chapters[@]} chapters through Jupyter (profile ${DEEPFAKE_NB_PROFILE})" >&2
node --import tsx scripts/run-notebooks.ts "${chapters[@]}"
echo "demo: done in $(( ($(date +%s) - start) / 60 )) min. Pages: output/notebooks/*.html (open 05-swapping.html for the swap); npm run notebook opens the chapters in Jupyter." >&2
