//! OAuth 2.0 in `setup`: Microsoft 365 signs in with the device flow, Google with the
//! browser (authorization code) flow and the person's own OAuth client, instead of a
//! password. The account gets `auth xoauth2` and the `oauth2_*` lines rsmtp reads
//! (rsmtprc(5)); then the `rsmtp` next to this binary runs `--oauth-login` once, so
//! the person signs in before the test alert, and rsmtp refreshes the tokens itself
//! from then on.
//!
//! The provider shorthand (`oauth2_provider`) fills the public endpoints. Other ones —
//! a national cloud (`login.microsoftonline.us`), an identity proxy, a test server —
//! are given with `--oauth-token-url`, `--oauth-device-url`, `--oauth-auth-url` and
//! written as `oauth2_token_url` …, which take precedence in rsmtp as they do in the
//! file; they are checked as rsmtp checks them (HTTPS, or HTTP on the loopback only).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Args;
use rsmtp_config::{OAuthFlow, OAuthProvider};
use rsmtp_deliver::ui::Ui;

use crate::error::Error;
use crate::lang::Language;
use crate::setup::provider::Provider;

/// The OAuth 2.0 flags of `setup`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct OAuthArgs {
    /// Sign in with OAuth 2.0 instead of a password (provider outlook: Microsoft 365
    /// device sign-in; gmail: browser sign-in with your OAuth client); setup then runs
    /// `rsmtp --oauth-login` for the account.
    #[arg(long, conflicts_with_all = ["no_auth", "password_file", "password_stdin"])]
    pub(crate) oauth: bool,
    /// Microsoft 365: the directory (tenant) ID or a domain of the tenant (default:
    /// the login's domain; `consumers` for outlook.com and hotmail.com addresses).
    #[arg(long, value_name = "TENANT", requires = "oauth")]
    pub(crate) oauth_tenant: Option<String>,
    /// The application (client) ID of the app registration (Microsoft) or of the
    /// OAuth client (Google).
    #[arg(long, value_name = "ID", requires = "oauth")]
    pub(crate) oauth_client_id: Option<String>,
    /// Google: read the OAuth client's secret from the first line of FILE.
    #[arg(long, value_name = "FILE", requires = "oauth")]
    pub(crate) oauth_client_secret_file: Option<PathBuf>,
    /// Token endpoint other than the provider's (`oauth2_token_url`).
    #[arg(long, value_name = "URL", requires = "oauth")]
    pub(crate) oauth_token_url: Option<String>,
    /// Device authorization endpoint other than the provider's (`oauth2_device_url`).
    #[arg(long, value_name = "URL", requires = "oauth")]
    pub(crate) oauth_device_url: Option<String>,
    /// Authorization endpoint other than the provider's (`oauth2_auth_url`).
    #[arg(long, value_name = "URL", requires = "oauth")]
    pub(crate) oauth_auth_url: Option<String>,
}

/// What the account's `oauth2_*` lines say.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct OAuthAccount {
    pub(crate) provider: OAuthProvider,
    pub(crate) flow: OAuthFlow,
    /// Microsoft only.
    pub(crate) tenant: Option<String>,
    pub(crate) client_id: String,
    /// Google's OAuth client secret, written as `oauth2_client_secret` (the file is
    /// then held to the password's permission rule).
    pub(crate) client_secret: Option<String>,
    pub(crate) token_url: Option<String>,
    pub(crate) device_url: Option<String>,
    pub(crate) auth_url: Option<String>,
}

impl std::fmt::Debug for OAuthAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthAccount")
            .field("provider", &self.provider)
            .field("flow", &self.flow)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("token_url", &self.token_url)
            .field("device_url", &self.device_url)
            .field("auth_url", &self.auth_url)
            .finish()
    }
}

impl OAuthAccount {
    /// The account's lines after `user`, in the order rsmtprc(5) explains them.
    pub(crate) fn lines(&self) -> Vec<(&'static str, &str)> {
        let mut lines = vec![("oauth2_provider", self.provider.keyword())];
        if let Some(t) = &self.tenant {
            lines.push(("oauth2_tenant", t));
        }
        lines.push(("oauth2_client_id", &self.client_id));
        if let Some(s) = &self.client_secret {
            lines.push(("oauth2_client_secret", s));
        }
        lines.push(("oauth2_flow", self.flow.keyword()));
        for (command, url) in [
            ("oauth2_token_url", &self.token_url),
            ("oauth2_device_url", &self.device_url),
            ("oauth2_auth_url", &self.auth_url),
        ] {
            if let Some(u) = url {
                lines.push((command, u));
            }
        }
        lines
    }
}

