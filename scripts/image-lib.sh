# shellcheck shell=bash disable=SC2034  # STEP, DIED, NETWORK_MODE are read by the sourcing script
# Shared by image.sh (make image) and image-test.sh (make image-test); sourced, not run.
#
# Picks a container engine (docker when its engine answers, else podman,
# installed with apt-get when neither is there), finds a base image (the
# official slim Python image, or a local one built from Debian's packages when
# no registry can be reached), builds the wheels on the host and the image from
# them without network.

PYTHON=${PYTHON:-.venv/bin/python}
CONTEXT=build/image
DEFAULT_BASE=python:3.11-slim-bookworm
STEP="getting ready"
# The image's org.opencontainers.image.source label: this clone's origin, else the project's site.
IMAGE_SOURCE=${IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo https://sms-contract.inocx.dev)}

say() {
    STEP=$*
    printf '\n==> %s\n' "$*"
}
die() {
    DIED=1
    printf '\n%s: FAILED: %s\n' "${PROGRAM:-image}" "$*" >&2
    exit 1
}

project_version() {
    sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1
}

# Debian packages, installed once (as root, or through sudo).
install_debian() {
    command -v apt-get >/dev/null 2>&1 || die "no apt-get here to install $*: install it by hand"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing Debian's $*"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# The engine's command, with podman's fallback flags when they are needed.
engine() { "${ENGINE[@]}" "$@"; }

# podman 4 without systemd reports each health timer it cannot create: noise, not errors.
quiet_engine() { engine "$@" 2> >(grep -v 'systemd connection' >&2); }

detect_engine() {
    ENGINE_KIND=${CONTAINER_ENGINE:-}
    if [ -z "$ENGINE_KIND" ]; then
        if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
            ENGINE_KIND=docker
        else
            if command -v docker >/dev/null 2>&1; then
                echo "docker is installed but no docker engine answers: using podman"
            fi
            command -v podman >/dev/null 2>&1 || install_debian podman runc
            ENGINE_KIND=podman
        fi
    fi
    case "$ENGINE_KIND" in
        docker | podman) ENGINE=("$ENGINE_KIND") ;;
        *) die "CONTAINER_ENGINE must be docker or podman, not '$ENGINE_KIND'" ;;
    esac
    # Set by podman_fallback: podman's own runtime settings fail on some machines.
    NETWORK_MODE=publish
    echo "engine: $ENGINE_KIND ($(engine --version 2>/dev/null | head -n 1))"
}

image_exists() {
    if [ "$ENGINE_KIND" = podman ]; then
        engine image exists "$1"
    else
        engine image inspect "$1" >/dev/null 2>&1
    fi
}

# Can the engine run a container at all? On machines that cannot set rlimits
# or use cgroups, podman runs with runc, cgroupfs and no default ulimits (a
# containers.conf of ours), and with the host's network.
check_engine_runs() {
    local base=$1 output
    if output=$(quiet_engine run --rm --network none "$base" true 2>&1); then
        return 0
    fi
    [ "$ENGINE_KIND" = podman ] || die "$ENGINE_KIND cannot run a container: $output"
    echo "podman's default runtime fails here ($(echo "$output" | tail -n 1))"
    echo "retrying with runc, cgroupfs, no default ulimits and the host's network"
    export CONTAINERS_CONF=$PWD/scripts/podman-fallback.conf
    ENGINE=(podman --runtime runc --cgroup-manager cgroupfs)
    NETWORK_MODE=host
    output=$(quiet_engine run --rm --network host "$base" true 2>&1) ||
        die "podman cannot run a container, even with runc and cgroupfs: $output"
}

# A minimal Debian with python3 from the host's own package sources, imported
# as a local image: for machines that reach Debian's packages but no registry.
build_local_base() {
    local name=$1 codename=$2 tarball sources=()
    command -v mmdebstrap >/dev/null 2>&1 || install_debian mmdebstrap
    for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        if [ -s "$file" ]; then
            sources=("$file")
            break
        fi
    done
    local setup_only=(usrmerge libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl
        perl libperl5.36 perl-modules-5.36 libgdbm-compat4)
    tarball=$(mktemp --suffix=.tar)
    say "building the local base image $name from Debian's packages ($codename)"
    # Essential packages, python3 and the C++ runtime (greenlet, under gevent,
    # links to it) only; no documentation, manuals or translations; perl and
    # usrmerge (needed only to set the system up) leave.
    mmdebstrap --quiet --variant=essential \
        --include=usr-is-merged,python3,python3-venv,libstdc++6 \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --customize-hook="chroot \"\$1\" dpkg --purge ${setup_only[*]} >/dev/null" \
        "$codename" "$tarball" ${sources[@]+"${sources[@]}"} || die "mmdebstrap could not build the base"
    local output
    output=$(engine import --change 'CMD ["python3"]' "$tarball" "$name" 2>&1) ||
        die "could not import the base image: $output"
    rm -f "$tarball"
}

