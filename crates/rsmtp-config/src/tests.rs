//! Behaviour tests: msmtprc files as users write them, checked against what
//! msmtp 1.8.23 does with the same text.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::*;

fn parse(text: &str) -> Config {
    match Config::parse(text, "rc") {
        Ok(c) => c,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn parse_err(text: &str) -> ConfigError {
    match Config::parse(text, "rc") {
        Ok(c) => panic!("expected an error, got {:?}", c.accounts),
        Err(e) => e,
    }
}

fn account(text: &str, name: &str) -> Account {
    parse(text).account(Some(name)).expect("account exists")
}

fn resolved(text: &str, name: &str) -> Account {
    let mut a = account(text, name);
    a.resolve(&test_resolve()).expect("resolves");
    a
}

fn test_resolve() -> ResolveOptions {
    ResolveOptions {
        require_from: false,
        expand: ExpandContext {
            user: Some("alice".into()),
            host: Some("box".into()),
            canonical_host: Some("box.example.org".into()),
            mailname_file: PathBuf::from("/nonexistent/mailname"),
            hosts_file: PathBuf::from("/nonexistent/hosts"),
        },
    }
}

const GMAIL_BACKUP: &str = include_str!("../tests/fixtures/gmail-backup.msmtprc");
const PHP_DOCKER: &str = include_str!("../tests/fixtures/php-docker.msmtprc");
const VPS_ALERT: &str = include_str!("../tests/fixtures/vps-alert-default-account.msmtprc");

// ---- real users' files (gmail-backup, php-docker, vps-alert), verbatim -------------------------------------------

#[test]
fn gmail_backup_gmail_with_default_alias() {
    let c = parse(GMAIL_BACKUP);
    let names: Vec<&str> = c.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["backup", "default"]);
    let mut a = c.account(None).expect("default");
    a.resolve(&test_resolve()).expect("resolve");
    assert_eq!(a.host.as_deref(), Some("smtp.gmail.com"));
    assert_eq!(a.port, Some(587));
    assert!(a.tls && a.tls_starttls);
    assert_eq!(a.auth, Auth::Auto);
    assert_eq!(a.user.as_deref(), Some("youremail@mail.com"));
    assert_eq!(a.from.as_deref(), Some("youremail@mail.com"));
    assert_eq!(
        a.password.as_ref().map(Secret::expose),
        Some("abcdefghijklmnop")
    );
    assert_eq!(
        a.tls_trust_file,
        Some(TrustFile::File("/etc/ssl/certs/ca-certificates.crt".into()))
    );
    assert_eq!(a.logfile, Some(LogFile::File("/var/log/msmtp.log".into())));
    assert_eq!(a.source_of("host"), Some(&Source::file("rc", 8)));
    assert_eq!(a.source_of("tls"), Some(&Source::file("rc", 3)));
    assert!(a.warnings().is_empty(), "{:?}", a.warnings());
}

#[test]
fn php_docker_comments_with_accents() {
    let a = resolved(PHP_DOCKER, "default");
    assert_eq!(a.host.as_deref(), Some("smtp.gmail.com"));
    assert_eq!(a.from.as_deref(), Some("ton.email@gmail.com"));
    assert_eq!(
        a.password.as_ref().map(Secret::expose),
        Some("ton_mot_de_passe_application")
    );
    assert_eq!(a.name, "default");
}

#[test]
fn vps_alert_template_fails_on_placeholder_port_like_msmtp() {
    // msmtp: "s.rc: line 9: invalid argument [上記で確認したポート番号] for command port"
    let e = parse_err(VPS_ALERT);
    let msg = e.to_string();
    assert!(msg.starts_with("rc:9: invalid argument '[上記"), "{msg}");
    assert!(msg.contains("for command port"), "{msg}");
    assert_eq!(e.exit_code(), 78);
}

#[test]
fn vps_alert_filled_in_still_fails_on_self_alias_like_msmtp() {
    // msmtp: "line 13: account default was already defined"
    let text = VPS_ALERT.replace("[上記で確認したポート番号]", "587");
    let e = parse_err(&text);
    assert_eq!(e.to_string(), "rc:14: account default was already defined");
}

#[test]
fn vps_alert_logfile_keeps_dollar_home_literally() {
    let text = VPS_ALERT
        .replace("[上記で確認したポート番号]", "587")
        .replace("account default : default\n", "");
    let a = account(&text, "default");
    assert_eq!(
        a.logfile,
        Some(LogFile::File("$HOME/logs/msmtp.log".into()))
    );
    assert_eq!(a.host.as_deref(), Some("[上記で確認したSMTPホスト名]"));
}

// ---- lexical rules ---------------------------------------------------------

#[test]
fn comments_only_at_line_start() {
    let c = parse("# top\n  # indented\naccount a # not a comment\nhost h # neither\n");
    let a = &c.accounts[0];
    assert_eq!(a.name, "a # not a comment");
    assert_eq!(a.host.as_deref(), Some("h # neither"));
}

#[test]
fn quotes_are_stripped_only_around_the_whole_argument() {
    let a = account(
        "account a\nhost \"  sp ace \"\nfrom \"a\\\"b\"\nuser \"x\npassword \"p w\"\n",
        "a",
    );
    assert_eq!(a.host.as_deref(), Some("  sp ace "));
    assert_eq!(a.from.as_deref(), Some("a\\\"b"));
    assert_eq!(a.user.as_deref(), Some("\"x"));
    assert_eq!(a.password.as_ref().map(Secret::expose), Some("p w"));
}

#[test]
fn crlf_and_tabs() {
    let a = account(
        "account\ta\r\nhost\t\tsmtp.example.org \r\nport 465\r\n",
        "a",
    );
    assert_eq!(a.host.as_deref(), Some("smtp.example.org"));
    assert_eq!(a.port, Some(465));
}

#[test]
fn empty_on_off_argument_means_on() {
    let a = account(
        "account a\nhost h\ntls\ntls_starttls\ntls_certcheck\nauth\nsyslog\nremove_bcc_headers\n",
        "a",
    );
    assert!(a.tls && a.tls_starttls && a.tls_certcheck && a.remove_bcc_headers);
    assert_eq!(a.auth, Auth::Auto);
    assert_eq!(a.syslog, Some(SyslogFacility::User));
    let a = account("account a\nset_from_header\nset_date_header\n", "a");
    assert_eq!(a.set_from_header, HeaderPolicy::Auto);
    // allow_from_override is the exception: msmtp wants on or off.
    let e = parse_err("account a\nallow_from_override\n");
    assert!(
        e.to_string().starts_with("rc:2: invalid argument ''"),
        "{e}"
    );
}

#[test]
fn tilde_expands_in_file_names_only() {
    let home = home_dir();
    let a = account(
        "account a\nlogfile ~/log\naliases \"~/al\"\ntls_trust_file ~/ca.pem\nfrom ~x@y\n",
        "a",
    );
    assert_eq!(a.logfile, Some(LogFile::File(home.join("log"))));
    assert_eq!(a.aliases, Some(home.join("al")));
    assert_eq!(a.tls_trust_file, Some(TrustFile::File(home.join("ca.pem"))));
    assert_eq!(a.from.as_deref(), Some("~x@y"));
    let a = account("account a\nlogfile -\n", "a");
    assert_eq!(a.logfile, Some(LogFile::Stdout));
}

// ---- errors name file and line ---------------------------------------------

#[test]
fn unknown_command_names_file_and_line_and_suggests() {
    let e = parse_err("account a\n\nhots smtp.example.org\n");
    assert_eq!(
        e.to_string(),
        "rc:3: unknown command 'hots' (did you mean 'host'?)"
    );
    assert_eq!(e.exit_code(), 78);
    assert_eq!(e.source_location(), Some(&Source::file("rc", 3)));
    let e = parse_err("starttls on\n");
    assert!(
        e.to_string()
            .starts_with("rc:1: unknown command 'starttls'"),
        "{e}"
    );
}

#[test]
fn invalid_arguments_like_msmtp() {
    for (text, line, needle) in [
        (
            "account a\ntimeout 0\n",
            2,
            "invalid argument '0' for command timeout",
        ),
        (
            "account a\nport 70000\n",
            2,
            "invalid argument '70000' for command port",
        ),
        ("account a\nport\n", 2, "command port needs an argument"),
        ("account a\nhost\n", 2, "command host needs an argument"),
        (
            "account a\nauth PLAIN\n",
            2,
            "invalid argument 'PLAIN' for command auth",
        ),
        (
            "account a\ntls yes\n",
            2,
            "invalid argument 'yes' for command tls",
        ),
        (
            "account a\ndsn_notify failure,,\n",
            2,
            "for command dsn_notify",
        ),
        (
            "account a\ndsn_return\n",
            2,
            "command dsn_return needs an argument",
        ),
        ("account a\nsyslog LOG_FOO\n", 2, "for command syslog"),
        (
            "account a\nset_date_header on\n",
            2,
            "for command set_date_header",
        ),
        (
            "account a\ntls_fingerprint 12:34\n",
            2,
            "for command tls_fingerprint",
        ),
        (
            "defaults x\n",
            1,
            "command defaults does not take an argument",
        ),
        (
            "account a\ntls_nocertcheck off\n",
            2,
            "command tls_nocertcheck does not take an argument",
        ),
        ("account\n", 1, "missing account name"),
        ("account a : \n", 1, "missing account name"),
        ("account a : b\n", 1, "account b not (yet) defined"),
        ("account a\naccount a\n", 2, "account a was already defined"),
        ("account a,b\n", 1, "must not contain colons or commas"),
        ("account a\neval\n", 2, "command eval needs an argument"),
        ("account a\nqueue sometimes\n", 2, "for command queue"),
        (
            "account a\nqueue_expire 5y\n",
            2,
            "for command queue_expire",
        ),
    ] {
        let e = parse_err(text);
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("rc:{line}: ")), "{text:?}: {msg}");
        assert!(msg.contains(needle), "{text:?}: {msg}");
        assert_eq!(e.exit_code(), 78);
    }
}

