//! The password from the keyring, as msmtp's libsecret lookup finds it: the
//! freedesktop Secret Service on the session bus, an item with the attributes
//! `host`, `service` = `smtp` and `user` — what
//! `secret-tool store --label=msmtp host HOST service smtp user USER` stores.
//!
//! Asked only when the account has no `password`, no `passwordeval` and no netrc
//! entry, so a configured password never opens a D-Bus connection. No session bus,
//! no Secret Service, a locked keyring or no matching item: silently no password
//! (msmtp does the same), and the caller goes on to the prompt or its error. The
//! D-Bus client is rustbus (pure Rust, blocking); the secret travels in the
//! service's `plain` session, which is what libsecret uses on a local bus too.

use std::collections::HashMap;
use std::time::Duration;

use rsmtp_core::Secret;
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
mod input {
    #![allow(missing_docs)]
    rustbus::dbus_variant_sig!(Input, Text => String);
}
use input::Input;

/// The whole lookup gets this long: rustbus's connect and authentication have no
/// timeout of their own, so a bus that accepts and then says nothing must not hold
/// a cron job (the lookup thread is then left behind; the process goes on).
const LOOKUP_WAIT: Duration = Duration::from_secs(15);

/// The stored password for `user` at `host`, or `None` (see the module docs).
pub fn lookup(host: &str, user: &str) -> Option<Secret> {
    // Without a session bus address there is nothing to ask (cron, PHP, a server).
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS")?;
    let (host, user) = (host.to_owned(), user.to_owned());
    let (tx, rx) = std::sync::mpsc::channel();
    // No thread (EAGAIN under a pids limit): no keyring, as without a bus.
    std::thread::Builder::new()
        .name("rsmtp-keyring".into())
        .spawn(move || {
            let _ = tx.send(lookup_on_bus(&host, &user));
        })
        .ok()?;
    rx.recv_timeout(LOOKUP_WAIT).ok().flatten()
}

fn lookup_on_bus(host: &str, user: &str) -> Option<Secret> {
    let mut bus = RpcConn::session_conn(Timeout::Duration(CALL_WAIT)).ok()?;
    let attributes: HashMap<String, String> = [("host", host), ("service", "smtp"), ("user", user)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();

    let mut search = service_call("SearchItems");
    search.body.push_param(&attributes).ok()?;
    let reply = call(&mut bus, search)?;
    let (unlocked, locked): (Vec<Path>, Vec<Path>) = reply.body.parser().get2().ok()?;
    let items = if unlocked.is_empty() {
        // Unlocking without a prompt works when the keyring daemon can (a login
        // keyring unlocked by PAM); a prompt nobody can answer here is not waited for.
        let mut unlock = service_call("Unlock");
        unlock.body.push_param(&locked).ok()?;
        let reply = call(&mut bus, unlock)?;
        let (unlocked, _prompt): (Vec<Path>, Path) = reply.body.parser().get2().ok()?;
        unlocked
    } else {
        unlocked
    };
    let item = items.into_iter().next()?;

    let mut open = service_call("OpenSession");
    open.body
        .push_param2("plain", Input::Text(String::new()))
        .ok()?;
    let reply = call(&mut bus, open)?;
    let (_output, session): (Input, Path) = reply.body.parser().get2().ok()?;

    let mut get = service_call("GetSecrets");
    get.body.push_param2(vec![item], &session).ok()?;
    let secret = call(&mut bus, get).and_then(|reply| {
        let secrets: HashMap<Path, SecretStruct> = reply.body.parser().get().ok()?;
        let (_, (_, _, value, _)) = secrets.into_iter().next()?;
        String::from_utf8(value).ok().map(Secret::new)
    });

    let close = MessageBuilder::new()
        .call("Close")
        .with_interface("org.freedesktop.Secret.Session")
        .on(session.as_ref())
        .at(SERVICE)
        .build();
    let _ = call(&mut bus, close);
    secret
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