/// A question: `given` (a flag's value) answers it; else a person is asked `prompt`
/// (`default` on Enter); with no one to ask, `default`, else a usage error naming `flag`.
pub(crate) struct Question<'a> {
    pub(crate) given: Option<String>,
    pub(crate) prompt: &'a str,
    pub(crate) flag: &'a str,
    pub(crate) default: Option<&'a str>,
}

/// The questions `setup` asks, as this module needs them (the wizard's dialogue
/// implements it).
pub(crate) trait Prompter {
    /// The language of the questions.
    fn lang(&self) -> Language;
    /// Is a person answering?
    fn interactive(&self) -> bool;
    /// Say `text` to the person (nothing when not interactive).
    fn say(&mut self, text: &str) -> Result<(), Error>;
    /// The answer to `q`.
    fn ask(&mut self, q: Question<'_>) -> Result<String, Error>;
    /// A secret typed with echo off.
    fn secret(&mut self, prompt: &str) -> Result<String, Error>;

    /// The text in the dialogue's language.
    fn t<'s>(&self, en: &'s str, fr: &'s str, ja: &'s str) -> &'s str {
        match self.lang() {
            Language::English => en,
            Language::French => fr,
            Language::Japanese => ja,
        }
    }
}

/// The identity provider behind a mail provider, where setup offers OAuth 2.0.
fn identity_provider(provider: Provider) -> Option<OAuthProvider> {
    match provider {
        Provider::Outlook => Some(OAuthProvider::Microsoft),
        Provider::Gmail => Some(OAuthProvider::Google),
        Provider::Yahoo | Provider::Other => None,
    }
}

/// Does the account sign in with OAuth 2.0? `--oauth` says yes; a password flag says
/// no; otherwise a person is asked (Microsoft 365 proposes OAuth first, Gmail its app
/// password), and a script gets a password account, as before.
pub(crate) fn sign_in(
    args: &OAuthArgs,
    password_given: bool,
    provider: Provider,
    d: &mut dyn Prompter,
) -> Result<Option<OAuthProvider>, Error> {
    let idp = identity_provider(provider);
    if args.oauth {
        return idp.map(Some).ok_or_else(|| {
            Error::Usage(
                "setup: --oauth is for --provider outlook or gmail; for another server write \
                 the oauth2_* lines yourself (man 5 rsmtprc)"
                    .into(),
            )
        });
    }
    let Some(idp) = idp.filter(|_| d.interactive() && !password_given) else {
        return Ok(None);
    };
    let (prompt, oauth_first) = match idp {
        OAuthProvider::Microsoft => (
            d.t(
                "Sign-in: 1) OAuth 2.0 (Microsoft 365 work or school account; needed once basic authentication is off)  2) app password",
                "Connexion : 1) OAuth 2.0 (compte professionnel Microsoft 365 ; nécessaire sans authentification basique)  2) mot de passe d'application",
                "サインイン: 1) OAuth 2.0（Microsoft 365 の職場/学校アカウント。基本認証の廃止後は必須）  2) アプリ パスワード",
            ),
            true,
        ),
        OAuthProvider::Google => (
            d.t(
                "Sign-in: 1) app password  2) OAuth 2.0 (your own Google Cloud OAuth client)",
                "Connexion : 1) mot de passe d'application  2) OAuth 2.0 (votre propre client OAuth Google Cloud)",
                "サインイン: 1) アプリ パスワード  2) OAuth 2.0（ご自身の Google Cloud OAuth クライアント）",
            ),
            false,
        ),
    };
    // Asked again until the answer is one of the two.
    loop {
        let c = d.ask(Question {
            given: None,
            prompt,
            flag: "--oauth",
            default: Some("1"),
        })?;
        match (c.as_str(), oauth_first) {
            ("1", true) | ("2", false) | ("oauth", _) => return Ok(Some(idp)),
            ("1", false) | ("2", true) | ("password", _) => return Ok(None),
            _ => {}
        }
    }
}

