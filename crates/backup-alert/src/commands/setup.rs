//! `setup`: the setup-email wizard people write by hand, done right. Choose Gmail, Outlook, Yahoo or
//! another server, read the password without echo (never from argv), and never break what
//! is there: an existing msmtprc gets our account added (or, with `--force` or after
//! asking, its account of the same name updated) and every other line kept, the diff is
//! shown before writing, the file keeps its owner, group and mode, and each previous
//! version is kept as `msmtprc.bak.TIME`. A new file is 0600, or 0640 root:GROUP with
//! `--group`. Then a test alert goes through the file and the outcome is said once.
//!
//! Interactive when stdin is a terminal and something is missing; otherwise every answer
//! must come from flags (`--provider --user --to` and `--password-file F` or
//! `--password-stdin`, or `--oauth` and its flags), and a missing one is a usage error.
//! Microsoft 365 and Gmail may sign in with OAuth 2.0 instead (`setup::oauth`).

use std::fs;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use crate::alert::compose::{parse_mailbox, Alert};
use crate::alert::{send_alert, FloodPolicy, Sent, Target};
use crate::context::Context;
use crate::error::Error;
use crate::lang::Language;
use crate::model::Status;
use crate::settings::home;
use crate::setup::msmtprc::{group_id, render_account, write_config, NewAccount, TlsMode, Written};
use crate::setup::msmtprc_edit::{diff, merge_account};
use crate::setup::oauth::{OAuthAccount, OAuthArgs, Prompter, Question};
use crate::setup::provider::{Provider, Server};
use crate::setup::terminal::{ask, ask_password, read_line, stdin_is_terminal};
use rsmtp_deliver::ui::Ui;

#[derive(Debug, Args)]
pub(crate) struct SetupArgs {
    /// Mail provider (asked when missing and stdin is a terminal).
    #[arg(long, value_enum)]
    pub(crate) provider: Option<Provider>,
    /// SMTP server (provider `other`).
    #[arg(long)]
    pub(crate) host: Option<String>,
    /// SMTP port, provider `other` (default: 587, 465 with --tls tls, 25 with --tls off).
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// TLS mode, provider `other` (default: starttls).
    #[arg(long, value_enum)]
    pub(crate) tls: Option<TlsMode>,
    /// Login name (usually the mail address).
    #[arg(long)]
    pub(crate) user: Option<String>,
    /// The server takes mail without a login (a relay on the local network): `auth off`,
    /// no password; the sender comes from --from.
    #[arg(long, conflicts_with_all = ["user", "password_file", "password_stdin"])]
    pub(crate) no_auth: bool,
    /// Sender address (default: the login name).
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// Recipient of the alerts.
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Read the password from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    pub(crate) password_file: Option<PathBuf>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// msmtprc to write (default: /etc/msmtprc as root, else ~/.msmtprc).
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Update an account of the same name in an existing file without asking (the
    /// previous version is kept as FILE.bak.TIME; other accounts are never touched).
    #[arg(long)]
    pub(crate) force: bool,
    /// Group that may read a new system msmtprc (0640 root:GROUP, e.g. www-data for PHP);
    /// an existing file keeps its owner, group and mode.
    #[arg(long, value_name = "GROUP")]
    pub(crate) group: Option<String>,
    /// Do not send a test alert.
    #[arg(long)]
    pub(crate) no_test: bool,
    /// Account name in the msmtprc (default: backup).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "backup",
        hide_default_value = true
    )]
    pub(crate) account: String,
    /// CA bundle, `tls_trust_file` (default: the system bundle).
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_trust_file: Option<PathBuf>,
    /// `logfile` of the account (default: /var/log/msmtp.log as root, else ~/.msmtp.log).
    #[arg(long, value_name = "FILE")]
    pub(crate) logfile: Option<PathBuf>,
    /// Do not record the recipient in backup-alert's settings file.
    #[arg(long)]
    pub(crate) no_settings: bool,
    #[command(flatten)]
    pub(crate) oauth: OAuthArgs,
}

/// Everything the file needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answers {
    pub(crate) provider: Provider,
    pub(crate) server: Server,
    pub(crate) user: String,
    pub(crate) from: String,
    pub(crate) password: String,
    pub(crate) to: String,
    pub(crate) account: String,
    pub(crate) tls_trust_file: Option<PathBuf>,
    pub(crate) logfile: PathBuf,
    /// OAuth 2.0 instead of the password.
    pub(crate) oauth: Option<OAuthAccount>,
}

fn new_account(a: &Answers) -> NewAccount<'_> {
    NewAccount {
        name: &a.account,
        host: &a.server.host,
        port: a.server.port,
        tls: a.server.tls,
        user: &a.user,
        password: &a.password,
        from: &a.from,
        tls_trust_file: a.tls_trust_file.as_deref(),
        logfile: &a.logfile,
        oauth: a.oauth.as_ref(),
    }
}

