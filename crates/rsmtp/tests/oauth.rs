//! OAuth 2.0 built in (issue 22): the built `rsmtp` against the in-repo OAuth 2.0
//! authorization server (rsmtp-testserver's `OAuthServer`: client credentials, device
//! code, authcode+PKCE, refresh with rotation) and the in-repo SMTP server, which
//! accepts an XOAUTH2/OAUTHBEARER token only if that authorization server issued it.
//! msmtp itself, with `passwordeval "rsmtp --oauth-token …"`, is the differential peer.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rsmtp_testserver::oauth::{browser_redirect, printed_line};
use rsmtp_testserver::{
    closed_port, AuthConfig, Fault, Mechanism, OAuthServer, ServerOptions, Step, TestServer,
    OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET,
};

use crate::support::*;

const USER: &str = "alerts@contoso.example";
const MESSAGE: &str =
    "From: alerts@contoso.example\nTo: admin@example.net\nSubject: oauth\n\nbackup ok\n";
const WAIT: Duration = Duration::from_secs(20);
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SCOPE: &str = "https://outlook.office.com/SMTP.Send offline_access";

/// An SMTP server that takes XOAUTH2 and OAUTHBEARER for [`USER`] with the tokens
/// `oauth` issued, and nothing else.
fn smtp_for(oauth: &OAuthServer) -> TestServer {
    TestServer::start(ServerOptions::new().auth_config(AuthConfig {
        mechanisms: vec![Mechanism::XOAuth2, Mechanism::OAuthBearer],
        token_check: Some(oauth.token_check()),
        ..AuthConfig::new(USER, "no-password-works-here")
    }))
}

/// An msmtprc with account `office365` for `smtp` and `oauth`, with `flow` and `extra`.
fn config(dir: &Dir, smtp_port: u16, token_url: &str, flow_lines: &str, extra: &str) -> PathBuf {
    dir.write(
        "msmtprc",
        format!(
            "account office365\nhost 127.0.0.1\nport {smtp_port}\ntls off\nauth xoauth2\n\
             user {USER}\nfrom {USER}\nlogfile {log}\n\
             oauth2_token_url {token_url}\noauth2_client_id {OAUTH_CLIENT_ID}\n{flow_lines}\n{extra}\n",
            log = dir.join("rsmtp.log").display()
        ),
    )
}

/// Client credentials, the secret read by `oauth2_client_secret_eval` from a file (as
/// from /run/secrets in a container).
fn client_credentials_lines(dir: &Dir) -> String {
    let secret = dir.write("client-secret", OAUTH_CLIENT_SECRET);
    format!(
        "oauth2_flow client_credentials\noauth2_client_secret_eval \"cat {}\"\n\
         oauth2_scope https://outlook.office365.com/.default",
        secret.display()
    )
}

fn device_lines(oauth: &OAuthServer) -> String {
    format!(
        "oauth2_flow device\noauth2_device_url {}\noauth2_scope {SCOPE}",
        oauth.device_url()
    )
}

/// The command with the token store in the scratch directory (CI runs as root, whose
/// default store is /var/lib/rsmtp/oauth).
fn rsmtp(dir: &Dir) -> TestCommand {
    dir.rsmtp().env("RSMTP_OAUTH_DIR", dir.join("oauth"))
}

fn send(dir: &Dir, config: &Path) -> Run {
    send_with(dir, config, &[])
}

/// An msmtprc as msmtp reads it: account `office365` takes its XOAUTH2 token from
/// `passwordeval "{before}rsmtp --oauth-token"` over the rsmtp file `rsmtp_rc`.
fn passwordeval_rc(
    dir: &Dir,
    name: &str,
    smtp_port: u16,
    before: &str,
    rsmtp_rc: &Path,
) -> PathBuf {
    dir.write(
        name,
        format!(
            "account office365\nhost 127.0.0.1\nport {smtp_port}\ntls off\nauth xoauth2\n\
             user {USER}\nfrom {USER}\npasswordeval \"{before}RSMTP_OAUTH_DIR={} {} \
             --oauth-token -C {} -a office365\"\n",
            dir.join("oauth").display(),
            rsmtp_bin().display(),
            rsmtp_rc.display()
        ),
    )
}

