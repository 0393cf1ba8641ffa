//! The typed values of account settings (auth method, fingerprint, syslog
//! facility, …) and the small parsers msmtp uses for numbers and durations.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// rsmtp's default network timeout when the configuration says nothing.
/// msmtp's default is "off" (wait forever, which hangs cron jobs); rsmtp waits
/// at most this long for any network operation unless `timeout off` is given.
pub const DEFAULT_TIMEOUT_SECS: u32 = 60;

/// Default lifetime of a queued message (`queue_expire`): five days.
pub const DEFAULT_QUEUE_EXPIRE: Duration = Duration::from_secs(5 * 24 * 3600);

/// `timeout (off|seconds)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// `timeout off`: no timeout (the operating system's).
    Off,
    /// A timeout in seconds (> 0).
    Seconds(u32),
}

impl Timeout {
    /// The timeout as a `Duration`, `None` for off.
    pub fn duration(self) -> Option<Duration> {
        match self {
            Timeout::Off => None,
            Timeout::Seconds(s) => Some(Duration::from_secs(u64::from(s))),
        }
    }
}

impl Default for Timeout {
    fn default() -> Self {
        Timeout::Seconds(DEFAULT_TIMEOUT_SECS)
    }
}

/// `protocol (smtp|lmtp)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// SMTP (the default).
    #[default]
    Smtp,
    /// LMTP (RFC 2033): LHLO, one reply per recipient after the data; no default port.
    Lmtp,
}

/// An authentication method named with `auth METHOD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `plain`
    Plain,
    /// `login`
    Login,
    /// `cram-md5`
    CramMd5,
    /// `xoauth2`
    XOAuth2,
    /// `oauthbearer`
    OAuthBearer,
    /// `scram-sha-1` (RFC 5802)
    ScramSha1,
    /// `scram-sha-256` (RFC 7677)
    ScramSha256,
    /// `scram-sha-1-plus` (msmtp ≥ 1.8.26; tls-exporter channel binding)
    ScramSha1Plus,
    /// `scram-sha-256-plus` (msmtp ≥ 1.8.26; tls-exporter channel binding)
    ScramSha256Plus,
    /// `gssapi` (not supported by rsmtp)
    Gssapi,
    /// `external` (RFC 4422: the identity of the TLS client certificate)
    External,
    /// `digest-md5` (not supported by rsmtp)
    DigestMd5,
    /// `ntlm` (not supported by rsmtp)
    Ntlm,
}

impl AuthMethod {
    const ALL: [AuthMethod; 13] = [
        AuthMethod::Plain,
        AuthMethod::Login,
        AuthMethod::CramMd5,
        AuthMethod::XOAuth2,
        AuthMethod::OAuthBearer,
        AuthMethod::ScramSha1,
        AuthMethod::ScramSha256,
        AuthMethod::ScramSha1Plus,
        AuthMethod::ScramSha256Plus,
        AuthMethod::Gssapi,
        AuthMethod::External,
        AuthMethod::DigestMd5,
        AuthMethod::Ntlm,
    ];

    /// The msmtprc spelling (lower case, as msmtp requires).
    pub fn keyword(self) -> &'static str {
        match self {
            AuthMethod::Plain => "plain",
            AuthMethod::Login => "login",
            AuthMethod::CramMd5 => "cram-md5",
            AuthMethod::XOAuth2 => "xoauth2",
            AuthMethod::OAuthBearer => "oauthbearer",
            AuthMethod::ScramSha1 => "scram-sha-1",
            AuthMethod::ScramSha256 => "scram-sha-256",
            AuthMethod::ScramSha1Plus => "scram-sha-1-plus",
            AuthMethod::ScramSha256Plus => "scram-sha-256-plus",
            AuthMethod::Gssapi => "gssapi",
            AuthMethod::External => "external",
            AuthMethod::DigestMd5 => "digest-md5",
            AuthMethod::Ntlm => "ntlm",
        }
    }

    /// The SASL mechanism name as sent in `AUTH` (upper case).
    pub fn sasl_name(self) -> String {
        self.keyword().to_ascii_uppercase()
    }

    /// Parse the msmtprc spelling; msmtp accepts lower case only.
    pub fn parse(s: &str) -> Option<Self> {
        AuthMethod::ALL.into_iter().find(|m| m.keyword() == s)
    }

    /// Whether rsmtp implements this method.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            AuthMethod::Plain
                | AuthMethod::Login
                | AuthMethod::CramMd5
                | AuthMethod::XOAuth2
                | AuthMethod::OAuthBearer
                | AuthMethod::External
                | AuthMethod::ScramSha1
                | AuthMethod::ScramSha256
                | AuthMethod::ScramSha1Plus
                | AuthMethod::ScramSha256Plus
        )
    }
}