/// The msmtprc text for the answers.
pub(crate) fn render(a: &Answers, now: &str) -> String {
    crate::setup::msmtprc::render(&new_account(a), now)
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Default msmtprc to write.
pub(crate) fn default_output() -> Result<PathBuf, Error> {
    if is_root() {
        return Ok(PathBuf::from("/etc/msmtprc"));
    }
    home()
        .map(|h| h.join(".msmtprc"))
        .ok_or_else(|| Error::Usage("HOME is not set: pass --output FILE".into()))
}

fn default_logfile() -> PathBuf {
    if is_root() {
        return PathBuf::from("/var/log/msmtp.log");
    }
    home()
        .map(|h| h.join(".msmtp.log"))
        .unwrap_or_else(|| PathBuf::from("msmtp.log"))
}

/// The `logfile` for an account written to `output` without `--logfile`. Root writing
/// a file another user owns (their `~/.msmtprc`, or a file in a directory of theirs)
/// gives it a log that user can write: `~USER/.msmtp.log`, else next to the file —
/// never root's `/var/log/msmtp.log`, where msmtp run as that user cannot log.
fn default_logfile_for(output: &Path) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    if !is_root() {
        return default_logfile();
    }
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let owner = std::iter::once(output)
        .chain(dir.ancestors())
        .find_map(|p| fs::metadata(p).ok())
        .map(|m| m.uid());
    match owner {
        Some(uid) if uid != 0 => rsmtp_config::home_of(uid)
            .filter(|home| home.is_dir())
            .unwrap_or_else(|| dir.to_path_buf())
            .join(".msmtp.log"),
        _ => default_logfile(),
    }
}

fn default_trust_file() -> Option<PathBuf> {
    let p = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
    p.exists().then_some(p)
}

/// The dialogue: reads answers from `input`, writes prompts to `out`.
struct Dialogue<'a> {
    input: &'a mut dyn BufRead,
    out: &'a mut dyn Write,
    interactive: bool,
    /// The language of the questions (the locale's, or --language).
    lang: Language,
}

impl Dialogue<'_> {
    /// The text in the dialogue's language.
    fn t<'s>(&self, en: &'s str, fr: &'s str, ja: &'s str) -> &'s str {
        match self.lang {
            Language::English => en,
            Language::French => fr,
            Language::Japanese => ja,
        }
    }

    fn text(
        &mut self,
        given: Option<String>,
        prompt: &str,
        flag: &str,
        default: Option<&str>,
    ) -> Result<String, Error> {
        if let Some(v) = given {
            return Ok(v);
        }
        if !self.interactive {
            if let Some(d) = default {
                return Ok(d.to_string());
            }
            return Err(Error::Usage(format!(
                "setup: {flag} is required when stdin is not a terminal"
            )));
        }
        loop {
            let p = match default {
                Some(d) => format!("{prompt} [{d}]: "),
                None => format!("{prompt}: "),
            };
            let answer = ask(&p, self.input, self.out)
                .map_err(|e| Error::io("cannot read the answer", e))?
                .ok_or_else(|| Error::Usage("setup: input ended".into()))?;
            let answer = answer.trim().to_string();
            if !answer.is_empty() {
                return Ok(answer);
            }
            if let Some(d) = default {
                return Ok(d.to_string());
            }
        }
    }

    fn say(&mut self, text: &str) -> Result<(), Error> {
        if self.interactive {
            self.out
                .write_all(text.as_bytes())
                .and_then(|_| self.out.flush())
                .map_err(|e| Error::io("cannot write to the terminal", e))?;
        }
        Ok(())
    }

    fn yes(&mut self, prompt: &str) -> Result<bool, Error> {
        let yn = self.t("[y/N]", "[o/N]", "[y/N]");
        let a = ask(&format!("{prompt} {yn}: "), self.input, self.out)
            .map_err(|e| Error::io("cannot read the answer", e))?
            .unwrap_or_default();
        Ok(matches!(
            a.trim(),
            "y" | "Y" | "yes" | "o" | "O" | "oui" | "はい"
        ))
    }
}

impl Prompter for Dialogue<'_> {
    fn lang(&self) -> Language {
        self.lang
    }
    fn interactive(&self) -> bool {
        self.interactive
    }
    fn say(&mut self, text: &str) -> Result<(), Error> {
        Dialogue::say(self, text)
    }
    fn ask(&mut self, q: Question<'_>) -> Result<String, Error> {
        self.text(q.given, q.prompt, q.flag, q.default)
    }
    fn secret(&mut self, prompt: &str) -> Result<String, Error> {
        loop {
            let s = ask_password(prompt, self.input, self.out)
                .map_err(|e| Error::io("cannot read the answer", e))?
                .ok_or_else(|| Error::Usage("setup: input ended".into()))?;
            if !s.is_empty() {
                return Ok(s);
            }
        }
    }
}

fn address(v: &str, what: &str) -> Result<String, Error> {
    parse_mailbox(v)
        .map(|m| m.email.to_string())
        .map_err(|_| Error::Usage(format!("setup: `{v}` is not a valid {what} address")))
}