/// The tenant to propose for `user`: the domain of the address (Microsoft accepts a
/// tenant's verified domain in place of its ID), `consumers` for Microsoft's own
/// personal domains.
pub(crate) fn default_tenant(user: &str) -> String {
    let domain = user.rsplit_once('@').map_or("", |(_, d)| d).to_lowercase();
    let personal = ["outlook.", "hotmail.", "live.", "msn.com"]
        .iter()
        .any(|p| domain.starts_with(p));
    if domain.is_empty() || personal {
        "consumers".to_string()
    } else {
        domain
    }
}

/// An endpoint given on the command line, held to rsmtp's rule.
fn endpoint(url: &Option<String>, command: &'static str) -> Result<Option<String>, Error> {
    match url {
        Some(u) => rsmtp_oauth::check_url(command, u)
            .map(|()| Some(u.clone()))
            .map_err(|e| Error::Usage(format!("setup: {e}"))),
        None => Ok(None),
    }
}

/// The `oauth2_*` answers for `user` at `idp`: what the person must register first is
/// said, then the tenant (Microsoft), the client ID and (Google) the client secret are
/// asked or taken from the flags.
pub(crate) fn gather(
    args: &OAuthArgs,
    idp: OAuthProvider,
    user: &str,
    d: &mut dyn Prompter,
) -> Result<OAuthAccount, Error> {
    let help = match idp {
        OAuthProvider::Microsoft => d.t(
            "\nMicrosoft 365 with OAuth 2.0: an administrator registers an app in Microsoft Entra ID\n\
             \x20 (App registrations; Authentication: allow public client flows) with the delegated\n\
             \x20 permission SMTP.Send, and enables Authenticated SMTP for the mailbox (Exchange\n\
             \x20 admin center, the mailbox, Email apps). Give its tenant and Application (client) ID.\n",
            "\nMicrosoft 365 avec OAuth 2.0 : un administrateur inscrit une application dans Microsoft\n\
             \x20 Entra ID (Inscriptions d'applications ; Authentification : flux de clients publics\n\
             \x20 autorisés) avec la permission déléguée SMTP.Send, et active SMTP authentifié pour la\n\
             \x20 boîte (centre d'administration Exchange, la boîte, Applications de messagerie).\n\
             \x20 Donnez son locataire et son ID d'application (client).\n",
            "\nMicrosoft 365 の OAuth 2.0: 管理者が Microsoft Entra ID にアプリを登録し（アプリの登録、\n\
             \x20 認証: パブリック クライアント フローを許可）、委任されたアクセス許可 SMTP.Send を与え、\n\
             \x20 メールボックスの認証済み SMTP を有効にします（Exchange 管理センター、メールボックス、\n\
             \x20 メール アプリ）。そのテナントとアプリケーション（クライアント）ID を入力してください。\n",
        ),
        OAuthProvider::Google => d.t(
            "\nGmail with OAuth 2.0 needs your own OAuth client: Google Cloud console, APIs & Services,\n\
             \x20 Credentials, Create OAuth client ID, type Desktop app. Give its client ID and secret;\n\
             \x20 the sign-in then opens in a browser (or paste the address the browser was sent to).\n",
            "\nGmail avec OAuth 2.0 demande votre propre client OAuth : console Google Cloud, API et\n\
             \x20 services, Identifiants, Créer un ID client OAuth, type Application de bureau. Donnez\n\
             \x20 son ID client et son secret ; la connexion se fait ensuite dans un navigateur (ou\n\
             \x20 collez l'adresse vers laquelle le navigateur a été envoyé).\n",
            "\nGmail の OAuth 2.0 にはご自身の OAuth クライアントが必要です: Google Cloud コンソール、\n\
             \x20 API とサービス、認証情報、OAuth クライアント ID を作成（種類: デスクトップ アプリ）。\n\
             \x20 クライアント ID とシークレットを入力すると、ブラウザでサインインします（または\n\
             \x20 ブラウザの移動先アドレスを貼り付けてください）。\n",
        ),
    };
    d.say(help)?;
    let tenant = match idp {
        OAuthProvider::Microsoft => {
            let proposed = default_tenant(user);
            let prompt = d.t(
                "Tenant (directory ID or domain)",
                "Locataire (ID d'annuaire ou domaine)",
                "テナント（ディレクトリ ID またはドメイン）",
            );
            Some(d.ask(Question {
                given: args.oauth_tenant.clone(),
                prompt,
                flag: "--oauth-tenant",
                default: Some(&proposed),
            })?)
        }
        OAuthProvider::Google => None,
    };
    let prompt = d.t(
        "Application (client) ID",
        "ID d'application (client)",
        "アプリケーション（クライアント）ID",
    );
    let client_id = d.ask(Question {
        given: args.oauth_client_id.clone(),
        prompt,
        flag: "--oauth-client-id",
        default: None,
    })?;
    let client_secret = match idp {
        OAuthProvider::Microsoft => None,
        OAuthProvider::Google => Some(client_secret(args, d)?),
    };
    let answers = OAuthAccount {
        provider: idp,
        flow: idp.default_flow(),
        tenant,
        client_id,
        client_secret,
        token_url: endpoint(&args.oauth_token_url, "oauth2_token_url")?,
        device_url: endpoint(&args.oauth_device_url, "oauth2_device_url")?,
        auth_url: endpoint(&args.oauth_auth_url, "oauth2_auth_url")?,
    };
    let written = [answers.tenant.as_deref(), Some(answers.client_id.as_str())];
    if written
        .iter()
        .flatten()
        .any(|v| v.is_empty() || v.contains(char::is_control))
    {
        return Err(Error::Usage(
            "setup: the tenant and the client ID must be one non-empty line".into(),
        ));
    }
    Ok(answers)
}