/// `rsmtp -q`: the queue flushed now.
fn flush(dir: &Dir, config: &Path) -> Run {
    rsmtp(dir).args(["-C"]).arg(config).arg("-q").run()
}

/// [`send`] with more options (`-d`).
fn send_with(dir: &Dir, config: &Path, options: &[&str]) -> Run {
    rsmtp(dir)
        .args(options)
        .args(["-C"])
        .arg(config)
        .args(["-a", "office365", "-t"])
        .stdin(MESSAGE)
        .run()
}

/// The usual cast: the OAuth server, an SMTP server taking its tokens, a scratch
/// directory and a client-credentials account with `extra` lines.
fn client_credentials_account(extra: &str) -> (OAuthServer, TestServer, Dir, PathBuf) {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let lines = client_credentials_lines(&dir);
    let config = config(&dir, smtp.port(), &oauth.token_url(), &lines, extra);
    (oauth, smtp, dir, config)
}

/// Every message arrived authenticated as [`USER`].
fn assert_delivered_with_tokens(smtp: &TestServer, n: usize) {
    let messages = smtp.wait_for_messages(n, WAIT);
    assert_eq!(messages.len(), n);
    for m in &messages {
        let auth = m.auth.as_ref().expect("authenticated");
        assert!(auth.success, "{auth:?}");
        assert_eq!(auth.identity, USER);
    }
}

/// `rsmtp --oauth-login` for a device account, answered at the OAuth server as the
/// person would: wait for the first poll, approve the code that was printed.
fn device_login(dir: &Dir, config: &Path, oauth: &OAuthServer) -> Run {
    let mut cmd = rsmtp(dir)
        .args(["--oauth-login", "-C"])
        .arg(config)
        .args(["-a", "office365"])
        .cmd;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rsmtp --oauth-login");
    let code = oauth
        .wait_for_device_poll(WAIT)
        .expect("rsmtp polls the token endpoint");
    oauth.approve_device(&code);
    let run = Run {
        output: child.wait_with_output().expect("wait"),
    };
    assert!(
        run.stdout().contains(&code),
        "the user code is shown: {}",
        run.stdout()
    );
    run
}

#[test]
fn client_credentials_token_is_fetched_and_the_message_delivered() {
    let (oauth, smtp, dir, config) = client_credentials_account("");
    send(&dir, &config).assert_code(0);
    assert_delivered_with_tokens(&smtp, 1);
    let m = &smtp.messages()[0];
    assert_eq!(
        m.auth.as_ref().map(|a| a.mechanism.as_str()),
        Some("XOAUTH2")
    );
    assert_eq!(oauth.token_requests("client_credentials"), 1);
}

#[test]
fn oauthbearer_accounts_authenticate_with_the_token_too() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let config = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &client_credentials_lines(&dir),
        "auth oauthbearer",
    );
    send(&dir, &config).assert_code(0);
    assert_delivered_with_tokens(&smtp, 1);
    assert_eq!(
        smtp.messages()[0]
            .auth
            .as_ref()
            .map(|a| a.mechanism.as_str()),
        Some("OAUTHBEARER")
    );
}