fn provider_menu(d: &mut Dialogue<'_>) -> Result<Provider, Error> {
    let menu = d.t(
        "Mail provider:\n  1) Gmail\n  2) Outlook / Hotmail / Microsoft 365\n  3) Yahoo\n  4) Other SMTP server\n",
        "Fournisseur de messagerie :\n  1) Gmail\n  2) Outlook / Hotmail / Microsoft 365\n  3) Yahoo\n  4) Autre serveur SMTP\n",
        "メールプロバイダー:\n  1) Gmail\n  2) Outlook / Hotmail / Microsoft 365\n  3) Yahoo\n  4) その他の SMTP サーバー\n",
    );
    d.say(menu)?;
    loop {
        let prompt = d.t("Choice [1-4]", "Choix [1-4]", "番号 [1-4]");
        let c = d.text(None, prompt, "--provider", None)?;
        match c.as_str() {
            "1" | "gmail" => return Ok(Provider::Gmail),
            "2" | "outlook" => return Ok(Provider::Outlook),
            "3" | "yahoo" => return Ok(Provider::Yahoo),
            "4" | "other" => return Ok(Provider::Other),
            _ => {
                let again = d.t(
                    "Please answer 1, 2, 3 or 4.\n",
                    "Répondez 1, 2, 3 ou 4.\n",
                    "1、2、3、4 のいずれかを入力してください。\n",
                );
                d.say(again)?
            }
        }
    }
}

fn tls_menu(d: &mut Dialogue<'_>) -> Result<TlsMode, Error> {
    loop {
        let prompt = d.t(
            "Encryption: 1) STARTTLS (587)  2) SSL/TLS (465)  3) none",
            "Chiffrement : 1) STARTTLS (587)  2) SSL/TLS (465)  3) aucun",
            "暗号化: 1) STARTTLS (587)  2) SSL/TLS (465)  3) なし",
        );
        let c = d.text(None, prompt, "--tls", Some("1"))?;
        match c.as_str() {
            "1" | "starttls" => return Ok(TlsMode::Starttls),
            "2" | "tls" | "ssl" => return Ok(TlsMode::Tls),
            "3" | "off" | "none" => return Ok(TlsMode::Off),
            _ => {
                let again = d.t(
                    "Please answer 1, 2 or 3.\n",
                    "Répondez 1, 2 ou 3.\n",
                    "1、2、3 のいずれかを入力してください。\n",
                );
                d.say(again)?
            }
        }
    }
}

