//! `check`: is the newest backup (a file, or a borg/restic archive) fresh, big enough,
//! complete and readable? — or has a job recorded a success recently (`--job`)? The
//! findings of [`crate::checks`] become an alert; exit 0 when all is well, 1 when not.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Local};
use clap::Args;

use super::{local, publish_metrics, report_sent, target_and_policy, DeliveryArgs, PingArgs};
use crate::alert::compose::Alert;
use crate::alert::{send_alert, FloodPolicy, Target};
use crate::checks::file_count::FileCount;
use crate::checks::integrity::Integrity;
use crate::checks::newest::{self, Finding, Requirement};
use crate::checks::repository;
use crate::context::Context;
use crate::diagnosis::advice;
use crate::diagnosis::error_line;
use crate::error::Error;
use crate::lang::Language;
use crate::model::{Measurement, Status};
use crate::units::{format_duration, format_size};
use rsmtp_core::{tr_in, trn_in};
use rsmtp_deliver::ui::Ui;

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Backup file, directory (searched recursively) or pattern with `*` and `?`.
    #[arg(
        long,
        value_name = "DIR_OR_GLOB",
        required_unless_present_any = ["borg", "restic", "job"],
        conflicts_with_all = ["borg", "restic", "job"]
    )]
    pub(crate) path: Option<String>,
    /// A job `run` or `send --name` records on this host: warn when it has not succeeded
    /// within --max-age (a dead man's switch for the host that is up while cron, or the
    /// script, is not). Its alerts are recorded as "NAME (check)".
    #[arg(long, value_name = "NAME", conflicts_with_all = ["borg", "restic", "verify", "manifest", "min_files", "min_size", "expect_files"])]
    pub(crate) job: Option<String>,
    /// Borg repository: its newest archive's time from `borg list --last 1 --json`
    /// (the passphrase from BORG_PASSPHRASE or BORG_PASSCOMMAND, as borg reads it).
    #[arg(long, value_name = "REPO", conflicts_with_all = ["restic", "verify", "manifest", "min_files", "min_size", "expect_files"])]
    pub(crate) borg: Option<String>,
    /// restic repository: its newest snapshot's time from `restic snapshots --latest 1
    /// --json` (the password from RESTIC_PASSWORD or RESTIC_PASSWORD_FILE).
    #[arg(long, value_name = "REPO", conflicts_with_all = ["verify", "manifest", "min_files", "min_size", "expect_files"])]
    pub(crate) restic: Option<String>,
    /// With --borg or --restic: also run the tool's own consistency check (`borg check`,
    /// `restic check`); a damaged repository is a failure alert.
    #[arg(long)]
    pub(crate) deep: bool,
    /// With --restic --deep: read back this part of the data (`restic check
    /// --read-data-subset`, e.g. 10% or 1/7), the restore test.
    #[arg(long, value_name = "SUBSET", requires = "deep", requires = "restic")]
    pub(crate) read_data_subset: Option<String>,
    /// Maximum age of the newest file, e.g. 26h.
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub(crate) max_age: Duration,
    /// Minimum size of the newest file, e.g. 1M (binary units).
    #[arg(long, value_name = "SIZE", value_parser = crate::units::parse_size)]
    pub(crate) min_size: Option<u64>,
    /// Fewest files the path must hold (counted recursively), e.g. one per night kept.
    #[arg(long, value_name = "N")]
    pub(crate) min_files: Option<usize>,
    /// Compare the newest backup's file count (an archive's members, or the files of a
    /// backup directory) with the previous backup's; fewer by more than TOLERANCE — a
    /// percentage (10%) or a number of files (0) — is a warning (default: 10%).
    #[arg(
        long,
        value_name = "TOLERANCE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "10%",
        value_parser = crate::checks::file_count::Tolerance::parse
    )]
    pub(crate) expect_files: Option<crate::checks::file_count::Tolerance>,
    /// Read the newest file to its end as a restore would: gzip, zstd and xz streams
    /// with their checksums, every tar member, every zip member's CRC32. A damaged archive
    /// is a failure alert naming the file and the first bad member. Checksum files
    /// (NAME.sha256, .md5, .sfv, SHA256SUMS, …) are never taken for the newest backup,
    /// with or without --verify.
    #[arg(long)]
    pub(crate) verify: bool,
    /// Checksum file in sha256sum, sha512sum or md5sum format, or a CRC32 list (8 hex
    /// digits, or SFV), with a line for the newest file (default: with --verify,
    /// NAME.sha256, NAME.md5, NAME.sfv, … next to it, when there is one).
    #[arg(long, value_name = "FILE")]
    pub(crate) manifest: Option<PathBuf>,
    /// Name of the backup in the alert (default: the path or repository).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Send nothing when the backup is fresh (a recovery is still mailed).
    #[arg(long)]
    pub(crate) quiet_ok: bool,
    #[command(flatten)]
    pub(crate) ping: PingArgs,
    #[command(flatten)]
    pub(crate) delivery: DeliveryArgs,
}

