//! The trust rule: a queue directory or entry another user could have written is
//! never acted on, and an entry never carries a setting that runs a command,
//! names a file or weakens the server check.

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rsmtp_queue::{DeliveryResult, FlushOptions, Queue, QueueError, Refusal};
use support::{message, meta};

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn forced() -> FlushOptions {
    FlushOptions {
        force: true,
        ..FlushOptions::default()
    }
}

/// Root, or (outside CI) `None`: giving a file to another user needs root, and CI
/// runs the tests as root, so there the test must not be skipped.
fn as_root() -> Option<()> {
    if rustix::process::geteuid().is_root() {
        return Some(());
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true: this test needs root"
    );
    None
}

/// Flushes with a delivery function that must never be called; returns the report.
fn flush_without_delivery(queue: &Queue) -> rsmtp_queue::FlushReport {
    queue
        .flush(&forced(), &mut |meta, _| {
            panic!("delivered an untrusted entry: {meta:?}")
        })
        .unwrap()
}

#[track_caller]
fn assert_untrusted_dir(err: QueueError, path: &Path, hint: &str) {
    assert_eq!(err.exit_code(), 78, "{err}");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains(hint), "{text}");
}

#[test]
fn open_refuses_writable_or_linked_queue_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("q");
    Queue::open(&root).unwrap();

    chmod(&root, 0o777);
    let err = Queue::open(&root).unwrap_err();
    assert_untrusted_dir(err, &root, &format!("chmod 700 {}", root.display()));
    chmod(&root, 0o700);

    for sub in ["tmp", "queue", "failed"] {
        let path = root.join(sub);
        chmod(&path, 0o770);
        let err = Queue::open(&root).unwrap_err();
        assert_untrusted_dir(err, &path, &format!("chmod 700 {}", path.display()));
        chmod(&path, 0o700);
    }
    Queue::open(&root).expect("fixed as told");

    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    assert_untrusted_dir(Queue::open(&link).unwrap_err(), &link, "symbolic link");

    let queue_sub = root.join("queue");
    fs::rename(&queue_sub, tmp.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("elsewhere"), &queue_sub).unwrap();
    assert_untrusted_dir(Queue::open(&root).unwrap_err(), &queue_sub, "symbolic link");
}

#[test]
fn open_refuses_a_queue_directory_of_another_user_naming_the_owner() {
    if as_root().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("q");
    fs::create_dir(&root).unwrap();
    chmod(&root, 0o700);
    std::os::unix::fs::chown(&root, Some(65534), Some(65534)).unwrap();
    let err = Queue::open(&root).unwrap_err();
    let text = err.to_string();
    assert_untrusted_dir(err, &root, &format!("chown root {}", root.display()));
    assert!(text.contains("uid 65534"), "{text}");
    assert!(!root.join("queue").exists(), "nothing created in it");
}

#[test]
fn entries_with_forbidden_settings_are_refused_and_stay_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let queue = Queue::open(tmp.path()).unwrap();
    let mut ids = Vec::new();
    for (command, value) in [
        ("passwordeval", "id > /tmp/pwned"),
        ("logfile", "/root/.profile"),
        ("tls", "off"),
        ("tls_certcheck", "off"),
        ("tls_fingerprint", "00:11"),
        ("eval", "echo host evil.example"),
    ] {
        let mut m = meta(ids.len() as u64);
        m.overrides = vec![
            ("port".into(), "2525".into()),
            (command.into(), value.into()),
        ];
        ids.push((queue.enqueue(&m, &mut &message(1)[..]).unwrap(), command));
    }
    let report = flush_without_delivery(&queue);
    assert_eq!(report.refused.len(), ids.len(), "{report:?}");
    for refused in &report.refused {
        let Refusal::Setting(setting) = &refused.reason else {
            panic!("{:?}", refused.reason);
        };
        assert!(ids.contains(&(refused.id.clone(), setting.command.as_str())));
        assert!(refused.path.starts_with(tmp.path().join("failed")));
        assert!(!refused.reason.to_string().contains("/tmp/pwned"));
    }
    assert!(report.failed.is_empty() && report.delivered.is_empty());
    assert!(!report.all_ok());

    // Put back by hand: refused again, never delivered.
    let (id, _) = &ids[0];
    queue.retry_now(id).unwrap();
    let again = flush_without_delivery(&queue);
    assert_eq!(again.refused.len(), 1);
    let listing = queue.list().unwrap();
    let entry = listing.iter().find(|e| &e.id == id).unwrap();
    assert!(entry.failed);
    assert!(
        entry
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("passwordeval")),
        "{entry:?}"
    );
}