#[test]
fn device_login_then_every_send_refreshes_silently_with_rotation() {
    let oauth = OAuthServer::start();
    // Every access token is stale at once: each send must refresh, and the second
    // refresh only works with the refresh token the first one rotated in.
    oauth.set_access_lifetime(0);
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let config = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &device_lines(&oauth),
        "",
    );

    // Before the login a send says what to do.
    let before = send(&dir, &config);
    before.assert_code(77);
    assert!(
        before
            .stderr()
            .contains("run `rsmtp --oauth-login -a office365`"),
        "{}",
        before.stderr()
    );

    device_login(&dir, &config, &oauth).assert_code(0);
    assert_eq!(
        oauth.token_requests(DEVICE_GRANT),
        2,
        "one pending poll, then the grant"
    );

    for n in 1..=3 {
        send(&dir, &config).assert_code(0);
        assert_eq!(oauth.token_requests("refresh_token"), n);
    }
    assert_delivered_with_tokens(&smtp, 3);
    // Every refresh carried the scope (Microsoft: AADSTS900144 without it).
    assert_eq!(oauth.refresh_scopes(), vec![Some(SCOPE.to_string()); 3]);

    // The store is one private file (plus its lock), nothing else.
    use std::os::unix::fs::PermissionsExt;
    let store = dir.join("oauth");
    let mut files: Vec<_> = std::fs::read_dir(&store)
        .expect("store")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        let mode = std::fs::metadata(f).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    let mode = std::fs::metadata(&store)
        .expect("stat")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn twenty_concurrent_senders_make_one_refresh() {
    let oauth = OAuthServer::start();
    oauth.set_access_lifetime(0);
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let config = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &device_lines(&oauth),
        "",
    );
    device_login(&dir, &config, &oauth).assert_code(0);
    // The token from the login is stale; the one the refresh brings lasts an hour.
    oauth.set_access_lifetime(3600);

    let codes: Vec<i32> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| scope.spawn(|| send(&dir, &config).code()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("sender thread"))
            .collect()
    });
    assert_eq!(codes, vec![0; 20]);
    assert_delivered_with_tokens(&smtp, 20);
    assert_eq!(
        oauth.token_requests("refresh_token"),
        1,
        "twenty senders, one refresh between them"
    );
}

#[test]
fn cached_token_serves_many_messages_with_one_token_request() {
    // The issue's measure is 1000 messages; RSMTP_OAUTH_MESSAGES scales it.
    let n: usize = std::env::var("RSMTP_OAUTH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let (oauth, smtp, dir, config) = client_credentials_account("");
    let started = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let (dir, config) = (&dir, &config);
            scope.spawn(move || {
                for _ in (worker..n).step_by(4) {
                    send(dir, config).assert_code(0);
                }
            });
        }
    });
    let elapsed = started.elapsed();
    assert_delivered_with_tokens(&smtp, n);
    assert_eq!(
        oauth.all_token_requests(),
        1,
        "{n} messages, one token request"
    );
    #[allow(clippy::print_stderr, reason = "the figure the issue asks to measure")]
    {
        eprintln!(
            "oauth: {n} messages, {} token request(s), {:.1} ms per message (4 senders)",
            oauth.all_token_requests(),
            elapsed.as_secs_f64() * 1000.0 / n as f64
        );
    }
}

#[test]
fn invalid_grant_exits_77_and_names_the_login_command() {
    let oauth = OAuthServer::start();
    oauth.set_access_lifetime(0);
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let config = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &device_lines(&oauth),
        &format!("queue fallback\nqueue_dir {}", dir.join("queue").display()),
    );
    device_login(&dir, &config, &oauth).assert_code(0);
    oauth.revoke_refresh_tokens();
    let run = send(&dir, &config);
    run.assert_code(77);
    assert!(run.stderr().contains("invalid_grant"), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("run `rsmtp --oauth-login -a office365`"),
        "{}",
        run.stderr()
    );
    assert!(smtp.messages().is_empty());
    // --oauth-token says the same, prints nothing on stdout.
    let token = rsmtp(&dir)
        .args(["--oauth-token", "-C"])
        .arg(&config)
        .args(["-a", "office365"])
        .run();
    token.assert_code(77);
    assert_eq!(token.stdout(), "");
}

#[test]
fn token_endpoint_down_is_temporary_and_the_message_waits_in_the_queue() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let down = format!("http://127.0.0.1:{}/token", closed_port());

    // Without a queue: 75, as for a relay that is down.
    let plain = config(
        &dir,
        smtp.port(),
        &down,
        &client_credentials_lines(&dir),
        "",
    );
    let run = send(&dir, &plain);
    run.assert_code(75);
    assert!(run.stderr().contains("cannot reach"), "{}", run.stderr());

    // With `queue fallback`: kept, and delivered once the endpoint answers again.
    let queue = dir.join("queue");
    let extra = format!("queue fallback\nqueue_dir {}", queue.display());
    let queued = config(
        &dir,
        smtp.port(),
        &down,
        &client_credentials_lines(&dir),
        &extra,
    );
    let run = send(&dir, &queued);
    run.assert_code(0);
    assert!(run.stderr().contains("queued as"), "{}", run.stderr());
    assert!(dir.read("rsmtp.log").contains("exitcode=EX_TEMPFAIL"));
    assert!(smtp.messages().is_empty());

    config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &client_credentials_lines(&dir),
        &extra,
    );
    flush(&dir, &queued).assert_code(0);
    assert_delivered_with_tokens(&smtp, 1);
    let listing = rsmtp(&dir).args(["-C"]).arg(&queued).arg("-bp").run();
    assert!(
        listing.stdout().contains("Mail queue is empty"),
        "{}",
        listing.stdout()
    );
}

