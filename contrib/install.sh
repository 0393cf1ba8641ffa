#!/bin/sh
# Install rsmtp from a source build so that PHP, cron and every user can run it: the
# binaries, the rsmtpd and sendmail links, the man pages and the shell completions.
#
#   cargo build --release -p rsmtp -p backup-alert    # as yourself, not root
#   sudo contrib/install.sh                           # writes under /usr/local and /usr/sbin
#
# Variables (make-style):
#   PREFIX=/usr/local          binaries in $PREFIX/bin, man pages in $PREFIX/share/man, ...
#   DESTDIR=                   stage everything under this directory (packaging, tests)
#   BUILD_DIR=target/release   where `cargo build --release` put the binaries
#   SENDMAIL=/usr/sbin/sendmail  the link PHP's default sendmail_path and cron use;
#                              SENDMAIL= installs no link. An existing sendmail that is
#                              not rsmtp (Postfix, Exim, msmtp-mta) is left alone
#                              unless FORCE=1.
# Root is needed only to write where your user cannot (/usr/local, /usr/sbin); with
# PREFIX=$HOME/.local SENDMAIL= it runs as any user (but www-data cannot reach it).
set -eu

cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BUILD_DIR=${BUILD_DIR:-target/release}
SENDMAIL=${SENDMAIL-/usr/sbin/sendmail}
FORCE=${FORCE:-}

if [ ! -x "$BUILD_DIR/rsmtp" ]; then
    echo "install.sh: $BUILD_DIR/rsmtp not found: run cargo build --release -p rsmtp -p backup-alert first" >&2
    exit 1
fi

bin=$DESTDIR$PREFIX/bin
man=$DESTDIR$PREFIX/share/man
share=$DESTDIR$PREFIX/share
install -d "$bin" "$man/man1" "$man/man5" "$man/man8" \
    "$share/bash-completion/completions" "$share/zsh/site-functions" \
    "$share/fish/vendor_completions.d"

install -m 755 "$BUILD_DIR/rsmtp" "$bin/rsmtp"
# rsmtp is multi-call: called rsmtpd it is the SMTP listener (man 8 rsmtpd).
ln -sf rsmtp "$bin/rsmtpd"
"$BUILD_DIR/rsmtp" --completions=bash >"$share/bash-completion/completions/rsmtp"
"$BUILD_DIR/rsmtp" --completions=zsh >"$share/zsh/site-functions/_rsmtp"
"$BUILD_DIR/rsmtp" --completions=fish >"$share/fish/vendor_completions.d/rsmtp.fish"
if [ -x "$BUILD_DIR/backup-alert" ]; then
    install -m 755 "$BUILD_DIR/backup-alert" "$bin/backup-alert"
    "$BUILD_DIR/backup-alert" completions bash >"$share/bash-completion/completions/backup-alert"
    "$BUILD_DIR/backup-alert" completions zsh >"$share/zsh/site-functions/_backup-alert"
    "$BUILD_DIR/backup-alert" completions fish >"$share/fish/vendor_completions.d/backup-alert.fish"
else
    echo "install.sh: $BUILD_DIR/backup-alert not built: installing rsmtp only" >&2
fi
install -m 644 man/rsmtp.1 man/backup-alert.1 "$man/man1/"
install -m 644 man/rsmtprc.5 "$man/man5/"
install -m 644 man/rsmtpd.8 "$man/man8/"
chmod 644 "$share"/bash-completion/completions/* "$share"/zsh/site-functions/_* \
    "$share"/fish/vendor_completions.d/*

if [ -n "$SENDMAIL" ]; then
    link=$DESTDIR$SENDMAIL
    if [ -e "$link" ] && [ "$(readlink "$link" || true)" != "$PREFIX/bin/rsmtp" ] && [ -z "$FORCE" ]; then
        echo "install.sh: $SENDMAIL exists and is not rsmtp (another MTA?): left alone;" \
            "remove that MTA or run again with FORCE=1 to replace it" >&2
    else
        install -d "$(dirname "$link")"
        ln -sf "$PREFIX/bin/rsmtp" "$link"
    fi
fi
echo "install.sh: installed rsmtp into $DESTDIR$PREFIX${SENDMAIL:+ and $SENDMAIL}"
