#!/usr/bin/env bash
# Installs what the dashboard's browser test needs when it is missing:
# Debian's Chromium and the CJK and emoji fonts without which every Chinese
# character and every light renders as a box. Idempotent; used by `make test`
# and CI. Needs root (apt-get) only when something is missing.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc_has() { command -v fc-list >/dev/null 2>&1 && fc-list : family 2>/dev/null | grep -i "$1" >/dev/null; }
fc_has "Noto Sans CJK" || missing+=(fonts-noto-cjk)
fc_has "Noto Color Emoji" || missing+=(fonts-noto-color-emoji)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "ensure-chromium: installing ${missing[*]} with apt-get" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: not root; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