// ---- defaults, accounts, inheritance ---------------------------------------

#[test]
fn settings_before_any_account_form_account_default() {
    let c = parse("host h\nfrom f@x\n");
    assert_eq!(c.accounts.len(), 1);
    let a = c.account(None).expect("default");
    assert_eq!(a.host.as_deref(), Some("h"));
}

#[test]
fn inheritance_takes_explicit_settings_of_parents_over_current_defaults() {
    // Checked with msmtp 1.8.23: host = hb, port = 2, user = uc, tls = on.
    let text = "defaults\nport 1\naccount b\nhost hb\ndefaults\nport 2\ntls on\n\
                account c\nuser uc\naccount a : b, c\nfrom f\n";
    let a = account(text, "a");
    assert_eq!(a.host.as_deref(), Some("hb"));
    assert_eq!(a.port, Some(2));
    assert_eq!(a.user.as_deref(), Some("uc"));
    assert!(a.tls);
    assert_eq!(a.source_of("host"), Some(&Source::file("rc", 4)));
    assert_eq!(a.source_of("from"), Some(&Source::file("rc", 11)));
    let b = account(text, "b");
    assert_eq!(b.port, Some(1));
    assert!(!b.tls);
}

#[test]
fn later_parent_wins_and_own_lines_win_over_parents() {
    let text = "account b\nhost hb\nport 25\naccount c\nhost hc\naccount a : b , c\nport 2525\n";
    let a = account(text, "a");
    assert_eq!(a.host.as_deref(), Some("hc"));
    assert_eq!(a.port, Some(2525));
    assert!(a.is_explicit("host"));
}

