//! Prometheus metrics: `metrics_file` rewritten after `run` and `check`, and
//! `stats --prometheus FILE`; the file is parsed as node_exporter's textfile collector
//! would read it.

use std::collections::BTreeMap;

use crate::*;

/// Metric name → (label text → value), after checking every line: HELP and TYPE before
/// a family's samples, valid names, label values quoted, values numbers.
fn parse_prom(text: &str) -> BTreeMap<String, BTreeMap<String, f64>> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut families = BTreeMap::new();
    let mut described: Vec<(String, &str)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(valid_name(name), "bad name in {line}");
            assert!(["HELP", "TYPE"].contains(&kind), "{line}");
            if kind == "TYPE" {
                assert_eq!(parts.next(), Some("gauge"), "{line}");
            }
            described.push((name.to_string(), kind));
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name{labels} value");
        let (name, labels) = series.split_once('{').expect("labels");
        assert!(valid_name(name), "bad name in {line}");
        assert!(
            described.contains(&(name.to_string(), "HELP"))
                && described.contains(&(name.to_string(), "TYPE")),
            "{name} has no HELP/TYPE before its samples"
        );
        let labels = labels.strip_suffix('}').expect("closing brace");
        // every label is key="value" with the value's quotes escaped
        let mut rest = labels;
        while !rest.is_empty() {
            let (key, after) = rest.split_once("=\"").expect("key=\"value\"");
            assert!(valid_name(key), "bad label {key} in {line}");
            // Prometheus owns `job` and `instance`: a target's own would arrive renamed
            // (`exported_job`).
            assert!(!["job", "instance"].contains(&key), "label {key} in {line}");
            let mut end = None;
            let mut escaped = false;
            for (i, c) in after.char_indices() {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.expect("closing quote");
            rest = after[end + 1..]
                .strip_prefix(',')
                .unwrap_or(&after[end + 1..]);
        }
        let value: f64 = value.parse().expect("a number");
        families
            .entry(name.to_string())
            .or_insert_with(BTreeMap::new)
            .insert(labels.to_string(), value);
    }
    families
}

fn job(name: &str) -> String {
    format!("host=\"{}\",backup_job=\"{name}\"", host())
}

