//! The syntax of every command: [`Account::set`] is the single setter the
//! file parser and the command-line overrides both go through, with msmtp's
//! rules for each argument (empty on/off means on, `~` in file names, numbers
//! as strtol base 0) and its error wording, plus a "did you mean" for typos.

use rsmtp_core::tr;
use std::path::PathBuf;

use crate::account::Account;
use crate::command_defs::{Command, COMMAND_DEFS};
use crate::error::{ConfigError, Source};
use crate::expand;
use crate::value::{
    parse_dsn_notify, parse_duration, parse_pos_int, Auth, AuthMethod, DsnReturn, Fingerprint,
    HeaderPolicy, LogFile, OAuthFlow, OAuthProvider, Protocol, QueueMode, SetToHeader,
    SyslogFacility, Timeout, TrustFile, DEFAULT_QUEUE_EXPIRE,
};
use rsmtp_core::Secret;

fn on_off(arg: &str, at: &Source, command: &str) -> Result<bool, ConfigError> {
    match arg {
        "" | "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(invalid(arg, command, "on or off", at)),
    }
}

fn invalid(arg: &str, command: &str, expected: &str, at: &Source) -> ConfigError {
    ConfigError::syntax(
        at,
        tr!(
            "invalid argument '{argument}' for command {command} (expected {expected})",
            argument = arg,
            command = command,
            expected = expected
        ),
    )
}

fn needs_argument(command: &str, at: &Source) -> ConfigError {
    ConfigError::syntax(
        at,
        tr!("command {command} needs an argument", command = command),
    )
}

fn opt_string(arg: &str) -> Option<String> {
    (!arg.is_empty()).then(|| arg.to_string())
}

fn opt_path(arg: &str) -> Option<PathBuf> {
    (!arg.is_empty()).then(|| expand::expand_tilde(arg))
}

fn port_number(arg: &str, command: &str, at: &Source) -> Result<u16, ConfigError> {
    parse_pos_int(arg)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| invalid(arg, command, "a port number 1-65535", at))
}

/// The closest known command to a misspelt one, for "did you mean".
fn suggestion(command: &str) -> Option<&'static str> {
    let lower = command.to_ascii_lowercase().replace('-', "_");
    let known = COMMAND_DEFS
        .iter()
        .filter(|d| !d.legacy)
        .map(|d| d.name)
        .chain(["account", "defaults", "eval"]);
    crate::suggest::closest(&lower, known)
}

/// `auto` or `off` (`set_date_header`, `set_msgid_header`).
fn auto_or_off(arg: &str, command: &str, at: &Source) -> Result<HeaderPolicy, ConfigError> {
    match arg {
        "" | "auto" => Ok(HeaderPolicy::Auto),
        "off" => Ok(HeaderPolicy::Off),
        _ => Err(invalid(arg, command, "auto or off", at)),
    }
}

/// What a legacy spelling's argument means in its command's own terms:
/// `keepbcc on` is `remove_bcc_headers off`, `tls_nostarttls` is `tls_starttls off`.
/// A spelling whose argument means the same (`connect_timeout`) keeps it.
fn legacy_argument<'a>(command: &str, arg: &'a str, at: &Source) -> Result<&'a str, ConfigError> {
    let on = |arg| on_off(arg, at, command);
    Ok(match command {
        "tls_nostarttls" | "tls_nocertcheck" if !arg.is_empty() => {
            return Err(ConfigError::syntax(
                at,
                tr!(
                    "command {command} does not take an argument",
                    command = command
                ),
            ))
        }
        "tls_nostarttls" | "tls_nocertcheck" => "off",
        "add_missing_from_header" | "add_missing_date_header" if on(arg)? => "auto",
        "add_missing_from_header" | "add_missing_date_header" => "off",
        "undisclosed_recipients" if on(arg)? => "undisclosed_recipients",
        "undisclosed_recipients" => "off",
        "keepbcc" if on(arg)? => "off",
        "keepbcc" => "on",
        _ => arg,
    })
}

/// At most 64 characters of a word from the input, for an error message.
pub(crate) fn shown(word: &str) -> String {
    match word.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &word[..i]),
        None => word.to_string(),
    }
}