/// `check`: 0 when the newest file is fresh, 1 when stale, small or missing; a delivery
/// failure leaves with its own code.
pub(crate) fn check(args: CheckArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    let (target, policy) = target_and_policy(&args.delivery, ctx)?;
    let lang = target.language;
    if let Some(job) = &args.job {
        return check_job(&args, job, &target, &policy, ctx, ui);
    }
    let req = Requirement {
        max_age: args.max_age,
        min_size: args.min_size,
        min_files: args.min_files,
    };
    let integrity_asked = args.verify || args.manifest.is_some();
    let repository = match (&args.borg, &args.restic) {
        (Some(r), _) => Some((repository::Tool::Borg, r.clone())),
        (_, Some(r)) => Some((repository::Tool::Restic, r.clone())),
        _ => None,
    };
    let location = match (&repository, &args.path) {
        (Some((_, r)), _) => r.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => {
            return Err(Error::Usage(
                "check needs --path, --borg or --restic".into(),
            ))
        }
    };
    if args.deep && repository.is_none() {
        return Err(Error::Usage(
            "--deep checks a repository: use it with --borg or --restic".into(),
        ));
    }
    let (found, searched) = match &repository {
        Some((tool, repo)) => match repository::newest(*tool, repo, lang) {
            Ok(found) => {
                let n = usize::from(found.is_some());
                (found, n)
            }
            Err(e) => {
                return repository_failure(&args, &location, e, false, &target, &policy, ctx, ui)
            }
        },
        // A checksum file is written just after the archive it describes: it is never
        // the newest backup (unless the pattern asks for checksum files themselves).
        None if crate::checks::manifest::is_sidecar(Path::new(&location)) => {
            newest::newest(&location)
        }
        None => newest::newest_where(&location, &|p| !crate::checks::manifest::is_sidecar(p)),
    };
    // --deep: the tool's own check, once the listing worked.
    let deep = match &repository {
        Some((tool, repo)) if args.deep => {
            match repository::deep_check(*tool, repo, args.read_data_subset.as_deref(), lang) {
                Ok(passed) => Some(passed),
                Err(e) => {
                    return repository_failure(&args, &location, e, true, &target, &policy, ctx, ui)
                }
            }
        }
        _ => None,
    };
    let integrity = found
        .as_ref()
        .filter(|_| integrity_asked)
        .map(|f| Integrity::check(&f.path, args.verify, args.manifest.as_deref(), lang));
    // --expect-files: the newest backup's file count against the previous one's.
    let file_count = found
        .as_ref()
        .zip(args.expect_files)
        .map(|(f, tolerance)| FileCount::check(&location, f, tolerance, lang));
    let finding = newest::judge(found, searched, &req, SystemTime::now(), lang);
    // Damage or an integrity check that could not be made comes first among the
    // problems; too few files after the others.
    let finding = finding.with_problems(
        integrity
            .as_ref()
            .map(|i| i.problems(lang))
            .unwrap_or_default(),
        true,
    );
    let fewer_files = file_count.as_ref().and_then(|f| f.problem(lang));
    let finding = finding.with_problems(fewer_files.iter().cloned().collect(), false);
    let corrupt = integrity.as_ref().is_some_and(Integrity::is_corrupt);
    let name = args.name.clone().unwrap_or_else(|| location.clone());
    // A relative path means nothing to whoever reads the mail (a repository is shown as
    // given: it may be a URL).
    let shown_path = match &repository {
        Some(_) => location.clone(),
        None => std::path::absolute(&location)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| location.clone()),
    };
    let mut alert = Alert::new(Status::Success, String::new(), ctx.host.clone());
    if let Some(passed) = &deep {
        alert.fact(
            "Repository check",
            tr_in!(lang, "passed ({command})", command = passed),
        );
    }
    if repository.is_some() {
        // The newest archive is a backup the tool vouches for: on the first check, before
        // any success is recorded, it is the last good backup.
        if let Finding::Fresh { file, .. } | Finding::Stale { file, .. } = &finding {
            alert.good_backup_at = Some(DateTime::<Local>::from(file.modified));
        }
    }
    alert.fact("Backup", name.clone());
    match &repository {
        Some((tool, _)) => alert.fact("Repository", format!("{shown_path} ({})", tool.program())),
        None => alert.fact("Path", shown_path.clone()),
    }
    let limits = Limits {
        max_age: args.max_age,
        min_size: args.min_size,
        repository: repository.is_some(),
    };
    let summary = match &finding {
        Finding::Fresh { file, age } => {
            alert.subject = target.language.check_subject("Backup fresh", &name);
            alert.message = lang.newest_backup_age(*age);
            describe_file(&mut alert, file, *age, &limits, lang);
            if repository.is_none() {
                alert.fact("Files", lang.files_against(searched, args.min_files));
            }
            for (label, value) in integrity.iter().flat_map(|i| i.facts(lang)) {
                alert.fact(label, value);
            }
            for (label, value) in file_count.iter().flat_map(|f| f.facts(lang)) {
                alert.fact(label, value);
            }
            format!(
                "fresh: {} ({} old)",
                file.path.display(),
                format_duration(*age)
            )
        }
        Finding::Stale {
            file,
            age,
            problems,
        } => {
            alert.status = if corrupt {
                Status::Failure
            } else {
                Status::Warning
            };
            let too_small = args.min_size.is_some_and(|min| file.size < min);
            alert.subject = if corrupt {
                target.language.check_subject("Backup corrupt", &name)
            } else if age > &args.max_age {
                target.language.check_subject("Backup too old", &name)
            } else if too_small {
                target.language.check_subject("Backup too small", &name)
            } else if args.min_files.is_some_and(|min| searched < min) {
                target.language.check_subject("Too few backup files", &name)
            } else if crate::checks::newest::dated_in_future(file, SystemTime::now()).is_some() {
                target
                    .language
                    .check_subject("Backup dated in the future", &name)
            } else if let Some(FileCount::Uncountable(_)) = &file_count {
                target
                    .language
                    .check_subject("Backup files not counted", &name)
            } else if fewer_files.is_some() {
                target
                    .language
                    .check_subject("Backup holds fewer files", &name)
            } else {
                target.language.check_subject("Backup not verified", &name)
            };
            // The problems are the summary line that opens the alert; a message saying
            // them again was the same line twice.
            let class = if corrupt {
                Some(error_line::FailureClass::Corrupt)
            } else if age > &args.max_age {
                Some(error_line::FailureClass::Stale)
            } else {
                None
            };
            let shown = std::path::absolute(&file.path).unwrap_or_else(|_| file.path.clone());
            // Too few files is about two backups, which its line names: not about the
            // newest file (for snapshot directories, any file in the newest one).
            alert.summary = Some(match &fewer_files {
                Some(p) if problems.len() == 1 => p.clone(),
                _ => tr_in!(
                    lang,
                    "{path}: {problem}",
                    path = shown.display(),
                    problem = problems.join("; ")
                ),
            });
            describe_file(&mut alert, file, *age, &limits, lang);
            if repository.is_none() {
                alert.fact("Files", lang.files_against(searched, args.min_files));
            }
            for (label, value) in integrity.iter().flat_map(|i| i.facts(lang)) {
                alert.fact(label, value);
            }
            for (label, value) in file_count.iter().flat_map(|f| f.facts(lang)) {
                alert.fact(label, value);
            }
            if let Some(class) = class {
                let place = advice::Where::of_repository(
                    repository.as_ref().map(|(t, _)| (*t).into()),
                    repository.as_ref().map(|(_, r)| r.clone()),
                );
                alert.fact(
                    "What to do",
                    advice::advice(class, "", &place, target.language),
                );
            }
            format!("stale: {}: {}", file.path.display(), problems.join("; "))
        }
        Finding::Missing { searched } => {
            alert.status = Status::Warning;
            alert.subject = target.language.check_subject("No backup found", &name);
            if repository.is_some() {
                alert.message = tr_in!(
                    lang,
                    "The repository {path} has no archives.",
                    path = shown_path
                );
                alert.summary = Some(tr_in!(lang, "{path}: no archives", path = shown_path));
            } else {
                alert.message = trn_in!(
                    lang,
                    "No backup file matches {path} ({n} file looked at).",
                    "No backup file matches {path} ({n} files looked at).",
                    *searched as u64,
                    path = shown_path
                );
                alert.summary = Some(tr_in!(
                    lang,
                    "no backup file matches {path}",
                    path = shown_path
                ));
            }
            alert.fact("Maximum age", target.language.duration(args.max_age));
            if let Some(min) = args.min_size {
                alert.fact("Minimum size", format_size(min));
            }
            alert.fact(
                "What to do",
                advice::advice(
                    error_line::FailureClass::Stale,
                    "",
                    &advice::Where::default(),
                    target.language,
                ),
            );
            format!("missing: nothing matches {location}")
        }
    };
    alert.measured = Measurement {
        duration_ms: None,
        exit_status: Some(if finding.is_fresh() { 0 } else { 1 }),
        size: match &finding {
            Finding::Fresh { file, .. } | Finding::Stale { file, .. } => Some(file.size),
            Finding::Missing { .. } => None,
        },
    };
    ping_outcome(&args, &alert, !finding.is_fresh(), ui);
    let sent = send_alert(alert, &name, &target, &policy, args.quiet_ok, &mut *ui.err);
    // The metrics say what happened even when the alert could not be delivered.
    publish_metrics(&args.delivery, &policy, ctx, ui);
    let sent = sent?;
    report_sent(&sent, ui);
    if std::io::stdout().is_terminal() {
        ui.print(&format!("{summary}\n"));
    }
    Ok(if finding.is_fresh() { 0 } else { 1 })
}