#[test]
fn inheritance_is_transitive() {
    let text = "account base\nhost h\nuser u\naccount mid : base\nport 587\n\
                account leaf : mid\nfrom x@y\n";
    let a = account(text, "leaf");
    assert_eq!(
        (a.host.as_deref(), a.user.as_deref(), a.port),
        (Some("h"), Some("u"), Some(587))
    );
}

#[test]
fn default_alias_copies_the_named_account() {
    let c = parse("account work\nhost w\naccount home\nhost h\naccount default : home\n");
    assert_eq!(c.account(None).expect("default").host.as_deref(), Some("h"));
}

// ---- values ------------------------------------------------------------------

#[test]
fn default_port_follows_msmtp() {
    assert_eq!(resolved("account a\nhost h\n", "a").port, Some(25));
    assert_eq!(resolved("account a\nhost h\ntls on\n", "a").port, Some(25));
    let a = resolved("account a\nhost h\ntls on\ntls_starttls off\n", "a");
    assert_eq!(a.port, Some(465));
    let a = resolved("account a\nhost h\ntls\ntls_nostarttls\n", "a");
    assert_eq!(a.port, Some(465));
    assert_eq!(
        resolved("account a\nhost h\nport 0x24b\n", "a").port,
        Some(587)
    );
}

#[test]
fn timeout_default_is_finite_in_rsmtp() {
    let a = account("account a\nhost h\n", "a");
    assert_eq!(a.timeout, Timeout::Seconds(DEFAULT_TIMEOUT_SECS));
    let a = account("account a\ntimeout off\n", "a");
    assert_eq!(a.timeout, Timeout::Off);
    let a = account("account a\nconnect_timeout 10\n", "a");
    assert_eq!(
        a.timeout.duration(),
        Some(std::time::Duration::from_secs(10))
    );
}

#[test]
fn auth_values() {
    assert_eq!(account("account a\nauth off\n", "a").auth, Auth::Off);
    assert_eq!(account("account a\nauth on\n", "a").auth, Auth::Auto);
    assert_eq!(
        account("account a\nauth login\n", "a").auth,
        Auth::Method(AuthMethod::Login)
    );
}

#[test]
fn unsupported_features_fail_at_resolve_with_file_and_line() {
    for (text, line, what) in [
        ("account a\nhost h\n\nauth ntlm\n", 4, "auth ntlm"),
        ("account a\nhost h\nauth gssapi\n", 3, "auth gssapi"),
        (
            "account a\nhost h\ntls_priorities NORMAL:+VERS-TLS1.0\n",
            3,
            "tls_priorities NORMAL:+VERS-TLS1.0: the part '+VERS-TLS1.0'",
        ),
    ] {
        // Parsing succeeds: an unused account must not break the others.
        let mut a = account(text, "a");
        let e = a.resolve(&test_resolve()).expect_err(text);
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("rc:{line}: {what}")), "{msg}");
        assert!(msg.contains("not supported by rsmtp"), "{msg}");
        assert_eq!(e.exit_code(), 78);
    }
}

#[test]
fn legacy_spellings() {
    let a = account(
        "account a\nhost h\ntls_nocertcheck\ntls_nostarttls\nkeepbcc\n\
         add_missing_from_header off\nadd_missing_date_header off\n\
         undisclosed_recipients\ntls_force_sslv3\nconnect_timeout 5\n",
        "a",
    );
    assert!(!a.tls_certcheck && !a.tls_starttls && !a.remove_bcc_headers);
    assert_eq!(a.set_from_header, HeaderPolicy::Off);
    assert_eq!(a.set_date_header, HeaderPolicy::Off);
    assert_eq!(a.set_to_header, SetToHeader::UndisclosedRecipients);
    assert_eq!(a.timeout, Timeout::Seconds(5));
    assert_eq!(a.source_of("tls_nocertcheck"), Some(&Source::file("rc", 3)));
}

#[test]
fn dsn_syslog_fingerprint_and_headers() {
    let fp = ["ab"; 32].join(":");
    let a = account(
        &format!(
            "account a\ndsn_notify failure,delay\ndsn_return headers\nsyslog LOG_MAIL\n\
             tls_fingerprint {fp}\nset_from_header on\nset_msgid_header off\n\
             set_to_header undisclosed_recipients\nfrom_full_name Backup Robot\n"
        ),
        "a",
    );
    assert_eq!(a.dsn_notify.as_deref(), Some("FAILURE,DELAY"));
    assert_eq!(a.dsn_return, Some(DsnReturn::Headers));
    assert_eq!(a.syslog, Some(SyslogFacility::Mail));
    assert_eq!(a.tls_fingerprint, Some(Fingerprint::Sha256([0xab; 32])));
    assert_eq!(a.set_from_header, HeaderPolicy::On);
    assert_eq!(a.set_msgid_header, HeaderPolicy::Off);
    assert_eq!(a.set_to_header, SetToHeader::UndisclosedRecipients);
    assert_eq!(a.from_full_name.as_deref(), Some("Backup Robot"));
}

#[test]
fn empty_arguments_unset() {
    let a = account(
        "defaults\nuser u\npassword p\ntls_trust_file /ca\nlogfile /l\naccount a\nuser\npassword\n\
         tls_trust_file\nlogfile\n",
        "a",
    );
    assert_eq!(a.user, None);
    assert_eq!(a.password, None);
    assert_eq!(a.tls_trust_file, None);
    assert_eq!(a.logfile, None);
}

