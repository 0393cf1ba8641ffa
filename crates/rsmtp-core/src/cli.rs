//! Helpers both command lines (rsmtp's and backup-alert's) share around clap: one line
//! from a clap error, in msmtp's style, and the completion scripts. Only with the
//! `cli` feature: the libraries never see clap.

/// One line from a clap error: msmtp prints `msmtp: unrecognized option '--foo'`.
/// One line from a clap error, for rsmtp and backup-alert alike: its first paragraph
/// joined (`required arguments were not provided: --status <STATUS>`), and clap's
/// suggestion (`tip: a similar argument exists: '--host'`) kept as
/// "(did you mean '--host'?)".
pub fn clap_error_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut paragraphs = text.split("\n\n");
    let first: Vec<&str> = paragraphs
        .next()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut line = first.join(" ");
    if line.is_empty() {
        line = "invalid command line".to_string();
    }
    let line = line.strip_prefix("error: ").unwrap_or(&line).to_string();
    let suggestion = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .find_map(|tip| tip.rsplit_once("exists: ").map(|(_, s)| s.to_string()));
    match suggestion {
        Some(s) => format!("{line} (did you mean {s}?)"),
        None => line,
    }
}

/// A completion script for `shell` (bash, zsh or fish; anything else is bash) for
/// `cmd`, installed as `bin` — for rsmtp and backup-alert alike.
///
/// clap_complete 4.6 spells a hyphenated binary's subcommand functions two ways in
/// bash: `backup__alert__subcmd__send` where it sets `cmd`, and
/// `backup__subcmd__alert__subcmd__send` in the `case` that offers the options, so
/// nothing completes after a subcommand (`backup-alert send --st<TAB>`). The second
/// spelling is rewritten to the first.
pub fn completion_script(shell: &str, cmd: &mut clap::Command, bin: &str) -> String {
    use clap_complete::Shell;
    let shell = shell.parse::<Shell>().unwrap_or(Shell::Bash);
    let mut out = Vec::new();
    clap_complete::generate(shell, cmd, bin, &mut out);
    let script = String::from_utf8_lossy(&out).into_owned();
    if shell == Shell::Bash && bin.contains('-') {
        script.replace(&bin.replace('-', "__subcmd__"), &bin.replace('-', "__"))
    } else {
        script
    }
}
