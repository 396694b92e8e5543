#!/usr/bin/env bash
# Install PyTorch into a virtual environment without pulling CUDA packages on a CPU-only machine.
# Usage: install_torch.sh PYTHON VERSION
# 1. A torch wheel already on this machine (pip's find-links, e.g. a local CPU build) is installed
#    as it is; its small dependencies come from the package index.
# 2. Otherwise a machine with an NVIDIA GPU gets the default (CUDA) build from PyPI, and a
#    CPU-only machine gets the CPU build from PyTorch's own index.
set -euo pipefail
py=$1
version=$2
if "$py" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$version' else 1)" 2>/dev/null; then
  exit 0
fi
local_dir=$(mktemp -d)
trap 'rm -rf "$local_dir"' EXIT
if "$py" -m pip download -q --no-index --no-deps "torch==$version" -d "$local_dir" 2>/dev/null; then
  "$py" -m pip install -q "$local_dir"/torch-*.whl
elif command -v nvidia-smi >/dev/null 2>&1; then
  "$py" -m pip install -q "torch==$version"
else
  "$py" -m pip install -q "torch==$version" --index-url https://download.pytorch.org/whl/cpu \
    --extra-index-url https://pypi.org/simple
fi
