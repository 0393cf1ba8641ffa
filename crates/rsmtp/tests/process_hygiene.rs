//! What a run leaves behind and holds, end to end through the `rsmtp` binary: header
//! blocks larger than a mebibyte, hanging `passwordeval` / `eval` commands, core
//! dumps while a secret is loaded, descriptors leaked to the detached deliverer,
//! and a log file that is a symlink planted in a sticky directory. Each test
//! asserts what a user would notice: what reached the server, the exit code, the
//! processes and files left behind.

use std::time::Duration;

use base64::Engine as _;

use rsmtp_testserver::{Extensions, ReceivedMessage, ServerOptions, TestServer};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

/// The one message `program` (rsmtp or msmtp) delivered with `args` and `input`.
fn deliver_with(program: &std::path::Path, args: &[&str], input: &[u8]) -> ReceivedMessage {
    deliver_to(ServerOptions::new(), program, args, input)
}

/// [`deliver_with`] to a server started with `options`.
fn deliver_to(
    options: ServerOptions,
    program: &std::path::Path,
    args: &[&str],
    input: &[u8],
) -> ReceivedMessage {
    let server = TestServer::start(options);
    let dir = home_for(&server, "");
    let run = dir
        .command(program)
        .arg(format!("--file={}", dir.join(".msmtprc").display()))
        .args(args)
        .stdin(input)
        .run();
    run.assert_code(0);
    let mut messages = server.wait_for_messages(1, WAIT);
    assert_eq!(messages.len(), 1, "{}: one message", program.display());
    messages.remove(0)
}

/// A header block of about `size` bytes: `first`, filler fields, `last`, then the
/// blank line and a one-line body.
fn big_header(first: &str, size: usize, last: &str) -> Vec<u8> {
    let mut input = format!("{first}\n").into_bytes();
    let mut n = 0;
    while input.len() < size {
        input.extend_from_slice(
            format!("X-Filler-{n}: 0123456789 abcdefghijklmnopqrstuvwxyz 0123456789\n").as_bytes(),
        );
        n += 1;
    }
    input.extend_from_slice(format!("{last}\n\nthe body\n").as_bytes());
    input
}

/// A 1.3 MB header block that ends in a blank line used to go out as body: its
/// `Bcc:` reached every recipient. It is header: Bcc removed, its address still a
/// recipient under `-t` — what msmtp does.
#[test]
fn a_bcc_in_a_header_block_over_one_mebibyte_is_removed_and_still_a_recipient() {
    let input = big_header("To: seen@example.org", 1_300_000, "Bcc: hidden@example.org");
    let mut programs = vec![rsmtp_bin()];
    programs.extend(require_peer(
        "/usr/bin/msmtp",
        "msmtp (Debian package msmtp)",
    ));
    for program in programs {
        let m = deliver_with(&program, &["-t"], &input);
        let name = program.display();
        assert_eq!(
            m.recipients(),
            ["seen@example.org", "hidden@example.org"],
            "{name}"
        );
        let headers = m.headers();
        assert!(headers.len() > 1_300_000, "{name}: all of it is header");
        assert!(m.header("Bcc").is_none(), "{name}: Bcc reached the server");
        assert!(!m.data_str().contains("hidden@example.org"), "{name}");
        assert!(m.data_str().ends_with("\r\n\r\nthe body\r\n"), "{name}");
    }
}

/// `-t` with 100,000 addresses in one `To:` (2.3 MB of header) said "no
/// recipients" (exit 64): every one of them is a RCPT TO, as with msmtp.
#[test]
fn dash_t_with_a_to_header_over_one_mebibyte_sends_to_every_address() {
    let input = many_recipients(100_000);
    assert!(input.len() > 2 * 1024 * 1024);
    let m = deliver_with(&rsmtp_bin(), &["-t"], input.as_bytes());
    assert_recipients(&m, 100_000);
}

/// To a server without PIPELINING, checking every reply so far before each
/// command made the envelope quadratic: 50,000 recipients (1.2 MB of header)
/// took more than two minutes (the harness killed it). One reply, one check.
#[test]
fn many_recipients_without_pipelining_take_linear_time() {
    let input = many_recipients(50_000);
    assert!(input.len() > 1024 * 1024);
    let options = ServerOptions::new().extensions(Extensions {
        pipelining: false,
        ..Extensions::default()
    });
    let program = rsmtp_bin();
    let started = std::time::Instant::now();
    let m = deliver_to(options, &program, &["-t"], input.as_bytes());
    assert_recipients(&m, 50_000);
    // Linear is a few seconds even in a debug build on a busy machine.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// A message whose `To:` lists `count` addresses, one per folded line.
fn many_recipients(count: usize) -> String {
    let to: Vec<String> = (0..count).map(|i| format!("user{i}@example.org")).collect();
    format!("Subject: many\nTo: {}\n\nhello\n", to.join(",\n "))
}

fn assert_recipients(m: &ReceivedMessage, count: usize) {
    let got = m.recipients();
    assert_eq!(got.len(), count);
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, a)| *a == format!("user{i}@example.org")));
    assert!(m.data_str().ends_with("\r\n\r\nhello\r\n"));
}

