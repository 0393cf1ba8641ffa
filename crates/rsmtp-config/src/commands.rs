//! The syntax of every command: [`Account::set`] is the single setter the
//! file parser and the command-line overrides both go through, with msmtp's
//! rules for each argument (empty on/off means on, `~` in file names, numbers
//! as strtol base 0) and its error wording, plus a "did you mean" for typos.

use rsmtp_core::tr;
use std::path::PathBuf;

use crate::account::{canonical_command, Account, COMMANDS};
use crate::error::{ConfigError, Source};
use crate::expand;
use crate::password::Secret;
use crate::value::{
    parse_dsn_notify, parse_duration, parse_pos_int, Auth, AuthMethod, DsnReturn, Fingerprint,
    HeaderPolicy, LogFile, OAuthFlow, OAuthProvider, Protocol, QueueMode, SetToHeader,
    SyslogFacility, Timeout, TrustFile, DEFAULT_QUEUE_EXPIRE,
};

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
    let known = COMMANDS
        .iter()
        .chain(["account", "defaults", "eval"].iter());
    crate::suggest::closest(&lower, known.copied())
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
        if command == "tls_force_sslv3" {
            // msmtp ≤ 1.4.32 option, silently ignored by msmtp too.
            return Ok(());
        }
        let Some(key) = canonical_command(command) else {
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
        match command {
            "host" => {
                if arg.is_empty() {
                    return Err(needs_argument(command, at));
                }
                self.host = Some(arg.to_string());
            }
            "port" => {
                if arg.is_empty() {
                    return Err(needs_argument(command, at));
                }
                self.port = Some(port_number(arg, command, at)?);
            }
            "timeout" | "connect_timeout" => {
                self.timeout =
                    match arg {
                        "" => return Err(needs_argument(command, at)),
                        "off" => Timeout::Off,
                        _ => Timeout::Seconds(parse_pos_int(arg).ok_or_else(|| {
                            invalid(arg, command, "off or a number of seconds", at)
                        })?),
                    };
            }
            "protocol" => {
                self.protocol = match arg {
                    "" => return Err(needs_argument(command, at)),
                    "smtp" => Protocol::Smtp,
                    "lmtp" => Protocol::Lmtp,
                    _ => return Err(invalid(arg, command, "smtp or lmtp", at)),
                };
            }
            "domain" => self.domain = arg.to_string(),
            "from" => self.from = Some(arg.to_string()),
            "from_full_name" => self.from_full_name = opt_string(arg),
            "allow_from_override" => {
                self.allow_from_override = match arg {
                    "on" => true,
                    "off" => false,
                    _ => return Err(invalid(arg, command, "on or off", at)),
                };
            }
            "auth" => {
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
            "user" => self.user = opt_string(arg),
            "password" => self.password = opt_string(arg).map(Secret::new),
            "passwordeval" => self.passwordeval = opt_string(arg),
            "ntlmdomain" => self.ntlmdomain = opt_string(arg),
            "tls" => self.tls = on_off(arg, at, command)?,
            "tls_starttls" => self.tls_starttls = on_off(arg, at, command)?,
            "tls_nostarttls" | "tls_nocertcheck" => {
                if !arg.is_empty() {
                    return Err(ConfigError::syntax(
                        at,
                        tr!(
                            "command {command} does not take an argument",
                            command = command
                        ),
                    ));
                }
                if command == "tls_nostarttls" {
                    self.tls_starttls = false;
                } else {
                    self.tls_certcheck = false;
                }
            }
            "tls_key_file" => self.tls_key_file = opt_path(arg),
            "tls_cert_file" => self.tls_cert_file = opt_path(arg),
            "tls_trust_file" => {
                self.tls_trust_file = match arg {
                    "" => None,
                    "system" => Some(TrustFile::System),
                    _ => Some(TrustFile::File(expand::expand_tilde(arg))),
                };
            }
            "tls_crl_file" => self.tls_crl_file = opt_path(arg),
            "tls_fingerprint" => {
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
            "tls_certcheck" => self.tls_certcheck = on_off(arg, at, command)?,
            "tls_min_dh_prime_bits" => {
                self.tls_min_dh_prime_bits = if arg.is_empty() {
                    None
                } else {
                    Some(
                        parse_pos_int(arg)
                            .ok_or_else(|| invalid(arg, command, "a number of bits", at))?,
                    )
                };
            }
            "tls_priorities" => self.tls_priorities = opt_string(arg),
            "tls_host_override" => self.tls_host_override = opt_string(arg),
            "dsn_return" => {
                self.dsn_return = match arg {
                    "" => return Err(needs_argument(command, at)),
                    "off" => None,
                    "headers" => Some(DsnReturn::Headers),
                    "full" => Some(DsnReturn::Full),
                    _ => return Err(invalid(arg, command, "off, headers or full", at)),
                };
            }
            "dsn_notify" => {
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
            "logfile" => {
                self.logfile = match arg {
                    "" => None,
                    "-" => Some(LogFile::Stdout),
                    _ => Some(LogFile::File(expand::expand_tilde(arg))),
                };
            }
            "logfile_time_format" => self.logfile_time_format = opt_string(arg),
            "syslog" => {
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
            "aliases" => self.aliases = opt_path(arg),
            "proxy_host" => self.proxy_host = opt_string(arg),
            "proxy_port" => {
                self.proxy_port = if arg.is_empty() {
                    None
                } else {
                    Some(port_number(arg, command, at)?)
                };
            }
            "set_from_header" => {
                self.set_from_header = match arg {
                    "" | "auto" => HeaderPolicy::Auto,
                    "on" => HeaderPolicy::On,
                    "off" => HeaderPolicy::Off,
                    _ => return Err(invalid(arg, command, "auto, on or off", at)),
                };
            }
            "set_date_header" | "set_msgid_header" => {
                let v = match arg {
                    "" | "auto" => HeaderPolicy::Auto,
                    "off" => HeaderPolicy::Off,
                    _ => return Err(invalid(arg, command, "auto or off", at)),
                };
                if command == "set_date_header" {
                    self.set_date_header = v;
                } else {
                    self.set_msgid_header = v;
                }
            }
            "add_missing_from_header" | "add_missing_date_header" => {
                let v = if on_off(arg, at, command)? {
                    HeaderPolicy::Auto
                } else {
                    HeaderPolicy::Off
                };
                if command == "add_missing_from_header" {
                    self.set_from_header = v;
                } else {
                    self.set_date_header = v;
                }
            }
            "set_to_header" => {
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
            "undisclosed_recipients" => {
                self.set_to_header = if on_off(arg, at, command)? {
                    SetToHeader::UndisclosedRecipients
                } else {
                    SetToHeader::Off
                };
            }
            "remove_bcc_headers" => self.remove_bcc_headers = on_off(arg, at, command)?,
            "keepbcc" => self.remove_bcc_headers = !on_off(arg, at, command)?,
            "source_ip" => self.source_ip = opt_string(arg),
            "socket" => self.socket = opt_path(arg),
            "auto_from" => self.auto_from = on_off(arg, at, command)?,
            "maildomain" => self.maildomain = Some(arg.to_string()),
            "queue" => {
                self.queue = match arg {
                    "" => return Err(needs_argument(command, at)),
                    "off" => QueueMode::Off,
                    "fallback" => QueueMode::Fallback,
                    "always" => QueueMode::Always,
                    _ => return Err(invalid(arg, command, "off, fallback or always", at)),
                };
            }
            "queue_dir" => self.queue_dir = opt_path(arg),
            "queue_expire" => {
                self.queue_expire = if arg.is_empty() {
                    DEFAULT_QUEUE_EXPIRE
                } else {
                    parse_duration(arg).ok_or_else(|| {
                        invalid(arg, command, "a duration such as 3600, 30m, 12h or 5d", at)
                    })?
                };
            }
            "queue_retry_for" => {
                self.queue_retry_for = if arg.is_empty() {
                    None
                } else {
                    Some(parse_duration(arg).ok_or_else(|| {
                        invalid(arg, command, "a duration such as 3600, 30m, 12h or 5d", at)
                    })?)
                };
            }
            "queue_notify" => self.queue_notify = opt_string(arg),
            "oauth2_flow" => {
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
            "oauth2_provider" => {
                self.oauth2_provider = match arg {
                    "" => None,
                    "microsoft" => Some(OAuthProvider::Microsoft),
                    "google" => Some(OAuthProvider::Google),
                    _ => return Err(invalid(arg, command, "microsoft or google", at)),
                };
            }
            "oauth2_tenant" => self.oauth2_tenant = opt_string(arg),
            "oauth2_token_url" => self.oauth2_token_url = opt_string(arg),
            "oauth2_device_url" => self.oauth2_device_url = opt_string(arg),
            "oauth2_auth_url" => self.oauth2_auth_url = opt_string(arg),
            "oauth2_redirect_port" => {
                self.oauth2_redirect_port = if arg.is_empty() {
                    None
                } else {
                    Some(port_number(arg, command, at)?)
                };
            }
            "oauth2_client_id" => self.oauth2_client_id = opt_string(arg),
            "oauth2_client_secret" => self.oauth2_client_secret = opt_string(arg).map(Secret::new),
            "oauth2_client_secret_eval" => self.oauth2_client_secret_eval = opt_string(arg),
            "oauth2_scope" => self.oauth2_scope = opt_string(arg),
            _ => {
                // Every canonical command is handled above; reaching this is a
                // bug in the table, reported rather than ignored.
                return Err(ConfigError::syntax(
                    at,
                    format!("command {command} is not implemented"),
                ));
            }
        }
        self.sources.insert(key, at.clone());
        self.explicit.insert(key);
        Ok(())
    }
}
