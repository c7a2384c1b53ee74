#!/usr/bin/env bash
# Chromium for the report's browser test (tests/test_report_browser.py), which drives
# /usr/bin/chromium through Playwright and never lets Playwright download a browser.
#
#   bash .ci/chromium.sh
#
# Does nothing if /usr/bin/chromium is there. Otherwise installs Debian's `chromium` package
# with apt-get (as root, or through sudo), running `apt-get update` and trying again if the
# first install fails. Quiet: apt's output and what the script did go to stderr. Exits
# non-zero if Chromium cannot be installed or does not run afterwards.
set -uo pipefail

CHROMIUM=/usr/bin/chromium

log() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    return 1
  fi
}

version() {
  # Chromium prints its version without starting a browser; a broken install fails here.
  "$CHROMIUM" --version 2>/dev/null | head -n 1
}

if [ -x "$CHROMIUM" ]; then
  log "found $CHROMIUM ($(version || echo 'version unknown')); nothing to install"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 \
  || die "no $CHROMIUM and no apt-get to install it; install Chromium so that $CHROMIUM exists"
if [ "$(id -u)" -ne 0 ] && ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
  die "no $CHROMIUM; installing Debian's chromium package needs root or sudo without a password"
fi

install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium)
log "no $CHROMIUM; installing Debian's chromium package"
if ! as_root "${install[@]}" >&2; then
  log "apt-get install failed; running apt-get update and trying again"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
  as_root "${install[@]}" >&2 || die "apt-get install chromium failed"
fi

[ -x "$CHROMIUM" ] || die "installed the chromium package but there is no $CHROMIUM"
found="$(version)" || die "installed $CHROMIUM but it does not run ($CHROMIUM --version failed)"
log "installed ${found:-chromium} at $CHROMIUM"