#[test]
fn trust_file_defaults_to_system_unless_emptied_in_the_account() {
    // msmtp 1.8.23: an empty tls_trust_file in defaults still gives "system";
    // in the account itself it leaves no trust and tls is refused.
    let a = resolved("defaults\ntls_trust_file\naccount a\nhost h\ntls on\n", "a");
    assert_eq!(a.tls_trust_file, Some(TrustFile::System));
    let mut a = account("account a\nhost h\ntls on\ntls_trust_file\n", "a");
    let e = a.resolve(&test_resolve()).expect_err("no trust");
    assert_eq!(
        e.to_string(),
        "account a from rc: tls requires either tls_trust_file (highly recommended) \
         or tls_fingerprint or a disabled tls_certcheck"
    );
    let a = resolved("account a\nhost h\ntls on\ntls_trust_file system\n", "a");
    assert_eq!(a.tls_trust_file, Some(TrustFile::System));
}

#[test]
fn check_account_errors() {
    for (text, msg) in [
        ("account a\nport 99\n", "account a from rc: host not set"),
        (
            "account a\nhost h\ntls_key_file /k\n",
            "account a from rc: tls_key_file requires tls_cert_file",
        ),
        (
            "account a\nhost h\ntls_cert_file /c\n",
            "account a from rc: tls_cert_file requires tls_key_file",
        ),
    ] {
        let mut a = account(text, "a");
        let e = a.resolve(&test_resolve()).expect_err(text);
        assert_eq!(e.to_string(), msg);
    }
    let mut a = account("account a\nhost h\n", "a");
    let opts = ResolveOptions {
        require_from: true,
        ..test_resolve()
    };
    let e = a.resolve(&opts).expect_err("no from");
    assert!(
        e.to_string().contains("envelope-from address is missing"),
        "{e}"
    );
    // A from pattern is not an address: rsmtp says so instead of sending it.
    let mut a = account("account a\nhost h\nfrom *@x.org\n", "a");
    let e = a.resolve(&opts).expect_err("pattern");
    assert!(e.to_string().contains("is a pattern"), "{e}");
    let mut a = account("account a\nhost h\nfrom *@x.org\n", "a");
    a.apply_override("from", "bob@x.org").expect("override");
    a.resolve(&opts).expect("-f replaces the pattern");
    assert_eq!(a.from.as_deref(), Some("bob@x.org"));
}

#[test]
fn percent_expansion_in_from_and_domain() {
    let a = resolved("account a\nhost h\nfrom %U@%H\ndomain %C\n", "a");
    assert_eq!(a.from.as_deref(), Some("alice@box"));
    assert_eq!(a.domain, "box.example.org");
    let a = resolved("account a\nhost h\ndomain %H.%U\n", "a");
    assert_eq!(a.domain, "box.%U");
    let mut a = account("account a\nhost h\nfrom root@%M\n", "a");
    let e = a.resolve(&test_resolve()).expect_err("no mailname");
    assert!(
        e.to_string().starts_with("rc:3: cannot substitute %M"),
        "{e}"
    );
}

#[test]
fn auto_from_builds_user_at_maildomain() {
    let a = resolved(
        "account a\nhost h\nauto_from on\nmaildomain example.net\n",
        "a",
    );
    assert_eq!(a.from.as_deref(), Some("alice@example.net"));
    let a = resolved("account a\nhost h\nauto_from\n", "a");
    assert_eq!(a.from.as_deref(), Some("alice"));
}

#[test]
fn rsmtp_queue_commands() {
    let a = account(
        "defaults\nqueue fallback\naccount a\nqueue_dir ~/q\nqueue_expire 12h\nqueue_notify ops@x\n",
        "a",
    );
    assert_eq!(a.queue, QueueMode::Fallback);
    assert_eq!(a.queue_dir(), home_dir().join("q"));
    assert_eq!(a.queue_expire, std::time::Duration::from_secs(12 * 3600));
    assert_eq!(a.queue_notify.as_deref(), Some("ops@x"));
    let a = account("account a\n", "a");
    assert_eq!(a.queue, QueueMode::Off);
    assert_eq!(a.queue_expire, DEFAULT_QUEUE_EXPIRE);
    assert_eq!(a.queue_notify, None);
}

// ---- eval -----------------------------------------------------------------------

#[test]
fn eval_line_is_parsed_as_config() {
    let a = account(
        "account a\neval echo host evaluated.example.org\neval printf 'port 2525\\nport 1\\n'\n\
         eval echo '# only a comment'\neval echo password from-eval\n",
        "a",
    );
    assert_eq!(a.host.as_deref(), Some("evaluated.example.org"));
    assert_eq!(a.port, Some(2525));
    assert_eq!(a.password.as_ref().map(Secret::expose), Some("from-eval"));
    assert_eq!(a.source_of("host"), Some(&Source::file("rc", 2)));
}

#[test]
fn eval_can_start_an_account() {
    let c = parse("eval echo account ev\nhost h\n");
    assert_eq!(
        c.account(Some("ev")).expect("ev").host.as_deref(),
        Some("h")
    );
}

