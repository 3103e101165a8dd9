#!/usr/bin/env bash
# Snakemake runs this once, inside the new environment, in the workflow's working directory (the
# project folder): install langrep from there, editable, without touching the pinned libraries.
set -euo pipefail
if ! grep -q '^name = "langrep"' pyproject.toml 2>/dev/null; then
  echo "langrep.post-deploy.sh: run snakemake from the langrep project folder (no langrep pyproject.toml in $PWD)" >&2
  exit 1
fi
python -m pip install --no-deps --no-build-isolation --editable "$PWD"