/// Whether a process with this pid is still alive (a zombie counts as gone).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Waits up to `WAIT` for `pid` to be gone.
fn gone(pid: &str) -> bool {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A `passwordeval` that never ends held rsmtp (and the cron job or PHP request
/// behind it) forever. It is killed, with its process group, at the account's
/// `timeout` when nobody is at a terminal: exit 75, the command named, its
/// output never shown, nothing sent.
#[test]
fn a_hanging_passwordeval_is_killed_at_the_account_timeout() {
    let server = TestServer::start(ServerOptions::new());
    let dir = Dir::new();
    let pidfile = dir.join("eval.pid");
    let command = format!(
        "echo not-the-password >&2; echo $$ > {}; exec sleep 100",
        pidfile.display()
    );
    dir.write(
        ".msmtprc",
        plain_config(
            server.port(),
            &format!("timeout 1\nauth plain\nuser alice\npasswordeval {command}"),
        ),
    );
    let err = killed_with_75(dir.rsmtp(), &pidfile);
    assert!(
        err.contains("passwordeval 'echo not-the-password")
            && err.contains("did not finish within 1s and was killed"),
        "{err}"
    );
    assert!(server.messages().is_empty());
}

/// An `eval` line runs while the file is read, before any account timeout is
/// known: the default limit (60 s; `RSMTP_EVAL_TIMEOUT` here) applies, exit 75.
#[test]
fn a_hanging_eval_is_killed_at_the_eval_limit() {
    let dir = Dir::new();
    let pidfile = dir.join("eval.pid");
    dir.write(
        ".msmtprc",
        format!(
            "defaults\neval echo $$ > {}; exec sleep 100\naccount default\nhost 127.0.0.1\n\
             from sender@example.org\n",
            pidfile.display()
        ),
    );
    let err = killed_with_75(dir.rsmtp().env("RSMTP_EVAL_TIMEOUT", "1"), &pidfile);
    assert!(
        err.contains(".msmtprc:2: eval 'echo $$") && err.contains("within 1s"),
        "{err}"
    );
}

/// Sends a message with `rsmtp` whose configured command hangs (it writes its pid to
/// `pidfile`, then sleeps): exit 75 well before the command would end, the command's
/// process gone. Returns stderr.
fn killed_with_75(rsmtp: TestCommand, pidfile: &std::path::Path) -> String {
    let command = rsmtp.arg("x@example.org").stdin("Subject: s\n\nbody\n");
    let started = std::time::Instant::now();
    let run = command.run();
    let took = started.elapsed();
    run.assert_code(75);
    assert!(
        took < Duration::from_secs(20),
        "took {took:?}: {}",
        run.stderr()
    );
    let pid = std::fs::read_to_string(pidfile).expect("the command ran");
    assert!(gone(pid.trim()), "sleep {} survived", pid.trim());
    run.stderr()
}

/// A password may be in memory at any time, so rsmtp runs with core files off:
/// `RLIMIT_CORE` 0, seen from outside in `/proc/PID/limits` while it waits on a
/// server that accepts the connection and never greets.
#[test]
fn rsmtp_runs_with_core_dumps_off() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        plain_config(port, "timeout 30\nauth plain\nuser alice\npassword s3cret"),
    );
    let mut cmd = dir.rsmtp().arg("x@example.org").cmd;
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn rsmtp");
    // The connection arrives once the configuration (and its password) is loaded.
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = std::time::Instant::now() + WAIT;
    let conn = loop {
        match listener.accept() {
            Ok((conn, _)) => break Some(conn),
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(_) => break None,
        }
    };
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id()));
    let _ = child.kill();
    let _ = child.wait();
    drop(conn.expect("rsmtp connected"));
    let limits = limits.expect("read limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("core line");
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(fields.get(4..6), Some(&["0", "0"][..]), "{core}");
}

/// The pids whose command line contains every one of `needles`.
fn pids_with(needles: &[&str]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c).replace('\0', " ");
                needles.iter().all(|n| c.contains(n))
            })
        })
        .collect()
}