#[test]
fn failing_eval_is_an_io_error_naming_the_line() {
    let e = parse_err("account a\neval true\n");
    assert!(
        e.to_string().starts_with("rc:2: cannot evaluate 'true'"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 74);
    let e = parse_err("account a\neval echo eval x\n");
    assert!(
        e.to_string().starts_with("rc:2: unknown command 'eval'"),
        "{e}"
    );
}

// ---- overrides and --host ---------------------------------------------------

#[test]
fn overrides_use_the_same_setter() {
    let mut a = account(GMAIL_BACKUP, "default");
    a.apply_override("tls-starttls", "off").expect("override");
    a.apply_override("port", "465").expect("override");
    a.apply_override("auth", "plain").expect("override");
    a.apply_override("timeout", "off").expect("override");
    assert!(!a.tls_starttls);
    assert_eq!(a.port, Some(465));
    assert_eq!(a.auth, Auth::Method(AuthMethod::Plain));
    assert_eq!(a.timeout, Timeout::Off);
    assert_eq!(a.source_of("port"), Some(&Source::command_line()));
    let e = a.apply_override("port", "x").expect_err("bad");
    assert_eq!(
        e.to_string(),
        "command line: invalid argument 'x' for command port (expected a port number 1-65535)"
    );
    // msmtp: "invalid argument x for --port", exit 64 (EX_USAGE), not 78.
    assert_eq!(e.exit_code(), 64);
    let e = a.apply_override("hots", "x").expect_err("bad");
    assert!(e.to_string().contains("unknown command 'hots'"), "{e}");
    a.apply_override("dsn_return", "hdrs")
        .expect("sendmail spelling");
    assert_eq!(a.dsn_return, Some(DsnReturn::Headers));
}

#[test]
fn from_override_respects_allow_from_override() {
    let mut a = account(
        "account a\nhost h\nfrom fixed@x\nallow_from_override off\n",
        "a",
    );
    a.apply_override("from", "other@y").expect("ignored");
    assert_eq!(a.from.as_deref(), Some("fixed@x"));
    let mut a = account(
        "account a\nhost h\nfrom relay+%F\nallow_from_override off\n",
        "a",
    );
    a.apply_override("from", "other@y").expect("ignored");
    a.resolve(&test_resolve()).expect("resolve");
    assert_eq!(a.from.as_deref(), Some("relay+other@y"));
    let mut a = account("account a\nhost h\nfrom fixed@x\n", "a");
    a.apply_override("from", "<>").expect("override");
    assert_eq!(a.from.as_deref(), Some(""));
}

#[test]
fn command_line_account_uses_builtin_defaults_only() {
    let mut a =
        Account::from_command_line([("host", "cli.example"), ("tls", "on")]).expect("cli account");
    a.resolve(&test_resolve()).expect("resolve");
    assert_eq!(a.host.as_deref(), Some("cli.example"));
    assert_eq!(a.port, Some(25));
    assert_eq!(a.tls_trust_file, Some(TrustFile::System));
    assert!(!a.describe_for_pretend().starts_with("using account"));
}

// ---- loading files ------------------------------------------------------------

fn write(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).expect("write");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn user_accounts_replace_system_ones_and_order_is_msmtps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sys = dir.path().join("system");
    let user = dir.path().join("user");
    write(
        &sys,
        "account shared\nhost sys\naccount sysonly\nhost s\nfrom a@x\n",
        0o644,
    );
    write(&user, "account shared\nhost usr\nfrom a@x\n", 0o600);
    let c = Config::load(&LoadOptions {
        system_file: Some(sys.clone()),
        user_file: Some(user.clone()),
        check_uid: None,
    })
    .expect("load");
    assert_eq!(c.files_read, vec![sys.clone(), user.clone()]);
    let names: Vec<&str> = c.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["sysonly", "shared"]);
    assert_eq!(
        c.account(Some("shared")).expect("shared").host.as_deref(),
        Some("usr")
    );
    assert_eq!(
        c.account_for_from("a@x").map(|a| a.name.as_str()),
        Some("sysonly")
    );
    let e = c.account(Some("zz")).expect_err("missing");
    assert_eq!(
        e.to_string(),
        format!(
            "account zz not found in {} and {} (accounts: sysonly, shared)",
            sys.display(),
            user.display()
        )
    );
    let e = c.account(Some("shred")).expect_err("typo");
    assert!(
        e.to_string()
            .ends_with("(did you mean 'shared'? accounts: sysonly, shared)"),
        "{e}"
    );
    let long = "x".repeat(1 << 20);
    let e = c.account(Some(&long)).expect_err("huge");
    assert!(e.to_string().len() < 300, "a 1 MB name is not echoed whole");
}

#[test]
fn missing_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = Config::load(&LoadOptions {
        system_file: Some(dir.path().join("nosys")),
        user_file: Some(dir.path().join("nouser")),
        check_uid: None,
    })
    .expect_err("-C file must exist");
    assert_eq!(e.exit_code(), 74);
    assert!(e.to_string().contains("nouser"), "{e}");

    let c = Config {
        accounts: Vec::new(),
        files_read: Vec::new(),
        files_ignored: Vec::new(),
        files_unreadable: Vec::new(),
    };
    let e = c.account(None).expect_err("none");
    assert_eq!(
        e.to_string(),
        "account default not found: no configuration file available"
    );
    assert_eq!(e.exit_code(), 78);
}

#[test]
fn system_file_errors_are_reported_and_not_permission_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sys = dir.path().join("system");
    let user = dir.path().join("user");
    write(&sys, "account s\nhost h\npassword p\n", 0o644);
    write(&user, "account u\nhost h\n", 0o644);
    let opts = LoadOptions {
        system_file: Some(sys.clone()),
        user_file: Some(user),
        check_uid: Some(4242),
    };
    Config::load(&opts).expect("world-readable system file with password is fine");
    write(&sys, "account s\nhots h\n", 0o644);
    let e = Config::load(&opts).expect_err("syntax");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:2: unknown command 'hots' (did you mean 'host'?)",
            sys.display()
        )
    );
}

