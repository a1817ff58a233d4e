#!/usr/bin/env bash
# make image-test: builds the image, then tests it for real with docker or podman.
#
# Blocks between "# recipe: NAME" and "# end recipe" are the shell steps that
# docs/ci.md shows (tests/test_ci_docs.py checks that they match), with docker,
# sms-provider, sms-data, sms-contract:latest, sms-ca.pem and port 8443 in place
# of the variables.
set -euo pipefail
cd "$(dirname "$0")/.."
PROGRAM="make image-test"
source scripts/image-lib.sh
STARTED=$SECONDS

detect_engine
command -v curl >/dev/null 2>&1 || install_debian curl
find_base
check_engine_runs "$BASE"
build_wheels
build_image

NAME=sms-contract-test-$$
VOLUME=sms-contract-test-$$
WORK=$(mktemp -d)
CA=$WORK/ca.pem
CONTAINERS=("$NAME" "$NAME-again" "$NAME-bad-port" "$NAME-read-only" "$NAME-no-dir")
VOLUMES=("$VOLUME" "$VOLUME-read-only")

cleanup() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        for container in "$NAME" "$NAME-again"; do
            if engine inspect "$container" >/dev/null 2>&1; then
                echo "--- logs of $container" >&2
                engine logs --tail 30 "$container" >&2 2>&1 || true
            fi
        done
    fi
    # --volumes: also the anonymous /data volumes of the containers run without one.
    # One by one: a name that never started must not keep the others.
    for container in "${CONTAINERS[@]}"; do
        quiet_engine rm --force --volumes "$container" >/dev/null 2>&1 || true
    done
    for volume in "${VOLUMES[@]}"; do
        quiet_engine volume rm --force "$volume" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
    # A documented step has no check of its own: name the step it failed in.
    if [ "$status" -ne 0 ] && [ -z "${DIED:-}" ]; then
        printf '\n%s: FAILED (exit %d) during: %s\n' "$PROGRAM" "$status" "$STEP" >&2
    fi
    exit "$status"
}
trap cleanup EXIT

PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$NETWORK_MODE" = host ]; then
    # The container shares the host's network: it listens on a free port of ours.
    RUN_OPTS=(--network host -e "SMS_CONTRACT_PORT=$PORT")
    CPORT=$PORT
else
    RUN_OPTS=(-p "127.0.0.1:$PORT:8443")
    CPORT=8443
fi
if [ "$ENGINE_KIND" = podman ]; then
    # podman schedules health checks with systemd timers, which not every machine
    # has: the test runs the image's check itself (podman healthcheck run).
    RUN_OPTS+=(--health-interval disable)
fi

# The engine's own verdict on the image's HEALTHCHECK: "healthy" within 60 s.
wait_healthy() {
    local container=$1 deadline=$((SECONDS + 60)) health state
    while :; do
        if [ "$ENGINE_KIND" = podman ]; then
            quiet_engine healthcheck run "$container" >/dev/null 2>&1 || true
        fi
        health=$(engine inspect --format '{{.State.Health.Status}}' "$container")
        [ "$health" = healthy ] && break
        state=$(engine inspect --format '{{.State.Status}}' "$container")
        [ "$state" = running ] || die "$container is $state, not running"
        [ "$SECONDS" -lt "$deadline" ] || die "$container is not healthy after 60 s ($health)"
        sleep 0.5
    done
    echo "$ENGINE_KIND reports $container healthy"
}

# How many messages with this retId and status the API lists.
count_messages() {
    curl --silent --show-error --fail --cacert "$CA" \
        "https://localhost:$PORT/api/messages?retId=$1&status=$2" |
        "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["total"])'
}

# A container that must stop at once with exit code 2 and this line in its logs.
expect_refusal() {
    local container=$1 expected=$2 status=0
    shift 2
    quiet_engine run --name "$container" "$@" >/dev/null 2>&1 || status=$?
    [ "$status" -eq 2 ] || die "$container exited with $status, not 2"
    engine logs "$container" 2>&1 | grep -qF -- "$expected" ||
        die "the logs of $container lack: $expected"
    echo "exit 2, logs: $(engine logs "$container" 2>&1 | grep -F -- "$expected" | head -n 1)"
}

say "the image: non-root user, labels, health check, no compiler left"
[ "$(engine inspect --format '{{.Config.User}}' "$IMAGE")" = 10001:10001 ] ||
    die "the image does not run as 10001:10001"
version=$(project_version)
for label in version=$version licenses=MIT; do
    value=$(engine inspect --format "{{index .Config.Labels \"org.opencontainers.image.${label%%=*}\"}}" "$IMAGE")
    [ "$value" = "${label#*=}" ] || die "label org.opencontainers.image.${label%%=*} is '$value'"
done
engine inspect --format '{{index .Config.Labels "org.opencontainers.image.source"}}' "$IMAGE" |
    grep -q . || die "the image has no source label"
# docker and podman show the health check in different places of their inspect output.
engine image inspect --format '{{json .}}' "$IMAGE" | grep -q 'sms-contract healthcheck' ||
    die "the image's HEALTHCHECK does not run sms-contract healthcheck"
quiet_engine run --rm --network none --entrypoint sh "$IMAGE" -c \
    'for tool in gcc cc c++ make curl; do command -v $tool && exit 1; done
     test ! -e /tmp/wheels && test ! -e /root/.cache/pip' ||
    die "the image holds a compiler, curl, the wheels or a pip cache"