/// A trust file must be a readable PEM file with a certificate in it: msmtp would only
/// say so at the first alert, as a TLS error.
fn trust_file(path: &Path) -> Result<PathBuf, Error> {
    let text = fs::read(path).map_err(|e| {
        Error::Usage(format!(
            "setup: tls_trust_file {}: {}",
            path.display(),
            rsmtp_core::strerror(&e)
        ))
    })?;
    if !String::from_utf8_lossy(&text).contains("-----BEGIN CERTIFICATE-----") {
        return Err(Error::Usage(format!(
            "setup: tls_trust_file {}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(path.to_path_buf())
}

/// Ask for the CA bundle (or the server's own certificate) until a usable one is given;
/// Enter keeps the system bundle.
fn trust_file_prompt(d: &mut Dialogue<'_>) -> Result<Option<PathBuf>, Error> {
    let system = default_trust_file();
    let explained = d.t(
        "\nThe server's certificate is checked against a CA bundle: the system one, or a\n\
         \x20 file with your own CA (or the server's self-signed certificate), in PEM form.\n",
        "\nLe certificat du serveur est vérifié avec un ensemble d'AC : celui du système, ou\n\
         \x20 un fichier PEM avec votre AC (ou le certificat auto-signé du serveur).\n",
        "\nサーバー証明書は CA バンドルで検証します: システムのもの、または独自 CA\n\
         \x20（またはサーバーの自己署名証明書）を含む PEM ファイルです。\n",
    );
    d.say(explained)?;
    loop {
        let shown = system
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| d.t("none found", "aucun trouvé", "見つかりません").into());
        let prompt = d.t(
            "CA certificates to trust (tls_trust_file)",
            "Certificats d'AC de confiance (tls_trust_file)",
            "信頼する CA 証明書 (tls_trust_file)",
        );
        let answer = ask(&format!("{prompt} [{shown}]: "), d.input, d.out)
            .map_err(|e| Error::io("cannot read the answer", e))?
            .ok_or_else(|| Error::Usage("setup: input ended".into()))?;
        let answer = answer.trim();
        if answer.is_empty() {
            if system.is_some() {
                return Ok(system);
            }
            let none = d.t(
                "No system bundle here (install ca-certificates): give a file.\n",
                "Pas d'ensemble système ici (installez ca-certificates) : donnez un fichier.\n",
                "システムのバンドルがありません（ca-certificates をインストール）。ファイルを指定してください。\n",
            );
            d.say(none)?;
            continue;
        }
        match trust_file(Path::new(answer)) {
            Ok(p) => return Ok(Some(std::path::absolute(&p).unwrap_or(p))),
            Err(e) => d.say(&format!("{e}\n"))?,
        }
    }
}

/// Does the custom server want a login? A relay on the local network often does not.
fn login_prompt(d: &mut Dialogue<'_>) -> Result<bool, Error> {
    loop {
        let prompt = d.t(
            "Login: 1) user and password  2) none (a relay that takes mail without one)",
            "Connexion : 1) utilisateur et mot de passe  2) aucune (relais qui accepte sans)",
            "ログイン: 1) ユーザーとパスワード  2) なし（ログイン不要のリレー）",
        );
        let c = d.text(None, prompt, "--no-auth", Some("1"))?;
        match c.as_str() {
            "1" | "y" | "yes" => return Ok(true),
            "2" | "n" | "no" | "none" => return Ok(false),
            _ => {
                let again = d.t(
                    "Please answer 1 or 2.\n",
                    "Répondez 1 ou 2.\n",
                    "1 か 2 を入力してください。\n",
                );
                d.say(again)?
            }
        }
    }
}

fn read_password(
    args: &SetupArgs,
    provider: Provider,
    d: &mut Dialogue<'_>,
) -> Result<String, Error> {
    let raw = if let Some(f) = &args.password_file {
        let text = fs::read_to_string(f).map_err(|e| Error::no_input(f, e))?;
        text.lines().next().unwrap_or("").to_string()
    } else if args.password_stdin {
        read_line(d.input)
            .map_err(|e| Error::io("cannot read the password from stdin", e))?
            .unwrap_or_default()
    } else if d.interactive {
        loop {
            let prompt = d.t(
                "Password (not shown): ",
                "Mot de passe (masqué) : ",
                "パスワード（表示されません）: ",
            );
            let p = ask_password(prompt, d.input, d.out)
                .map_err(|e| Error::io("cannot read the password", e))?
                .ok_or_else(|| Error::Usage("setup: input ended".into()))?;
            if !p.is_empty() {
                break p;
            }
        }
    } else {
        return Err(Error::Usage(
            "setup: give the password with --password-file FILE or --password-stdin (never on the command line)".into(),
        ));
    };
    let password = if provider == Provider::Gmail {
        // Google shows app passwords as "abcd efgh ijkl mnop".
        raw.split_whitespace().collect::<String>()
    } else {
        raw
    };
    if password.is_empty() {
        return Err(Error::Usage("setup: the password is empty".into()));
    }
    if password.contains(['\n', '\r', '\0']) {
        return Err(Error::Usage(
            "setup: the password contains a line break".into(),
        ));
    }
    Ok(password)
}

/// Gather the answers from flags and, when interactive, the dialogue.
fn gather(args: &SetupArgs, d: &mut Dialogue<'_>) -> Result<Answers, Error> {
    let title = d.t(
        "backup-alert setup: mail alerts through your mail account\n\n",
        "backup-alert setup : des alertes par mail avec votre compte de messagerie\n\n",
        "backup-alert setup: メールアカウントでバックアップ通知を送ります\n\n",
    );
    d.say(title)?;
    // Refused before any question: msmtp would refuse the file we write (exit 78).
    if let Some(problem) = rsmtp_config::account_name_problem(&args.account) {
        return Err(Error::Usage(format!(
            "setup: the account name `{}` {problem} (msmtp would refuse it)",
            crate::alert::compose::one_line(&args.account)
        )));
    }
    let provider = match args.provider {
        Some(p) => p,
        None if d.interactive => provider_menu(d)?,
        None => {
            return Err(Error::Usage(
                "setup: --provider is required when stdin is not a terminal".into(),
            ))
        }
    };
    let server = match provider.server() {
        Some(s) if args.host.is_none() && args.port.is_none() && args.tls.is_none() => s,
        preset => {
            let prompt = d.t("SMTP server", "Serveur SMTP", "SMTP サーバー");
            let host = d.text(
                args.host
                    .clone()
                    .or(preset.as_ref().map(|s| s.host.clone())),
                prompt,
                "--host",
                None,
            )?;
            let tls = match args.tls.or(preset.as_ref().map(|s| s.tls)) {
                Some(t) => t,
                None if d.interactive => tls_menu(d)?,
                None => TlsMode::Starttls,
            };
            let default_port = match tls {
                TlsMode::Tls => "465",
                TlsMode::Starttls => "587",
                TlsMode::Off => "25",
            };
            let port = match args.port.or(preset.as_ref().map(|s| s.port)) {
                Some(p) => p,
                None => {
                    let p = d.text(
                        None,
                        d.t("Port", "Port", "ポート"),
                        "--port",
                        Some(default_port),
                    )?;
                    p.parse()
                        .map_err(|_| Error::Usage(format!("setup: `{p}` is not a port number")))?
                }
            };
            Server { host, port, tls }
        }
    };
    // A custom server: which CAs to trust, and whether it wants a login at all.
    let custom = provider == Provider::Other;
    let tls_trust_file = match &args.tls_trust_file {
        Some(t) => Some(trust_file(t)?),
        None if custom && d.interactive && server.tls != TlsMode::Off => trust_file_prompt(d)?,
        None => default_trust_file(),
    };
    let password_given = args.password_file.is_some() || args.password_stdin;
    let oauth_provider = crate::setup::oauth::sign_in(&args.oauth, password_given, provider, d)?;
    let mut oauth = None;
    let login = if args.no_auth {
        false
    } else if custom
        && d.interactive
        && args.user.is_none()
        && args.password_file.is_none()
        && !args.password_stdin
    {
        login_prompt(d)?
    } else {
        true
    };
    let (user, from, password) = if login {
        if oauth_provider.is_none() {
            d.say(&format!("\n{}\n", provider.password_help(d.lang)))?;
        }
        let prompt = d.t(
            "Login (mail address)",
            "Identifiant (adresse mail)",
            "ログイン名（メールアドレス）",
        );
        let user = d.text(args.user.clone(), prompt, "--user", None)?;
        let sender = d.t("Sender address", "Adresse d'envoi", "送信元アドレス");
        let from = match &args.from {
            Some(f) => address(f, "sender")?,
            None if user.contains('@') => address(&user, "sender")?,
            None => address(&d.text(None, sender, "--from", None)?, "sender")?,
        };
        let password = match oauth_provider {
            Some(idp) => {
                oauth = Some(crate::setup::oauth::gather(&args.oauth, idp, &user, d)?);
                String::new()
            }
            None => read_password(args, provider, d)?,
        };
        (user, from, password)
    } else {
        let sender = d.t("Sender address", "Adresse d'envoi", "送信元アドレス");
        let from = d.text(args.from.clone(), sender, "--from", None)?;
        (String::new(), address(&from, "sender")?, String::new())
    };
    let to = loop {
        let prompt = d.t("Send alerts to", "Envoyer les alertes à", "通知の送信先");
        let t = d.text(args.to.clone(), prompt, "--to", Some(&from))?;
        match address(&t, "recipient") {
            Ok(a) => break a,
            Err(e) if d.interactive && args.to.is_none() => d.say(&format!("{e}\n"))?,
            Err(e) => return Err(e),
        }
    };
    for (what, value) in [("server name", &server.host), ("login", &user)] {
        if value.chars().any(char::is_control) {
            return Err(Error::Usage(format!(
                "setup: the {what} contains a line break or control character"
            )));
        }
    }
    Ok(Answers {
        provider,
        server,
        user,
        from,
        password,
        to,
        account: args.account.clone(),
        tls_trust_file,
        logfile: args.logfile.clone().unwrap_or_else(|| match &args.output {
            Some(output) => default_logfile_for(output),
            None => default_logfile(),
        }),
        oauth,
    })
}

/// Record the recipient (and a non-default msmtprc) in a new settings file so later
/// alerts need no `--to`. An existing file is never rewritten (its comments and layout
/// belong to its owner): the caller prints what to add instead.
fn save_settings(
    path: &Path,
    to: &str,
    msmtprc: Option<&Path>,
    account: Option<&str>,
    language: Option<crate::lang::Language>,
) -> Result<bool, Error> {
    if path.exists() {
        return Ok(false);
    }
    let mut text = format!(
        "# backup-alert settings, written by `backup-alert setup`.\n[default]\nto = {to}\n"
    );
    if let Some(rc) = msmtprc {
        text.push_str(&format!("msmtprc = {}\n", rc.display()));
    }
    if let Some(a) = account {
        // The msmtprc's default account belongs to someone else (PHP's, say).
        text.push_str(&format!("account = {a}\n"));
    }
    if let Some(l) = language {
        // Cron runs jobs without LANG: the alerts keep the language setup was run in.
        text.push_str(&format!("language = {}\n", l.code()));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| Error::cant_create(parent, e))?;
    }
    fs::write(path, text).map_err(|e| Error::cant_create(path, e))?;
    Ok(true)
}

/// Run the wizard with the real stdin; the questions and what was done go to `ui`'s
/// stderr.
pub(crate) fn main(
    args: SetupArgs,
    ctx: &Context,
    settings_file: Option<&Path>,
    ui: &mut Ui<'_>,
) -> Result<u8, Error> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let interactive = stdin_is_terminal() && !args.password_stdin;
    let mut d = Dialogue {
        input: &mut input,
        out: &mut *ui.err,
        interactive,
        lang: ctx.settings.language.unwrap_or_else(Language::from_env),
    };
    let answers = gather(&args, &mut d)?;
    let output = match &args.output {
        Some(o) => o.clone(),
        None => default_output()?,
    };
    let now = chrono::Local::now();
    let existing = match fs::read_to_string(&output) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::no_input(&output, e)),
    };
    // A file msmtp already cannot read stays unreadable after our account is added: say
    // so first, naming its line, rather than leaving the test alert's failure to look
    // like a network problem.
    let already_invalid = existing.as_deref().and_then(|old| {
        rsmtp_config::Config::parse(old, &output)
            .err()
            .map(|e| e.to_string())
    });
    if let Some(problem) = &already_invalid {
        let _ = writeln!(
            d.out,
            "backup-alert: {} is already invalid, before any change: {problem}; msmtp and \
             rsmtp refuse every account in it until that line is fixed",
            output.display()
        );
    }
    let mut other_default = false;
    let text = match &existing {
        None => render(&answers, &now.format("%Y-%m-%d %H:%M:%S %z").to_string()),
        Some(old) => {
            let merged = merge_account(
                old,
                &answers.account,
                &render_account(&new_account(&answers)),
            );
            other_default = merged.other_default;
            let changes = diff(old, &merged.text);
            if changes.is_empty() {
                let _ = writeln!(
                    d.out,
                    "backup-alert: {} already has this account; nothing to change",
                    output.display()
                );
            } else {
                let _ = write!(
                    d.out,
                    "backup-alert: changes to {} (other accounts and comments stay as they are):\n{changes}",
                    output.display()
                );
            }
            if merged.replaced && !args.force && !changes.is_empty() {
                if !interactive {
                    return Err(Error::Usage(format!(
                        "setup: {} already has an account `{}`; pass --force to update it (the previous version is kept)",
                        output.display(),
                        answers.account
                    )));
                }
                let question = match d.lang {
                    Language::English => format!(
                        "Update the account `{}` in {} (the previous version is kept)?",
                        answers.account,
                        output.display()
                    ),
                    Language::French => format!(
                        "Mettre à jour le compte `{}` dans {} (la version précédente est gardée) ?",
                        answers.account,
                        output.display()
                    ),
                    Language::Japanese => format!(
                        "{} のアカウント `{}` を更新しますか（以前の版は保存されます）？",
                        output.display(),
                        answers.account
                    ),
                };
                if !d.yes(&question)? {
                    let nothing = d.t(
                        "Nothing written.\n",
                        "Rien n'a été écrit.\n",
                        "何も書き込みませんでした。\n",
                    );
                    d.say(nothing)?;
                    return Ok(1);
                }
            } else if interactive
                && !changes.is_empty()
                && !args.force
                && !d.yes(&match d.lang {
                    Language::English => format!("Write these changes to {}?", output.display()),
                    Language::French => {
                        format!("Écrire ces modifications dans {} ?", output.display())
                    }
                    Language::Japanese => {
                        format!("この変更を {} に書き込みますか？", output.display())
                    }
                })?
            {
                let nothing = d.t(
                    "Nothing written.\n",
                    "Rien n'a été écrit.\n",
                    "何も書き込みませんでした。\n",
                );
                d.say(nothing)?;
                return Ok(1);
            }
            merged.text
        }
    };
    if existing.as_deref() != Some(text.as_str()) {
        let group = match &args.group {
            Some(g) => Some(group_id(g).ok_or_else(|| {
                Error::Usage(format!("setup: --group {g}: no such group in /etc/group"))
            })?),
            None => None,
        };
        let new_file = match group {
            Some(gid) => (None, Some(gid), 0o640),
            None => (None, None, 0o600),
        };
        let written = write_config(
            &output,
            &text,
            new_file,
            &now.format("%Y-%m-%dT%H:%M:%S").to_string(),
        )?;
        report_written(&output, &written, existing.is_some(), &answers.account, ui);
    }

    if !args.no_settings {
        let target = settings_file.map(Path::to_path_buf).or_else(|| {
            if is_root() {
                Some(crate::settings::system_path())
            } else {
                crate::settings::user_path()
            }
        });
        if let Some(t) = target {
            let default_rc = default_output().ok();
            let rc = (default_rc.as_deref() != Some(output.as_path())).then_some(output.as_path());
            let account = other_default.then_some(answers.account.as_str());
            // French or Japanese (--language, else the locale setup runs in) is recorded;
            // English is what cron's empty locale gives anyway.
            let language = ctx
                .settings
                .language
                .unwrap_or_else(crate::lang::Language::from_env);
            let language = (language != crate::lang::Language::English).then_some(language);
            if save_settings(&t, &answers.to, rc, account, language)? {
                ui.warn(&format!(
                    "alerts will go to {} (saved in {})",
                    answers.to,
                    t.display()
                ));
            } else {
                let mut keys = format!("to = {}", answers.to);
                if let Some(a) = account {
                    keys.push_str(&format!(", account = {a}"));
                }
                if let Some(l) = language {
                    keys.push_str(&format!(", language = {}", l.code()));
                }
                ui.warn(&format!(
                    "{} exists and is left as it is; for alerts through this account it needs {keys}",
                    t.display()
                ));
            }
        }
    }

    if answers.oauth.is_some() {
        let signed_in = crate::setup::oauth::login(&answers.account, &output, ui)?;
        if signed_in != 0 {
            return Ok(signed_in);
        }
    }
    if args.no_test {
        return Ok(0);
    }
    let lang = ctx
        .settings
        .language
        .unwrap_or_else(crate::lang::Language::from_env);
    let (subject, message) = lang.setup_test_alert(&ctx.host);
    let mut alert = Alert::new(Status::Success, subject, ctx.host.clone());
    alert.message = message;
    alert.fact(
        "Server",
        format!(
            "{}:{} ({})",
            answers.server.host, answers.server.port, answers.server.tls
        ),
    );
    alert.fact("Account", answers.account.clone());
    alert.fact("Configuration", output.display().to_string());
    let target = Target::resolve(
        std::slice::from_ref(&answers.to),
        Some(&answers.from),
        Some(&answers.account),
        Some(output.clone()),
        &ctx.settings,
    )?;
    let policy = FloodPolicy {
        window: std::time::Duration::ZERO,
        state_dir: None,
    };
    // rsmtp's own "queued" line would name the queued alert a second time: collect its
    // warnings and say it once.
    let mut warnings = Vec::new();
    let outcome = send_alert(
        alert,
        "backup-alert setup",
        &target,
        &policy,
        false,
        &mut warnings,
    );
    for line in String::from_utf8_lossy(&warnings).lines() {
        if !matches!(outcome, Ok(Sent::Queued(_))) || !line.contains("queued") {
            let _ = writeln!(ui.err, "{line}");
        }
    }
    match outcome {
        Ok(Sent::Queued(id)) => {
            // Not verified: say so, and exit 75 so a provisioning script notices.
            ui.warn(&format!(
                "not verified yet: the relay did not answer, so the test alert \
                 is queued as {id}; `rsmtp -q` sends it (enable it with \
                 `systemctl enable --now rsmtp-queue.timer` or the cron line \
                 `*/5 * * * * rsmtp -q`)"
            ));
            Ok(rsmtp_deliver::ExitCode::TempFail as u8)
        }
        Ok(_) => {
            ui.warn(&format!("test alert sent to {}", answers.to));
            Ok(0)
        }
        Err(e) => {
            let advice = match &already_invalid {
                Some(problem) => format!(
                    "{} was invalid before setup touched it ({problem}): fix that line, then \
                     send a test with `backup-alert send --status info --subject test`",
                    output.display()
                ),
                None => failure_advice(&e, &answers, &output),
            };
            ui.warn(&format!("the test alert failed: {e}\n{advice}"));
            Ok(e.exit_code().code())
        }
    }
}