#[test]
fn permission_rule_for_user_file_with_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("msmtprc");
    let mut uid = current_uid();
    if uid == 0 {
        uid = 4242;
    }
    let opts = LoadOptions {
        system_file: Some(dir.path().join("none")),
        user_file: Some(user.clone()),
        check_uid: Some(uid),
    };
    let chown = |p: &Path| {
        if current_uid() == 0 {
            std::os::unix::fs::chown(p, Some(uid), None).expect("chown");
        }
    };
    write(&user, GMAIL_BACKUP, 0o644);
    chown(&user);
    let e = Config::load(&opts).expect_err("insecure");
    assert_eq!(e.exit_code(), 78);
    assert!(
        e.to_string()
            .contains(&format!("chmod 600 {}", user.display())),
        "{e}"
    );

    write(&user, GMAIL_BACKUP, 0o600);
    chown(&user);
    Config::load(&opts).expect("private file accepted");

    // Without a literal password (passwordeval, or password via eval) the
    // rule does not apply.
    write(
        &user,
        "account a\nhost h\npasswordeval echo x\neval echo password y\n",
        0o644,
    );
    chown(&user);
    Config::load(&opts).expect("no literal password");

    // Another user's file is refused.
    write(&user, GMAIL_BACKUP, 0o600);
    let other = LoadOptions {
        check_uid: Some(uid + 1),
        ..opts.clone()
    };
    let e = Config::load(&other).expect_err("not owned");
    assert!(e.to_string().contains("must be owned by you"), "{e}");
}

#[test]
fn sysconfig_env_names_the_system_file() {
    // Only the pure resolution is tested; other tests may run concurrently.
    let opts = LoadOptions {
        system_file: Some(PathBuf::from("/x/sys")),
        ..LoadOptions::default()
    };
    assert_eq!(opts.system_file_path(), Some(PathBuf::from("/x/sys")));
    let opts = LoadOptions::with_user_file("/x/user");
    assert_eq!(opts.user_file_path(), PathBuf::from("/x/user"));
}

// ---- -f account matching ----------------------------------------------------------

#[test]
fn account_for_from_matching() {
    let c = parse(
        "account a\nhost ha\nfrom *@x.org\naccount b\nhost hb\nfrom Joe@Y.org\n\
         account c\nhost hc\nfrom list+tag@z.org\naccount default\nhost hd\n",
    );
    let pick = |f: &str| c.account_for_from(f).map(|a| a.name.clone());
    assert_eq!(pick("bob@x.org").as_deref(), Some("a"));
    assert_eq!(pick("joe@y.org").as_deref(), Some("b"));
    assert_eq!(pick("joe+news@y.org").as_deref(), Some("b"));
    assert_eq!(pick("list+tag@z.org").as_deref(), Some("c"));
    assert_eq!(pick("list+other@z.org"), None);
    assert_eq!(pick("bob@X.ORG"), None);
    assert_eq!(pick("nobody@nowhere"), None);

    let (a, how) = c.select(None, Some("bob@x.org")).expect("select");
    assert_eq!((a.name.as_str(), how), ("a", Selection::ByEnvelopeFrom));
    let (a, how) = c.select(None, Some("nobody@nowhere")).expect("select");
    assert_eq!((a.name.as_str(), how), ("default", Selection::Default));
    let (a, how) = c.select(Some("b"), Some("bob@x.org")).expect("select");
    assert_eq!((a.name.as_str(), how), ("b", Selection::Named));
}

// ---- passwords ------------------------------------------------------------------

#[test]
fn password_order_literal_then_eval_then_netrc() {
    let dir = tempfile::tempdir().expect("tempdir");
    let netrc = dir.path().join("netrc");
    fs::write(&netrc, "machine smtp.x login u password from-netrc\n").expect("write");
    let files = vec![dir.path().join("missing"), netrc];

    let a = account(
        "account a\nhost smtp.x\nuser u\npassword lit\npasswordeval echo ev\n",
        "a",
    );
    let p = a.password_with_netrc(&files).expect("ok");
    assert_eq!(p.as_ref().map(Secret::expose), Some("lit"));

    let a = account(
        "account a\nhost smtp.x\nuser u\npasswordeval echo ev\n",
        "a",
    );
    let p = a.password_with_netrc(&files).expect("ok");
    assert_eq!(p.as_ref().map(Secret::expose), Some("ev"));

    let a = account("account a\nhost smtp.x\nuser u\n", "a");
    let p = a.password_with_netrc(&files).expect("ok");
    assert_eq!(p.as_ref().map(Secret::expose), Some("from-netrc"));

    let a = account("account a\nhost smtp.x\nuser other\n", "a");
    assert_eq!(a.password_with_netrc(&files).expect("ok"), None);

    let a = account("account a\nhost smtp.x\nuser u\npasswordeval exit 1\n", "a");
    let e = a.password_with_netrc(&files).expect_err("fails");
    assert!(
        e.to_string()
            .starts_with("rc:4: passwordeval 'exit 1' failed"),
        "{e}"
    );
}

#[test]
fn secrets_do_not_leak_through_debug() {
    let a = account(GMAIL_BACKUP, "default");
    let dbg = format!("{a:?}");
    assert!(!dbg.contains("abcdefghijklmnop"), "{dbg}");
    assert!(dbg.contains("***"));
    assert!(a.describe_for_pretend().contains("password = *\n"));
    assert!(!a.describe_for_pretend().contains("abcdefghijklmnop"));
}

// ---- --pretend ------------------------------------------------------------------------

