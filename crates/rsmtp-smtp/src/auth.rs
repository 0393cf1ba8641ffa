//! SMTP AUTH (RFC 4954): choosing a mechanism the way msmtp does and running
//! its exchange. PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
//! CRAM-MD5 (RFC 2195), XOAUTH2 (Google's), OAUTHBEARER (RFC 7628),
//! EXTERNAL (RFC 4422 appendix A) and SCRAM-SHA-1/-256 with their `-PLUS`
//! variants (RFC 5802, RFC 7677; the exchange itself is in `scram`).
//!
//! Every line carrying a credential is built as a redacted `Command`, so the
//! trace shows `AUTH PLAIN [redacted]` and never the payload; error messages
//! name the method and quote only the server's reply.

use rsmtp_core::tr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};

use crate::capabilities::Capabilities;
use crate::error::{ErrorKind, SmtpError, Stage};
use crate::mechanism::Mechanism;
use crate::reply::Reply;
use crate::scram::{self, ChannelBinding, ScramClient, ScramError, ScramHash};
use crate::settings::{Auth, Credentials};
use crate::wire::{check_setting, Command};

/// Sends one command and returns the server's reply; the session implements
/// it (tracing, 421 handling, timeouts).
pub(crate) trait Exchange {
    fn exchange(&mut self, command: &Command) -> Result<Reply, SmtpError>;
}

/// Which mechanism to run, if any (msmtp 1.8.26's built-in choice, see
/// [`Auth::Auto`]). `can_bind`: the TLS session offers a channel binding
/// (`tls-exporter` on TLS 1.3), so a `-PLUS` variant can run.
pub(crate) fn choose(
    auth: Auth,
    caps: &Capabilities,
    tls_active: bool,
    binding: Option<&str>,
) -> Result<Option<Mechanism>, SmtpError> {
    let unavailable = |msg: String| Err(SmtpError::new(ErrorKind::AuthUnavailable, msg));
    let wanted = match auth {
        Auth::Off => return Ok(None),
        Auth::Auto => None,
        Auth::Method(m) => Some(m),
    };
    if caps.auth.is_empty() {
        return unavailable(tr!("the server does not support authentication").into_owned());
    }
    if let Some(m) = wanted {
        if !caps.offers_auth(m.name()) {
            return unavailable(tr!(
                "the server does not support authentication method {method}",
                method = m
            ));
        }
        if m.is_channel_bound() && binding.is_none() {
            return unavailable(format!(
                "authentication method {m} needs channel binding, which needs TLS \
                 (tls-exporter on TLS 1.3, tls-server-end-point on TLS 1.2); {}",
                if tls_active {
                    "this TLS session offers neither"
                } else {
                    "TLS is off"
                }
            ));
        }
        return Ok(Some(m));
    }
    // SCRAM first (msmtp ≥ 1.8.26), channel-bound when the session allows. Only
    // tls-exporter is chosen on its own: a server offering -PLUS over TLS 1.2 may
    // know only tls-unique, and tls-server-end-point would then fail where the
    // unbound variant works; `auth scram-sha-256-plus` asks for it explicitly.
    let bound: &[Mechanism] = if binding == Some("tls-exporter") {
        &[Mechanism::ScramSha256Plus, Mechanism::ScramSha1Plus]
    } else {
        &[]
    };
    let rest: &[Mechanism] = if tls_active {
        &[
            Mechanism::ScramSha256,
            Mechanism::ScramSha1,
            Mechanism::Plain,
            Mechanism::CramMd5,
            Mechanism::Login,
        ]
    } else {
        // Without TLS only a method that keeps the password off the wire.
        &[
            Mechanism::ScramSha256,
            Mechanism::ScramSha1,
            Mechanism::CramMd5,
        ]
    };
    match bound
        .iter()
        .chain(rest)
        .find(|m| caps.offers_auth(m.name()))
    {
        Some(m) => Ok(Some(*m)),
        None if tls_active => unavailable("cannot find a usable authentication method".into()),
        None => unavailable(
            "cannot use a secure authentication method without TLS \
             (choose one explicitly with 'auth plain' or enable TLS)"
                .into(),
        ),
    }
}

