#!/usr/bin/env bash
# make image: builds the container image sms-contract:VERSION and :latest with
# docker or podman, from wheels built on the host (see image-lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PROGRAM="make image"
source scripts/image-lib.sh

detect_engine
find_base
check_engine_runs "$BASE"
build_wheels
build_image