/// `check --job`: has the job `run` or `send` records succeeded within `--max-age`? The
/// state file says; the answer is mailed as a check of its own, recorded under
/// "NAME (check)" so that it never counts as a run of the job. Exit 0 when it has, 1 when
/// not (or never recorded).
fn check_job(
    args: &CheckArgs,
    job: &str,
    target: &Target,
    policy: &FloodPolicy,
    ctx: &Context,
    ui: &mut Ui<'_>,
) -> Result<u8, Error> {
    let Some(dir) = &policy.state_dir else {
        return Err(Error::Usage(
            "check --job reads the state file: set --state-dir or `state_dir`".into(),
        ));
    };
    let state = crate::alert::flood::StateFile::read_existing(dir)
        .map_err(|e| Error::io(format!("cannot read the state in {}", dir.display()), e))?;
    let now = chrono::Utc::now().timestamp();
    let recorded = state.jobs().into_iter().find(|j| {
        j.host == crate::alert::flood::clean(&ctx.host) && j.name == crate::alert::flood::clean(job)
    });
    // A run marked rotation, restore or info that ended well counts as a success too.
    let last_ok = recorded.as_ref().and_then(|j| {
        let last_run_ok = (!j.last_status.is_problem()).then_some(j.last_run);
        j.last_success.max(last_run_ok)
    });
    let age = last_ok.map(|t| Duration::from_secs(u64::try_from(now - t).unwrap_or(0)));
    let fresh = age.is_some_and(|a| a <= args.max_age);
    let name = args.name.clone().unwrap_or_else(|| job.to_string());
    let lang = target.language;
    let when = |t: i64| {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0));
        let ago = Duration::from_secs(u64::try_from(now - t).unwrap_or(0));
        tr_in!(
            lang,
            "{time} ({duration} ago)",
            time = local(at),
            duration = lang.duration(ago)
        )
    };
    let mut alert = Alert::new(Status::Success, String::new(), ctx.host.clone());
    alert.fact("Backup", name.clone());
    alert.fact("Job", job.to_string());
    match (&recorded, age) {
        (_, Some(age)) if fresh => {
            alert.subject = target.language.check_subject("Backup fresh", &name);
            alert.message = tr_in!(
                lang,
                "The job last succeeded {duration} ago.",
                duration = lang.duration(age)
            );
        }
        (None, _) => {
            alert.status = Status::Warning;
            alert.subject = target.language.check_subject("No backup found", &name);
            alert.message = tr_in!(
                lang,
                "No run of {job} is recorded on {host}: it never ran under this name, or \
                 ran with another state directory.",
                job = job,
                host = ctx.host
            );
            alert.summary = Some(tr_in!(lang, "{job}: no run recorded", job = job));
        }
        (Some(_), age) => {
            alert.status = Status::Warning;
            alert.subject = target.language.check_subject("Backup too old", &name);
            let said = match age {
                Some(a) => tr_in!(
                    lang,
                    "{job} last succeeded {duration} ago (limit {limit})",
                    job = job,
                    duration = lang.duration(a),
                    limit = lang.duration(args.max_age)
                ),
                None => tr_in!(lang, "{job} has no success recorded", job = job),
            };
            alert.message = tr_in!(lang, "Problem: {problem}.", problem = said);
            alert.summary = Some(said);
        }
    }
    alert.fact(
        "Last success",
        last_ok.map_or_else(|| tr_in!(lang, "none recorded").into_owned(), when),
    );
    if let Some(j) = &recorded {
        alert.fact(
            "Last run",
            tr_in!(
                lang,
                "{when}: {status}",
                when = when(j.last_run),
                status = lang.status(j.last_status)
            ),
        );
    }
    alert.fact("Maximum age", target.language.duration(args.max_age));
    if !fresh {
        alert.fact(
            "What to do",
            advice::advice(
                error_line::FailureClass::Stale,
                "",
                &advice::Where::default(),
                target.language,
            ),
        );
    }
    alert.measured = Measurement {
        exit_status: Some(i32::from(!fresh)),
        ..Measurement::default()
    };
    ping_outcome(args, &alert, !fresh, ui);
    let record_as = format!("{name} (check)");
    let sent = send_alert(
        alert,
        &record_as,
        target,
        policy,
        args.quiet_ok,
        &mut *ui.err,
    );
    publish_metrics(&args.delivery, policy, ctx, ui);
    report_sent(&sent?, ui);
    Ok(u8::from(!fresh))
}

