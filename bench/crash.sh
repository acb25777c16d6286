#!/bin/sh
# The crash test at full strength: 500 SIGKILLs of the save loop, the stick checked right after
# each kill (before recovery). Prints the kills, confirmed adds, snapshots and mismatches.
#   bench/crash.sh [KILLS]      (default 500; about 10-20 minutes on a loaded 2-core machine)
set -eu
cd "$(dirname "$0")/.."
uptime
KIOSK_CRASH_KILLS=${1:-500} KIOSK_CRASH_SECONDS=${KIOSK_CRASH_SECONDS:-7200} \
    .venv/bin/python -m pytest -q -s -p no:cacheprovider --timeout=0 tests/handoff/test_crash.py