/// What to fix after a failed test alert: a certificate problem is the trust file's, a
/// refused login the password's, anything else the server, port or TLS mode.
fn failure_advice(e: &Error, answers: &Answers, output: &Path) -> String {
    let certificate = match e {
        Error::Delivery(d) => d.smtp_error().is_some_and(|s| {
            matches!(
                s.kind(),
                rsmtp_deliver::smtp::ErrorKind::CertificateRejected
            )
        }),
        _ => false,
    };
    if certificate {
        let trust = answers
            .tls_trust_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the system bundle".into());
        return format!(
            "the server's certificate was not accepted (the password was not tried): point \
             tls_trust_file in {} (now {trust}) at the CA bundle that signed it, or the \
             server's own certificate when it is self-signed; run setup again with \
             --tls-trust-file FILE",
            output.display()
        );
    }
    // 530 (RFC 4954 §6: authentication required) to an account without a login.
    let login_wanted = match e {
        Error::Delivery(d) => d
            .smtp_error()
            .and_then(|s| s.reply())
            .is_some_and(|r| r.code() == 530),
        _ => false,
    };
    if login_wanted && answers.user.is_empty() {
        return format!(
            "the server wants a login before it takes mail: run setup again with a user and \
             password (not --no-auth, or answer 1 at the login question), or edit {}",
            output.display()
        );
    }
    if e.exit_code() == rsmtp_deliver::ExitCode::NoPerm && answers.oauth.is_some() {
        return format!(
            "the sign-in worked but the server refused the OAuth 2.0 login (causes above); \
             once fixed, send a test with `backup-alert send --status info --subject test`, \
             or edit {}",
            output.display()
        );
    }
    if e.exit_code() == rsmtp_deliver::ExitCode::NoPerm {
        return format!(
            "the server refused the login: check the password (an app password for \
             Gmail/Outlook/Yahoo), then run setup again or edit {}",
            output.display()
        );
    }
    format!(
        "check the server name, port and TLS mode ({}:{} {}), then run setup again or edit {}",
        answers.server.host,
        answers.server.port,
        answers.server.tls,
        output.display()
    )
}

