//! Differential tests: the same msmtprc text through /usr/bin/msmtp
//! (`--pretend`) and through rsmtp-config must give the same account, or fail
//! on the same line with the same exit code. Skipped when msmtp is absent.

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

use rsmtp_testserver::peer::{require, require_peer};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rsmtp_config::{Config, ExpandContext, ResolveOptions};

const MSMTP: &str = "/usr/bin/msmtp";

/// Lines where rsmtp deliberately differs from msmtp 1.8.23.
const DIFFERENT_ON_PURPOSE: &[&str] = &["timeout"];

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn msmtp(dir: &Path, rc: &Path, account: &str) -> Run {
    let out = Command::new(MSMTP)
        .arg("-C")
        .arg(rc)
        .arg("-a")
        .arg(account)
        .arg("-P")
        .env("HOME", rsmtp_config::home_dir())
        .env("USER", "alice")
        .env("HOSTNAME", "box")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run msmtp");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The line number in msmtp's "FILE: line N: …" message.
fn msmtp_error_line(stderr: &str) -> Option<usize> {
    let i = stderr.find(": line ")?;
    stderr[i + 7..]
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
}

fn compare(name: &str, text: &str, account: &str) {
    if require_peer(MSMTP, &format!("msmtp ({name} not compared)")).is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rc: PathBuf = dir.path().join("msmtprc");
    fs::write(&rc, text).expect("write");
    fs::set_permissions(&rc, fs::Permissions::from_mode(0o600)).expect("chmod");
    let theirs = msmtp(dir.path(), &rc, account);

    let opts = ResolveOptions {
        require_from: false,
        expand: ExpandContext {
            user: Some("alice".into()),
            host: Some("box".into()),
            ..ExpandContext::default()
        },
    };
    let ours = Config::parse(text, &rc)
        .and_then(|c| c.account(Some(account)))
        .and_then(|mut a| a.resolve(&opts).map(|()| a));

    match ours {
        Ok(a) => {
            assert_eq!(
                theirs.code, 0,
                "{name}: rsmtp accepted, msmtp failed: {}",
                theirs.stderr
            );
            let mine = fields(&a.describe_for_pretend());
            let real = fields(&theirs.stdout);
            assert!(real.len() > 30, "{name}: msmtp printed {}", theirs.stdout);
            for (k, v) in &real {
                if DIFFERENT_ON_PURPOSE.contains(&k.as_str()) {
                    continue;
                }
                assert_eq!(mine.get(k), Some(v), "{name}: field {k}");
            }
        }
        Err(e) => {
            assert_ne!(theirs.code, 0, "{name}: msmtp accepted, rsmtp said: {e}");
            let msg = e.to_string();
            if let Some(line) = msmtp_error_line(&theirs.stderr) {
                assert!(
                    msg.contains(&format!(":{line}: ")),
                    "{name}: msmtp failed on line {line} ({}), rsmtp said: {msg}",
                    theirs.stderr.trim()
                );
            }
            // msmtp 1.8.23 exits 78 for all of these.
            assert_eq!(
                e.exit_code(),
                theirs.code,
                "{name}: {msg} / {}",
                theirs.stderr
            );
        }
    }
}

#[test]
fn reference_configs_match_msmtp() {
    compare(
        "gmail-backup",
        include_str!("fixtures/gmail-backup.msmtprc"),
        "default",
    );
    compare(
        "gmail-backup-account",
        include_str!("fixtures/gmail-backup.msmtprc"),
        "backup",
    );
    compare(
        "php-docker",
        include_str!("fixtures/php-docker.msmtprc"),
        "default",
    );
    compare(
        "vps-alert",
        include_str!("fixtures/vps-alert-default-account.msmtprc"),
        "default",
    );
    compare(
        "vps-alert-filled-in",
        &include_str!("fixtures/vps-alert-default-account.msmtprc")
            .replace("[上記で確認したポート番号]", "587"),
        "default",
    );
}

#[test]
fn syntax_edge_cases_match_msmtp() {
    let cases: &[(&str, &str, &str)] = &[
        ("quotes", "account a\nhost \"  sp ace \"\nfrom \"a\\\"b\"\nuser \"x\n", "a"),
        ("hash", "account a\nhost h # not a comment\n  # comment\n", "a"),
        ("crlf", "account a\r\nhost h\r\nport 2525\r\n", "a"),
        ("implicit default", "host h\nfrom f@x\n", "default"),
        ("empty on", "account a\nhost h\ntls\ntls_starttls off\nauth\nsyslog\n", "a"),
        ("numbers", "account a\nhost h\nport 010\ntimeout 0x10\n", "a"),
        (
            "inheritance",
            "defaults\nport 1\naccount b\nhost hb\ndefaults\nport 2\ntls on\n\
             account c\nuser uc\naccount a : b, c\nfrom f\n",
            "a",
        ),
        (
            "legacy",
            "account a\nhost h\ntls on\ntls_nocertcheck\ntls_nostarttls\nkeepbcc\n\
             add_missing_from_header off\nadd_missing_date_header off\n\
             undisclosed_recipients\ntls_force_sslv3\nconnect_timeout 5\n",
            "a",
        ),
        (
            "values",
            "account a\nhost h\ndsn_notify failure,delay\ndsn_return full\nsyslog LOG_LOCAL3\n\
             tls_fingerprint ab:CD:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\n\
             set_from_header on\nlogfile -\nlogfile_time_format %Y\ntls_min_dh_prime_bits 512\n\
             tls_host_override other\nsource_ip 10.0.0.1\nauth cram-md5\nuser u\n\
             passwordeval echo x\nntlmdomain d\ntls_crl_file /crl\n",
            "a",
        ),
        ("tilde", "account a\nhost h\nlogfile ~/log\naliases ~/aliases\ntls_trust_file ~/ca\n", "a"),
        ("percent", "account a\nhost h\nfrom %U@%H\ndomain %H\n", "a"),
        ("auto_from", "account a\nhost h\nauto_from\nmaildomain ex.net\n", "a"),
        ("trust empty in defaults", "defaults\ntls_trust_file\naccount a\nhost h\ntls on\n", "a"),
        ("trust empty", "account a\nhost h\ntls on\ntls_trust_file\n", "a"),
        ("no host", "account a\nport 99\n", "a"),
        ("key without cert", "account a\nhost h\ntls_key_file /k\n", "a"),
        ("unknown", "account a\nhots h\n", "a"),
        ("bad port", "account a\nport 0\n", "a"),
        ("bad timeout", "account a\nhost h\ntimeout 0\n", "a"),
        ("upper auth", "account a\nauth PLAIN\n", "a"),
        ("dup", "account a\nhost h\naccount a\n", "a"),
        ("undefined parent", "account a : b\n", "a"),
        ("defaults arg", "defaults x\n", "a"),
        ("nocertcheck arg", "account a\ntls_nocertcheck off\n", "a"),
        ("dsn bad", "account a\ndsn_notify failure,,\n", "a"),
        ("allow_from_override empty", "account a\nallow_from_override\n", "a"),
        ("eval", "account a\neval echo host from-eval\n", "a"),
        ("eval empty", "account a\nhost h\neval true\n", "a"),
        ("eval account", "account b\nhost hb\neval echo 'account a : b'\nport 2\n", "a"),
        ("empty strings", "account a\nhost h\nfrom\ndomain\nmaildomain\n", "a"),
        ("quoted name", "account \"a\"\nhost h\n", "a"),
        ("tight colon", "account b\nhost hb\naccount a:b\n", "a"),
        ("quoted parent", "account b\nhost hb\naccount a : \"b\" \n", "a"),
        ("ssl port", "account a\nhost h\ntls on\ntls_starttls off\n", "a"),
        ("proxy", "account a\nhost h\nproxy_port 9050\n", "a"),
        ("fp spaces", "account a\nhost h\ntls on\ntls_fingerprint \"ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89\"\n", "a"),
        ("headers", "account a\nhost h\nset_from_header off\nset_date_header off\nremove_bcc_headers off\n", "a"),
        ("off values", "account a\nhost h\ndsn_notify off\ndsn_return off\nsyslog off\nauth off\ntimeout off\n", "a"),
        ("bad fp", "account a\nhost h\ntls_fingerprint ab:cd\n", "a"),
        ("bad protocol", "account a\nhost h\nprotocol http\n", "a"),
        ("bad proxy port", "account a\nhost h\nproxy_port 70000\n", "a"),
        ("bad syslog", "account a\nhost h\nsyslog LOG_LOCAL8\n", "a"),
    ];
    for (name, text, acct) in cases {
        compare(name, text, acct);
    }
}

/// The permission rule, run as an unprivileged user (uid 65534) through
/// setpriv: only possible when the tests run as root.
#[test]
fn permission_rule_matches_msmtp() {
    const NOBODY: u32 = 65534;
    if require_peer(MSMTP, "msmtp").is_none()
        || require_peer("/usr/bin/setpriv", "setpriv (util-linux)").is_none()
        || !require(rsmtp_config::current_uid() == 0, "root (CI runs as root)")
    {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let rc = dir.path().join("msmtprc");
    let cases: &[(&str, &str, u32, u32)] = &[
        ("private", "account a\nhost h\npassword x\n", 0o600, NOBODY),
        (
            "read-only",
            "account a\nhost h\npassword x\n",
            0o400,
            NOBODY,
        ),
        (
            "group readable",
            "account a\nhost h\npassword x\n",
            0o640,
            NOBODY,
        ),
        (
            "user executable",
            "account a\nhost h\npassword x\n",
            0o700,
            NOBODY,
        ),
        ("other's file", "account a\nhost h\npassword x\n", 0o644, 0),
        ("no password", "account a\nhost h\n", 0o666, NOBODY),
        (
            "password from eval",
            "account a\nhost h\neval echo password x\n",
            0o644,
            NOBODY,
        ),
    ];
    for (name, text, mode, owner) in cases {
        fs::write(&rc, text).expect("write");
        fs::set_permissions(&rc, fs::Permissions::from_mode(*mode)).expect("chmod");
        std::os::unix::fs::chown(&rc, Some(*owner), None).expect("chown");
        let out = Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", MSMTP])
            .arg("-C")
            .arg(&rc)
            .args(["-a", "a", "-P"])
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run msmtp");
        let theirs = out.status.code().unwrap_or(-1);
        let ours = Config::load(&rsmtp_config::LoadOptions {
            system_file: Some(dir.path().join("no-system-file")),
            user_file: Some(rc.clone()),
            check_uid: Some(NOBODY),
        });
        match ours {
            Ok(_) => assert_eq!(theirs, 0, "{name}: msmtp refused, rsmtp accepted"),
            Err(e) => {
                assert_eq!(e.exit_code(), theirs, "{name}: {e}");
                assert!(e.to_string().contains("chmod 600"), "{name}: {e}");
            }
        }
    }
}

/// `-f ADDRESS` without `-a`: the same account is chosen.
#[test]
fn envelope_from_account_choice_matches_msmtp() {
    if require_peer(MSMTP, "msmtp").is_none() {
        return;
    }
    let text = "account a\nhost ha\nfrom *@x.org\naccount b\nhost hb\nfrom Joe@Y.org\n\
                account c\nhost hc\nfrom list+tag@z.org\naccount default\nhost hd\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let rc = dir.path().join("msmtprc");
    fs::write(&rc, text).expect("write");
    fs::set_permissions(&rc, fs::Permissions::from_mode(0o600)).expect("chmod");
    let config = Config::parse(text, &rc).expect("parse");
    for from in [
        "bob@x.org",
        "joe@y.org",
        "JOE@Y.ORG",
        "joe+news@y.org",
        "list+tag@z.org",
        "list+other@z.org",
        "nobody@nowhere",
    ] {
        let out = Command::new(MSMTP)
            .arg("-C")
            .arg(&rc)
            .args(["-f", from, "-P"])
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run msmtp");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let theirs = stdout
            .lines()
            .find_map(|l| l.strip_prefix("using account "))
            .and_then(|l| l.split(' ').next())
            .map(str::to_string);
        let (ours, _) = config.select(None, Some(from)).expect("select");
        assert_eq!(Some(ours.name), theirs, "-f {from}: {stdout}");
    }
}