/// `queue always` starts `rsmtp --deliver-queued` in the background. It used to
/// inherit every descriptor its caller left open without close-on-exec (a web
/// server's request pipe at fd 251 kept the request open while it retried). It
/// keeps only 0, 1 and 2 (and what it opens itself).
#[test]
fn the_detached_deliverer_inherits_no_descriptor_but_0_1_2() {
    // A server that accepts and never greets keeps the deliverer alive.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let dir = Dir::new();
    let queue = dir.join("queue");
    dir.write(
        ".msmtprc",
        plain_config(
            port,
            &format!("timeout 30\nqueue always\nqueue_dir {}", queue.display()),
        ),
    );
    let leaked = dir.join("leaked-by-the-caller");
    let rsmtp = rsmtp_bin();
    let script = format!(
        "exec 7>'{leaked}' 251>'{leaked}'; echo 'Subject: s' | '{rsmtp}' x@example.org",
        leaked = leaked.display(),
        rsmtp = rsmtp.display()
    );
    let run = dir.command("/bin/bash").args(["-c", &script]).run();
    run.assert_code(0);
    let queue_arg = format!("--queue-dir={}", queue.display());
    let deadline = std::time::Instant::now() + WAIT;
    let pid = loop {
        if let Some(pid) = pids_with(&["--deliver-queued", &queue_arg]).pop() {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no background deliverer"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Its descriptors, once it is connected (waiting for the greeting).
    listener.set_nonblocking(true).expect("nonblocking");
    let conn = loop {
        if let Ok((conn, _)) = listener.accept() {
            break conn;
        }
        assert!(std::time::Instant::now() < deadline, "never connected");
        std::thread::sleep(Duration::from_millis(20));
    };
    let fds: Vec<(String, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let target = std::fs::read_link(e.path())
                        .map(|t| t.display().to_string())
                        .unwrap_or_default();
                    (e.file_name().to_string_lossy().into_owned(), target)
                })
                .collect()
        })
        .unwrap_or_default();
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid])
        .status();
    drop(conn);
    assert!(!fds.is_empty(), "could not read /proc/{pid}/fd");
    let inherited: Vec<&(String, String)> = fds
        .iter()
        .filter(|(_, target)| target.contains("leaked-by-the-caller"))
        .collect();
    assert!(
        inherited.is_empty(),
        "inherited: {inherited:?} (all: {fds:?})"
    );
    assert!(
        !fds.iter().any(|(fd, _)| fd == "7" || fd == "251"),
        "{fds:?}"
    );
}

/// As root, a log file that is a symlink owned by another user in a sticky,
/// world-writable directory (`/tmp`) is not followed — the kernel's
/// `protected_symlinks` rule, applied by rsmtp itself — so nobody can make root
/// append to a file of their choosing. The mail still goes (a warning only), and
/// a symlink root owns in the same directory is followed.
#[test]
fn a_log_symlink_planted_by_another_user_in_a_sticky_dir_is_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    if !require(is_root(), "root (to plant another user's symlink)") {
        return;
    }
    let server = TestServer::start(ServerOptions::new());
    let dir = Dir::new();
    let sticky = dir.join("tmp");
    std::fs::create_dir(&sticky).expect("mkdir");
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    let target = dir.join("root-only");
    std::fs::write(&target, "").expect("target");
    let planted = sticky.join("rsmtp.log");
    std::os::unix::fs::symlink(&target, &planted).expect("symlink");
    // nobody (65534) owns the link.
    rustix::fs::chownat(
        rustix::fs::CWD,
        &planted,
        Some(rustix::process::Uid::from_raw(65534)),
        Some(rustix::process::Gid::from_raw(65534)),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .expect("chown the link");
    dir.write(
        ".msmtprc",
        plain_config(server.port(), &format!("logfile {}", planted.display())),
    );
    let run = dir
        .rsmtp()
        .arg("x@example.org")
        .stdin("Subject: s\n\nb\n")
        .run();
    run.assert_code(0);
    assert!(
        run.stderr().contains("not following the symlink"),
        "{}",
        run.stderr()
    );
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "");
    // The same link owned by root is followed.
    rustix::fs::chownat(
        rustix::fs::CWD,
        &planted,
        Some(rustix::process::Uid::ROOT),
        Some(rustix::process::Gid::ROOT),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .expect("chown the link");
    let run = dir
        .rsmtp()
        .arg("x@example.org")
        .stdin("Subject: s\n\nb\n")
        .run();
    run.assert_code(0);
    assert!(std::fs::read_to_string(&target)
        .expect("read")
        .contains("exitcode=EX_OK"));
}