/// Google's client secret: `--oauth-client-secret-file`, else typed with echo off.
fn client_secret(args: &OAuthArgs, d: &mut dyn Prompter) -> Result<String, Error> {
    let secret = match &args.oauth_client_secret_file {
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(|e| Error::no_input(f, e))?;
            text.lines().next().unwrap_or("").trim().to_string()
        }
        None if d.interactive() => {
            let prompt = d.t(
                "Client secret (not shown): ",
                "Secret du client (masqué) : ",
                "クライアント シークレット（表示されません）: ",
            );
            d.secret(prompt)?.trim().to_string()
        }
        None => return Err(Error::Usage(
            "setup: give the Google OAuth client's secret with --oauth-client-secret-file FILE \
                 (never on the command line)"
                .into(),
        )),
    };
    if secret.is_empty() || secret.contains(char::is_control) {
        return Err(Error::Usage(
            "setup: the client secret must be one non-empty line".into(),
        ));
    }
    Ok(secret)
}

/// The command that signs the account in, as the person would type it.
pub(crate) fn login_command(account: &str, msmtprc: &Path) -> String {
    format!("rsmtp --oauth-login -a {account} -C {}", msmtprc.display())
}

/// Run `rsmtp --oauth-login -a ACCOUNT -C FILE` (the `rsmtp` next to this binary, else
/// the one on `PATH`) on the person's terminal: its prompt (the device code, or the
/// browser URL) goes to stderr with setup's own questions, a pasted redirect comes
/// from stdin. Returns its exit code; a failure says how to sign in later.
pub(crate) fn login(account: &str, msmtprc: &Path, ui: &mut Ui<'_>) -> Result<u8, Error> {
    use std::os::fd::AsFd;
    let exe =
        rsmtp_deliver::background::rsmtp_exe().map_err(|e| Error::io("cannot find rsmtp", e))?;
    let stderr = io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| Error::io("cannot duplicate stderr", e))?;
    ui.warn(&format!("signing in: {}", login_command(account, msmtprc)));
    let status = Command::new(&exe)
        .args(["--oauth-login", "-a", account, "-C"])
        .arg(msmtprc)
        .stdin(Stdio::inherit())
        .stdout(Stdio::from(stderr))
        .status();
    let code = match status {
        Ok(s) => match s.code() {
            Some(c) => u8::try_from(c).unwrap_or(1),
            // Killed by a signal (Ctrl-C): as sysexits has no code for it.
            None => 1,
        },
        Err(e) => {
            ui.warn(&format!("cannot run {}: {e}", exe.display()));
            rsmtp_deliver::ExitCode::Unavailable as u8
        }
    };
    if code != 0 {
        ui.warn(&format!(
            "the sign-in did not complete; the account is written: sign in later with `{}`, \
             then send a test with `backup-alert send --status info --subject test`",
            login_command(account, msmtprc)
        ));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A person answering from a script; `None` when no one is there.
    struct Scripted {
        answers: Option<Vec<&'static str>>,
        asked: Vec<String>,
    }

    impl Prompter for Scripted {
        fn lang(&self) -> Language {
            Language::English
        }
        fn interactive(&self) -> bool {
            self.answers.is_some()
        }
        fn say(&mut self, _: &str) -> Result<(), Error> {
            Ok(())
        }
        fn ask(&mut self, q: Question<'_>) -> Result<String, Error> {
            if let Some(given) = q.given {
                return Ok(given);
            }
            self.asked.push(q.prompt.to_string());
            let answer = match &mut self.answers {
                Some(a) if !a.is_empty() => a.remove(0),
                _ => return Err(Error::Usage(format!("{} is required", q.flag))),
            };
            Ok(match (answer, q.default) {
                ("", Some(d)) => d.to_string(),
                (a, _) => a.to_string(),
            })
        }
        fn secret(&mut self, prompt: &str) -> Result<String, Error> {
            self.ask(Question {
                given: None,
                prompt,
                flag: "secret",
                default: None,
            })
        }
    }

    fn person(answers: &[&'static str]) -> Scripted {
        Scripted {
            answers: Some(answers.to_vec()),
            asked: Vec::new(),
        }
    }

    #[test]
    fn the_sign_in_question_proposes_oauth_first_for_microsoft_only() {
        let none = OAuthArgs::default();
        let outlook = sign_in(&none, false, Provider::Outlook, &mut person(&[""]));
        assert_eq!(outlook.unwrap(), Some(OAuthProvider::Microsoft));
        let gmail = sign_in(&none, false, Provider::Gmail, &mut person(&[""]));
        assert_eq!(gmail.unwrap(), None, "Gmail's default is its app password");
        // Asked again until the answer is 1 or 2.
        let mut p = person(&["3", "2"]);
        let gmail = sign_in(&none, false, Provider::Gmail, &mut p);
        assert_eq!(gmail.unwrap(), Some(OAuthProvider::Google));
        assert_eq!(p.asked.len(), 2);
        // A password flag, another provider, or a script: no question, a password.
        for (given, provider) in [(true, Provider::Outlook), (false, Provider::Yahoo)] {
            let mut p = person(&[]);
            assert_eq!(sign_in(&none, given, provider, &mut p).unwrap(), None);
            assert!(p.asked.is_empty());
        }
        let mut script = Scripted {
            answers: None,
            asked: Vec::new(),
        };
        assert_eq!(
            sign_in(&none, false, Provider::Outlook, &mut script).unwrap(),
            None
        );
        let oauth = OAuthArgs {
            oauth: true,
            ..OAuthArgs::default()
        };
        assert!(matches!(
            sign_in(&oauth, false, Provider::Other, &mut person(&[])),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn google_asks_for_its_secret_and_microsoft_for_its_tenant() {
        let none = OAuthArgs::default();
        let mut p = person(&["id.apps.googleusercontent.com", "GOCSPX-x"]);
        let g = gather(&none, OAuthProvider::Google, "me@gmail.com", &mut p).unwrap();
        assert_eq!(g.client_secret.as_deref(), Some("GOCSPX-x"));
        assert_eq!((g.tenant, g.flow), (None, OAuthFlow::AuthCode));
        let mut p = person(&["", "client"]);
        let m = gather(&none, OAuthProvider::Microsoft, "a@contoso.example", &mut p).unwrap();
        assert_eq!(m.tenant.as_deref(), Some("contoso.example"));
        assert_eq!(
            (m.client_id.as_str(), m.flow),
            ("client", OAuthFlow::Device)
        );
        assert!(m.lines().iter().all(|(c, _)| *c != "oauth2_client_secret"));
    }

    #[test]
    fn tenants_proposed_from_the_login() {
        assert_eq!(default_tenant("alerts@Contoso.example"), "contoso.example");
        assert_eq!(default_tenant("me@outlook.com"), "consumers");
        assert_eq!(default_tenant("me@hotmail.fr"), "consumers");
        assert_eq!(default_tenant("me"), "consumers");
    }

    #[test]
    fn the_secret_is_not_in_debug() {
        let a = OAuthAccount {
            provider: OAuthProvider::Google,
            flow: OAuthFlow::AuthCode,
            tenant: None,
            client_id: "id".into(),
            client_secret: Some("GOCSPX-s3cret".into()),
            token_url: None,
            device_url: None,
            auth_url: None,
        };
        assert!(!format!("{a:?}").contains("s3cret"));
        assert!(a
            .lines()
            .contains(&("oauth2_client_secret", "GOCSPX-s3cret")));
    }
}
