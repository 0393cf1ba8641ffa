//! The keyring: the freedesktop Secret Service on the session bus, for two things.
//!
//! - **The password**, as msmtp's libsecret lookup finds it: an item with the
//!   attributes `host`, `service` = `smtp` and `user` — what
//!   `secret-tool store --label=msmtp host HOST service smtp user USER` stores. Asked
//!   only when the account has no `password`, no `passwordeval` and no netrc entry,
//!   so a configured password never opens a D-Bus connection. No session bus, no
//!   Secret Service, a locked keyring or no matching item: silently no password
//!   (msmtp does the same), and the caller goes on to the prompt or its error.
//! - **OAuth 2.0 tokens** ([`SecretService`], the token store's [`Keyring`]): an item
//!   with `service` = `rsmtp-oauth` and `key` = the store's key, holding the store's
//!   JSON, in the default collection. Whatever cannot be done without a person (a
//!   locked collection that wants a prompt) or in time counts as no keyring, and the
//!   store keeps its file.
//!
//! The D-Bus client is rustbus (pure Rust, blocking); secrets travel in the service's
//! `plain` session, which is what libsecret uses on a local bus too.

use std::collections::HashMap;
use std::time::Duration;

use rsmtp_core::Secret;
use rsmtp_oauth::{Keyring, KeyringUnavailable};
use rustbus::connection::Timeout;
use rustbus::message_builder::MarshalledMessage;
use rustbus::wire::ObjectPath;
use rustbus::{MessageBuilder, MessageType, RpcConn};

/// Each D-Bus call, activation of the service included, gets this long.
const CALL_WAIT: Duration = Duration::from_secs(10);

const SERVICE: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE_INTERFACE: &str = "org.freedesktop.Secret.Service";

type Path = ObjectPath<String>;
/// `(session, parameters, value, content type)` (the Secret Service's Secret struct).
type SecretStruct = (Path, Vec<u8>, Vec<u8>, String);

// The variant type the Secret Service's `OpenSession` takes (the "plain" algorithm's
// empty string input); the macro makes an enum, which cannot carry doc comments.
// So is `CreateItem`'s property map (a label, or the attributes).
mod variants {
    #![allow(missing_docs)]
    use std::collections::HashMap;
    rustbus::dbus_variant_sig!(Input, Text => String);
    rustbus::dbus_variant_sig!(Property, Label => String; Attributes => HashMap<String, String>);
}
use variants::{Input, Property};

/// The whole lookup gets this long: rustbus's connect and authentication have no
/// timeout of their own, so a bus that accepts and then says nothing must not hold
/// a cron job (the lookup thread is then left behind; the process goes on).
const LOOKUP_WAIT: Duration = Duration::from_secs(15);

/// The stored password for `user` at `host`, or `None` (see the module docs).
pub fn lookup(host: &str, user: &str) -> Option<Secret> {
    let attributes = attributes(&[("host", host), ("service", "smtp"), ("user", user)]);
    on_bus(move |bus| {
        let item = search(bus, &attributes)?.into_iter().next()?;
        secret_of(bus, item)
    })
}

/// `f` on a new session bus connection, on its own thread, for at most
/// [`LOOKUP_WAIT`]; `None` without a bus, a thread or an answer in time.
fn on_bus<T: Send + 'static>(
    f: impl FnOnce(&mut RpcConn) -> Option<T> + Send + 'static,
) -> Option<T> {
    // Without a session bus address there is nothing to ask (cron, PHP, a server).
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS")?;
    let (tx, rx) = std::sync::mpsc::channel();
    // No thread (EAGAIN under a pids limit): no keyring, as without a bus.
    std::thread::Builder::new()
        .name("rsmtp-keyring".into())
        .spawn(move || {
            let answer = RpcConn::session_conn(Timeout::Duration(CALL_WAIT))
                .ok()
                .and_then(|mut bus| f(&mut bus));
            let _ = tx.send(answer);
        })
        .ok()?;
    rx.recv_timeout(LOOKUP_WAIT).ok().flatten()
}

