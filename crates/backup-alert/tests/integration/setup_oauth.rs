//! `setup` with OAuth 2.0 (issue 22, item 8): Microsoft 365 by the device flow and
//! Gmail by the browser flow, against rsmtp-testserver's OAuth 2.0 server (its
//! endpoints given with `--oauth-token-url` …, as for a national cloud) and an SMTP
//! server that takes only the tokens it issued. Setup writes the account, runs the
//! sibling `rsmtp --oauth-login` (answered here as the person would), sends the test
//! alert; a later `backup-alert send` goes through with the stored tokens.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use rsmtp_testserver::oauth::{browser_redirect, printed_line};
use rsmtp_testserver::{
    AuthConfig, Mechanism, OAuthServer, ServerOptions, TestServer, OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
};

use crate::*;

const USER: &str = "alerts@contoso.example";

/// An SMTP server that takes XOAUTH2 for [`USER`] with a token `oauth` issued, and
/// nothing else (no password works).
fn smtp_for(oauth: &OAuthServer) -> TestServer {
    TestServer::start(ServerOptions::new().auth_config(AuthConfig {
        mechanisms: vec![Mechanism::XOAuth2],
        token_check: Some(oauth.token_check()),
        ..AuthConfig::new(USER, "no-password-works-here")
    }))
}

fn settings(env: &Env) -> PathBuf {
    env.home.join(".config/backup-alert/config")
}

/// `backup-alert setup --oauth` for `provider` against `smtp`, non-interactive; the
/// token store in the scratch directory (CI runs as root, whose store is
/// /var/lib/rsmtp/oauth).
fn setup_oauth(
    env: &Env,
    smtp: &TestServer,
    out: &Path,
    provider: &str,
    extra: &[&str],
) -> Command {
    let mut c = env.cmd();
    c.env("RSMTP_OAUTH_DIR", env.path("oauth"))
        .args(["setup", "--provider", provider, "--oauth"])
        .args(["--host", "127.0.0.1", "--tls", "off"])
        .args(["--port", &smtp.port().to_string()])
        .args(["--user", USER, "--to", TO])
        .args(["--oauth-client-id", OAUTH_CLIENT_ID])
        .arg("--output")
        .arg(out)
        .arg("--settings")
        .arg(settings(env))
        .arg("--logfile")
        .arg(&env.log)
        .args(extra);
    c
}

fn spawn(mut c: Command) -> Child {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn backup-alert setup")
}

/// Every message arrived by XOAUTH2 as [`USER`].
fn assert_xoauth2(smtp: &TestServer, n: usize) {
    let messages = smtp.wait_for_messages(n, WAIT);
    assert_eq!(messages.len(), n);
    for m in &messages {
        let auth = m.auth.as_ref().expect("authenticated");
        assert!(auth.success, "{auth:?}");
        assert_eq!(
            (auth.mechanism.as_str(), auth.identity.as_str()),
            ("XOAUTH2", USER)
        );
    }
}

/// A later alert, through the settings setup wrote, with the stored tokens.
fn later_alert(env: &Env) -> Run {
    let mut c = env.cmd();
    c.env("RSMTP_OAUTH_DIR", env.path("oauth"))
        .args([
            "send",
            "--status",
            "success",
            "--subject",
            "nightly",
            "--body",
            "ok",
        ])
        .arg("--settings")
        .arg(settings(env));
    run(c)
}

#[test]
fn microsoft_365_setup_signs_in_by_device_code_and_alerts_go_by_xoauth2() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let env = Env::bare();
    let out = env.path("msmtprc");
    let mut c = setup_oauth(
        &env,
        &smtp,
        &out,
        "outlook",
        &["--oauth-token-url", &oauth.token_url()],
    );
    c.args(["--oauth-device-url", &oauth.device_url()]);
    let child = spawn(c);
    // The person: enter the code shown at the verification URL.
    let code = oauth
        .wait_for_device_poll(WAIT)
        .expect("setup's rsmtp --oauth-login polls the token endpoint");
    oauth.approve_device(&code);
    let r = finish(child.wait_with_output().expect("wait"));
    r.assert_code(0);
    assert!(r.stderr.contains(&code), "the code is shown: {}", r.stderr);
    assert!(r.stderr.contains("test alert sent"), "{}", r.stderr);

    let text = std::fs::read_to_string(&out).unwrap();
    for line in [
        "auth           xoauth2\n".to_string(),
        format!("user           {USER}\n"),
        "oauth2_provider microsoft\n".to_string(),
        // The login's domain, as Microsoft takes a tenant's verified domain.
        "oauth2_tenant  contoso.example\n".to_string(),
        format!("oauth2_client_id {OAUTH_CLIENT_ID}\n"),
        "oauth2_flow    device\n".to_string(),
        format!("oauth2_token_url {}\n", oauth.token_url()),
        format!("oauth2_device_url {}\n", oauth.device_url()),
    ] {
        assert!(text.contains(&line), "{line:?} missing:\n{text}");
    }
    assert!(!text.contains("password"), "{text}");
    assert_xoauth2(&smtp, 1);

    let after_setup = oauth.all_token_requests();
    later_alert(&env).assert_code(0);
    assert_xoauth2(&smtp, 2);
    // The later alert (account `default`, an alias of `backup`) used the stored token.
    assert_eq!(oauth.all_token_requests(), after_setup);
}

