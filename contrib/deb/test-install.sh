#!/usr/bin/env bash
# Install the rsmtp and rsmtp-mta packages on this machine, check that PHP's mail() and
# `echo … | mail -s` go through rsmtp with no further step than writing /etc/msmtprc,
# then remove the packages and check nothing is left behind.
#
# DESTRUCTIVE: rsmtp-mta conflicts with other MTAs, so an installed Postfix is removed
# first (and reinstalled at the end when REINSTALL_POSTFIX=1). CI runs it last.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "test-install.sh: must run as root" >&2; exit 1; }

contrib/deb/build.sh
cargo build --release -q -p rsmtp-testserver

had_postfix=0
if dpkg -s postfix >/dev/null 2>&1; then
    had_postfix=1
    DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq postfix >/dev/null
fi
saved_rc=""
if [ -e /etc/msmtprc ]; then saved_rc=$(mktemp); cp -p /etc/msmtprc "$saved_rc"; fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    if [ -n "$saved_rc" ]; then cp -p "$saved_rc" /etc/msmtprc; else rm -f /etc/msmtprc; fi
    rm -rf "$work"
    # After a failure half way, leave no package behind either.
    dpkg --purge rsmtp-mta rsmtp >/dev/null 2>&1 || true
    if [ "$had_postfix" = 1 ] && [ "${REINSTALL_POSTFIX:-0}" = 1 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
        postfix stop >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

dpkg -i target/debian/rsmtp_*.deb target/debian/rsmtp-mta_*.deb

test "$(readlink -f /usr/sbin/sendmail)" = /usr/bin/rsmtp
test "$(readlink -f /usr/bin/mailq)" = /usr/bin/rsmtp
/usr/sbin/newaliases
man -w rsmtp >/dev/null 2>&1 || test -f /usr/share/man/man1/rsmtp.1.gz

# A loopback server that exits after two messages, and the only config step a user takes.
target/release/rsmtp-testserver --port-file "$work/port" --count 2 --timeout 60 \
    > "$work/received" 2>&1 &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
printf 'account default\nhost 127.0.0.1\nport %s\ntls off\nauth off\nfrom www-data@example.org\nlogfile %s/rsmtp.log\n' \
    "$port" "$work" > /etc/msmtprc
chmod 644 /etc/msmtprc

php -r 'exit(mail("php@example.net", "from PHP", "sent by mail()") ? 0 : 1);'
echo "Backup OK" | mail -s "Backup OK" admin@example.net

wait "$server_pid"; server_pid=""
grep -q "php@example.net" "$work/received"
grep -q "admin@example.net" "$work/received"
grep -q "Subject: from PHP" "$work/received"
grep -q "Subject: Backup OK" "$work/received"
test "$(grep -c 'exitcode=EX_OK' "$work/rsmtp.log")" = 2
mailq | grep -q "Mail queue is empty"

dpkg -r rsmtp-mta rsmtp
test ! -e /usr/sbin/sendmail
test ! -e /usr/bin/rsmtp
test ! -e /usr/bin/backup-alert
dpkg --purge rsmtp-mta rsmtp >/dev/null 2>&1
echo "test-install.sh: install, PHP mail(), mail -s and removal all fine"