#[test]
fn pretend_output_matches_msmtp_lines() {
    let a = resolved(GMAIL_BACKUP, "default");
    let out = a.describe_for_pretend();
    let expected_prefix = "using account default from rc\n\
        host = smtp.gmail.com\n\
        port = 587\n\
        source ip = (not set)\n\
        proxy host = (not set)\n\
        proxy port = 0\n\
        socket = (not set)\n\
        timeout = 60 seconds\n\
        protocol = smtp\n\
        domain = localhost\n\
        auth = choose\n\
        user = youremail@mail.com\n\
        password = *\n\
        passwordeval = (not set)\n\
        ntlmdomain = (not set)\n\
        tls = on\n\
        tls_starttls = on\n\
        tls_trust_file = /etc/ssl/certs/ca-certificates.crt\n";
    assert!(out.starts_with(expected_prefix), "{out}");
    assert!(out.contains("\nfrom = youremail@mail.com\n"), "{out}");
    assert!(out.contains("\nlogfile = /var/log/msmtp.log\n"), "{out}");
    assert!(out.contains("\nqueue = off\n"), "{out}");
}

#[test]
fn warnings_for_tls_port_mismatch() {
    let a = resolved("account a\nhost h\nport 465\ntls on\n", "a");
    let w = a.warnings();
    assert!(w.iter().any(|w| w.starts_with("rc:3: port 465")), "{w:?}");
    let a = resolved(
        "account a\nhost h\nport 465\ntls on\ntls_starttls off\n",
        "a",
    );
    assert!(a.warnings().is_empty());
}

#[test]
fn default_queue_dir_follows_root_and_xdg() {
    let home = Path::new("/home/alice");
    assert_eq!(
        default_queue_dir(true, None, home),
        PathBuf::from("/var/spool/rsmtp")
    );
    assert_eq!(
        default_queue_dir(false, Some(PathBuf::from("/xdg/state")), home),
        PathBuf::from("/xdg/state/rsmtp/queue")
    );
    assert_eq!(
        default_queue_dir(false, Some(PathBuf::from("relative")), home),
        PathBuf::from("/home/alice/.local/state/rsmtp/queue")
    );
}

// ---- OAuth 2.0 (rsmtp's oauth2_* commands) ------------------------------------------------

const OFFICE365: &str = "account office365\nhost smtp.office365.com\nport 587\ntls on\n\
    auth xoauth2\nuser alerts@contoso.example\nfrom alerts@contoso.example\n\
    oauth2_provider microsoft\noauth2_tenant contoso.onmicrosoft.com\n\
    oauth2_client_id 0000-1111\n";

#[test]
fn oauth2_provider_fills_endpoints_scope_and_flow() {
    let a = resolved(OFFICE365, "office365");
    assert_eq!(a.oauth2_flow, Some(OAuthFlow::Device));
    assert_eq!(
        a.oauth2_token_url.as_deref(),
        Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
    );
    assert_eq!(
        a.oauth2_device_url.as_deref(),
        Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode")
    );
    assert_eq!(
        a.oauth2_scope.as_deref(),
        Some("https://outlook.office.com/SMTP.Send offline_access")
    );

    let app_only = format!(
        "{OFFICE365}oauth2_flow client_credentials\noauth2_client_secret_eval cat /run/secrets/o365\n"
    );
    let a = resolved(&app_only, "office365");
    assert_eq!(
        a.oauth2_scope.as_deref(),
        Some("https://outlook.office365.com/.default")
    );
    // An explicit setting wins over the provider's.
    let own = format!("{OFFICE365}oauth2_scope custom\noauth2_token_url https://t.example/token\n");
    let a = resolved(&own, "office365");
    assert_eq!(a.oauth2_scope.as_deref(), Some("custom"));
    assert_eq!(
        a.oauth2_token_url.as_deref(),
        Some("https://t.example/token")
    );

    let google = "account gmail\nhost smtp.gmail.com\nauth xoauth2\nuser me@gmail.com\n\
                  oauth2_provider google\noauth2_client_id id\n";
    let a = resolved(google, "gmail");
    assert_eq!(a.oauth2_flow, Some(OAuthFlow::AuthCode));
    assert_eq!(a.oauth2_scope.as_deref(), Some("https://mail.google.com/"));
}

#[test]
fn oauth2_settings_are_checked_when_the_account_is_resolved() {
    let resolve_err = |text: &str| {
        let mut a = account(text, "a");
        a.resolve(&test_resolve())
            .expect_err("incomplete")
            .to_string()
    };
    let base = "account a\nhost h\nauth xoauth2\nuser u\noauth2_flow device\n";
    let e = resolve_err(base);
    assert!(e.contains("oauth2_token_url"), "{e}");
    let e = resolve_err(&format!(
        "{base}oauth2_token_url https://t/x\noauth2_client_id c\n"
    ));
    assert!(e.contains("oauth2_device_url"), "{e}");
    let e = resolve_err(
        "account a\nhost h\nauth plain\nuser u\noauth2_provider microsoft\noauth2_client_id c\n",
    );
    assert!(e.contains("auth xoauth2"), "{e}");
    let e = parse_err("account a\noauth2_flow implicit\n");
    assert!(
        e.to_string()
            .contains("client_credentials, device, authcode or off"),
        "{e}"
    );
    let e = parse_err("account a\noauth2_provider yahoo\n");
    assert!(e.to_string().contains("microsoft or google"), "{e}");
}

#[test]
fn oauth2_commands_are_inherited_shown_redacted_and_a_secret_needs_a_private_file() {
    let text = format!(
        "{OFFICE365}oauth2_flow client_credentials\noauth2_client_secret s3cr3t-value\n\
         account child : office365\nfrom other@contoso.example\n"
    );
    let a = resolved(&text, "child");
    assert_eq!(a.oauth2_flow, Some(OAuthFlow::ClientCredentials));
    assert_eq!(a.oauth2_client_id.as_deref(), Some("0000-1111"));
    assert_eq!(
        a.oauth2_client_secret()
            .expect("secret")
            .map(|s| s.expose().to_string()),
        Some("s3cr3t-value".to_string())
    );
    let shown = a.describe_for_pretend();
    assert!(
        shown.contains("oauth2_flow = client_credentials"),
        "{shown}"
    );
    assert!(shown.contains("oauth2_client_secret = *"), "{shown}");
    assert!(!shown.contains("s3cr3t-value"), "{shown}");

    // A literal client secret makes the file subject to the password permission rule.
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("msmtprc");
    let mut uid = current_uid();
    if uid == 0 {
        uid = 4242;
    }
    let opts = LoadOptions {
        system_file: Some(dir.path().join("none")),
        user_file: Some(user.clone()),
        check_uid: Some(uid),
    };
    write(&user, &text, 0o644);
    if current_uid() == 0 {
        std::os::unix::fs::chown(&user, Some(uid), None).expect("chown");
    }
    let e = Config::load(&opts).expect_err("secret in a readable file");
    assert!(e.to_string().contains("chmod 600"), "{e}");
}