#[test]
fn gmail_setup_signs_in_in_the_browser_with_the_client_secret_from_a_file() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let env = Env::bare();
    let out = env.path("msmtprc");
    let secret = env.path("client-secret");
    std::fs::write(&secret, format!("{OAUTH_CLIENT_SECRET}\n")).unwrap();
    let c = setup_oauth(
        &env,
        &smtp,
        &out,
        "gmail",
        &[
            "--oauth-client-secret-file",
            secret.to_str().unwrap(),
            "--oauth-token-url",
            &oauth.token_url(),
            "--oauth-auth-url",
            &oauth.auth_url(),
        ],
    );
    let mut child = spawn(c);
    // The sign-in's prompt comes on setup's stderr, with its own lines.
    let url = printed_line(child.stderr.take().unwrap(), &oauth.auth_url());
    // A headless server: the person signs in elsewhere and pastes the address.
    let redirect = browser_redirect(&url);
    writeln!(child.stdin.take().unwrap(), "{redirect}").unwrap();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));

    let text = std::fs::read_to_string(&out).unwrap();
    for line in [
        "oauth2_provider google\n".to_string(),
        format!("oauth2_client_secret {OAUTH_CLIENT_SECRET}\n"),
        "oauth2_flow    authcode\n".to_string(),
        format!("oauth2_auth_url {}\n", oauth.auth_url()),
    ] {
        assert!(text.contains(&line), "{line:?} missing:\n{text}");
    }
    assert!(!text.contains("oauth2_tenant"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "it holds the client secret");
    assert_eq!(oauth.token_requests("authorization_code"), 1);
    assert_xoauth2(&smtp, 1);
    later_alert(&env).assert_code(0);
    assert_xoauth2(&smtp, 2);
}

#[test]
fn oauth_setup_refuses_what_it_cannot_sign_in() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let env = Env::bare();
    let out = env.path("msmtprc");
    // Not a provider setup signs in with.
    let r = run(setup_oauth(&env, &smtp, &out, "yahoo", &[]));
    r.assert_code(64);
    assert!(
        r.stderr
            .contains("--oauth is for --provider outlook or gmail"),
        "{}",
        r.stderr
    );
    // A token endpoint in clear over a network.
    let r = run(setup_oauth(
        &env,
        &smtp,
        &out,
        "outlook",
        &["--oauth-token-url", "http://login.example/token"],
    ));
    r.assert_code(64);
    assert!(r.stderr.contains("oauth2_token_url"), "{}", r.stderr);
    // Google's secret never on the command line, and none given.
    let r = run(setup_oauth(&env, &smtp, &out, "gmail", &[]));
    r.assert_code(64);
    assert!(
        r.stderr.contains("--oauth-client-secret-file"),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "nothing written");
}

/// At a terminal: what the app registration needs is said, the tenant is proposed
/// from the login's domain (Enter takes it), the client ID is asked; then the device
/// sign-in shows its code on the same terminal.
#[test]
fn interactive_microsoft_365_setup_explains_the_registration_and_proposes_the_tenant() {
    let oauth = OAuthServer::start();
    let smtp = smtp_for(&oauth);
    let env = Env::bare();
    let out = env.path("msmtprc");
    let answers = format!(
        r#"[["Login (mail address)", "{USER}"], ["Tenant (directory ID or domain) [contoso.example]", ""], ["Application (client) ID", "{OAUTH_CLIENT_ID}"], ["Send alerts to", "{TO}"]]"#
    );
    let mut c = env.cmd_as(python3());
    c.env("RSMTP_OAUTH_DIR", env.path("oauth"))
        .args(["-c", crate::setup::PTY_DRIVER, &answers, BIN, "setup"])
        .args(["--provider", "outlook", "--oauth"])
        .args(["--host", "127.0.0.1", "--tls", "off"])
        .args(["--port", &smtp.port().to_string()])
        .args(["--oauth-token-url", &oauth.token_url()])
        .args(["--oauth-device-url", &oauth.device_url()])
        .arg("--output")
        .arg(&out)
        .arg("--logfile")
        .arg(&env.log)
        .arg("--no-settings");
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the pty driver");
    let code = oauth
        .wait_for_device_poll(WAIT)
        .expect("the sign-in polls the token endpoint");
    oauth.approve_device(&code);
    let r = finish(child.wait_with_output().expect("wait"));
    r.assert_code(0);
    for shown in ["SMTP.Send", "Authenticated SMTP", &code, "test alert sent"] {
        assert!(
            r.stdout.contains(shown),
            "{shown:?} not shown:\n{}",
            r.stdout
        );
    }
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("oauth2_tenant  contoso.example\n"), "{text}");
    assert!(
        text.contains(&format!("oauth2_client_id {OAUTH_CLIENT_ID}\n")),
        "{text}"
    );
    assert_xoauth2(&smtp, 1);
}
