#!/usr/bin/env bash
# The test command (README): installs what the tests need if it is missing
# (scripts/install-test-deps.sh), runs every test serially (some drive real
# processes against real-time deadlines), checks that the man page matches
# the CLI's help (scripts/man.sh --check), then the fuzzers for 30 s in all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
swift test --no-parallel
scripts/man.sh --check
scripts/fuzz.sh --seconds 30
