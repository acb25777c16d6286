#!/bin/sh
# The fuzz test at full strength: >= 100,000 each of QR payloads, roster files and manifests.
#   bench/fuzz.sh [SCALE]     (default 34: 100,000 QR payloads, 102,000 rosters and manifests)
set -eu
cd "$(dirname "$0")/.."
uptime
KIOSK_FUZZ_SCALE=${1:-34} .venv/bin/python -m pytest -q -s -p no:cacheprovider --timeout=0 \
    tests/handoff/test_fuzz.py
