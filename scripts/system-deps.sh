#!/usr/bin/env bash
# What the tests need besides the venv, installed only when missing:
# - Debian packages: chromium (pages tested in a real browser), poppler-utils (pdftoppm/pdftotext
#   to look at the PDFs), fonts, and npm (to fetch axe-core). Installing them needs root (CI is).
# - axe-core, the accessibility audit run on every HTML page in Chromium
#   (tests/e2e/test_accessibility.py), from the npm registry at a pinned version, unpacked into
#   .cache/axe-core/ (git-ignored; no node_modules, nothing committed).
set -euo pipefail
cd "$(dirname "$0")/.."
AXE_VERSION=4.14.1
AXE_DIR=.cache/axe-core
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
if [ ! -s "$AXE_DIR/$AXE_VERSION/axe.min.js" ]; then
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "Run as root (or install them yourself): apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -s "$AXE_DIR/$AXE_VERSION/axe.min.js" ]; then
  echo "Fetching axe-core $AXE_VERSION from the npm registry"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tarball=$(npm pack "axe-core@$AXE_VERSION" --pack-destination "$work" --silent | tail -n 1)
  tar -xzf "$work/$tarball" -C "$work" package/axe.min.js package/LICENSE
  mkdir -p "$AXE_DIR/$AXE_VERSION"
  mv "$work/package/LICENSE" "$AXE_DIR/$AXE_VERSION/LICENSE"
  mv "$work/package/axe.min.js" "$AXE_DIR/$AXE_VERSION/axe.min.js"
fi
