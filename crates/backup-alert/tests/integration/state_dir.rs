//! The state directory is trusted as the queue is: a planted `alerts.state` link is never
//! followed (root would clobber the file it points to), a directory another user owns is
//! not used; the alert is sent all the same.

use std::os::unix::fs::PermissionsExt;

use crate::*;

fn send(env: &Env, state: &std::path::Path) -> Run {
    run(env.sub(&[
        "send",
        "--status",
        "failure",
        "--subject",
        "nightly failed",
        "--body",
        "b",
        "--to",
        TO,
        "--state-dir",
        state.to_str().unwrap(),
    ]))
}

#[test]
fn a_planted_state_link_is_never_followed() {
    let server = server();
    let env = Env::new(&server);
    let state = env.path("state-dir");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    let victim = env.path("precious");
    env.write_private(&victim, "precious\n");
    std::os::unix::fs::symlink(&victim, state.join("alerts.state")).unwrap();
    std::os::unix::fs::symlink(&victim, state.join("runs.journal")).unwrap();
    let r = send(&env, &state);
    r.assert_code(0);
    one_message(&server);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);
}

#[test]
fn a_state_dir_others_can_write_is_not_used() {
    let server = server();
    let env = Env::new(&server);
    let state = env.path("state-dir");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let r = send(&env, &state);
    r.assert_code(0);
    one_message(&server);
    assert!(
        !state.join("alerts.state").exists(),
        "the state was written"
    );
    assert!(
        r.stderr.contains("can be written by group or others"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("chmod 700 {}", state.display())),
        "{}",
        r.stderr
    );
}

/// As root: a directory another user owns (where they could plant anything).
#[test]
fn a_state_dir_another_user_owns_is_not_used_by_root() {
    let root = rustix::process::geteuid().is_root();
    if !rsmtp_testserver::peer::require(root, "root (to give the state directory to another user)")
    {
        return;
    }
    let server = server();
    let env = Env::new(&server);
    let state = env.path("state-dir");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
    let r = send(&env, &state);
    r.assert_code(0);
    one_message(&server);
    assert!(
        !state.join("alerts.state").exists(),
        "the state was written"
    );
    assert!(r.stderr.contains("is owned by"), "{}", r.stderr);
}