#[test]
fn basic_auth_switched_off_550_5_7_30_shows_the_oauth_lines_to_add() {
    let smtp = TestServer::start(ServerOptions::new().auth(USER, "pw").fault(Fault::reply(
        Step::Auth,
        550,
        "5.7.30 Basic authentication is not supported for Client Submission",
    )));
    let dir = Dir::new();
    let config = dir.write(
        "msmtprc",
        format!(
            "account office365\nhost 127.0.0.1\nport {}\ntls off\nauth plain\nuser {USER}\n\
             password pw\nfrom {USER}\n",
            smtp.port()
        ),
    );
    let run = send(&dir, &config);
    assert_ne!(run.code(), 0);
    let err = run.stderr();
    assert!(err.contains("basic authentication"), "{err}");
    for line in [
        "auth            xoauth2",
        "oauth2_provider microsoft",
        "oauth2_client_id",
        "oauth2_flow",
    ] {
        assert!(err.contains(line), "{line} missing from: {err}");
    }
    assert!(err.contains("rsmtp --oauth-login -a office365"), "{err}");
}

#[test]
fn xoauth2_refused_with_535_5_7_3_names_the_usual_causes() {
    let oauth = OAuthServer::start();
    let smtp = TestServer::start(
        ServerOptions::new()
            .auth_config(AuthConfig {
                mechanisms: vec![Mechanism::XOAuth2],
                token_check: Some(oauth.token_check()),
                ..AuthConfig::new(USER, "x")
            })
            .fault(Fault::reply(
                Step::Auth,
                535,
                "5.7.3 Authentication unsuccessful",
            )),
    );
    let dir = Dir::new();
    let config = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &client_credentials_lines(&dir),
        "",
    );
    let run = send(&dir, &config);
    run.assert_code(77);
    let err = run.stderr();
    for cause in [
        "SMTP AUTH is disabled",
        "SMTP.SendAsApp",
        "service principal",
    ] {
        assert!(err.contains(cause), "{cause} missing from: {err}");
    }
}

#[test]
fn the_token_never_appears_in_the_log_debug_output_or_errors() {
    let (oauth, smtp, dir, config) = client_credentials_account("");
    let run = send_with(&dir, &config, &["-d"]);
    run.assert_code(0);
    assert_delivered_with_tokens(&smtp, 1);
    let pretend = rsmtp(&dir)
        .args(["-P", "-C"])
        .arg(&config)
        .args(["-a", "office365"])
        .run();
    pretend.assert_code(0);
    assert!(
        pretend
            .stdout()
            .contains("oauth2_flow = client_credentials"),
        "{}",
        pretend.stdout()
    );
    assert!(pretend.stdout().contains("oauth2_client_secret = *"));
    let tokens = oauth.issued_access_tokens();
    assert_eq!(tokens.len(), 1);
    let token = &tokens[0];
    assert!(run.stdout().contains("AUTH XOAUTH2"), "the trace is there");
    for (what, text) in [
        ("debug output", run.stdout()),
        ("stderr", run.stderr()),
        ("log", dir.read("rsmtp.log")),
        ("pretend", pretend.stdout()),
    ] {
        assert!(!text.contains(token.as_str()), "token in the {what}");
        assert!(!text.contains(OAUTH_CLIENT_SECRET), "secret in the {what}");
    }
    // What `passwordeval` reads is the token, alone on its line.
    let printed = rsmtp(&dir)
        .args(["--oauth-token", "-C"])
        .arg(&config)
        .args(["-a", "office365"])
        .run();
    printed.assert_code(0);
    assert_eq!(printed.stdout(), format!("{token}\n"));
    assert_eq!(printed.stderr(), "");
}