/// The tool could not say what the repository holds (locked, wrong passphrase, not
/// installed): a failure alert with the tool's own last line first; exit 1.
#[allow(
    clippy::too_many_arguments,
    reason = "one alert's inputs; a struct for them would only be built here"
)]
fn repository_failure(
    args: &CheckArgs,
    repo: &str,
    error: repository::RepoError,
    deep_check: bool,
    target: &Target,
    policy: &FloodPolicy,
    ctx: &Context,
    ui: &mut Ui<'_>,
) -> Result<u8, Error> {
    let name = args.name.clone().unwrap_or_else(|| repo.to_string());
    let class = match &error {
        repository::RepoError::Failed { line, .. } => error_line::classify(line),
        _ => None,
    };
    // A check that ran and found damage says so; a lock or a passphrase is not damage.
    let subject = match (deep_check, class) {
        (true, Some(error_line::FailureClass::Corrupt) | None) => "Backup repository damaged",
        _ => "Backup repository unreadable",
    };
    let mut alert = Alert::new(
        Status::Failure,
        target.language.check_subject(subject, &name),
        ctx.host.clone(),
    );
    let lang = target.language;
    let said = error.describe(lang);
    alert.message = if deep_check {
        tr_in!(
            lang,
            "The consistency check of {repo} failed: {error}.",
            repo = repo,
            error = said
        )
    } else {
        tr_in!(
            lang,
            "Cannot list the archives of {repo}: {error}.",
            repo = repo,
            error = said
        )
    };
    alert.summary = Some(tr_in!(
        lang,
        "{path}: {problem}",
        path = repo,
        problem = said
    ));
    alert.fact("Backup", name.clone());
    alert.fact("Repository", repo.to_string());
    alert.fact("Maximum age", target.language.duration(args.max_age));
    if let repository::RepoError::Failed { line, .. } = &error {
        // A deep check that failed without a known line still means damage.
        if let Some(class) = class.or(deep_check.then_some(error_line::FailureClass::Corrupt)) {
            let tool = if args.borg.is_some() {
                repository::Tool::Borg
            } else {
                repository::Tool::Restic
            };
            let place = advice::Where::of_repository(Some(tool.into()), Some(repo.to_string()));
            alert.fact(
                "What to do",
                advice::advice(class, line, &place, target.language),
            );
        }
    }
    alert.measured = Measurement {
        exit_status: Some(1),
        ..Measurement::default()
    };
    ping_outcome(args, &alert, true, ui);
    let sent = send_alert(alert, &name, target, policy, false, &mut *ui.err);
    publish_metrics(&args.delivery, policy, ctx, ui);
    report_sent(&sent?, ui);
    Ok(1)
}