#[test]
fn an_entry_naming_a_config_file_others_can_write_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let queue = Queue::open(&tmp.path().join("q")).unwrap();
    let rc = tmp.path().join("msmtprc");
    fs::write(&rc, "account default\nhost localhost\n").unwrap();
    chmod(&rc, 0o666);
    let mut m = meta(1);
    m.config_file = Some(rc.clone());
    queue.enqueue(&m, &mut &message(1)[..]).unwrap();
    let mut relative = meta(2);
    relative.config_file = Some("msmtprc".into());
    queue.enqueue(&relative, &mut &message(2)[..]).unwrap();
    let report = flush_without_delivery(&queue);
    assert_eq!(report.refused.len(), 2, "{report:?}");
    for r in &report.refused {
        assert!(matches!(r.reason, Refusal::ConfigFile { .. }), "{r:?}");
    }

    // The same entry with the file made private is delivered.
    chmod(&rc, 0o600);
    queue.enqueue(&m, &mut &message(3)[..]).unwrap();
    let report = queue
        .flush(&forced(), &mut |_, _| DeliveryResult::Delivered)
        .unwrap();
    assert_eq!(report.delivered.len(), 1, "{report:?}");
}

#[test]
fn an_entry_whose_files_are_links_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let queue = Queue::open(tmp.path()).unwrap();
    let secret = tmp.path().join("secret");
    fs::write(&secret, "root's mail").unwrap();
    for file in ["message", "envelope"] {
        let id = queue.enqueue(&meta(1), &mut &message(1)[..]).unwrap();
        let path = tmp.path().join("queue").join(id.as_str()).join(file);
        if file == "envelope" {
            // A well-formed envelope elsewhere, reached through a link.
            fs::rename(&path, tmp.path().join("planted-envelope")).unwrap();
            std::os::unix::fs::symlink(tmp.path().join("planted-envelope"), &path).unwrap();
        } else {
            fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(&secret, &path).unwrap();
        }
        let report = flush_without_delivery(&queue);
        assert_eq!(report.refused.len(), 1, "{file}: {report:?}");
        let text = report.refused[0].reason.to_string();
        assert!(text.contains("symbolic link"), "{text}");
        assert!(text.contains(file), "{text}");
    }
}

#[test]
fn an_entry_owned_by_another_user_is_refused_and_never_adopted() {
    if as_root().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let queue = Queue::open(tmp.path()).unwrap();
    let id = queue.enqueue(&meta(1), &mut &message(1)[..]).unwrap();
    let entry = tmp.path().join("queue").join(id.as_str());
    for path in [entry.join("envelope"), entry.join("message"), entry.clone()] {
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    }
    let report = flush_without_delivery(&queue);
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert!(report.refused[0].meta.is_none());
    let text = report.refused[0].reason.to_string();
    assert!(text.contains("uid 65534"), "{text}");

    // Moved as it was: its envelope was not rewritten (a rewritten one would be
    // root's and trusted), and putting it back is refused.
    let failed = tmp.path().join("failed").join(id.as_str());
    let owner = rustix::fs::stat(failed.join("envelope")).unwrap().st_uid;
    assert_eq!(owner, 65534);
    let err = queue.retry_now(&id).unwrap_err();
    assert_eq!(err.exit_code(), 78, "{err}");
    assert!(failed.is_dir(), "still failed");
    queue.remove(&id).expect("an admin can still delete it");
}