#[test]
fn logout_forgets_the_tokens() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let config = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &device_lines(&oauth),
        "",
    );
    device_login(&dir, &config, &oauth).assert_code(0);
    send(&dir, &config).assert_code(0);
    let out = rsmtp(&dir)
        .args(["--oauth-logout", "-C"])
        .arg(&config)
        .args(["-a", "office365"])
        .run();
    out.assert_code(0);
    assert!(
        out.stdout().contains("forgot the tokens"),
        "{}",
        out.stdout()
    );
    send(&dir, &config).assert_code(77);
    assert_eq!(smtp.messages().len(), 1);
}

#[test]
fn device_polling_honours_slow_down_and_a_declined_sign_in() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let config = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &device_lines(&oauth),
        "",
    );
    // Interval 0, then one slow_down: the next poll comes 5 s later, not at once.
    oauth.slow_down(1);
    device_login(&dir, &config, &oauth).assert_code(0);
    let gaps = oauth.poll_gaps();
    assert!(
        gaps.first().is_some_and(|g| *g >= Duration::from_secs(5)),
        "{gaps:?}"
    );

    // A declined sign-in ends the login with 77.
    let mut child = spawn_login(&dir, &config);
    let code = oauth.wait_for_device_poll(WAIT).expect("polled");
    oauth.deny_device(&code);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(77));
}

fn spawn_login(dir: &Dir, config: &Path) -> Child {
    rsmtp(dir)
        .args(["--oauth-login", "-C"])
        .arg(config)
        .args(["-a", "office365"])
        .cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rsmtp --oauth-login")
}

#[test]
fn authcode_login_with_pkce_by_loopback_redirect_or_pasted_url() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    for pasted in [false, true] {
        let dir = Dir::new();
        let flow = format!(
            "oauth2_flow authcode\noauth2_auth_url {}\noauth2_scope https://mail.google.com/",
            oauth.auth_url()
        );
        let config = config(&dir, smtp.port(), &oauth.token_url(), &flow, "");
        let mut child = spawn_login(&dir, &config);
        let url = printed_line(child.stdout.take().expect("stdout"), &oauth.auth_url());
        assert!(url.contains("code_challenge_method=S256"), "{url}");
        // The browser: the authorization server redirects to rsmtp's loopback address.
        let redirect = browser_redirect(&url);
        assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
        if pasted {
            // A headless machine: the person pastes the address instead.
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "{redirect}").expect("paste");
        } else {
            let rest = redirect.strip_prefix("http://").expect("http");
            let (host, path) = rest.split_once('/').expect("path");
            let mut s = std::net::TcpStream::connect(host).expect("loopback listener");
            write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\n\r\n").expect("send");
            let mut page = String::new();
            let _ = s.read_to_string(&mut page);
            assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        }
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "pasted: {pasted}");
        send(&dir, &config).assert_code(0);
    }
    assert_eq!(oauth.token_requests("authorization_code"), 2);
    assert_delivered_with_tokens(&smtp, 2);
    // The access token from the login was used: no refresh yet.
    assert_eq!(oauth.token_requests("refresh_token"), 0);
}

#[test]
fn msmtp_sends_with_passwordeval_rsmtp_oauth_token() {
    let Some(msmtp) = msmtp_bin() else {
        require(false, "msmtp (Debian package msmtp)");
        return;
    };
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    // rsmtp's own file holds the oauth2_* lines (msmtp would refuse them) …
    let rsmtp_rc = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &client_credentials_lines(&dir),
        "",
    );
    // … and msmtp's account gets its password from rsmtp.
    let msmtp_rc = passwordeval_rc(&dir, "msmtp.rc", smtp.port(), "", &rsmtp_rc);
    let run = dir
        .command(msmtp)
        .args(["-C"])
        .arg(&msmtp_rc)
        .args(["-a", "office365", "-t"])
        .stdin(MESSAGE)
        .run();
    run.assert_code(0);
    // rsmtp then sends with the token it cached for msmtp.
    send(&dir, &rsmtp_rc).assert_code(0);
    assert_delivered_with_tokens(&smtp, 2);
    assert_eq!(oauth.all_token_requests(), 1);
}