/// A value each msmtprc command takes, unlike its default. A command added to
/// A command of `commands()` without a row here fails `every_command_is_parsed_copied_shown_and_overridable`.
const SAMPLES: &[(&str, &str)] = &[
    ("host", "mail.example.org"),
    ("port", "2525"),
    ("source_ip", "192.0.2.7"),
    ("proxy_host", "proxy.example.org"),
    ("proxy_port", "1081"),
    ("socket", "/run/smtp.sock"),
    ("timeout", "17"),
    ("protocol", "lmtp"),
    ("domain", "helo.example.org"),
    ("auth", "login"),
    ("user", "alice"),
    ("password", "s3cret"),
    ("passwordeval", "echo s3cret"),
    ("ntlmdomain", "WORKGROUP"),
    ("tls", "on"),
    ("tls_starttls", "off"),
    ("tls_trust_file", "/etc/ssl/example-ca.pem"),
    ("tls_crl_file", "/etc/ssl/example.crl"),
    (
        "tls_fingerprint",
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
    ),
    ("tls_key_file", "/etc/ssl/client.key"),
    ("tls_cert_file", "/etc/ssl/client.pem"),
    ("tls_certcheck", "off"),
    ("tls_min_dh_prime_bits", "2048"),
    ("tls_priorities", "NORMAL:-VERS-TLS1.2"),
    ("tls_host_override", "other.example.org"),
    ("from", "alice@example.org"),
    ("from_full_name", "Alice Example"),
    ("allow_from_override", "off"),
    ("auto_from", "on"),
    ("maildomain", "example.org"),
    ("dsn_notify", "failure"),
    ("dsn_return", "headers"),
    ("set_from_header", "on"),
    ("set_date_header", "off"),
    ("set_msgid_header", "off"),
    ("set_to_header", "on"),
    ("remove_bcc_headers", "off"),
    ("logfile", "/var/log/example.log"),
    ("logfile_time_format", "%Y"),
    ("syslog", "LOG_LOCAL3"),
    ("aliases", "/etc/example-aliases"),
    ("queue", "always"),
    ("queue_dir", "/var/spool/example"),
    ("queue_expire", "2d"),
    ("queue_retry_for", "3h"),
    ("queue_notify", "ops@example.org"),
    ("oauth2_flow", "device"),
    ("oauth2_provider", "microsoft"),
    ("oauth2_tenant", "contoso.example"),
    ("oauth2_token_url", "https://login.example.org/token"),
    ("oauth2_device_url", "https://login.example.org/device"),
    ("oauth2_auth_url", "https://login.example.org/authorize"),
    ("oauth2_redirect_port", "8765"),
    ("oauth2_client_id", "client-1234"),
    ("oauth2_client_secret", "shh"),
    ("oauth2_client_secret_eval", "echo shh"),
    ("oauth2_scope", "https://example.org/.default"),
];

/// One table of commands, and every place that must know each one: the parser reads
/// it, an account inherits it (`account b : a` — the copy that once had a silent
/// `_ => {}`), `-P` shows it, and the command line can override it (or refuses it in
/// words).
#[test]
fn every_command_is_parsed_copied_shown_and_overridable() {
    let mut problems = Vec::new();
    for command in commands() {
        let Some(value) = SAMPLES.iter().find(|(c, _)| *c == command).map(|(_, v)| *v) else {
            problems.push(format!("no sample value for {command}: add one to SAMPLES"));
            continue;
        };
        // -P shows the OAuth lines of an OAuth account (one with a flow) only.
        let context = if command.starts_with("oauth2_") && command != "oauth2_flow" {
            "oauth2_flow device\n"
        } else {
            ""
        };
        let text = format!("account base\n{context}{command} {value}\n\naccount child : base\n");
        let config = match Config::parse(&text, "rc") {
            Ok(config) => config,
            Err(e) => {
                problems.push(format!("{command} {value} is not parsed: {e}"));
                continue;
            }
        };
        let base = config.account(Some("base")).expect("base");
        let child = config.account(Some("child")).expect("child");
        let plain = Config::parse(&format!("account base\n{context}"), "rc")
            .expect("empty account")
            .account(Some("base"))
            .expect("base");
        let shown = |a: &Account| a.describe_for_pretend().replace("child", "base");
        if shown(&base) == shown(&plain) {
            problems.push(format!("-P does not show {command}"));
        }
        if shown(&child) != shown(&base) {
            problems.push(format!("account child : base does not inherit {command}"));
        }
        let mut overridden = plain.clone();
        match overridden.apply_override(command, value) {
            Err(e) if e.to_string().is_empty() => {
                problems.push(format!("{command}: an override error without words"))
            }
            Err(_) => {}
            Ok(()) if shown(&overridden) != shown(&base) => {
                problems.push(format!("--{command} does not set what the file line sets"))
            }
            Ok(()) => {}
        }
    }
    if SAMPLES.len() != commands().count() {
        problems.push("SAMPLES names a command that is gone".into());
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
