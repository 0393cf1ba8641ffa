//! `rsmtp --oauth-login`, `--oauth-token` and `--oauth-logout`: the interactive side
//! of OAuth 2.0 (the device code or browser prompt on the terminal), over the token
//! client of [`crate::oauth`].

use std::io::BufRead;

use rsmtp_oauth::{DeviceCode, Interaction};

use crate::account;
use crate::cli::Mode;
use crate::delivery::Delivery;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::oauth::client;
use crate::ui::Ui;

/// `--oauth-login`, `--oauth-token`, `--oauth-logout`.
pub fn run(mode: &Mode, delivery: &Delivery, ui: &mut Ui) -> Result<ExitCode, Failure> {
    let (_, chosen) = account::load_and_choose(delivery)?;
    let account = &chosen.account;
    let context = Some(chosen.describe());
    let client = client(account).map_err(|f| f.with_account(context.clone()))?;
    match mode {
        Mode::OAuthToken => {
            let token = client
                .access_token()
                .map_err(|e| Failure::from(e).with_account(context))?;
            // The one place a token is printed: what `passwordeval` reads.
            ui.print(token.secret.expose());
            ui.print("\n");
        }
        Mode::OAuthLogout => {
            let removed = client.logout()?;
            if removed.is_empty() {
                ui.print(&format!(
                    "no tokens were stored (neither in the keyring nor in {})\n",
                    client.store().path().display()
                ));
            }
            for place in removed {
                ui.print(&format!("forgot the tokens in {place}\n"));
            }
        }
        _ => {
            let token = {
                let mut login = TerminalLogin { ui: &mut *ui };
                client
                    .login(&mut login)
                    .map_err(|e| Failure::from(e).with_account(context.clone()))?
            };
            let _ = token;
            let location = client.store().location();
            ui.print(&format!(
                "signed in: the tokens of {} are in {location}; sending needs no interaction now\n",
                account.describe(),
            ));
            if location == rsmtp_oauth::Location::Keyring {
                // cron and PHP have no session bus: they cannot read the keyring.
                ui.print(&format!(
                    "(cron and PHP run without this session's bus and cannot read the keyring; \
                     for them, sign in with `env -u DBUS_SESSION_BUS_ADDRESS rsmtp --oauth-login \
                     -a {}`, which keeps the tokens in the file)\n",
                    if account.name.is_empty() {
                        "default"
                    } else {
                        &account.name
                    }
                ));
            }
        }
    }
    Ok(ExitCode::Ok)
}

/// The person's side of `--oauth-login`, on stdout and stdin.
struct TerminalLogin<'u, 'a> {
    ui: &'u mut Ui<'a>,
}

impl TerminalLogin<'_, '_> {
    fn say(&mut self, text: &str) {
        self.ui.print(text);
        let _ = self.ui.out.flush();
    }
}

impl Interaction for TerminalLogin<'_, '_> {
    fn show_device_code(&mut self, code: &DeviceCode) {
        let mut text = format!(
            "To sign in, open {} and enter the code {}\n",
            code.verification_uri, code.user_code
        );
        if let Some(complete) = &code.verification_uri_complete {
            text.push_str(&format!("(or open {complete})\n"));
        }
        text.push_str(&format!(
            "The code is valid for {} minutes; waiting for the sign-in…\n",
            code.expires_in.div_ceil(60)
        ));
        self.say(&text);
    }

    fn show_auth_url(&mut self, url: &str, redirect_uri: &str) {
        self.say(&format!(
            "Open this URL in a browser and sign in:\n\n{url}\n\n\
             rsmtp waits for the browser at {redirect_uri}. On a machine without a browser, \
             sign in elsewhere and paste here the address the browser was sent to \
             (it starts with {redirect_uri}), then press Enter:\n"
        ));
    }

    fn redirect_reader(&mut self) -> Option<Box<dyn FnOnce() -> Option<String> + Send>> {
        // A descriptor of its own: the main thread holds std's stdin lock for the run.
        use std::os::fd::AsFd;
        let stdin = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
        Some(Box::new(move || {
            let mut line = String::new();
            match std::io::BufReader::new(std::fs::File::from(stdin)).read_line(&mut line) {
                Ok(n) if n > 0 && !line.trim().is_empty() => Some(line),
                _ => None,
            }
        }))
    }
}