impl Account {
    /// Set one command from a file line or an override. This is the single
    /// place that knows each command's syntax (msmtp's `read_conffile()`).
    pub(crate) fn set(&mut self, command: &str, arg: &str, at: &Source) -> Result<(), ConfigError> {
        let Some(def) = crate::command_defs::lookup(command) else {
            let message = match suggestion(command) {
                Some(s) => tr!(
                    "unknown command '{command}' (did you mean '{suggestion}'?)",
                    command = shown(command),
                    suggestion = s
                ),
                None => tr!("unknown command '{command}'", command = shown(command)),
            };
            return Err(ConfigError::syntax(at, message));
        };
        // `tls_force_sslv3` (msmtp <= 1.4.32) sets nothing, ignored by msmtp too.
        let Some(key) = def.sets else {
            return Ok(());
        };
        let legacy;
        let arg = if def.legacy {
            legacy = legacy_argument(command, arg, at)?;
            legacy
        } else {
            arg
        };
        match key {
            Command::Host => {
                if arg.is_empty() {
                    return Err(needs_argument(command, at));
                }
                self.host = Some(arg.to_string());
            }
            Command::Port => {
                if arg.is_empty() {
                    return Err(needs_argument(command, at));
                }
                self.port = Some(port_number(arg, command, at)?);
            }
            Command::Timeout => {
                self.timeout =
                    match arg {
                        "" => return Err(needs_argument(command, at)),
                        "off" => Timeout::Off,
                        _ => Timeout::Seconds(parse_pos_int(arg).ok_or_else(|| {
                            invalid(arg, command, "off or a number of seconds", at)
                        })?),
                    };
            }
            Command::Protocol => {
                self.protocol = match arg {
                    "" => return Err(needs_argument(command, at)),
                    "smtp" => Protocol::Smtp,
                    "lmtp" => Protocol::Lmtp,
                    _ => return Err(invalid(arg, command, "smtp or lmtp", at)),
                };
            }
            Command::Domain => self.domain = arg.to_string(),
            Command::From => self.from = Some(arg.to_string()),
            Command::FromFullName => self.from_full_name = opt_string(arg),
            Command::AllowFromOverride => {
                self.allow_from_override = match arg {
                    "on" => true,
                    "off" => false,
                    _ => return Err(invalid(arg, command, "on or off", at)),
                };
            }
            Command::Auth => {
                self.auth = match arg {
                    "" | "on" => Auth::Auto,
                    "off" => Auth::Off,
                    _ => Auth::Method(AuthMethod::parse(arg).ok_or_else(|| {
                        invalid(
                            arg,
                            command,
                            "on, off, plain, login, cram-md5, xoauth2, oauthbearer or external",
                            at,
                        )
                    })?),
                };
            }
            Command::User => self.user = opt_string(arg),
            Command::Password => self.password = opt_string(arg).map(Secret::new),
            Command::Passwordeval => self.passwordeval = opt_string(arg),
            Command::Ntlmdomain => self.ntlmdomain = opt_string(arg),
            Command::Tls => self.tls = on_off(arg, at, command)?,
            Command::TlsStarttls => self.tls_starttls = on_off(arg, at, command)?,
            Command::TlsKeyFile => self.tls_key_file = opt_path(arg),
            Command::TlsCertFile => self.tls_cert_file = opt_path(arg),
            Command::TlsTrustFile => {
                self.tls_trust_file = match arg {
                    "" => None,
                    "system" => Some(TrustFile::System),
                    _ => Some(TrustFile::File(expand::expand_tilde(arg))),
                };
            }
            Command::TlsCrlFile => self.tls_crl_file = opt_path(arg),
            Command::TlsFingerprint => {
                self.tls_fingerprint = if arg.is_empty() {
                    None
                } else {
                    Some(Fingerprint::parse(arg).ok_or_else(|| {
                        invalid(
                            arg,
                            command,
                            "a SHA256 fingerprint like 01:23:…:EF (32 hex pairs)",
                            at,
                        )
                    })?)
                };
            }
            Command::TlsCertcheck => self.tls_certcheck = on_off(arg, at, command)?,
            Command::TlsMinDhPrimeBits => {
                self.tls_min_dh_prime_bits = if arg.is_empty() {
                    None
                } else {
                    Some(
                        parse_pos_int(arg)
                            .ok_or_else(|| invalid(arg, command, "a number of bits", at))?,
                    )
                };
            }
            Command::TlsPriorities => self.tls_priorities = opt_string(arg),
            Command::TlsHostOverride => self.tls_host_override = opt_string(arg),
            Command::DsnReturn => {
                self.dsn_return = match arg {
                    "" => return Err(needs_argument(command, at)),
                    "off" => None,
                    "headers" => Some(DsnReturn::Headers),
                    "full" => Some(DsnReturn::Full),
                    _ => return Err(invalid(arg, command, "off, headers or full", at)),
                };
            }
            Command::DsnNotify => {
                self.dsn_notify = match arg {
                    "" => return Err(needs_argument(command, at)),
                    "off" => None,
                    _ => Some(parse_dsn_notify(arg).ok_or_else(|| {
                        invalid(
                            arg,
                            command,
                            "off, never, or a comma-separated list of failure, delay, success",
                            at,
                        )
                    })?),
                };
            }
            Command::Logfile => {
                self.logfile = match arg {
                    "" => None,
                    "-" => Some(LogFile::Stdout),
                    _ => Some(LogFile::File(expand::expand_tilde(arg))),
                };
            }
            Command::LogfileTimeFormat => self.logfile_time_format = opt_string(arg),
            Command::Syslog => {
                self.syslog = match arg {
                    "" | "on" => Some(SyslogFacility::User),
                    "off" => None,
                    _ => Some(SyslogFacility::parse(arg).ok_or_else(|| {
                        invalid(
                            arg,
                            command,
                            "on, off, LOG_USER, LOG_MAIL or LOG_LOCAL0..LOG_LOCAL7",
                            at,
                        )
                    })?),
                };
            }
            Command::Aliases => self.aliases = opt_path(arg),
            Command::ProxyHost => self.proxy_host = opt_string(arg),
            Command::ProxyPort => {
                self.proxy_port = if arg.is_empty() {
                    None
                } else {
                    Some(port_number(arg, command, at)?)
                };
            }
            Command::SetFromHeader => {
                self.set_from_header = match arg {
                    "" | "auto" => HeaderPolicy::Auto,
                    "on" => HeaderPolicy::On,
                    "off" => HeaderPolicy::Off,
                    _ => return Err(invalid(arg, command, "auto, on or off", at)),
                };
            }
            Command::SetDateHeader => self.set_date_header = auto_or_off(arg, command, at)?,
            Command::SetMsgidHeader => self.set_msgid_header = auto_or_off(arg, command, at)?,
            Command::SetToHeader => {
                self.set_to_header = match arg {
                    "" | "on" => SetToHeader::On,
                    "off" => SetToHeader::Off,
                    "undisclosed_recipients" => SetToHeader::UndisclosedRecipients,
                    _ => {
                        return Err(invalid(
                            arg,
                            command,
                            "on, off or undisclosed_recipients",
                            at,
                        ))
                    }
                };
            }
            Command::RemoveBccHeaders => self.remove_bcc_headers = on_off(arg, at, command)?,
            Command::SourceIp => self.source_ip = opt_string(arg),
            Command::Socket => self.socket = opt_path(arg),
            Command::AutoFrom => self.auto_from = on_off(arg, at, command)?,
            Command::Maildomain => self.maildomain = Some(arg.to_string()),
            Command::Queue => {
                self.queue = match arg {
                    "" => return Err(needs_argument(command, at)),
                    "off" => QueueMode::Off,
                    "fallback" => QueueMode::Fallback,
                    "always" => QueueMode::Always,
                    _ => return Err(invalid(arg, command, "off, fallback or always", at)),
                };
            }
            Command::QueueDir => self.queue_dir = opt_path(arg),
            Command::QueueExpire => {
                self.queue_expire = if arg.is_empty() {
                    DEFAULT_QUEUE_EXPIRE
                } else {
                    parse_duration(arg).ok_or_else(|| {
                        invalid(arg, command, "a duration such as 3600, 30m, 12h or 5d", at)
                    })?
                };
            }
            Command::QueueRetryFor => {
                self.queue_retry_for = if arg.is_empty() {
                    None
                } else {
                    Some(parse_duration(arg).ok_or_else(|| {
                        invalid(arg, command, "a duration such as 3600, 30m, 12h or 5d", at)
                    })?)
                };
            }
            Command::QueueNotify => self.queue_notify = opt_string(arg),
            Command::Oauth2Flow => {
                self.oauth2_flow = match arg {
                    "" | "off" => None,
                    "client_credentials" => Some(OAuthFlow::ClientCredentials),
                    "device" => Some(OAuthFlow::Device),
                    "authcode" => Some(OAuthFlow::AuthCode),
                    _ => {
                        return Err(invalid(
                            arg,
                            command,
                            "client_credentials, device, authcode or off",
                            at,
                        ))
                    }
                };
            }
            Command::Oauth2Provider => {
                self.oauth2_provider = match arg {
                    "" => None,
                    "microsoft" => Some(OAuthProvider::Microsoft),
                    "google" => Some(OAuthProvider::Google),
                    _ => return Err(invalid(arg, command, "microsoft or google", at)),
                };
            }
            Command::Oauth2Tenant => self.oauth2_tenant = opt_string(arg),
            Command::Oauth2TokenUrl => self.oauth2_token_url = opt_string(arg),
            Command::Oauth2DeviceUrl => self.oauth2_device_url = opt_string(arg),
            Command::Oauth2AuthUrl => self.oauth2_auth_url = opt_string(arg),
            Command::Oauth2RedirectPort => {
                self.oauth2_redirect_port = if arg.is_empty() {
                    None
                } else {
                    Some(port_number(arg, command, at)?)
                };
            }
            Command::Oauth2ClientId => self.oauth2_client_id = opt_string(arg),
            Command::Oauth2ClientSecret => {
                self.oauth2_client_secret = opt_string(arg).map(Secret::new)
            }
            Command::Oauth2ClientSecretEval => self.oauth2_client_secret_eval = opt_string(arg),
            Command::Oauth2Scope => self.oauth2_scope = opt_string(arg),
        }
        self.sources.insert(key.name(), at.clone());
        self.explicit.insert(key.name());
        Ok(())
    }
}
