#!/usr/bin/env bash
# Installs the client libraries others wrote that tests/check_clients.py
# drives against our servers (three LibreTranslate clients and OpenAI's SDK,
# from the npm registry, at the versions tests/clients/package-lock.json
# pins) into tests/clients/node_modules, which git ignores. Needs node and
# npm: Debian's nodejs and npm are installed when neither is there. Exits 1
# saying why when it cannot install them; the test then reports itself skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if command -v node >/dev/null; then
    echo "install-clients: node is here but npm is not; install npm alongside it" >&2
    exit 1
  fi
  $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1 ||
    { echo "install-clients: cannot install Debian's nodejs and npm" >&2; exit 1; }
fi
lock=$(sha256sum tests/clients/package-lock.json | cut -d' ' -f1)
marker=tests/clients/node_modules/.installed-from-lock
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$lock" ]; then
  exit 0  # already what the lock file pins
fi
timeout 600 npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error >/dev/null ||
  { echo "install-clients: npm ci failed (is the npm registry reachable?)" >&2; exit 1; }
echo "$lock" >"$marker"
echo "install-clients: $(ls tests/clients/node_modules | wc -l) packages in tests/clients/node_modules"