fn attributes(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The unlocked items with `attributes` (empty: none); `None` when the service
/// cannot be asked.
fn search(bus: &mut RpcConn, attributes: &HashMap<String, String>) -> Option<Vec<Path>> {
    let mut search = service_call("SearchItems");
    search.body.push_param(attributes).ok()?;
    let reply = call(bus, search)?;
    let (unlocked, locked): (Vec<Path>, Vec<Path>) = reply.body.parser().get2().ok()?;
    if !unlocked.is_empty() || locked.is_empty() {
        return Some(unlocked);
    }
    // Unlocking without a prompt works when the keyring daemon can (a login
    // keyring unlocked by PAM); a prompt nobody can answer here is not waited for.
    let mut unlock = service_call("Unlock");
    unlock.body.push_param(&locked).ok()?;
    let reply = call(bus, unlock)?;
    let (unlocked, _prompt): (Vec<Path>, Path) = reply.body.parser().get2().ok()?;
    Some(unlocked)
}

/// A `plain` session (the secret in clear on the local bus, as libsecret does).
fn open_session(bus: &mut RpcConn) -> Option<Path> {
    let mut open = service_call("OpenSession");
    open.body
        .push_param2("plain", Input::Text(String::new()))
        .ok()?;
    let reply = call(bus, open)?;
    let (_output, session): (Input, Path) = reply.body.parser().get2().ok()?;
    Some(session)
}

fn close_session(bus: &mut RpcConn, session: &Path) {
    let close = MessageBuilder::new()
        .call("Close")
        .with_interface("org.freedesktop.Secret.Session")
        .on(session.as_ref())
        .at(SERVICE)
        .build();
    let _ = call(bus, close);
}

/// The secret of `item`.
fn secret_of(bus: &mut RpcConn, item: Path) -> Option<Secret> {
    let session = open_session(bus)?;
    let mut get = service_call("GetSecrets");
    get.body.push_param2(vec![item], &session).ok()?;
    let secret = call(bus, get).and_then(|reply| {
        let secrets: HashMap<Path, SecretStruct> = reply.body.parser().get().ok()?;
        let (_, (_, _, value, _)) = secrets.into_iter().next()?;
        String::from_utf8(value).ok().map(Secret::new)
    });
    close_session(bus, &session);
    secret
}

/// The Secret Service as the OAuth 2.0 token store's keyring (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct SecretService;

/// The default collection (`login` on a desktop).
const DEFAULT_COLLECTION: &str = "/org/freedesktop/secrets/aliases/default";
/// A prompt path meaning "no prompt needed".
const NO_PROMPT: &str = "/";

type Attributes = HashMap<String, String>;

fn oauth_attributes(key: &str) -> Attributes {
    attributes(&[("service", "rsmtp-oauth"), ("key", key)])
}

impl Keyring for SecretService {
    fn get(&self, key: &str) -> Result<Option<Secret>, KeyringUnavailable> {
        let attributes = oauth_attributes(key);
        on_bus(move |bus| {
            let items = search(bus, &attributes)?;
            Some(match items.into_iter().next() {
                Some(item) => Some(secret_of(bus, item)?),
                None => None,
            })
        })
        .ok_or(KeyringUnavailable)
    }

    fn set(&self, key: &str, label: &str, secret: &Secret) -> Result<(), KeyringUnavailable> {
        let properties: HashMap<String, Property> = [
            (
                "org.freedesktop.Secret.Item.Label".to_owned(),
                Property::Label(label.to_owned()),
            ),
            (
                "org.freedesktop.Secret.Item.Attributes".to_owned(),
                Property::Attributes(oauth_attributes(key)),
            ),
        ]
        .into_iter()
        .collect();
        // Bytes of our own, zeroed when the thread is done with them.
        let value = zeroize::Zeroizing::new(secret.expose().as_bytes().to_vec());
        on_bus(move |bus| {
            let session = open_session(bus)?;
            let mut create = MessageBuilder::new()
                .call("CreateItem")
                .with_interface("org.freedesktop.Secret.Collection")
                .on(DEFAULT_COLLECTION)
                .at(SERVICE)
                .build();
            let secret: SecretStruct = (
                session.clone(),
                Vec::new(),
                value.to_vec(),
                "application/json".to_owned(),
            );
            let pushed = create.body.push_param3(&properties, &secret, true).is_ok();
            let mut secret = secret;
            zeroize::Zeroize::zeroize(&mut secret.2);
            let reply = pushed.then(|| call(bus, create)).flatten();
            close_session(bus, &session);
            let (_item, prompt): (Path, Path) = reply?.body.parser().get2().ok()?;
            // A prompt (a locked collection) is not answered here: no keyring.
            (prompt.as_ref() == NO_PROMPT).then_some(())
        })
        .ok_or(KeyringUnavailable)
    }

    fn delete(&self, key: &str) -> Result<bool, KeyringUnavailable> {
        let attributes = oauth_attributes(key);
        on_bus(move |bus| {
            let items = search(bus, &attributes)?;
            let found = !items.is_empty();
            for item in items {
                let delete = MessageBuilder::new()
                    .call("Delete")
                    .with_interface("org.freedesktop.Secret.Item")
                    .on(item.as_ref())
                    .at(SERVICE)
                    .build();
                call(bus, delete)?;
            }
            Some(found)
        })
        .ok_or(KeyringUnavailable)
    }
}

fn service_call(method: &str) -> MarshalledMessage {
    MessageBuilder::new()
        .call(method)
        .with_interface(SERVICE_INTERFACE)
        .on(SERVICE_PATH)
        .at(SERVICE)
        .build()
}

/// Sends `message` and waits for its reply; an error reply is `None`.
fn call(bus: &mut RpcConn, mut message: MarshalledMessage) -> Option<MarshalledMessage> {
    let serial = bus.send_message(&mut message).ok()?.write_all().ok()?;
    let reply = bus
        .wait_response(serial, Timeout::Duration(CALL_WAIT))
        .ok()?;
    (reply.typ == MessageType::Reply).then_some(reply)
}