/// Under `queue fallback` a passwordeval that did not answer in time (a keyring not
/// unlocked yet) is temporary like a relay that is down: the message is queued, exit 0,
/// and the log says EX_TEMPFAIL with the queue id.
#[test]
fn a_timed_out_passwordeval_queues_the_message_under_fallback() {
    let server = TestServer::start(ServerOptions::new());
    let dir = Dir::new();
    let queue = dir.join("q");
    let log = dir.join("log");
    dir.write(
        ".msmtprc",
        plain_config(
            server.port(),
            &format!(
                "timeout 1\nauth plain\nuser alice\npasswordeval exec sleep 100\n\
                 queue fallback\nqueue_dir {}\nlogfile {}",
                queue.display(),
                log.display()
            ),
        ),
    );
    let run = dir
        .rsmtp()
        .env("RSMTP_RETRY_FIRST_DELAY_MS", "3600000")
        .arg("x@example.org")
        .stdin("Subject: s\n\nbody\n")
        .run();
    run.assert_code(0);
    assert!(
        run.stderr().contains("message queued as"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        std::fs::read_dir(queue.join("queue"))
            .expect("queue")
            .count(),
        1
    );
    let line = dir.read("log");
    assert!(
        line.contains("(queued as ") && line.trim_end().ends_with("exitcode=EX_TEMPFAIL"),
        "{line}"
    );
    assert!(server.messages().is_empty());
}

/// Every readable and writable mapping of process `pid` (heap, stack, anonymous
/// memory), read through `/proc/PID/mem` (root may, even when it is not dumpable).
fn writable_memory(pid: u32) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).expect("open mem");
    let mut all = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with("rw") || line.ends_with("[vvar]") {
            continue;
        }
        let (start, end) = range.split_once('-').expect("range");
        let start = u64::from_str_radix(start, 16).expect("start");
        let end = u64::from_str_radix(end, 16).expect("end");
        let mut region = vec![0; (end - start) as usize];
        if mem.seek(SeekFrom::Start(start)).is_ok() && mem.read_exact(&mut region).is_ok() {
            all.extend_from_slice(&region);
        }
    }
    all
}

/// After an AUTH PLAIN login the exchange's bytes (`\0user\0password` and its
/// base64) are overwritten, not left in freed memory: seen by reading the memory
/// of a live `rsmtp -bs` once its relay session is over, while it waits for the
/// next command. (The password itself stays: the account still holds it.)
#[test]
fn the_auth_exchange_leaves_no_copy_in_memory() {
    use std::io::{BufRead, BufReader, Write};
    if !rsmtp_testserver::peer::require(is_root(), "root (to read another process's memory)") {
        return;
    }
    let password = "Zq7-canary-Pw-9f3b";
    let server = TestServer::start(ServerOptions::new().auth("alice", password));
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        plain_config(
            server.port(),
            &format!("auth plain\nuser alice\npassword {password}"),
        ),
    );
    let mut child = dir
        .rsmtp()
        .arg("-bs")
        .cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn rsmtp -bs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut replies = BufReader::new(child.stdout.take().expect("stdout"));
    let mut expect = |code: &str| loop {
        let mut line = String::new();
        assert!(
            replies.read_line(&mut line).expect("reply") > 0,
            "rsmtp -bs closed"
        );
        if line.starts_with(&format!("{code} ")) {
            break;
        }
        assert!(
            line.starts_with(&format!("{code}-")),
            "want {code}, got {line}"
        );
    };
    expect("220");
    for (command, code) in [
        ("EHLO client.example\r\n", "250"),
        ("MAIL FROM:<app@example.org>\r\n", "250"),
        ("RCPT TO:<admin@example.net>\r\n", "250"),
        ("DATA\r\n", "354"),
        ("Subject: memory\r\n\r\nhello\r\n.\r\n", "250"),
    ] {
        stdin.write_all(command.as_bytes()).expect("write");
        expect(code);
    }
    assert_eq!(server.wait_for_messages(1, WAIT).len(), 1);
    assert!(server.wait_for_idle(WAIT), "the relay session is over");
    let memory = writable_memory(child.id());
    stdin.write_all(b"QUIT\r\n").expect("quit");
    drop(stdin);
    let _ = child.wait();

    let plain = format!("\0alice\0{password}");
    let payload = base64::engine::general_purpose::STANDARD.encode(&plain);
    let find = |needle: &[u8]| memory.windows(needle.len()).position(|w| w == needle);
    assert!(
        find(password.as_bytes()).is_some(),
        "the scan sees the account's password"
    );
    assert_eq!(
        find(payload.as_bytes()),
        None,
        "the AUTH PLAIN payload is still in memory"
    );
    assert_eq!(
        find(plain.as_bytes()),
        None,
        "the PLAIN response is still in memory"
    );
}
