//! Starting the queue's delivery in the background, detached, so the caller (a web
//! request, a cron job) never waits for the network: the background delivery of a
//! `queue always` message, and the retrier (see `retrier`) after a message was queued
//! or after a delivery found messages waiting for a server that is back.

use std::process::{Command, Stdio};

use rsmtp_config::Account;
use rsmtp_queue::Queue;

use crate::delivery::Delivery;
use crate::ui::Ui;

/// The `rsmtp` binary to start a background process with: this one, unless this is
/// another program built on the library (backup-alert), which cannot take rsmtp's
/// internal options: then the `rsmtp` next to it, else the one on `PATH`.
pub fn rsmtp_exe() -> std::io::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let is_backup_alert = exe
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("backup-alert"));
    if !is_backup_alert {
        return Ok(exe);
    }
    let sibling = exe.with_file_name("rsmtp");
    Ok(if sibling.is_file() {
        sibling
    } else {
        "rsmtp".into()
    })
}

/// Starts `cmd` detached; does not wait for it.
pub fn spawn_detached(mut cmd: Command) -> std::io::Result<()> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The caller may have left descriptors open without close-on-exec (a web
    // server's request pipe at fd 251 was seen): the detached process would hold
    // them for as long as it retries, keeping the request open. rsmtp never hands a
    // descriptor to a child by inheritance (std sets up the pipes it uses), so
    // marking every one from 3 up is safe here.
    close_fds::set_fds_cloexec(3, &[]);
    let mut child = cmd.spawn()?;
    // The child is reaped on a thread so a long-lived caller (the listener) keeps no
    // zombie. Where no thread can start (EAGAIN under a pids limit) the message is
    // already safe in the queue: the child is left to be reaped when we exit, and
    // nothing panics.
    let _ = std::thread::Builder::new()
        .name("rsmtp-reaper".into())
        .spawn(move || child.wait());
    Ok(())
}

/// Runs a step that comes after the message is safe (delivered, or durably queued).
/// Nothing in it may turn that into a failure: std's directory handle panics when
/// `closedir` fails (EBADF from a FUSE file system, EIO), and the step reads the queue
/// directory. A panic here is caught and said as a warning; the caller still gets the
/// exit code of what happened to the message.
fn after_the_message_is_safe(ui: &mut Ui, what: &str, step: impl FnOnce(&mut Ui)) {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(&mut *ui)));
    if caught.is_err() {
        ui.warn(&format!(
            "{what} failed unexpectedly; the message is safe and the next `rsmtp -q` sends what waits"
        ));
    }
}

/// After a message went out directly: if others wait in the account's queue, start
/// the retrier telling it the server is back. Costs the caller one directory read.
pub fn after_delivery(delivery: &Delivery, account: &Account, server: &str, ui: &mut Ui) {
    after_the_message_is_safe(ui, "starting the queue's retrier", |ui| {
        after_delivery_unguarded(delivery, account, server, ui)
    });
}

fn after_delivery_unguarded(delivery: &Delivery, account: &Account, server: &str, ui: &mut Ui) {
    let dir = account.queue_dir();
    if !dir.join("queue").is_dir() {
        return;
    }
    match Queue::open(&dir) {
        Ok(queue) if queue.has_waiting() => start(delivery, account, Some(server), ui),
        _ => {}
    }
}

/// After a message was queued: start the queue's retrier unless one runs.
pub fn after_queueing(delivery: &Delivery, account: &Account, ui: &mut Ui) {
    after_the_message_is_safe(ui, "starting the queue's retrier", |ui| {
        match Queue::open(&account.queue_dir()) {
            Ok(queue) if queue.retrier_running() => {}
            _ => start(delivery, account, None, ui),
        }
    });
}

fn start(delivery: &Delivery, account: &Account, server_back: Option<&str>, ui: &mut Ui) {
    let exe = match rsmtp_exe() {
        Ok(e) => e,
        Err(e) => {
            ui.warn(&format!("cannot start the queue's retrier: {e}"));
            return;
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg("--queue-retrier")
        .arg(format!("--queue-dir={}", account.queue_dir().display()))
        .arg(format!(
            "--queue-retry-for={}",
            account.queue_retry_for().as_secs().max(1)
        ));
    if let Some(server) = server_back {
        cmd.arg(format!("--queue-server-up={server}"));
    }
    if let Some(file) = &delivery.config_file {
        cmd.arg("-C").arg(file);
    }
    if let Err(e) = spawn_detached(cmd) {
        ui.warn(&format!("cannot start the queue's retrier: {e}"));
    }
}

/// `queue always`: deliver in a detached process so the caller (a web request, a cron
/// job) never waits for the network. If the process cannot be started, the message is
/// still queued and the next `rsmtp -q` sends it.
pub fn spawn_background_delivery(delivery: &Delivery, account: &Account, id: &str, ui: &mut Ui) {
    let exe = match rsmtp_exe() {
        Ok(e) => e,
        Err(e) => {
            ui.warn(&format!(
                "message {id} queued; cannot start background delivery: {e}"
            ));
            return;
        }
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(format!("--deliver-queued={id}"))
        .arg(format!("--queue-dir={}", account.queue_dir().display()))
        .args(rsmtp_config::long_options::override_args(
            &delivery.overrides,
        ));
    if let Some(file) = &delivery.config_file {
        cmd.arg("-C").arg(file);
    }
    if let Some(name) = &delivery.account {
        cmd.arg("-a").arg(name);
    }
    if let Err(e) = spawn_detached(cmd) {
        ui.warn(&format!(
            "message {id} queued; cannot start background delivery: {e}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_after_the_message_is_safe_is_a_warning() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut ui = Ui::new(&mut out, &mut err, false);
        let mut after = false;
        after_the_message_is_safe(&mut ui, "the step", |_| panic!("closedir: EBADF"));
        after_the_message_is_safe(&mut ui, "the step", |_| after = true);
        assert!(after, "later steps still run");
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.contains("the step failed unexpectedly; the message is safe"),
            "{err}"
        );
    }
}
