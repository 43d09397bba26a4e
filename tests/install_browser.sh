#!/usr/bin/env bash
# Install what tests/test_browser.py drives: Debian's Chromium and its matching chromedriver, plus a CJK font so
# that screenshots show Chinese text. Idempotent and non-interactive: does nothing when they are installed.
set -euo pipefail

packages=(chromium chromium-driver fonts-wqy-microhei)
font_installed() { dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q "ok installed"; }

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] && font_installed; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install_browser.sh: installing ${packages[*]} needs root (apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${packages[@]}"
/usr/bin/chromium --version
/usr/bin/chromedriver --version