/// `auth [(on|off|method)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auth {
    /// No authentication (the default).
    #[default]
    Off,
    /// `auth on` / `auth`: choose the best method the server offers.
    Auto,
    /// A fixed method.
    Method(AuthMethod),
}

impl Auth {
    /// Whether authentication is wanted at all.
    pub fn is_on(self) -> bool {
        !matches!(self, Auth::Off)
    }
}

/// `tls_trust_file (system|file)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustFile {
    /// The operating system's CA bundle (msmtp's default).
    System,
    /// A PEM file of trusted CAs.
    File(PathBuf),
}

impl fmt::Display for TrustFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustFile::System => f.write_str("system"),
            TrustFile::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// `tls_fingerprint`: one type with the TLS verifier that checks it.
pub use rsmtp_core::Fingerprint;

/// `dsn_return (off|headers|full)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnReturn {
    /// `headers`: RET=HDRS.
    Headers,
    /// `full`: RET=FULL.
    Full,
}

impl DsnReturn {
    /// The ESMTP `RET=` value.
    pub fn keyword(self) -> &'static str {
        match self {
            DsnReturn::Headers => "HDRS",
            DsnReturn::Full => "FULL",
        }
    }
}

/// `set_from_header`, `set_date_header`, `set_msgid_header`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderPolicy {
    /// Add the header when the mail has none (the default).
    #[default]
    Auto,
    /// Always set it, replacing an existing one (`set_from_header on` only).
    On,
    /// Never add it.
    Off,
}

impl fmt::Display for HeaderPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeaderPolicy::Auto => "auto",
            HeaderPolicy::On => "on",
            HeaderPolicy::Off => "off",
        })
    }
}

/// `set_to_header (on|off|undisclosed_recipients)` (msmtp ≥ 1.8.29), and the
/// older `undisclosed_recipients (on|off)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetToHeader {
    /// Leave To/Cc alone (the default).
    #[default]
    Off,
    /// Replace To with the envelope recipients.
    On,
    /// Remove To/Cc/Bcc and add `To: undisclosed-recipients:;`.
    UndisclosedRecipients,
}

/// `logfile (file|-)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFile {
    /// `logfile -`: standard output.
    Stdout,
    /// A file, appended to.
    File(PathBuf),
}

impl fmt::Display for LogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogFile::Stdout => f.write_str("-"),
            LogFile::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// `syslog (on|off|facility)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogFacility {
    /// `LOG_USER` (what `syslog on` means).
    User,
    /// `LOG_MAIL`.
    Mail,
    /// `LOG_LOCAL0` … `LOG_LOCAL7`.
    Local(u8),
}

impl SyslogFacility {
    /// Parse `LOG_USER`, `LOG_MAIL`, `LOG_LOCAL0`…`LOG_LOCAL7` (exact case).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LOG_USER" => Some(SyslogFacility::User),
            "LOG_MAIL" => Some(SyslogFacility::Mail),
            _ => {
                let n = s.strip_prefix("LOG_LOCAL")?;
                match n.as_bytes() {
                    [d @ b'0'..=b'7'] => Some(SyslogFacility::Local(d - b'0')),
                    _ => None,
                }
            }
        }
    }

    /// The syslog(3) facility code (`LOG_USER` = 8, …).
    pub fn code(self) -> i32 {
        match self {
            SyslogFacility::User => 1 << 3,
            SyslogFacility::Mail => 2 << 3,
            SyslogFacility::Local(n) => (16 + i32::from(n)) << 3,
        }
    }
}

impl fmt::Display for SyslogFacility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyslogFacility::User => f.write_str("LOG_USER"),
            SyslogFacility::Mail => f.write_str("LOG_MAIL"),
            SyslogFacility::Local(n) => write!(f, "LOG_LOCAL{n}"),
        }
    }
}

