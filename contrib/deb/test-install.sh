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

# As the README says: apt resolves the dependencies and the MTA conflict (dpkg -i alone
# stops half way where another MTA is installed).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./target/debian/rsmtp_*.deb ./target/debian/rsmtp-mta_*.deb >/dev/null

test "$(readlink -f /usr/sbin/sendmail)" = /usr/bin/rsmtp
test "$(readlink -f /usr/lib/sendmail)" = /usr/bin/rsmtp
test "$(readlink -f /usr/bin/mailq)" = /usr/bin/rsmtp
test "$(readlink -f /usr/bin/rsmtpd)" = /usr/bin/rsmtp
/usr/bin/newaliases
# Output is captured before grep -q looks at it: grep -q stops reading at the first
# match, and under pipefail the writer's SIGPIPE (exit 141) would fail the script.
help=$(rsmtpd --help)
grep -q -- --interface <<<"$help"
# Every program has its page: sendmail(8), mailq(1), newaliases(1) are rsmtp(1).
for page in man1/rsmtp.1 man1/backup-alert.1 man5/rsmtprc.5 man8/rsmtpd.8 \
    man8/sendmail.8 man1/mailq.1 man1/newaliases.1; do
    text=$(zcat "/usr/share/man/$page.gz")
    grep -q '^\.TH' <<<"$text"
done
# The units are shipped, not enabled.
for unit in rsmtp-queue.service rsmtp-queue.timer rsmtpd.service rsmtpd.socket rsmtpd@.service; do
    test -f "/usr/lib/systemd/system/$unit"
done
test -z "$(find /etc/systemd/system -name 'rsmtp*' 2>/dev/null)"
if command -v logrotate >/dev/null 2>&1; then
    logrotate -d /etc/logrotate.d/rsmtp >/dev/null 2>&1
fi

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
listing=$(mailq)
grep -q "Mail queue is empty" <<<"$listing"

dpkg -r rsmtp-mta rsmtp
test ! -e /usr/sbin/sendmail
test ! -e /usr/bin/rsmtp
test ! -e /usr/bin/rsmtpd
test ! -e /usr/bin/backup-alert
# Purge takes the queue and backup-alert's state with it.
mkdir -p /var/lib/backup-alert && touch /var/spool/rsmtp/leftover /var/lib/backup-alert/alerts.state
dpkg --purge rsmtp-mta rsmtp >/dev/null 2>&1
test ! -e /var/spool/rsmtp
test ! -e /var/lib/backup-alert
test ! -e /etc/logrotate.d/rsmtp
echo "test-install.sh: install, PHP mail(), mail -s and removal all fine"
