#!/usr/bin/env bash
# The main job: installs what is missing, builds the CLI in release mode, and
# checks tapyrusd's tracepoints against the catalogue, measures the capture
# pipeline on the USDT fixture, and runs the ConnectBlock benchmark twice on
# the small deterministic chain, storing both runs in .build/baselines.sqlite.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh
swift build -c release --product tapyrus-trace
cli=.build/release/tapyrus-trace
mkdir -p .build/fixtures
cc -O2 -o .build/fixtures/usdt-fixture fixtures/usdt-fixture.c fixtures/usdt-fixture-guarded.c
tapyrusd=${TAPYRUSD:-$(command -v tapyrusd || true)}
if [ -n "$tapyrusd" ]; then
    "$cli" verify "$tapyrusd" || echo "(differences above are tapyrusd's; see docs/known-issues.md)"
    "$cli" bench capture --fixture .build/fixtures/usdt-fixture --tapyrusd "$tapyrusd"
    export TAPYRUS_TRACE_CHAINS=.build/chains TAPYRUS_TRACE_DB=.build/baselines.sqlite
    "$cli" bench chain generate small --tapyrusd "$tapyrusd"
    "$cli" bench connectblock --chain small --tapyrusd "$tapyrusd" --repetitions 2 --threshold-ms 1000 --label main
    "$cli" baseline list
else
    echo "no tapyrusd found (TAPYRUSD unset, none on PATH): measuring on the fixture only"
    "$cli" bench capture --fixture .build/fixtures/usdt-fixture
fi