# A pull that gives up after 2 minutes where coreutils' timeout exists.
pull_quietly() {
    local limit=()
    command -v timeout >/dev/null 2>&1 && limit=(timeout 120)
    # ${a[@]+...}: bash 3 (macOS) calls an empty array unbound under set -u.
    ${limit[@]+"${limit[@]}"} "${ENGINE[@]}" pull "$1" >/dev/null 2>&1
}

# Sets BASE: BASE_IMAGE when given; else the official image when present or
# pullable; else a local Debian base (built once, then reused).
find_base() {
    if [ -n "${BASE_IMAGE:-}" ]; then
        BASE=$BASE_IMAGE
        image_exists "$BASE" || engine pull "$BASE" || die "cannot pull BASE_IMAGE=$BASE"
        return
    fi
    local codename
    codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
    # The tag names what the base holds: a new list of packages makes a new base.
    LOCAL_BASE=localhost/sms-contract-base:${codename:-bookworm}-2
    if image_exists "$DEFAULT_BASE"; then
        BASE=$DEFAULT_BASE
    elif image_exists "$LOCAL_BASE"; then
        BASE=$LOCAL_BASE
        echo "using the local base built earlier: $LOCAL_BASE"
    elif pull_quietly "$DEFAULT_BASE"; then
        BASE=$DEFAULT_BASE
    else
        echo "cannot pull $DEFAULT_BASE (no registry reachable?)"
        command -v apt-get >/dev/null 2>&1 ||
            die "cannot pull $DEFAULT_BASE and cannot build a Debian base here: set BASE_IMAGE"
        build_local_base "$LOCAL_BASE" "${codename:-bookworm}"
        BASE=$LOCAL_BASE
    fi
    echo "base image: $BASE"
}

# The wheels of the project and of every runtime dependency, for the base's
# Python: built by the host's pip when it is the same Python on the same
# platform, else downloaded as binary wheels for the base's.
# (IMAGE_WHEELS=download takes the second way anyway, to try it.)
build_wheels() {
    local wheels=$CONTEXT/wheels base_python host_python arch
    base_python=$(quiet_engine run --rm --network none "$BASE" \
        python3 -c 'import platform, sys; print("%d.%d-%s" % (*sys.version_info[:2], platform.machine()))') ||
        die "the base image $BASE has no python3"
    host_python=$("$PYTHON" -c 'import platform, sys; print("%d.%d-%s" % (*sys.version_info[:2], platform.machine()) if sys.platform == "linux" else "other")')
    rm -rf "$CONTEXT" && mkdir -p "$wheels"
    say "building the wheels for Python $base_python"
    "$PYTHON" -m pip wheel -qq --disable-pip-version-check --no-deps --wheel-dir "$wheels" . ||
        die "could not build the project's wheel"
    if [ "$base_python" = "$host_python" ] && [ "${IMAGE_WHEELS:-}" != download ]; then
        "$PYTHON" -m pip wheel -qq --disable-pip-version-check --wheel-dir "$wheels" \
            "$wheels"/sms_contract-*.whl || die "could not build the dependencies' wheels"
    else
        # pip does not widen a manylinux_2_N platform to older glibcs: list them,
        # up to bookworm's 2.36.
        arch=${base_python#*-}
        local platforms=()
        for glibc in $(seq 17 36); do platforms+=(--platform "manylinux_2_${glibc}_$arch"); done
        "$PYTHON" -m pip download -qq --disable-pip-version-check --only-binary=:all: \
            --implementation cp --python-version "${base_python%-*}" "${platforms[@]}" \
            --dest "$wheels" "$wheels"/sms_contract-*.whl ||
            die "could not download binary wheels for Python $base_python"
    fi
    echo "$(find "$wheels" -name '*.whl' | wc -l) wheels in $wheels"
}

# Builds sms-contract:VERSION and sms-contract:latest from the wheels, offline.
build_image() {
    local version
    version=$(project_version)
    IMAGE=sms-contract:$version
    say "building $IMAGE from $BASE (no network)"
    local options=() previous
    # podman's default OCI format would drop HEALTHCHECK; and without --layers=false
    # it keeps the install stage as an image (240 MB) on every build.
    [ "$ENGINE_KIND" = podman ] && options=(--format docker --layers=false)
    previous=$(engine image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    quiet_engine build --quiet ${options[@]+"${options[@]}"} --network none --file Containerfile \
        --build-arg "BASE_IMAGE=$BASE" --build-arg "VERSION=$version" \
        --build-arg "SOURCE=$IMAGE_SOURCE" \
        --tag "$IMAGE" --tag sms-contract:latest "$CONTEXT" || die "the image build failed"
    # The image this build replaced, now without a tag (kept if a container uses it).
    if [ -n "$previous" ] && [ "$previous" != "$(engine image inspect --format '{{.Id}}' "$IMAGE")" ]; then
        quiet_engine rmi "$previous" >/dev/null 2>&1 || true
    fi
    echo "built $IMAGE and sms-contract:latest"
}
