//! The command line must not mail by accident, and its completion scripts work.

use crate::*;

/// A typo of a subcommand is an error with a suggestion, exit 64, naming
/// backup-alert — never an empty mail to `<sned>`, never a silent wait on stdin.
#[test]
fn a_mistyped_subcommand_is_an_error_not_a_mail() {
    let server = server();
    let env = Env::new(&server);
    for (typo, suggestion) in [
        ("sned", Some("'send'")),
        ("stat", Some("'stats'")),
        ("root", None),
    ] {
        let mut c = env.cmd();
        c.arg(typo);
        let r = run_with_input(c, b"");
        r.assert_code(64);
        assert!(
            r.stderr
                .starts_with(&format!("backup-alert: unrecognized subcommand '{typo}'")),
            "{}",
            r.stderr
        );
        if let Some(s) = suggestion {
            assert!(
                r.stderr.contains(&format!("(did you mean {s}?)")),
                "{}",
                r.stderr
            );
        }
    }
    server.wait_for_idle(Duration::from_millis(500));
    assert_eq!(server.connections(), 0, "nothing may be sent");
}

/// Bash completes options after a subcommand (clap_complete's hyphenated-name bug
/// worked around); zsh and fish accept their scripts.
#[test]
fn completion_scripts_work_in_bash_and_parse_in_zsh_and_fish() {
    let env = Env::bare();
    let script = |shell: &str| {
        let mut c = env.cmd();
        c.args(["completions", shell]);
        let r = run(c);
        r.assert_code(0);
        let path = env.path(&format!("completion.{shell}"));
        std::fs::write(&path, &r.stdout).expect("write");
        path
    };
    let bash = script("bash");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(backup-alert send --st); COMP_CWORD=2; \
             _backup__alert backup-alert --st send; echo \"${{COMPREPLY[*]}}\"; \
             COMP_WORDS=(backup-alert se); COMP_CWORD=1; \
             _backup__alert backup-alert se backup-alert; echo \"${{COMPREPLY[*]}}\"",
            bash.display()
        ))
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, ["--status --state-dir", "send setup"], "{text}");
    for (shell, args) in [("zsh", ["-n"]), ("fish", ["--no-execute"])] {
        let Some(program) =
            rsmtp_testserver::peer::require_peer(&format!("/usr/bin/{shell}"), shell)
        else {
            continue;
        };
        let path = script(shell);
        let status = Command::new(program)
            .args(args)
            .arg(&path)
            .status()
            .expect(shell);
        assert!(status.success(), "{shell} refuses {}", path.display());
    }
}

/// Help shows defaults one way, names one idea once, says what run's subject really is,
/// and shows mail mode in the usage line.
#[test]
fn help_text_is_consistent() {
    let env = Env::bare();
    let help = |args: &[&str]| {
        let mut c = env.cmd();
        c.args(args);
        let r = run(c);
        r.assert_code(0);
        r.stdout
    };
    let top = help(&["--help"]);
    let usage = &top[top.find("Usage:").expect("usage")..];
    assert!(usage.contains("-s SUBJECT"), "{usage}");
    for sub in ["send", "run", "check", "setup", "stats"] {
        let h = help(&[sub, "--help"]);
        assert!(!h.contains("[default:"), "{sub}: clap's default style\n{h}");
        assert!(!h.contains("(default "), "{sub}: `(default X` style\n{h}");
        assert!(!h.contains("--tail-lines <"), "{sub}: two names\n{h}");
    }
    let run_help = help(&["run", "--help"]);
    assert!(run_help.contains("--log-lines <N>"), "{run_help}");
    assert!(run_help.contains("\"NAME FAILED: "), "{run_help}");
}

/// The old name of `--log-lines` still works, on run and on send.
#[test]
fn tail_lines_is_an_alias_of_log_lines() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--tail-lines", "2"]);
    c.arg("--").args(["sh", "-c", "seq 1 10"]);
    run(c).assert_code(0);
    let text = text_of(&one_message(&server));
    assert!(
        text.contains("(last 2 lines; earlier output left out)"),
        "{text}"
    );
}

/// An option `run` does not know, typed before `--` or before the command's first word,
/// is a usage error naming it with a suggestion — never the command to run (the backup
/// would never run, and "command not found" would be mailed every night).
#[test]
fn an_unknown_run_option_is_never_the_command() {
    let server = server();
    let env = Env::new(&server);
    let marker = env.path("ran");
    let touch = format!("touch {}", marker.display());
    for (typed, suggestion) in [
        (&["--only-failures"][..], "'--only-failure'"),
        (&["--timout", "4h"][..], "'--timeout'"),
        (&["--nam", "x"][..], "'--name'"),
        // check's spelling of the same wish
        (&["--quiet-ok"][..], "'--only-failure'"),
    ] {
        let mut args = vec!["run", "--to", TO, "--no-flood", "--name", "t"];
        args.extend_from_slice(typed);
        for tail in [&["--", "sh", "-c", &touch][..], &["sh", "-c", &touch][..]] {
            let mut c = env.sub(&args);
            c.args(tail);
            let r = run(c);
            r.assert_code(64);
            assert!(
                r.stderr.starts_with(&format!(
                    "backup-alert: unexpected argument '{}' found",
                    typed[0]
                )),
                "{typed:?}: {}",
                r.stderr
            );
            assert!(
                r.stderr.contains(&format!("did you mean {suggestion}?")),
                "{typed:?}: {}",
                r.stderr
            );
            assert!(!marker.exists(), "{typed:?}: the command ran");
        }
    }
    // After the command's first word, everything is the command's.
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "t"]);
    c.args(["sh", "-c", &touch, "--only-failures"]);
    run(c).assert_code(0);
    assert!(marker.exists(), "the command did not run");
    // Only the real run is mailed.
    one_message(&server);
}
