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
cargo deb -p rsmtp --no-build
cargo deb -p rsmtp --no-build --variant mta
ls -1 target/debian/*.deb