/// What SCRAM learns from the TLS layer and the EHLO reply to choose its
/// GS2 channel-binding flag (RFC 5802 §6).
pub(crate) fn channel_binding(
    mechanism: Mechanism,
    caps: &Capabilities,
    tls_binding: Option<(&'static str, Vec<u8>)>,
) -> ChannelBinding {
    match (tls_binding, mechanism.is_channel_bound()) {
        (None, _) => ChannelBinding::No,
        (Some((kind, data)), true) => ChannelBinding::Bound { kind, data },
        (Some(_), false) => {
            let plus = format!("{}-PLUS", mechanism.name());
            if caps.offers_auth(&plus) {
                ChannelBinding::No
            } else {
                ChannelBinding::NotOffered
            }
        }
    }
}

/// Runs the AUTH exchange for `mechanism`. `host` and `port` go into
/// OAUTHBEARER's GS2 header (RFC 7628 §3.1); `binding` is SCRAM's (see
/// [`channel_binding`]).
pub(crate) fn authenticate(
    x: &mut dyn Exchange,
    mechanism: Mechanism,
    credentials: Option<&Credentials>,
    host: &str,
    port: u16,
    binding: ChannelBinding,
) -> Result<(), SmtpError> {
    let need = || {
        credentials
            .filter(|c| !c.user.is_empty())
            .map(|c| (c.user.as_str(), c.secret.expose()))
            .ok_or_else(|| {
                SmtpError::new(
                    ErrorKind::AuthUnavailable,
                    format!("authentication method {mechanism} needs a user name and a password"),
                )
            })
            .and_then(|(user, secret)| Ok((check_setting(user, "user")?, secret)))
    };
    let shown = format!("AUTH {mechanism} [redacted]");
    match mechanism {
        Mechanism::Plain => {
            // Sent as typed: GNU SASL (msmtp 1.8.23) does not SASLprep PLAIN either.
            let (user, secret) = need()?;
            let payload = secret_base64(&["\0", user, "\0", secret]);
            let line = secret_text(&["AUTH PLAIN ", &payload]);
            let reply = x.exchange(&Command::secret(line, shown))?;
            finish(mechanism, reply)
        }
        Mechanism::Login => {
            let (user, secret) = need()?;
            expect_challenge(mechanism, x.exchange(&Command::line("AUTH LOGIN".into()))?)?;
            expect_challenge(mechanism, x.exchange(&Command::redacted(B64.encode(user)))?)?;
            let payload = secret_base64(&[secret]);
            finish(
                mechanism,
                x.exchange(&Command::redacted(secret_text(&[&payload])))?,
            )
        }
        Mechanism::CramMd5 => {
            let (user, secret) = need()?;
            let reply = x.exchange(&Command::line("AUTH CRAM-MD5".into()))?;
            let challenge = expect_challenge(mechanism, reply)?;
            let challenge = B64.decode(challenge.trim()).map_err(|_| {
                SmtpError::new(
                    ErrorKind::Protocol,
                    "the server sent an invalid CRAM-MD5 challenge",
                )
            })?;
            let response = B64.encode(format!("{user} {}", cram_md5_digest(secret, &challenge)));
            finish(mechanism, x.exchange(&Command::redacted(response))?)
        }
        Mechanism::XOAuth2 => {
            let (user, secret) = need()?;
            expect_challenge(
                mechanism,
                x.exchange(&Command::line("AUTH XOAUTH2".into()))?,
            )?;
            let payload = secret_base64(&["user=", user, "\x01auth=Bearer ", secret, "\x01\x01"]);
            let reply = x.exchange(&Command::redacted(secret_text(&[&payload])))?;
            after_oauth_error(x, mechanism, reply, "")
        }
        Mechanism::OAuthBearer => {
            let (user, secret) = need()?;
            let port = port.to_string();
            let payload = secret_base64(&[
                "n,a=",
                user,
                ",\x01host=",
                host,
                "\x01port=",
                &port,
                "\x01auth=Bearer ",
                secret,
                "\x01\x01",
            ]);
            let line = secret_text(&["AUTH OAUTHBEARER ", &payload]);
            let reply = x.exchange(&Command::secret(line, shown))?;
            // RFC 7628 §3.2.3: after an error challenge the client sends %x01.
            after_oauth_error(x, mechanism, reply, "AQ==")
        }
        Mechanism::External => {
            // The identity is not secret; "=" asks for the one the TLS
            // client certificate establishes.
            let identity = credentials.map(|c| c.user.as_str()).unwrap_or_default();
            let identity = check_setting(identity, "user")?;
            let response = if identity.is_empty() {
                "=".to_owned()
            } else {
                B64.encode(identity)
            };
            let reply = x.exchange(&Command::line(format!("AUTH EXTERNAL {response}")))?;
            finish(mechanism, reply)
        }
        Mechanism::ScramSha1
        | Mechanism::ScramSha256
        | Mechanism::ScramSha1Plus
        | Mechanism::ScramSha256Plus => {
            let (user, secret) = need()?;
            let hash = mechanism.scram().map_or(ScramHash::Sha256, |(h, _)| h);
            if mechanism.is_channel_bound() && !matches!(binding, ChannelBinding::Bound { .. }) {
                return Err(SmtpError::new(
                    ErrorKind::AuthUnavailable,
                    format!("authentication method {mechanism} needs TLS channel binding"),
                ));
            }
            let (user, secret) = (saslprep(user), saslprep(secret));
            run_scram(x, mechanism, hash, &user, &secret, binding)
        }
    }
}

/// SASLprep (RFC 4013), which SCRAM requires for the user name and password (RFC
/// 5802 §5.1), as GNU SASL applies it for msmtp: non-ASCII spaces become spaces,
/// soft hyphens and the like vanish, NFKC (`Ⅸ` becomes `IX`). ASCII text is
/// unchanged. A string SASLprep refuses (control
/// characters, unassigned code points) is sent as it is: the server judges it.
fn saslprep(text: &str) -> zeroize::Zeroizing<String> {
    let prepared = stringprep::saslprep(text).map_or_else(|_| text.to_owned(), |p| p.into_owned());
    zeroize::Zeroizing::new(prepared)
}

/// RFC 5802 §5 over SMTP (RFC 4954): the client-first message as initial
/// response, the proof after the server's first challenge, then the server's
/// signature — as a 334 challenge answered with an empty line, or as the
/// additional data of the 235. A 235 without a signature that verifies is a
/// failure: the server has not shown that it knows the password.
fn run_scram(
    x: &mut dyn Exchange,
    mechanism: Mechanism,
    hash: ScramHash,
    user: &str,
    secret: &str,
    binding: ChannelBinding,
) -> Result<(), SmtpError> {
    let client = ScramClient::new(hash, user, binding, random_nonce()?);
    let first = B64.encode(client.first());
    let reply = x.exchange(&Command::secret(
        format!("AUTH {mechanism} {first}"),
        format!("AUTH {mechanism} [redacted]"),
    ))?;
    let server_first = decode_challenge(mechanism, expect_challenge(mechanism, reply)?)?;
    let (last, expected) = match client.last(&server_first, secret) {
        Ok(v) => v,
        Err(e) => return Err(cancel(x, mechanism, e)),
    };
    let reply = x.exchange(&Command::redacted(B64.encode(last)))?;
    let server_final = match reply.code() {
        334 => decode_challenge(mechanism, expect_challenge(mechanism, reply)?)?,
        235 => {
            // Some servers put the signature in the 235 text; none is an error.
            let text = reply.lines().first().cloned().unwrap_or_default();
            let Ok(signature) = B64.decode(text.trim()) else {
                return Err(scram_error(
                    mechanism,
                    ScramError::Malformed(
                        "the server accepted without sending its signature".into(),
                    ),
                ));
            };
            return expected
                .verify(&signature)
                .map_err(|e| scram_error(mechanism, e));
        }
        _ => return finish(mechanism, reply),
    };
    if let Err(e) = expected.verify(&server_final) {
        return Err(cancel(x, mechanism, e));
    }
    finish(mechanism, x.exchange(&Command::line(String::new()))?)
}

/// Ends an exchange that cannot go on with `*` (RFC 4954 §4), then reports `e`.
fn cancel(x: &mut dyn Exchange, mechanism: Mechanism, e: ScramError) -> SmtpError {
    // The server's answer to `*` (501) adds nothing; the reason is ours.
    let _ = x.exchange(&Command::line("*".to_owned()));
    scram_error(mechanism, e)
}

fn scram_error(mechanism: Mechanism, e: ScramError) -> SmtpError {
    match e {
        ScramError::Malformed(why) => SmtpError::new(
            ErrorKind::Protocol,
            format!("the server broke the {mechanism} exchange: {why}"),
        ),
        ScramError::ServerError(what) => SmtpError::new(
            ErrorKind::AuthFailed,
            format!("authentication failed (method {mechanism}): the server reports {what:?}"),
        ),
        // msmtp (GNU SASL) exits EX_NOPERM here too: the mutual
        // authentication failed, and nothing is sent to such a server.
        ScramError::BadServerSignature => SmtpError::new(
            ErrorKind::AuthFailed,
            format!(
                "authentication failed (method {mechanism}): the server's signature does not \
                 verify, so it does not know the password (a different server or a man in \
                 the middle); the message was not sent"
            ),
        ),
    }
}

fn decode_challenge(mechanism: Mechanism, text: String) -> Result<Vec<u8>, SmtpError> {
    B64.decode(text.trim()).map_err(|_| {
        SmtpError::new(
            ErrorKind::Protocol,
            format!("the server sent an invalid {mechanism} challenge (not base64)"),
        )
    })
}

/// 24 bytes from the operating system's generator (ring's, through rustls).
fn random_nonce() -> Result<String, SmtpError> {
    let mut bytes = [0u8; 24];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| SmtpError::new(ErrorKind::Io, "the system random generator failed"))?;
    Ok(scram::nonce(&bytes))
}

