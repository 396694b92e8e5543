#!/usr/bin/env bash
# Install PyTorch into a virtual environment without pulling CUDA packages on a CPU-only machine.
# Usage: install_torch.sh PYTHON VERSION
# 1. A wheel already on this machine (pip's find-links) is used first, with no index at all.
# 2. Otherwise a machine with an NVIDIA GPU gets the default build from PyPI, and a CPU-only
#    machine gets the CPU build from PyTorch's own index.
set -euo pipefail
py=$1
version=$2
if "$py" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$version' else 1)" 2>/dev/null; then
  exit 0
fi
if "$py" -m pip install -q --no-index "torch==$version" 2>/dev/null; then
  exit 0
fi
if command -v nvidia-smi >/dev/null 2>&1; then
  "$py" -m pip install -q "torch==$version"
else
  "$py" -m pip install -q "torch==$version" --index-url https://download.pytorch.org/whl/cpu
fi