/// `--ping-url`: the check's outcome, its summary (else its message) as the body.
fn ping_outcome(args: &CheckArgs, alert: &Alert, failed: bool, ui: &mut Ui<'_>) {
    let body = alert.summary.as_deref().unwrap_or(&alert.message);
    args.ping.outcome(failed, body, ui);
}

/// The limits a checked file is judged against, shown next to its values.
struct Limits {
    max_age: Duration,
    min_size: Option<u64>,
    /// The "file" is a borg archive or restic snapshot.
    repository: bool,
}

fn describe_file(
    alert: &mut Alert,
    file: &newest::Found,
    age: Duration,
    limits: &Limits,
    lang: Language,
) {
    if limits.repository {
        alert.fact("Newest archive", file.path.display().to_string());
        alert.fact("Created", local(file.modified));
        alert.fact("Age", lang.age_against(age, limits.max_age));
        if file.size > 0 {
            alert.fact("Size", format_size(file.size));
        }
        return;
    }
    let path = std::path::absolute(&file.path).unwrap_or_else(|_| file.path.clone());
    alert.fact("Newest file", path.display().to_string());
    alert.fact("Modified", local(file.modified));
    alert.fact("Age", lang.age_against(age, limits.max_age));
    let min = limits.min_size.map(|m| (format_size(m), file.size >= m));
    alert.fact(
        "Size",
        lang.size_against(
            &format_size(file.size),
            file.size,
            min.as_ref().map(|(m, ok)| (m.as_str(), *ok)),
        ),
    );
}