#[test]
fn metrics_file_is_rewritten_after_run_and_check() {
    let server = server();
    let env = Env::new(&server);
    let prom = env.path("textfile/backup_alert.prom");
    std::fs::create_dir_all(prom.parent().unwrap()).unwrap();
    std::fs::create_dir_all(env.home.join(".config/backup-alert")).unwrap();
    std::fs::write(
        env.home.join(".config/backup-alert/config"),
        format!("[default]\nmetrics_file = {}\n", prom.display()),
    )
    .unwrap();
    let mut c = env.sub(&["run", "--name", "pg \"main\"", "--to", TO, "--no-flood"]);
    c.arg("--").args([
        "sh",
        "-c",
        "echo 'pg_dump: error: connection refused' >&2; exit 3",
    ]);
    run(c).assert_code(3);
    let first = parse_prom(&std::fs::read_to_string(&prom).unwrap());
    let pg = job("pg \\\"main\\\"");
    assert_eq!(first["backup_alert_job_last_exit_status"][&pg], 3.0);
    assert_eq!(first["backup_alert_job_last_run_ok"][&pg], 0.0);
    assert!(first["backup_alert_job_last_duration_seconds"][&pg] >= 0.0);
    assert!(!first.contains_key("backup_alert_job_last_success_timestamp_seconds"));

    let backup = env.path("nightly.tar.gz");
    std::fs::write(&backup, vec![b'x'; 4321]).unwrap();
    let r = run(env.sub(&[
        "check",
        "--path",
        backup.to_str().unwrap(),
        "--max-age",
        "1h",
        "--name",
        "nightly",
        "--to",
        TO,
        "--no-flood",
    ]));
    r.assert_code(0);
    assert_eq!(server.wait_for_messages(2, WAIT).len(), 2);
    let text = std::fs::read_to_string(&prom).unwrap();
    let m = parse_prom(&text);
    let nightly = job("nightly");
    assert_eq!(m["backup_alert_job_backup_size_bytes"][&nightly], 4321.0);
    assert_eq!(m["backup_alert_job_last_exit_status"][&nightly], 0.0);
    assert_eq!(m["backup_alert_job_last_run_ok"][&nightly], 1.0);
    let now = chrono_now();
    let success = m["backup_alert_job_last_success_timestamp_seconds"][&nightly];
    assert!((now - success).abs() < 120.0, "{success} vs {now}");
    // both jobs are there, and the run's exit status is kept
    assert_eq!(m["backup_alert_job_last_exit_status"][&pg], 3.0);
    // the log rsmtp wrote: the first alert was sent when the check ran
    let log = format!("log=\"{}\",result=\"sent\"", env.log.display());
    assert!(m["backup_alert_mail_messages"][&log] >= 1.0, "{text}");
    // nothing left behind but the file itself
    let files: Vec<_> = std::fs::read_dir(prom.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(files, vec![std::ffi::OsString::from("backup_alert.prom")]);
}

fn chrono_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn stats_prometheus_counts_sent_queued_and_failed() {
    let env = Env::bare();
    let log = env.path("msmtp.log");
    std::fs::write(
        &log,
        "Dec 21 16:03:07 host=smtp.example.com tls=on auth=on from=a@x.example recipients=b@x.example mailsize=512 smtpstatus=250 smtpmsg='250 OK' exitcode=EX_OK\n\
         Dec 21 17:00:00 host=smtp.example.com tls=on auth=on from=a@x.example recipients=b@x.example errormsg='cannot connect to smtp.example.com, port 587: Connection refused (queued as 20261221T170000.1234)' exitcode=EX_TEMPFAIL\n\
         Dec 21 18:00:00 host=smtp.example.com tls=on auth=on from=a@x.example recipients=b@x.example smtpstatus=535 smtpmsg='535 no' errormsg='authentication failed' exitcode=EX_NOPERM\n\
         Dec 21 19:00:00 host=smtp.example.com tls=on auth=on from=a@x.example recipients=b@x.example exitcode=EX_OK\n",
    )
    .unwrap();
    let prom = env.path("out.prom");
    let mut c = env.cmd();
    c.args(["stats", "--log", log.to_str().unwrap(), "--prometheus"])
        .arg(&prom);
    let r = run(c);
    r.assert_code(0);
    assert_eq!(r.stdout, "", "the summary is not printed");
    let m = parse_prom(&std::fs::read_to_string(&prom).unwrap());
    let count = |result: &str| {
        m["backup_alert_mail_messages"][&format!("log=\"{}\",result=\"{result}\"", log.display())]
    };
    assert_eq!(
        (count("sent"), count("queued"), count("failed")),
        (2.0, 1.0, 1.0)
    );
    // `-` is stdout
    let mut c = env.cmd();
    c.args(["stats", "--log", log.to_str().unwrap(), "--prometheus", "-"]);
    let r = run(c);
    r.assert_code(0);
    assert!(
        r.stdout.starts_with("# HELP backup_alert_mail_messages "),
        "{}",
        r.stdout
    );
}

/// Prometheus's own linter accepts the file: `promtool check metrics` (Debian's
/// prometheus package) with jobs from run and check and a mail log's counts.
#[test]
fn promtool_accepts_the_metrics() {
    let Some(promtool) = rsmtp_testserver::peer::require_peer(
        "/usr/bin/promtool",
        "promtool (Debian package prometheus)",
    ) else {
        return;
    };
    let server = server();
    let env = Env::new(&server);
    let mut c = env.sub(&["run", "--name", "pg \"main\"", "--to", TO, "--no-flood"]);
    c.args(["--", "sh", "-c", "exit 3"]);
    run(c).assert_code(3);
    let backup = env.path("nightly.tar.gz");
    std::fs::write(&backup, vec![b'x'; 4321]).unwrap();
    run(env.sub(&[
        "check",
        "--path",
        backup.to_str().unwrap(),
        "--max-age",
        "1h",
        "--name",
        "nightly",
        "--to",
        TO,
        "--no-flood",
    ]))
    .assert_code(0);
    let mut c = env.cmd();
    c.args([
        "stats",
        "--log",
        env.log.to_str().unwrap(),
        "--prometheus",
        "-",
    ]);
    let metrics = run(c);
    metrics.assert_code(0);
    assert!(
        metrics.stdout.contains("backup_alert_mail_messages"),
        "{}",
        metrics.stdout
    );
    let mut check = std::process::Command::new(promtool);
    check.args(["check", "metrics"]);
    let r = run_with_input(check, metrics.stdout.as_bytes());
    assert_eq!(
        r.code, 0,
        "promtool: {}{}\n{}",
        r.stdout, r.stderr, metrics.stdout
    );
    assert_eq!(
        format!("{}{}", r.stdout, r.stderr).trim(),
        "",
        "lint findings"
    );
}