/// A 334 after the OAuth payload carries an error description (base64 JSON);
/// the exchange must be finished with a dummy response before the final reply.
fn after_oauth_error(
    x: &mut dyn Exchange,
    mechanism: Mechanism,
    reply: Reply,
    dummy: &str,
) -> Result<(), SmtpError> {
    if reply.code() != 334 {
        return finish(mechanism, reply);
    }
    let last = x.exchange(&Command::line(dummy.to_owned()))?;
    match finish(mechanism, last.clone()) {
        Ok(()) => Err(failed(mechanism, last)),
        Err(e) => Err(e),
    }
}

/// The base64 text of a 334 challenge, or the error for any other reply.
fn expect_challenge(mechanism: Mechanism, reply: Reply) -> Result<String, SmtpError> {
    if reply.code() == 334 {
        return Ok(reply.lines().first().cloned().unwrap_or_default());
    }
    Err(finish(mechanism, reply).err().unwrap_or_else(|| {
        SmtpError::new(
            ErrorKind::Protocol,
            format!("the server ended AUTH {mechanism} before the exchange was complete"),
        )
    }))
}

/// Judges the final reply (RFC 4954 §6): 235 success, 4xx temporary, any
/// 5xx (535, 534, 530, even 504) authentication failed — Debian's msmtp
/// exits 77 for all of them.
fn finish(mechanism: Mechanism, reply: Reply) -> Result<(), SmtpError> {
    match reply.code() {
        235 => Ok(()),
        c if reply.is_transient() => Err(SmtpError::rejected(
            Stage::Auth,
            tr!(
                "authentication failed temporarily (method {method}, code {code})",
                method = mechanism,
                code = c
            ),
            reply,
        )),
        _ if reply.is_permanent() => Err(failed(mechanism, reply)),
        _ => Err(SmtpError::new(
            ErrorKind::Protocol,
            format!("unexpected reply to AUTH {mechanism}: {reply}"),
        )
        .with_reply(reply)),
    }
}