/// rsmtp's `queue (off|fallback|always)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueMode {
    /// Deliver now or fail, like msmtp (the default).
    #[default]
    Off,
    /// Deliver now; on a temporary failure keep the message in the queue.
    Fallback,
    /// Always queue; a later `rsmtp --flush` (or the next send) delivers.
    Always,
}

impl fmt::Display for QueueMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueueMode::Off => "off",
            QueueMode::Fallback => "fallback",
            QueueMode::Always => "always",
        })
    }
}

/// rsmtp's `oauth2_flow`: how the account gets its OAuth 2.0 access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthFlow {
    /// `client_credentials` (RFC 6749 §4.4): the application's own identity, no user
    /// (Microsoft's app-only `SMTP.SendAsApp`). Nothing to log in to.
    ClientCredentials,
    /// `device` (RFC 8628): `rsmtp --oauth-login` shows a code to enter on another device.
    Device,
    /// `authcode` (RFC 6749 §4.1 with PKCE, RFC 7636; loopback redirect, RFC 8252).
    AuthCode,
}

impl OAuthFlow {
    /// The msmtprc spelling.
    pub fn keyword(self) -> &'static str {
        match self {
            OAuthFlow::ClientCredentials => "client_credentials",
            OAuthFlow::Device => "device",
            OAuthFlow::AuthCode => "authcode",
        }
    }

    /// Whether a person must log in once (`rsmtp --oauth-login`) before sending.
    pub fn needs_login(self) -> bool {
        !matches!(self, OAuthFlow::ClientCredentials)
    }
}

impl fmt::Display for OAuthFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// rsmtp's `oauth2_provider`: a shorthand that fills the endpoints and the default
/// scope of a well-known identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthProvider {
    /// Microsoft Entra ID (Microsoft 365, Outlook.com); `oauth2_tenant` names the tenant.
    Microsoft,
    /// Google (Gmail, Google Workspace).
    Google,
}

impl OAuthProvider {
    /// The msmtprc spelling.
    pub fn keyword(self) -> &'static str {
        match self {
            OAuthProvider::Microsoft => "microsoft",
            OAuthProvider::Google => "google",
        }
    }

    /// The token endpoint; `tenant` matters for Microsoft only (`common` when unset
    /// for the user flows, which any tenant's user may use; app-only tokens need
    /// the tenant).
    pub fn token_url(self, tenant: &str) -> String {
        match self {
            OAuthProvider::Microsoft => {
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
            }
            OAuthProvider::Google => "https://oauth2.googleapis.com/token".to_string(),
        }
    }

    /// The device authorization endpoint (RFC 8628 §3.1).
    pub fn device_url(self, tenant: &str) -> String {
        match self {
            OAuthProvider::Microsoft => {
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode")
            }
            OAuthProvider::Google => "https://oauth2.googleapis.com/device/code".to_string(),
        }
    }

    /// The authorization endpoint (RFC 6749 §3.1).
    pub fn auth_url(self, tenant: &str) -> String {
        match self {
            OAuthProvider::Microsoft => {
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize")
            }
            OAuthProvider::Google => "https://accounts.google.com/o/oauth2/v2/auth".to_string(),
        }
    }

    /// The scope to ask for with `flow`: Microsoft's app-only `.default` for client
    /// credentials, else `SMTP.Send` plus `offline_access` (for a refresh token);
    /// Google's full mail scope (the only one its SMTP server takes).
    pub fn default_scope(self, flow: OAuthFlow) -> &'static str {
        match (self, flow) {
            (OAuthProvider::Microsoft, OAuthFlow::ClientCredentials) => {
                "https://outlook.office365.com/.default"
            }
            (OAuthProvider::Microsoft, _) => "https://outlook.office.com/SMTP.Send offline_access",
            (OAuthProvider::Google, _) => "https://mail.google.com/",
        }
    }

    /// The flow used when `oauth2_flow` is not set: Microsoft's device code (works on a
    /// headless server); Google's authorization code (its device flow refuses the mail
    /// scope).
    pub fn default_flow(self) -> OAuthFlow {
        match self {
            OAuthProvider::Microsoft => OAuthFlow::Device,
            OAuthProvider::Google => OAuthFlow::AuthCode,
        }
    }
}

