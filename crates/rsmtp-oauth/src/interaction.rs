//! The person's side of `--oauth-login`, as the flows see it: what the device flow
//! shows ([`DeviceCode`]) and how a program shows it and takes a pasted redirect
//! ([`Interaction`]). Below the flows and the token client, which all use it.

use std::time::Duration;

/// What the person is shown (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    /// The code to type in.
    pub user_code: String,
    /// Where to type it (`verification_uri`; Google says `verification_url`).
    pub verification_uri: String,
    /// The same URL with the code in it, when the server gives one.
    pub verification_uri_complete: Option<String>,
    /// How long the code is valid, in seconds.
    pub expires_in: u64,
}

/// The person's side of `--oauth-login`: what to show and where a pasted redirect
/// comes from. The `rsmtp` binary implements it on its terminal; tests script it.
pub trait Interaction {
    /// Show the verification URL and the user code (device flow).
    fn show_device_code(&mut self, code: &DeviceCode);
    /// Show the URL to open in a browser (authcode flow) and the loopback address
    /// that waits for the redirect.
    fn show_auth_url(&mut self, url: &str, redirect_uri: &str);
    /// A reader for the redirect URL pasted by the person (a headless machine, where
    /// the browser runs elsewhere and its redirect to 127.0.0.1 fails), run on its
    /// own thread while the loopback listener waits; `None`: no one can paste.
    fn redirect_reader(&mut self) -> Option<Box<dyn FnOnce() -> Option<String> + Send>>;
    /// Wait between two polls of the token endpoint.
    fn wait(&mut self, pause: Duration) {
        std::thread::sleep(pause);
    }
}
