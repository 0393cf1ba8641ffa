//! `report`: the digest of what `run`, `check` and `send` recorded, mailed through the
//! test server (one message per host) or printed.

use crate::*;

fn job(env: &Env, name: &str, command: &str) {
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", name]);
    c.arg("--").args(["sh", "-c", command]);
    run(c);
}

#[test]
fn the_digest_lists_every_job_with_its_runs_chart_and_the_mail_counts() {
    let server = server();
    let env = Env::new(&server);
    job(&env, "pg-dump", "true");
    job(
        &env,
        "pg-dump",
        "echo 'pg_dump: connection refused' >&2; exit 2",
    );
    job(&env, "pg-dump", "true");
    let backup = env.path("backups/site.tar.gz");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    std::fs::write(&backup, vec![7u8; 3000]).unwrap();
    run(env.sub(&[
        "check",
        "--to",
        TO,
        "--no-flood",
        "--name",
        "site",
        "--path",
        backup.parent().unwrap().to_str().unwrap(),
        "--max-age",
        "1d",
    ]))
    .assert_code(0);
    assert_eq!(server.wait_for_messages(4, WAIT).len(), 4);

    let r = run(env.sub(&["report", "--since", "7d", "--to", TO]));
    r.assert_code(0);
    let msgs = server.wait_for_messages(5, WAIT);
    assert_eq!(msgs.len(), 5);
    let digest = &msgs[4];
    let parsed = parse(digest);
    let subject = parsed.subject().unwrap_or_default().to_string();
    assert_eq!(
        subject,
        format!(
            "\u{26a0}\u{fe0f} [{}] Backup report, last 7 days: 2 jobs, 4 runs, 1 failure, 0 warnings",
            host()
        )
    );
    assert!(
        digest.headers().contains("X-Backup-Alert-Status: report"),
        "{}",
        digest.headers()
    );
    assert!(digest.headers().contains("Auto-Submitted: auto-generated"));
    let text = text_of(digest);
    // the four alerts before the report were logged by rsmtp
    assert_eq!(
        fact(&text, "Mail log"),
        format!("{}: 4 sent, 0 queued, 0 failed", env.log.display()),
        "{text}"
    );
    let pg = text
        .split("== pg-dump ==\n")
        .nth(1)
        .expect("pg-dump section");
    assert_eq!(fact(pg, "Runs"), "3 runs (1 failure)", "{text}");
    assert_eq!(
        fact(pg, "Results"),
        "\u{2705}\u{274c}\u{2705} (oldest first)"
    );
    let duration = fact(pg, "Duration");
    let spark: String = duration.chars().take(3).collect();
    assert!(
        spark.chars().all(|c| ('▁'..='█').contains(&c)),
        "no sparkline: {duration}"
    );
    assert!(
        fact(pg, "Problems").ends_with("failure, exit status 2"),
        "{pg}"
    );
    let site = text.split("== site ==\n").nth(1).expect("site section");
    assert!(fact(site, "Size").starts_with("█  2.9 KiB"), "{site}");

    let html = parsed.body_html(0).expect("an HTML part").into_owned();
    assert_eq!(html.matches("<svg ").count(), 2, "one chart per job");
    // each chart's bars carry dates: the first and the last run's, under the chart
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let dated = html
        .split("</svg>")
        .skip(1)
        .filter(|after| {
            after
                .split("</div>")
                .next()
                .is_some_and(|d| d.matches(&format!("<span>{today} ")).count() == 2)
        })
        .count();
    assert_eq!(dated, 2, "{html}");
    // one bar per run (plus the baseline): 3 for pg-dump, 1 for the check
    assert_eq!(html.matches("<rect ").count(), 3 + 1 + 2);
    assert!(html.contains("name=\"viewport\""));
    for external in ["src=", "href=", "url(", "<link", "@import"] {
        assert!(!html.contains(external), "{external} in the HTML part");
    }
}

#[test]
fn print_gives_one_digest_per_host_and_names_jobs_that_stopped_reporting() {
    let env = Env::bare();
    let state = env.path("state");
    std::fs::create_dir_all(&state).unwrap();
    let now = chrono::Utc::now().timestamp();
    let day = 86_400;
    std::fs::write(
        state.join("runs.journal"),
        format!(
            "{old}\tdb01\tnightly\tsuccess\t60000\t0\t\n\
             {a}\tdb01\tnightly\tsuccess\t61000\t0\t\n\
             {b}\tdb01\tnightly\tfailure\t1200\t2\t\n\
             {b}\tweb01\tfiles\twarning\t\t1\t1048576\n",
            old = now - 30 * day,
            a = now - 3 * day,
            b = now - day,
        ),
    )
    .unwrap();
    std::fs::write(
        state.join("alerts.state"),
        format!(
            "history\tdb01\tweekly-offsite\t{t}\tsuccess:{t}\n",
            t = now - 20 * day
        ),
    )
    .unwrap();
    let log = env.path("msmtp.log");
    std::fs::write(
        &log,
        "2020-01-01 00:00:00 host=h tls=on auth=on from=a@x.example recipients=b@x.example exitcode=EX_OK\n\
         2099-01-01 00:00:00 host=h tls=on auth=on from=a@x.example recipients=b@x.example errormsg='cannot connect (queued as 123)' exitcode=EX_TEMPFAIL\n",
    )
    .unwrap();
    let mut c = env.cmd();
    c.args(["report", "--print", "--since", "7d", "--log"])
        .arg(&log);
    let r = run(c);
    r.assert_code(0);
    let digests: Vec<&str> = r.stdout.split("\n-- \nbackup-alert").collect();
    // db01, web01 and this machine (which reported nothing yet)
    assert_eq!(digests.len(), 4, "{}", r.stdout);
    let db = digests
        .iter()
        .find(|d| d.contains("Backup report for db01"))
        .expect("db01's digest");
    assert!(db.contains("\u{274c} Backup report for db01\n"), "{db}");
    let nightly = db.split("== nightly ==\n").nth(1).unwrap();
    assert_eq!(fact(nightly, "Runs"), "2 runs (1 failure)");
    assert!(
        fact(nightly, "Duration").starts_with("█▁  1.2s to 1m 01s"),
        "{db}"
    );
    let offsite = db.split("== weekly-offsite ==\n").nth(1).unwrap();
    assert_eq!(fact(offsite, "Runs"), "none in this period");
    assert!(fact(offsite, "Last run").ends_with("(success)"), "{db}");
    // the 2020 line is outside the period; the queued one is counted as queued
    assert_eq!(
        fact(db, "Mail log"),
        format!("{}: 0 sent, 1 queued, 0 failed", log.display())
    );
    let web = digests
        .iter()
        .find(|d| d.contains("Backup report for web01"))
        .unwrap();
    assert!(
        web.contains("\u{26a0}\u{fe0f} Backup report for web01\n"),
        "{web}"
    );
    assert!(fact(web, "Size").starts_with("█  1.0 MiB"), "{web}");
    let here = digests
        .iter()
        .find(|d| d.contains(&format!("Backup report for {}", host())))
        .unwrap();
    assert!(here.contains("No job reported through backup-alert yet."));

    let mut c = env.cmd();
    c.args(["report", "--print", "--since", "last week"]);
    run(c).assert_code(64);
    // mailing needs a recipient
    let mut c = env.cmd();
    c.args(["report"]);
    let r = run(c);
    r.assert_code(64);
    assert!(r.stderr.contains("no recipients"), "{}", r.stderr);
}
