//! The mail providers the `setup` wizard knows (Gmail, Outlook, Yahoo, or another
//! server): their SMTP server, port and TLS mode, and how to get a password each accepts,
//! in the reader's language.

use crate::lang::Language;
use crate::setup::msmtprc::TlsMode;

/// Mail providers the wizard knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Provider {
    Gmail,
    Outlook,
    Yahoo,
    Other,
}

/// The server side of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Server {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: TlsMode,
}

impl Provider {
    /// Known servers; `None` for `other`.
    pub(crate) fn server(self) -> Option<Server> {
        let (host, port, tls) = match self {
            Provider::Gmail => ("smtp.gmail.com", 587, TlsMode::Starttls),
            Provider::Outlook => ("smtp.office365.com", 587, TlsMode::Starttls),
            Provider::Yahoo => ("smtp.mail.yahoo.com", 465, TlsMode::Tls),
            Provider::Other => return None,
        };
        Some(Server {
            host: host.into(),
            port,
            tls,
        })
    }

    /// How to get a password this server accepts, in `lang`.
    pub(crate) fn password_help(self, lang: Language) -> &'static str {
        match (lang, self) {
            (Language::French, Provider::Gmail) => {
                "Gmail refuse ici votre mot de passe habituel : créez un mot de passe d'application.\n\
                 \x20 1. Allez sur https://myaccount.google.com/security\n\
                 \x20 2. Activez la validation en 2 étapes\n\
                 \x20 3. Ouvrez « Mots de passe des applications », créez-en un (ex. « backup-alert »)\n\
                 \x20 4. Tapez les 16 lettres affichées (les espaces sont ignorés)\n"
            }
            (Language::French, Provider::Outlook) => {
                "Outlook/Microsoft 365 : avec la vérification en deux étapes, créez un mot de passe\n\
                 \x20 d'application sur https://account.microsoft.com/security (options avancées).\n\
                 \x20 Un compte professionnel demande que l'administrateur active SMTP AUTH.\n"
            }
            (Language::French, Provider::Yahoo) => {
                "Yahoo : créez un mot de passe d'application sur https://login.yahoo.com/account/security\n\
                 \x20 (« Générer un mot de passe d'application ») et utilisez-le à la place du vôtre.\n"
            }
            (Language::French, Provider::Other) => {
                "Utilisez le mot de passe SMTP de la boîte (le panneau de votre fournisseur donne\n\
                 \x20 le serveur, le port, et STARTTLS (587) ou SSL/TLS (465)).\n"
            }
            (Language::Japanese, Provider::Gmail) => {
                "Gmail では通常のパスワードは使えません。アプリ パスワードを作成してください。\n\
                 \x20 1. https://myaccount.google.com/security を開く\n\
                 \x20 2. 2 段階認証プロセスを有効にする\n\
                 \x20 3. 「アプリ パスワード」を開き、作成する（例: backup-alert）\n\
                 \x20 4. 表示された 16 文字を入力する（空白は無視されます）\n"
            }
            (Language::Japanese, Provider::Outlook) => {
                "Outlook/Microsoft 365: 2 段階認証を有効にして https://account.microsoft.com/security\n\
                 \x20 （詳細なセキュリティ オプション）でアプリ パスワードを作成してください。\n\
                 \x20 職場のアカウントは管理者による SMTP AUTH の有効化が必要です。\n"
            }
            (Language::Japanese, Provider::Yahoo) => {
                "Yahoo: https://login.yahoo.com/account/security でアプリ パスワードを作成し、\n\
                 \x20 通常のパスワードの代わりに使ってください。\n"
            }
            (Language::Japanese, Provider::Other) => {
                "メールボックスの SMTP パスワードを使ってください（サーバー名、ポート、STARTTLS (587)\n\
                 \x20 か SSL/TLS (465) かはプロバイダーの管理画面に表示されます）。\n"
            }
            (Language::English, _) => self.password_help_en(),
        }
    }

    fn password_help_en(self) -> &'static str {
        match self {
            Provider::Gmail => {
                "Gmail refuses your normal password here: create an app password.\n\
                 \x20 1. Go to https://myaccount.google.com/security\n\
                 \x20 2. Turn on 2-Step Verification\n\
                 \x20 3. Open \"App passwords\", create one (e.g. \"backup-alert\")\n\
                 \x20 4. Type the 16 letters shown (spaces are ignored)\n"
            }
            Provider::Outlook => {
                "Outlook/Microsoft 365: with two-step verification on, create an app password at\n\
                 \x20 https://account.microsoft.com/security (Advanced security options).\n\
                 \x20 Work accounts need SMTP AUTH enabled by the administrator.\n"
            }
            Provider::Yahoo => {
                "Yahoo: create an app password at https://login.yahoo.com/account/security\n\
                 \x20 (\"Generate app password\") and use it instead of your normal password.\n"
            }
            Provider::Other => {
                "Use the SMTP password of the mailbox (your provider's control panel shows\n\
                 \x20 the server name, port and whether it uses STARTTLS (587) or SSL/TLS (465)).\n"
            }
        }
    }
}
