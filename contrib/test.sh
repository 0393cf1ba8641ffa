#!/bin/sh
# The test suite as the README and CI run it: `cargo test --workspace` (extra arguments
# are passed on), then one summary of every test peer that was missing and the tests
# that skipped because of it. A skipped test prints `ok` like any other; this summary
# is where it shows. Under CI=true a missing peer fails its test instead.
#
#   contrib/test.sh                     # from anywhere in the repository
#   contrib/test.sh --summary FILE      # only print the summary of a skip file
#
# Each skip is one line `PEER<TAB>binary::test` appended by
# rsmtp_testserver::peer::require to $RSMTP_SKIPPED_PEERS, by default
# rsmtp-skipped-peers.txt in cargo's target directory.
set -eu

summary() {
    if [ ! -s "$1" ]; then
        echo "contrib/test.sh: no test skipped for a missing peer"
        return 0
    fi
    echo
    echo "contrib/test.sh: tests skipped because a peer is missing (they passed without checking it):"
    sort -u "$1" | awk -F '\t' '
        $1 != peer { peer = $1; print "  " peer }
        { print "      " $2 }'
    echo "Install the peers with the apt-get line in the README (Tests), then run again."
}

if [ "${1:-}" = "--summary" ]; then
    summary "$2"
    exit 0
fi

cd "$(dirname "$0")/.."
if [ -z "${RSMTP_SKIPPED_PEERS:-}" ]; then
    target=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}
    mkdir -p "$target"
    RSMTP_SKIPPED_PEERS=$target/rsmtp-skipped-peers.txt
fi
export RSMTP_SKIPPED_PEERS
: >"$RSMTP_SKIPPED_PEERS"
status=0
cargo test --workspace "$@" || status=$?
summary "$RSMTP_SKIPPED_PEERS"
exit "$status"