#[test]
fn a_queued_message_waits_while_the_login_is_missing_and_goes_once_signed_in() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let queue = dir.join("queue");
    let config = config(
        &dir,
        smtp.port(),
        &oauth.token_url(),
        &device_lines(&oauth),
        &format!("queue always\nqueue_dir {}", queue.display()),
    );
    send(&dir, &config).assert_code(0);
    // No login yet: a flush keeps the message (a token problem is never a reason to
    // drop or fail it) and says what is missing.
    let flushed = flush(&dir, &config);
    assert!(
        flushed.stderr().contains("--oauth-login"),
        "{}",
        flushed.stderr()
    );
    let listing = rsmtp(&dir).args(["-C"]).arg(&config).arg("-bp").run();
    assert!(
        listing.stdout().contains("admin@example.net"),
        "still queued: {}",
        listing.stdout()
    );
    assert!(smtp.messages().is_empty());

    device_login(&dir, &config, &oauth).assert_code(0);
    flush(&dir, &config).assert_code(0);
    assert_delivered_with_tokens(&smtp, 1);
    let listing = rsmtp(&dir).args(["-C"]).arg(&config).arg("-bp").run();
    assert!(
        listing.stdout().contains("Mail queue is empty"),
        "{}",
        listing.stdout()
    );
}

/// www-data in the PHP images (home `/var/www`, owned by root): the token store goes to
/// `/var/tmp/rsmtp-<uid>/oauth`, as the queue does, instead of every send failing.
#[test]
fn a_user_whose_home_is_not_writable_keeps_tokens_in_var_tmp() {
    if !require(is_root(), "root (to run rsmtp as nobody)") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let fallback = PathBuf::from("/var/tmp/rsmtp-65534/oauth");
    let _ = std::fs::remove_dir_all(&fallback);
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let home = dir.join("www");
    std::fs::create_dir(&home).expect("home");
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let secret = dir.write("client-secret", OAUTH_CLIENT_SECRET);
    let config = dir.write(
        "msmtprc",
        format!(
            "account office365\nhost 127.0.0.1\nport {}\ntls off\nauth xoauth2\nuser {USER}\n\
             from {USER}\noauth2_flow client_credentials\noauth2_token_url {}\n\
             oauth2_client_id {OAUTH_CLIENT_ID}\noauth2_client_secret_eval \"cat {}\"\n\
             oauth2_scope s\n",
            smtp.port(),
            oauth.token_url(),
            secret.display()
        ),
    );
    for f in [&config, &secret] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let rsmtp = rsmtp_for_nobody(&dir);
    for _ in 0..2 {
        dir.command("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(&rsmtp)
            .arg("-C")
            .arg(&config)
            .args(["-a", "office365", "-t"])
            .env("HOME", &home)
            .env_remove("XDG_STATE_HOME")
            .env_remove("RSMTP_OAUTH_DIR")
            .stdin(MESSAGE)
            .run()
            .assert_code(0);
    }
    assert_delivered_with_tokens(&smtp, 2);
    assert_eq!(
        oauth.all_token_requests(),
        1,
        "the second send used the store"
    );
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&fallback).expect("store"));
    assert_eq!(owner, 65534);
    let _ = std::fs::remove_dir_all(&fallback);
}

/// `-d` says where the access token came from — a request, then the cache — and
/// never shows it.
#[test]
fn debug_says_whether_the_token_came_from_the_cache_or_a_request() {
    let (oauth, smtp, dir, config) = client_credentials_account("");
    let debug_send = || {
        let run = send_with(&dir, &config, &["-d"]);
        run.assert_code(0);
        run.stdout()
    };
    let first = debug_send();
    let second = debug_send();
    assert!(
        first.contains("OAuth 2.0 access token: new from the token endpoint"),
        "{first}"
    );
    assert!(
        second.contains("OAuth 2.0 access token: from the cache (no request)"),
        "{second}"
    );
    assert_eq!(oauth.all_token_requests(), 1);
    assert_delivered_with_tokens(&smtp, 2);
    for token in oauth.issued_access_tokens() {
        assert!(!first.contains(&token) && !second.contains(&token));
    }
}

