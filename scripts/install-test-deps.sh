#!/usr/bin/env bash
# Installs what the tests need beyond Swift, when it is missing: iproute2
# (`ip` for the fault runs' network namespaces, `ss` for the listen
# backlog), chromium (the web console's browser test) and Python's
# prometheus_client (the parser that checks /metrics). Needs root for
# apt-get; otherwise it names what is missing and the tests that need it
# fail saying so.
set -euo pipefail
packages=()
{ command -v ip && command -v ss; } >/dev/null 2>&1 || packages+=(iproute2)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
if ((${#packages[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "installing ${packages[*]} (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    else
        echo "MISSING: ${packages[*]} — install them (as root: apt-get install ${packages[*]}); the tests that need them will fail" >&2
    fi
fi
if ! python3 -c 'import prometheus_client' >/dev/null 2>&1; then
    echo "installing prometheus_client (pip)"
    python3 -m pip install -q prometheus_client ||
        echo "MISSING: python3 module prometheus_client (pip install prometheus_client); the metrics test will fail" >&2
fi
