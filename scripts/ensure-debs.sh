#!/usr/bin/env bash
# Install the given Debian packages when missing: as root with apt-get, else say what to run.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo ">> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo ">> missing Debian packages: ${missing[*]}" >&2
  echo ">> install them with: sudo apt-get install ${missing[*]}" >&2
  echo ">> (continuing: languages without a Piper voice will answer in text only)" >&2
fi
