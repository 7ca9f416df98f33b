#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser test when missing.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
echo "ensure-chromium: installing chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