echo "user 10001, labels, HEALTHCHECK, no compiler, curl or wheels; size: $(engine image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1 / 1e6}')"

say "bad input: a bad SMS_CONTRACT_* value, a read-only or missing /data"
expect_refusal "$NAME-bad-port" "Invalid value for '--port'" \
    -e SMS_CONTRACT_PORT=abc "$IMAGE"
expect_refusal "$NAME-read-only" "error: the state directory /data is not writable" \
    -v "$VOLUME-read-only:/data:ro" "$IMAGE"
expect_refusal "$NAME-no-dir" "error: cannot create the state directory /missing/data" \
    -e SMS_CONTRACT_STATE_DIR=/missing/data "$IMAGE"

say "start it with a volume, wait until healthy, copy the CA out of the volume"
# recipe: start
quiet_engine volume create "$VOLUME"
quiet_engine run -d --name "$NAME" "${RUN_OPTS[@]}" -v "$VOLUME":/data "$IMAGE"
engine exec "$NAME" sms-contract healthcheck --wait 30
engine cp "$NAME":/data/tls/ca.pem "$CA"
# end recipe
wait_healthy "$NAME"

say "send a valid and an invalid SMS over HTTPS, trusting the CA"
# recipe: send
curl --fail-with-body --cacert "$CA" -H 'Content-Type: application/json' \
    -d '{"type": "NOTIFICATION", "sender": "INOCX", "to": "+33612345678", "retId": "ci-1", "isUnicode": false, "text": "Hello from CI", "credits": 1}' \
    "https://localhost:$PORT/sms"
# end recipe
echo
status=$(curl --silent --show-error --cacert "$CA" -o "$WORK/invalid.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' \
    -d '{"type": "NOTIFICATION", "to": "0612", "retId": "ci-2", "isUnicode": false, "text": "Hi", "credits": 1}' \
    "https://localhost:$PORT/sms")
[ "$status" = 422 ] || die "the invalid SMS got HTTP $status, not 422"
echo "the invalid SMS: HTTP 422 $(head -c 120 "$WORK/invalid.json")..."

say "read both back through the API"
# recipe: read
curl --fail-with-body --cacert "$CA" "https://localhost:$PORT/api/messages?retId=ci-1"
# end recipe
echo
[ "$(count_messages ci-1 accepted)" = 1 ] || die "the valid SMS is not in the inbox as accepted"
[ "$(count_messages ci-2 rejected)" = 1 ] || die "the invalid SMS is not in the inbox as rejected"
echo "ci-1 accepted and ci-2 rejected, both in the inbox"

say "it runs as a non-root user"
uid=$(engine exec "$NAME" stat -c %u /proc/1)
owner=$(engine exec "$NAME" stat -c %u /data/inbox.sqlite3)
[ "$uid" = 10001 ] && [ "$owner" = 10001 ] || die "PID 1 runs as uid $uid, the inbox is $owner's"
echo "PID 1 and the inbox belong to uid 10001"

say "run verify and count from the image against the running container"
# recipe: verify
quiet_engine run --rm --network container:"$NAME" -v "$VOLUME":/data:ro "$IMAGE" \
    verify "https://localhost:$CPORT/sms" --to +33612345678 --cacert /data/tls/ca.pem
# end recipe
quiet_engine run --rm --network none "$IMAGE" count 'Votre RDV est confirmé' | grep -q '^credits' ||
    die "count failed in the image"
echo "verify exit 0; count works"

say "restart the container and find both messages again"
quiet_engine restart --time 10 "$NAME" >/dev/null
engine exec "$NAME" sms-contract healthcheck --wait 30
wait_healthy "$NAME"
[ "$(count_messages ci-1 accepted)" = 1 ] && [ "$(count_messages ci-2 rejected)" = 1 ] ||
    die "the messages are gone after a restart"
echo "both messages are still there"

say "SIGTERM stops it gracefully within 10 s"
now_ms() { "$PYTHON" -c 'import time; print(int(time.time() * 1000))'; }
started_ms=$(now_ms)
quiet_engine stop --time 10 "$NAME" >/dev/null
elapsed_ms=$(($(now_ms) - started_ms))
code=$(engine inspect --format '{{.State.ExitCode}}' "$NAME")
[ "$code" = 0 ] || die "exit code $code after SIGTERM (137 means it was killed after 10 s)"
[ "$elapsed_ms" -lt 10000 ] || die "stopping took $elapsed_ms ms"
echo "stopped in $elapsed_ms ms, exit code 0"

say "a new container on the same volume finds the messages and the same CA"
quiet_engine run -d --name "$NAME-again" "${RUN_OPTS[@]}" -v "$VOLUME":/data "$IMAGE" >/dev/null
engine exec "$NAME-again" sms-contract healthcheck --wait 30
engine cp "$NAME-again":/data/tls/ca.pem "$WORK/ca-again.pem"
cmp -s "$CA" "$WORK/ca-again.pem" || die "the CA changed with the container"
[ "$(count_messages ci-1 accepted)" = 1 ] && [ "$(count_messages ci-2 rejected)" = 1 ] ||
    die "the messages are not in the volume"
quiet_engine stop --time 10 "$NAME-again" >/dev/null
echo "same CA, both messages"

printf '\nmake image-test: PASSED in %d s (%s, base %s)\n' "$((SECONDS - STARTED))" "$ENGINE_KIND" "$BASE"