/// Say what was written, with whose file it is and what msmtp's permission rule needs.
fn report_written(output: &Path, written: &Written, existed: bool, account: &str, ui: &mut Ui<'_>) {
    let o = written.ownership;
    let owner = rsmtp_config::user_name_of(o.uid).unwrap_or_else(|| format!("uid {}", o.uid));
    let group =
        crate::setup::msmtprc::group_name(o.gid).unwrap_or_else(|| format!("gid {}", o.gid));
    let what = if existed {
        format!("updated the account `{account}` in")
    } else {
        "wrote".to_string()
    };
    let mut line = format!(
        "{what} {} (mode {:04o}, {owner}:{group}{})",
        output.display(),
        o.mode,
        if existed { ", as it was" } else { "" }
    );
    if let Some(b) = &written.backup {
        line.push_str(&format!("; previous version kept as {}", b.display()));
    }
    if let Some(before) = written.tightened_from {
        line = line.replace(", as it was", "");
        line.push_str(&format!(
            "; its mode was {before:04o}: now {:04o}, because it holds a password others \
             could read{}",
            o.mode,
            if before & 0o004 != 0 && o.uid == 0 {
                " (a service that read it as `other`, such as PHP as www-data, needs setup \
                 --group www-data)"
            } else {
                ""
            }
        ));
    }
    ui.warn(&line);
    let rule = if o.uid == 0 {
        if o.mode & 0o077 == 0 {
            "only root can read it: to let a service send mail with it (PHP as www-data), \
             run setup with --group www-data for 0640 root:www-data; msmtp checks no \
             permissions on a system file"
                .to_string()
        } else {
            format!(
                "group {group} can read it (and its password); msmtp checks no permissions on \
                 a system file, only on a user's ~/.msmtprc"
            )
        }
    } else if o.mode & 0o077 != 0 {
        format!(
            "msmtp refuses a user file holding a password unless only its owner can read it: \
             chmod 600 {}",
            output.display()
        )
    } else {
        "msmtp's rule for a user file holding a password is met: owned by its user, mode 0600"
            .to_string()
    };
    ui.warn(&rule);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> Answers {
        Answers {
            provider: Provider::Gmail,
            server: Provider::Gmail.server().unwrap(),
            user: "me@gmail.com".into(),
            from: "me@gmail.com".into(),
            password: "abcdefghijklmnop".into(),
            to: "admin@example.com".into(),
            account: "backup".into(),
            tls_trust_file: Some(PathBuf::from("/etc/ssl/certs/ca-certificates.crt")),
            logfile: PathBuf::from("/var/log/msmtp.log"),
            oauth: None,
        }
    }

    #[test]
    fn providers() {
        assert_eq!(
            Provider::Outlook.server().unwrap().host,
            "smtp.office365.com"
        );
        let y = Provider::Yahoo.server().unwrap();
        assert_eq!((y.port, y.tls), (465, TlsMode::Tls));
        assert!(Provider::Other.server().is_none());
    }

    #[test]
    fn renders_an_msmtprc() {
        let text = render(&answers(), "now");
        assert!(
            text.contains("tls            on\ntls_starttls   on\n"),
            "{text}"
        );
        assert!(text.contains("host           smtp.gmail.com\nport           587\n"));
        assert!(text.contains("password       abcdefghijklmnop\n"));
        assert!(text.ends_with("account default : backup\n"));
        let mut y = answers();
        y.server = Provider::Yahoo.server().unwrap();
        assert!(render(&y, "now").contains("tls_starttls   off\n"));
    }

    /// Non-interactive Gmail setup flags, password on stdin, nothing written.
    fn gmail_args(account: &str) -> SetupArgs {
        SetupArgs {
            provider: Some(Provider::Gmail),
            host: None,
            port: None,
            tls: None,
            user: Some("me@gmail.com".into()),
            no_auth: false,
            from: None,
            to: Some("admin@example.com".into()),
            password_file: None,
            password_stdin: true,
            output: None,
            force: false,
            no_test: true,
            account: account.into(),
            tls_trust_file: None,
            logfile: None,
            no_settings: true,
            group: None,
            oauth: OAuthArgs::default(),
        }
    }

    #[test]
    fn non_interactive_needs_flags_and_strips_gmail_spaces() {
        let mut input: &[u8] = b"abcd efgh ijkl mnop\n";
        let mut out = Vec::new();
        let mut d = Dialogue {
            input: &mut input,
            out: &mut out,
            interactive: false,
            lang: Language::English,
        };
        let args = gmail_args("backup");
        let a = gather(&args, &mut d).unwrap();
        assert_eq!(a.password, "abcdefghijklmnop");
        assert_eq!(a.from, "me@gmail.com");
        assert!(out.is_empty(), "no prompts when not interactive");
        let mut empty: &[u8] = b"";
        let mut d = Dialogue {
            input: &mut empty,
            out: &mut out,
            interactive: false,
            lang: Language::English,
        };
        let no_pw = SetupArgs {
            password_stdin: false,
            ..args
        };
        assert!(matches!(gather(&no_pw, &mut d), Err(Error::Usage(_))));
    }

    #[test]
    fn account_names_msmtp_refuses_are_usage_errors() {
        for bad in ["a:b", "a,b", ""] {
            let mut input: &[u8] = b"password\n";
            let mut out = Vec::new();
            let mut d = Dialogue {
                input: &mut input,
                out: &mut out,
                interactive: false,
                lang: Language::English,
            };
            let args = gmail_args(bad);
            assert!(
                matches!(gather(&args, &mut d), Err(Error::Usage(_))),
                "{bad:?} accepted"
            );
        }
    }
}
