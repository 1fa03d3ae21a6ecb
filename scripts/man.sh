#!/bin/sh
# Writes docs/man/kvorum.1, the man page of the `kvorum` CLI, from the
# CLI's own help through swift-argument-parser's GenerateManual plugin
# (offline: it builds the package's products in debug mode, then runs
# `generate-manual` on the kvorum executable).
#
#   scripts/man.sh           regenerate docs/man/kvorum.1
#   scripts/man.sh --check   fail if docs/man/kvorum.1 differs from the CLI's
#                            help (the page's date line aside)
set -eu
cd "$(dirname "$0")/.."
page=docs/man/kvorum.1
swift package plugin generate-manual --configuration debug >/dev/null
generated=.build/plugins/GenerateManual/outputs/kvorum/kvorum.1
if [ "${1:-}" = "--check" ]; then
    if ! diff -u -I '^\.Dd ' "$page" "$generated"; then
        echo "docs/man/kvorum.1 is out of date: run scripts/man.sh" >&2
        exit 1
    fi
    echo "docs/man/kvorum.1 is up to date"
else
    cp "$generated" "$page"
    echo "wrote $page"
fi