fn failed(mechanism: Mechanism, reply: Reply) -> SmtpError {
    SmtpError::new(
        ErrorKind::AuthFailed,
        tr!(
            "authentication failed (method {method}): {reply}",
            method = mechanism,
            reply = reply
        ),
    )
    .with_reply(reply)
}

/// HMAC-MD5 of the challenge keyed with the password, lower-case hex (RFC 2195 §2).
fn cram_md5_digest(secret: &str, challenge: &[u8]) -> String {
    let mut mac = match Hmac::<md5::Md5>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length; this arm cannot be taken.
        Err(_) => return String::new(),
    };
    mac.update(challenge);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `parts` joined in a buffer of the exact size (no reallocation leaves a partial
/// copy behind), for text that holds a secret.
fn secret_text(parts: &[&str]) -> String {
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        text.push_str(part);
    }
    text
}

/// The base64 of `parts` joined; the joined plain text is overwritten before it is
/// freed, and the result is overwritten when dropped.
fn secret_base64(parts: &[&str]) -> zeroize::Zeroizing<String> {
    let plain = zeroize::Zeroizing::new(secret_text(parts));
    zeroize::Zeroizing::new(B64.encode(plain.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Recorded, Trace};

    /// A scripted server: replies in order, records what the trace would show
    /// and what went on the wire.
    struct Script {
        replies: Vec<Reply>,
        wire: Vec<String>,
        trace: Recorded,
    }

    impl Script {
        fn new(replies: &[(u16, &str)]) -> Script {
            Script {
                replies: replies
                    .iter()
                    .rev()
                    .map(|(c, t)| Reply::new(*c, vec![t.to_string()]))
                    .collect(),
                wire: vec![],
                trace: Recorded::default(),
            }
        }
    }

    impl Exchange for Script {
        fn exchange(&mut self, command: &Command) -> Result<Reply, SmtpError> {
            self.wire
                .push(String::from_utf8_lossy(command.wire()).into_owned());
            self.trace.sent(command.shown());
            self.replies
                .pop()
                .ok_or_else(|| SmtpError::new(ErrorKind::Io, "script exhausted"))
        }
    }

    fn creds() -> Credentials {
        Credentials::new("alice", "s3cr3t-pw")
    }

    /// [`authenticate`] with [`creds`] against `script`, host `h`, port 25, no binding.
    fn run(script: &mut Script, mechanism: Mechanism) -> Result<(), SmtpError> {
        authenticate(
            script,
            mechanism,
            Some(&creds()),
            "h",
            25,
            ChannelBinding::No,
        )
    }

    fn assert_no_secret(s: &Script) {
        let shown = s.trace.0.join("\n");
        for secret in ["s3cr3t-pw", &B64.encode("s3cr3t-pw"), &B64.encode("alice")] {
            assert!(!shown.contains(secret), "trace leaks {secret}: {shown}");
        }
        let plain = B64.encode("\0alice\0s3cr3t-pw");
        assert!(!shown.contains(&plain[..8]), "{shown}");
    }

    /// A NUL in the user would add a PLAIN field (RFC 4616: authzid NUL
    /// authcid NUL passwd); CR/LF would end EXTERNAL's line. Refused before
    /// anything is sent, whatever the mechanism.
    #[test]
    fn user_with_nul_or_line_break_is_refused_before_sending() {
        for user in ["admin\0alice", "alice\r\nRSET", "alice\n"] {
            for m in Mechanism::ALL {
                let mut s = Script::new(&[(334, ""), (334, ""), (235, "ok")]);
                let c = Credentials::new(user, "s3cr3t-pw");
                let e = authenticate(&mut s, m, Some(&c), "h", 25, ChannelBinding::No).unwrap_err();
                assert_eq!(
                    (e.kind(), e.exit_code().code()),
                    (&ErrorKind::InvalidSetting, 78)
                );
                assert!(s.wire.is_empty(), "{m}: {:?}", s.wire);
                assert!(!e.to_string().contains("s3cr3t"), "{e}");
            }
        }
    }

    #[test]
    fn plain() {
        let mut s = Script::new(&[(235, "ok")]);
        run(&mut s, Mechanism::Plain).unwrap();
        assert_eq!(
            s.wire,
            [format!(
                "AUTH PLAIN {}\r\n",
                B64.encode("\0alice\0s3cr3t-pw")
            )]
        );
        assert_eq!(s.trace.0, ["--> AUTH PLAIN [redacted]"]);
        assert_no_secret(&s);
    }

    #[test]
    fn login() {
        let mut s = Script::new(&[(334, "VXNlcm5hbWU6"), (334, "UGFzc3dvcmQ6"), (235, "ok")]);
        run(&mut s, Mechanism::Login).unwrap();
        assert_eq!(
            s.wire,
            [
                "AUTH LOGIN\r\n".to_owned(),
                format!("{}\r\n", B64.encode("alice")),
                format!("{}\r\n", B64.encode("s3cr3t-pw"))
            ]
        );
        assert_eq!(
            s.trace.0,
            ["--> AUTH LOGIN", "--> [redacted]", "--> [redacted]"]
        );
        assert_no_secret(&s);
    }

    #[test]
    fn cram_md5_rfc2195_example() {
        let challenge = B64.encode("<1896.697170952@postoffice.reston.mci.net>");
        let mut s = Script::new(&[(334, &challenge), (235, "ok")]);
        let c = Credentials::new("tim", "tanstaaftanstaaf");
        authenticate(
            &mut s,
            Mechanism::CramMd5,
            Some(&c),
            "h",
            25,
            ChannelBinding::No,
        )
        .unwrap();
        assert_eq!(
            s.wire[1],
            "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"
        );
        assert_eq!(s.trace.0, ["--> AUTH CRAM-MD5", "--> [redacted]"]);
    }

    #[test]
    fn cram_md5_bad_challenge_is_protocol_error() {
        let mut s = Script::new(&[(334, "!!not base64!!")]);
        let e = run(&mut s, Mechanism::CramMd5).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Protocol);
    }

    #[test]
    fn xoauth2_with_error_challenge() {
        let mut s = Script::new(&[
            (334, ""),
            (334, "eyJzdGF0dXMiOiI0MDEifQ=="),
            (535, "bad token"),
        ]);
        let e = run(&mut s, Mechanism::XOAuth2).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::AuthFailed);
        assert_eq!(e.exit_code(), 77);
        assert_eq!(
            s.wire[1],
            format!(
                "{}\r\n",
                B64.encode("user=alice\x01auth=Bearer s3cr3t-pw\x01\x01")
            )
        );
        assert_eq!(s.wire[2], "\r\n");
        assert_eq!(s.trace.0, ["--> AUTH XOAUTH2", "--> [redacted]", "--> "]);
        assert_no_secret(&s);
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn oauthbearer() {
        let mut s = Script::new(&[(235, "ok")]);
        authenticate(
            &mut s,
            Mechanism::OAuthBearer,
            Some(&creds()),
            "smtp.example",
            587,
            ChannelBinding::No,
        )
        .unwrap();
        let expected = B64
            .encode("n,a=alice,\x01host=smtp.example\x01port=587\x01auth=Bearer s3cr3t-pw\x01\x01");
        assert_eq!(s.wire, [format!("AUTH OAUTHBEARER {expected}\r\n")]);
        assert_eq!(s.trace.0, ["--> AUTH OAUTHBEARER [redacted]"]);
    }

    #[test]
    fn external() {
        let mut s = Script::new(&[(235, "ok")]);
        authenticate(
            &mut s,
            Mechanism::External,
            None,
            "h",
            25,
            ChannelBinding::No,
        )
        .unwrap();
        assert_eq!(s.wire, ["AUTH EXTERNAL =\r\n"]);
    }

    #[test]
    fn rejected_and_temporary_failures() {
        let mut s = Script::new(&[(535, "5.7.8 bad credentials")]);
        let e = run(&mut s, Mechanism::Plain).unwrap_err();
        assert_eq!(
            (e.kind(), e.exit_code().code(), e.is_transient()),
            (&ErrorKind::AuthFailed, 77, false)
        );
        assert_eq!(e.smtp_status(), Some((535, "5.7.8 bad credentials".into())));
        assert!(!e.to_string().contains("s3cr3t"));

        let mut s = Script::new(&[(454, "4.7.0 try later")]);
        let e = run(&mut s, Mechanism::Plain).unwrap_err();
        assert_eq!((e.exit_code().code(), e.is_transient()), (75, true));

        let mut s = Script::new(&[(504, "unrecognized")]);
        let e = run(&mut s, Mechanism::Login).unwrap_err();
        assert_eq!(
            (e.kind(), e.exit_code().code()),
            (&ErrorKind::AuthFailed, 77)
        );
    }

    #[test]
    fn missing_credentials() {
        let mut s = Script::new(&[]);
        let e =
            authenticate(&mut s, Mechanism::Plain, None, "h", 25, ChannelBinding::No).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::AuthUnavailable);
        assert!(s.wire.is_empty());
    }

    fn caps(mechs: &[&str]) -> Capabilities {
        Capabilities {
            auth: mechs.iter().map(|m| m.to_string()).collect(),
            ..Capabilities::default()
        }
    }

    #[test]
    fn automatic_choice_follows_msmtp() {
        let all = caps(&["LOGIN", "CRAM-MD5", "PLAIN", "XOAUTH2"]);
        assert_eq!(
            choose(Auth::Auto, &all, true, None).unwrap(),
            Some(Mechanism::Plain)
        );
        assert_eq!(
            choose(Auth::Auto, &all, false, None).unwrap(),
            Some(Mechanism::CramMd5)
        );
        let no_plain = caps(&["LOGIN", "CRAM-MD5"]);
        assert_eq!(
            choose(Auth::Auto, &no_plain, true, None).unwrap(),
            Some(Mechanism::CramMd5)
        );
        let login = caps(&["LOGIN", "XOAUTH2"]);
        assert_eq!(
            choose(Auth::Auto, &login, true, None).unwrap(),
            Some(Mechanism::Login)
        );
        let e = choose(Auth::Auto, &login, false, None).unwrap_err();
        assert_eq!(
            (e.kind(), e.exit_code().code()),
            (&ErrorKind::AuthUnavailable, 69)
        );
        let e = choose(Auth::Auto, &caps(&["XOAUTH2"]), true, None).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::AuthUnavailable);
        assert!(choose(Auth::Auto, &caps(&[]), true, None).is_err());
        assert_eq!(choose(Auth::Off, &all, true, None).unwrap(), None);
    }

    #[test]
    fn automatic_choice_prefers_scram_and_binding() {
        let all = caps(&[
            "PLAIN",
            "SCRAM-SHA-1",
            "SCRAM-SHA-256",
            "SCRAM-SHA-256-PLUS",
        ]);
        let pick = |tls, bind| choose(Auth::Auto, &all, tls, bind).unwrap();
        assert_eq!(
            pick(true, Some("tls-exporter")),
            Some(Mechanism::ScramSha256Plus)
        );
        // TLS 1.2: bound only when asked for (the server may know only tls-unique).
        assert_eq!(
            pick(true, Some("tls-server-end-point")),
            Some(Mechanism::ScramSha256)
        );
        let plus = Auth::Method(Mechanism::ScramSha256Plus);
        assert_eq!(
            choose(plus, &all, true, Some("tls-server-end-point")).unwrap(),
            Some(Mechanism::ScramSha256Plus)
        );
        assert_eq!(pick(true, None), Some(Mechanism::ScramSha256));
        assert_eq!(pick(false, None), Some(Mechanism::ScramSha256));
        let sha1 = caps(&["PLAIN", "SCRAM-SHA-1"]);
        assert_eq!(
            choose(Auth::Auto, &sha1, false, None).unwrap(),
            Some(Mechanism::ScramSha1)
        );
        let plus = Auth::Method(Mechanism::ScramSha256Plus);
        let e = choose(plus, &all, true, None).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::AuthUnavailable);
    }

    #[test]
    fn scram_gs2_flag_follows_the_offer() {
        let binding = || Some(("tls-exporter", vec![1u8; 32]));
        let offered = caps(&["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]);
        let plain_only = caps(&["SCRAM-SHA-256"]);
        assert!(matches!(
            channel_binding(Mechanism::ScramSha256Plus, &offered, binding()),
            ChannelBinding::Bound {
                kind: "tls-exporter",
                ..
            }
        ));
        assert!(channel_binding(Mechanism::ScramSha256, &offered, binding()) == ChannelBinding::No);
        assert!(
            channel_binding(Mechanism::ScramSha256, &plain_only, binding())
                == ChannelBinding::NotOffered
        );
        assert!(channel_binding(Mechanism::ScramSha256, &plain_only, None) == ChannelBinding::No);
    }

    #[test]
    fn explicit_choice() {
        let c = caps(&["PLAIN", "XOAUTH2"]);
        let xo = Auth::Method(Mechanism::XOAuth2);
        assert_eq!(
            choose(xo, &c, true, None).unwrap(),
            Some(Mechanism::XOAuth2)
        );
        // Explicit PLAIN is allowed without TLS, as in msmtp.
        assert_eq!(
            choose(Auth::Method(Mechanism::Plain), &c, false, None).unwrap(),
            Some(Mechanism::Plain)
        );
        let e = choose(Auth::Method(Mechanism::Login), &c, true, None).unwrap_err();
        assert!(e.to_string().contains("LOGIN"), "{e}");
    }

    #[test]
    fn mechanism_names() {
        for m in Mechanism::ALL {
            assert_eq!(m.name().to_lowercase().parse::<Mechanism>(), Ok(m));
        }
        assert!("ntlm".parse::<Mechanism>().is_err());
    }
}
