#!/usr/bin/env bash
# The main job: installs what is missing, builds the CLI in release mode, and
# checks tapyrusd's tracepoints against the catalogue, then measures the
# capture pipeline on the USDT fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh
swift build -c release --product tapyrus-trace
cli=.build/release/tapyrus-trace
mkdir -p .build/fixtures
cc -O2 -o .build/fixtures/usdt-fixture fixtures/usdt-fixture.c fixtures/usdt-fixture-guarded.c
tapyrusd=${TAPYRUSD:-$(command -v tapyrusd || true)}
if [ -n "$tapyrusd" ]; then
    "$cli" verify "$tapyrusd" || echo "(differences above are tapyrusd's; see Known issues in the README)"
    "$cli" bench capture --fixture .build/fixtures/usdt-fixture --tapyrusd "$tapyrusd"
else
    echo "no tapyrusd found (TAPYRUSD unset, none on PATH): measuring on the fixture only"
    "$cli" bench capture --fixture .build/fixtures/usdt-fixture
fi