/// The one lock file of the account's token store.
fn store_lock(dir: &Dir) -> PathBuf {
    let locks: Vec<PathBuf> = std::fs::read_dir(dir.join("oauth"))
        .expect("the token store")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "lock"))
        .collect();
    assert_eq!(locks.len(), 1, "{locks:?}");
    locks.into_iter().next().expect("one lock")
}

/// A process that holds the refresh lock longer than the account's `timeout` (a
/// refresh stuck on a silent endpoint, a stopped process) does not hold the sender:
/// after `timeout` it is a temporary failure, and under `queue fallback` the message
/// waits in the queue; once the lock is free, `rsmtp -q` sends it.
#[test]
fn a_refresh_lock_held_past_the_timeout_is_temporary_and_the_message_is_queued() {
    let (oauth, smtp, dir, config) = client_credentials_account("timeout 1\nqueue fallback");
    // Every send needs a new token, so every send takes the lock.
    oauth.set_access_lifetime(0);
    send(&dir, &config).assert_code(0);
    let Some(holder) = LockHolder::hold(&store_lock(&dir)) else {
        return;
    };
    let started = Instant::now();
    let run = send(&dir, &config);
    let waited = started.elapsed();
    run.assert_code(0);
    assert!(run.stderr().contains("queued as"), "{}", run.stderr());
    assert!(
        run.stderr().contains("held the OAuth 2.0 token lock"),
        "{}",
        run.stderr()
    );
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
    assert!(dir.read("rsmtp.log").contains("exitcode=EX_TEMPFAIL"));
    assert_eq!(
        oauth.all_token_requests(),
        1,
        "no request under another's lock"
    );
    // Without a queue the caller gets 75 (cron and PHP keep the message).
    let plain = dir.write(
        "plain.rc",
        std::fs::read_to_string(&config)
            .expect("config")
            .replace("queue fallback", ""),
    );
    send(&dir, &plain).assert_code(75);

    drop(holder);
    flush(&dir, &config).assert_code(0);
    assert_delivered_with_tokens(&smtp, 2);
}

/// No token and no client secret is ever in the argument list of a process: while
/// rsmtp runs `oauth2_client_secret_eval` (before a refresh, with the stored tokens
/// in hand) and `passwordeval "rsmtp --oauth-token …"`, a script records every
/// process's `/proc/PID/cmdline` and `ps -eo args`.
#[test]
fn no_token_or_client_secret_in_any_process_argv() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let dir = Dir::new();
    let secret_file = dir.write("client-secret", OAUTH_CLIENT_SECRET);
    let argv = dir.join("argv.txt");
    let ps = require_peer("/usr/bin/ps", "ps (Debian package procps)");
    let dump = dir.write(
        "dump.sh",
        format!(
            "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\" 2>/dev/null; echo; done >> {argv}\n\
             {ps} >> {argv}\n",
            argv = argv.display(),
            ps = ps
                .map(|p| format!("{} -eo args", p.display()))
                .unwrap_or_else(|| "true".into()),
        ),
    );
    let lines = format!(
        "{}\noauth2_client_secret_eval \"sh {} && cat {}\"",
        device_lines(&oauth),
        dump.display(),
        secret_file.display()
    );
    let config = config(&dir, smtp.port(), &oauth.token_url(), &lines, "");
    device_login(&dir, &config, &oauth).assert_code(0);
    let stored = || dir.read(&format!("oauth/{}", store_file_name(&dir)));
    let mut secrets = vec![OAUTH_CLIENT_SECRET.to_string()];
    secrets.extend(json_strings(&stored(), &["access_token", "refresh_token"]));
    // Each send refreshes: the secret is looked up with the stored tokens in memory.
    oauth.set_access_lifetime(0);
    for _ in 0..2 {
        send(&dir, &config).assert_code(0);
        secrets.extend(json_strings(&stored(), &["access_token", "refresh_token"]));
    }
    // msmtp's way: passwordeval runs `rsmtp --oauth-token`.
    let before = format!("sh {} && ", dump.display());
    let via_eval = passwordeval_rc(&dir, "eval.rc", smtp.port(), &before, &config);
    send(&dir, &via_eval).assert_code(0);
    secrets.extend(oauth.issued_access_tokens());
    assert_delivered_with_tokens(&smtp, 3);

    let seen = dir.read("argv.txt");
    assert!(
        seen.matches("rsmtp").count() >= 3,
        "the dumps saw rsmtp running: {seen}"
    );
    assert!(secrets.len() >= 6, "{}", secrets.len());
    for s in &secrets {
        assert!(!seen.contains(s.as_str()), "a secret in a process's argv");
    }
}

