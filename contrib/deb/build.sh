#!/usr/bin/env bash
# Build the rsmtp and rsmtp-mta Debian packages into target/debian/.
# Needs cargo-deb (`cargo install cargo-deb`).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p rsmtp -p backup-alert
mkdir -p target/release/completions
for shell in bash zsh fish; do
    case $shell in
        bash) r=rsmtp.bash b=backup-alert.bash ;;
        zsh) r=_rsmtp b=_backup-alert ;;
        fish) r=rsmtp.fish b=backup-alert.fish ;;
    esac
    target/release/rsmtp --completions="$shell" > "target/release/completions/$r"
    target/release/backup-alert completions "$shell" > "target/release/completions/$b"
done
rm -f target/debian/rsmtp_*.deb target/debian/rsmtp-mta_*.deb
cargo deb -p rsmtp --no-build
cargo deb -p rsmtp --no-build --variant mta

# One version everywhere: the package, its changelog and rsmtp-mta's exact dependency
# (written out in crates/rsmtp/Cargo.toml, since cargo-deb cannot substitute it).
rsmtp_deb=$(ls target/debian/rsmtp_*.deb)
mta_deb=$(ls target/debian/rsmtp-mta_*.deb)
version=$(dpkg-deb -f "$rsmtp_deb" Version)
changelog_version=$(dpkg-parsechangelog -l contrib/deb/changelog -S Version)
if [ "$changelog_version" != "$version" ]; then
    echo "build.sh: contrib/deb/changelog is at $changelog_version, the package at $version: add an entry" >&2
    exit 1
fi
# Captured first: under pipefail, grep -q closing the pipe early could fail the writer.
depends=$(dpkg-deb -f "$mta_deb" Depends)
if ! grep -qF "rsmtp (= $version)" <<<"$depends"; then
    echo "build.sh: rsmtp-mta must depend on rsmtp (= $version) (crates/rsmtp/Cargo.toml)" >&2
    exit 1
fi
ls -1 target/debian/*.deb
