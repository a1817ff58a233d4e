#!/usr/bin/env bash
# Installs Debian packages the tests or benchmarks need (chromium, wrk...), once.
# Usage: install-debian.sh COMMAND PACKAGE   (skips when COMMAND is already on PATH)
set -euo pipefail
command_name=$1
package=${2:-$1}
if command -v "$command_name" >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian's $package..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package" >/dev/null
command -v "$command_name"