impl fmt::Display for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// msmtp's `get_pos_int()`: `strtol(s, &end, 0)` — decimal, `0x` hex or
/// leading-`0` octal, optional sign — that must be > 0, fit an `int` and have
/// no trailing characters.
pub(crate) fn parse_pos_int(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'+') => (false, &t[1..]),
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, h)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || neg {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    if v == 0 || v > i32::MAX as u64 {
        return None;
    }
    u32::try_from(v).ok()
}

/// A duration for `queue_expire`, `queue_retry_for`, `-q15m` and `--queue-check`: see
/// [`read_duration`]. Must be > 0.
pub fn parse_duration(s: &str) -> Option<Duration> {
    read_duration(s).ok().filter(|d| !d.is_zero())
}

/// Parse a duration: one or more `<number><unit>` groups, units `s m h d w`; a bare number
/// is seconds. `1h30m` is ninety minutes.
pub fn read_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => {
                return Err(format!(
                    "invalid duration `{text}` (use e.g. 30s, 90m, 26h, 2d)"
                ))
            }
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("invalid duration `{text}`: a number must precede `{c}`"))?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration `{text}` is too large"))?;
    }
    if !digits.is_empty() {
        return Err(format!(
            "invalid duration `{text}`: the last number has no unit (s, m, h, d, w)"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// Format a duration the way `queue_expire` accepts it back.
pub(crate) fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, len) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if (s / len) * len == s {
            return format!("{}{unit}", s / len);
        }
    }
    format!("{s}s")
}

/// msmtp's `check_dsn_notify_arg()`: `never`, or a comma-separated list of
/// `failure`, `delay`, `success` (no spaces). Returns the upper-cased value.
pub(crate) fn parse_dsn_notify(s: &str) -> Option<String> {
    if s != "never" {
        let parts: Vec<&str> = s.split(',').collect();
        let mut seen = Vec::new();
        for p in &parts {
            if !matches!(*p, "failure" | "delay" | "success") || seen.contains(p) {
                return None;
            }
            seen.push(p);
        }
    }
    Some(s.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pos_int_follows_strtol_base_0() {
        assert_eq!(parse_pos_int("587"), Some(587));
        assert_eq!(parse_pos_int("0x10"), Some(16));
        assert_eq!(parse_pos_int("010"), Some(8));
        assert_eq!(parse_pos_int("+5"), Some(5));
        assert_eq!(parse_pos_int("0"), None);
        assert_eq!(parse_pos_int("-1"), None);
        assert_eq!(parse_pos_int("5s"), None);
        assert_eq!(parse_pos_int(""), None);
        assert_eq!(parse_pos_int("09"), None);
        assert_eq!(parse_pos_int("99999999999"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("12h"), Some(Duration::from_secs(43200)));
        assert_eq!(parse_duration("5d"), Some(Duration::from_secs(432_000)));
        assert_eq!(parse_duration("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1w"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("0"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(format_duration(Duration::from_secs(432_000)), "5d");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    }

    #[test]
    fn dsn_notify_rules() {
        assert_eq!(parse_dsn_notify("never").as_deref(), Some("NEVER"));
        assert_eq!(
            parse_dsn_notify("failure,delay").as_deref(),
            Some("FAILURE,DELAY")
        );
        assert_eq!(parse_dsn_notify("failure,,"), None);
        assert_eq!(parse_dsn_notify("failure, delay"), None);
        assert_eq!(parse_dsn_notify("failure,failure"), None);
        assert_eq!(parse_dsn_notify("bogus"), None);
    }

    #[test]
    fn syslog_facilities() {
        assert_eq!(
            SyslogFacility::parse("LOG_MAIL"),
            Some(SyslogFacility::Mail)
        );
        assert_eq!(
            SyslogFacility::parse("LOG_LOCAL7"),
            Some(SyslogFacility::Local(7))
        );
        assert_eq!(SyslogFacility::parse("LOG_LOCAL8"), None);
        assert_eq!(SyslogFacility::parse("log_mail"), None);
        assert_eq!(SyslogFacility::Local(3).to_string(), "LOG_LOCAL3");
    }

    #[test]
    fn auth_methods() {
        assert_eq!(AuthMethod::parse("cram-md5"), Some(AuthMethod::CramMd5));
        assert_eq!(AuthMethod::parse("PLAIN"), None);
        assert!(AuthMethod::Plain.is_supported());
        assert!(!AuthMethod::Ntlm.is_supported());
        assert_eq!(AuthMethod::ScramSha1.sasl_name(), "SCRAM-SHA-1");
    }
}
