#!/usr/bin/env bash
# Make sure the browser test can run: Debian's chromium and npm (for the offline CDN copies).
# Installs what is missing with apt-get (needs root). Exits 0 when both are there, and 3 with one
# line on stderr saying why when they cannot be installed (the Makefile then skips the test).
# The test drives this chromium through Playwright (pinned in requirements.txt), which starts the
# program it is given (executable_path) and talks to it on a pipe: chromium-driver is not needed,
# and `playwright install` must not run (it would download a browser of Playwright's own).
set -uo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

why=""
if [ "$(id -u)" -ne 0 ]; then
  why="not root"
elif ! command -v apt-get >/dev/null 2>&1; then
  why="no apt-get (not Debian)"
else
  echo "Installing ${missing[*]} with apt-get for the browser test..." >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >/tmp/install_browser.log 2>&1; then
    why="apt-get install failed (see /tmp/install_browser.log)"
  fi
fi
if command -v chromium >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  exit 0
fi
echo "cannot install ${missing[*]}: ${why:-still missing after apt-get}" >&2
exit 3