/// The name of the one token file in the store.
fn store_file_name(dir: &Dir) -> String {
    let lock = store_lock(dir);
    lock.with_extension("json")
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned()
}

/// The string values of `keys` in the store's (pretty-printed) JSON object; tokens
/// hold no quotes or backslashes.
fn json_strings(json: &str, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| {
            let after = &json[json.find(&format!("\"{k}\""))? + k.len() + 2..];
            let value = after.trim_start().strip_prefix(':')?.trim_start();
            let value = value.strip_prefix('"')?;
            Some(value[..value.find('"')?].to_string())
        })
        .collect()
}

/// With a Secret Service on the session bus (gnome-keyring under dbus-run-session)
/// the tokens go to the keyring, not to a file, and later sends take them from
/// there; a process without the bus (cron) keeps its own in the file;
/// `--oauth-logout` forgets both.
#[test]
fn tokens_are_kept_in_the_keyring_when_a_secret_service_is_there() {
    let (oauth, smtp, dir, config) = client_credentials_account("");
    dir.write("message", MESSAGE);
    let store = dir.join("oauth");
    let script = format!(
        r#"set -u
printf keyring-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
export RSMTP_OAUTH_DIR={store}
send() {{ {rsmtp} -C {config} -a office365 -t < message; }}
send; echo "keyring-send=$?"
ls {store} > files-after-keyring-send.txt
env -u DBUS_SESSION_BUS_ADDRESS {rsmtp} -C {config} -a office365 -t < message; echo "cron-send=$?"
ls {store} > files-after-cron-send.txt
send; echo "cached-send=$?"
secret-tool search --all service rsmtp-oauth > items-before.txt 2>&1
{rsmtp} -C {config} -a office365 --oauth-logout; echo "logout=$?"
secret-tool search --all service rsmtp-oauth > items-after.txt 2>&1
ls {store} > files-after-logout.txt
"#,
        store = store.display(),
        rsmtp = rsmtp_bin().display(),
        config = config.display(),
    );
    let Some(run) = in_keyring_session(&dir, &script) else {
        return;
    };
    let out = run.stdout();
    for step in ["keyring-send=0", "cron-send=0", "cached-send=0", "logout=0"] {
        assert!(out.contains(step), "{step}: {out}\n{}", run.stderr());
    }
    let json_files = |name: &str| dir.read(name).matches(".json").count();
    assert_eq!(json_files("files-after-keyring-send.txt"), 0, "no file");
    assert_eq!(json_files("files-after-cron-send.txt"), 1, "cron's file");
    // One token from the keyring send, one for cron; the third send used the keyring.
    assert_eq!(oauth.token_requests("client_credentials"), 2);
    assert_delivered_with_tokens(&smtp, 3);
    let before = dir.read("items-before.txt");
    let tokens = oauth.issued_access_tokens();
    assert!(
        tokens.iter().any(|t| before.contains(t.as_str())),
        "the keyring item holds the token: {before}"
    );
    assert!(
        out.contains("forgot the tokens in the keyring (Secret Service)"),
        "{out}"
    );
    assert!(
        out.contains(&format!("forgot the tokens in {}", store.display())),
        "{out}"
    );
    let after = dir.read("items-after.txt");
    assert!(
        tokens.iter().all(|t| !after.contains(t.as_str())),
        "{after}"
    );
    assert_eq!(json_files("files-after-logout.txt"), 0);
}
