#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the whole suite and
# ends with one line counting the tests that passed, failed and were skipped,
# the skips grouped by reason. Needs root (eBPF). Exits non-zero when a test
# failed or the runner did not exit 0.
#
# Node tests use $TAPYRUSD (with tapyrus-genesis beside it), else tapyrusd on
# PATH, and are skipped with a printed reason where there is none. With
# REQUIRE_TAPYRUSD=1 a missing or probe-less tapyrusd fails the run at once
# (and `swift test` alone fails its test "REQUIRE_TAPYRUSD=1: …").
#
# Writes the JUnit XML of `swift test --xunit-output .build/test-results.xml`:
# .build/test-results-swift-testing.xml (Swift Testing: every test of this
# suite) and .build/test-results.xml (XCTest, only if it ran any); the log is
# .build/test-output.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${REQUIRE_TAPYRUSD:-}" = 1 ]; then
    # Before installing or building anything: a CI that built tapyrusd wants it tested.
    required() { echo "ci/test.sh: REQUIRE_TAPYRUSD=1 but $*" >&2; exit 1; }
    tapyrusd=${TAPYRUSD:-$(command -v tapyrusd || true)}
    [ -n "$tapyrusd" ] || required "no tapyrusd found (TAPYRUSD unset, none on PATH)"
    { [ -f "$tapyrusd" ] && [ -x "$tapyrusd" ]; } || required "$tapyrusd is not an executable file"
    [ -x "$(dirname "$tapyrusd")/tapyrus-genesis" ] || required "no tapyrus-genesis beside $tapyrusd"
    if command -v readelf >/dev/null; then
        notes=$(readelf --notes "$tapyrusd" 2>/dev/null || true)
        [[ $notes == *stapsdt* ]] || required "$tapyrusd has no USDT probes (build it with tracing enabled)"
    fi
    echo "ci/test.sh: REQUIRE_TAPYRUSD=1: testing $tapyrusd"
elif [ -z "${TAPYRUSD:-}" ] && ! command -v tapyrusd >/dev/null; then
    echo "ci/test.sh: no tapyrusd found (TAPYRUSD unset, none on PATH): node tests will be skipped"
fi

ci/setup.sh
swift build --build-tests
# The summary line's reader, a package of its own; its own tests first.
summary=(--package-path ci/junit-summary --scratch-path .build/junit-summary)
swift build "${summary[@]}" --build-tests
mkdir -p .build
if ! swift test "${summary[@]}" --skip-build >.build/junit-summary-tests.txt 2>&1; then
    cat .build/junit-summary-tests.txt
    echo "ci/test.sh: the tests of ci/junit-summary failed" >&2
    exit 1
fi

rm -f .build/test-results.xml .build/test-results-swift-testing.xml
# Bounded: a hung test must fail the run, not eat CI's 90 minutes.
set +e
timeout --kill-after=30 1500 swift test --skip-build --xunit-output .build/test-results.xml 2>&1 | tee .build/test-output.txt
status=${PIPESTATUS[0]}
set -e
[ "$status" != 124 ] || echo "ci/test.sh: swift test did not finish within 1500 s" >&2
.build/junit-summary/debug/junit-summary --runner-status "$status" .build/test-results.xml
