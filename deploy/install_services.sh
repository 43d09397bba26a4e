#!/usr/bin/env bash
# Install the servers of the scale-out topology from Debian's packages: PostgreSQL (the shared tracker store),
# Redis (the lock store) and nginx (the load balancer). deploy/cluster.py and tests/test_cluster.py run private
# instances of them; the system services the packages may start are not used.
# Idempotent and non-interactive: does nothing when all three are installed; uses sudo when not run as root.
set -euo pipefail

packages=(postgresql redis-server nginx)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "install_services.sh: installing ${missing[*]} needs root (apt-get) and sudo is not available" >&2
  exit 1
fi
echo "install_services.sh: installing ${missing[*]}" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
ls -d /usr/lib/postgresql/*/bin/initdb
redis-server --version
/usr/sbin/nginx -v
