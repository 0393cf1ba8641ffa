//! rsmtp's messages in the user's language: the same text as msmtp's own
//! translations where the English is the same (French and German; msmtp ships no
//! Spanish), the language chosen from LC_ALL / LC_MESSAGES / LANG / LANGUAGE like
//! msmtp's gettext, and catalogs that cannot fall behind the code: every `tr!("…")`
//! in crates/ has a translation in every po/*.po, and no catalog keeps a message
//! the code no longer has.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rsmtp_core::i18n::{placeholders, CATALOGS};
use rsmtp_core::po;
use rsmtp_testserver::peer::{require, require_peer};
use rsmtp_testserver::{closed_port, Fault, ServerOptions, TestServer};

use crate::support::*;

/// Whether glibc has `locale` (Debian's locales-all), as msmtp needs it to translate.
fn installed(locale: &str) -> bool {
    Path::new("/usr/lib/locale")
        .join(locale.replace("UTF-8", "utf8"))
        .exists()
}

/// The first stderr line of `program` with `env`, without the `msmtp: `/`rsmtp: ` prefix.
fn first_line(dir: &Dir, program: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = dir.command(program).args(args).stdin("Subject: x\n\nhi\n");
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let run = cmd.run();
    let err = run.stderr();
    let line = err.lines().next().unwrap_or("").to_string();
    match line.split_once(": ") {
        Some((_, rest)) => rest.to_string(),
        None => line,
    }
}

/// Unknown account, no recipients, missing envelope-from, a refused connection and a
/// recipient the server refuses (550),
/// run by msmtp and rsmtp under fr_FR, de_DE and es_ES. rsmtp may add a hint after
/// msmtp's text (` (accounts: a)`), so rsmtp's line starts with msmtp's. Debian's
/// msmtp 1.8.23 has no Spanish catalog: there rsmtp's Spanish is checked against the
/// expected text (glibc's own Spanish for the system error, as msmtp prints it).
#[test]
fn messages_read_as_msmtps_translations() {
    let Some(msmtp) = require_peer("/usr/bin/msmtp", "msmtp (Debian package msmtp)") else {
        return;
    };
    let dir = Dir::new();
    let port = closed_port();
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "nobody@example.net",
        550,
        "5.1.1 No such user",
    )));
    dir.write(
        "refusing",
        format!(
            "account a\nhost 127.0.0.1\nport {}\nfrom a@example.org\n",
            server.port()
        ),
    );
    dir.write(
        "nofrom",
        format!("account a\nhost 127.0.0.1\nport {port}\n"),
    );
    dir.write(
        "rc",
        format!("account a\nhost 127.0.0.1\nport {port}\nfrom a@example.org\n"),
    );
    for f in ["nofrom", "rc", "refusing"] {
        std::fs::set_permissions(
            dir.join(f),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .expect("chmod");
    }
    let cases: [(&str, Vec<&str>); 5] = [
        (
            "unknown account",
            vec!["-C", "rc", "-a", "nosuch", "x@example.net"],
        ),
        ("no recipients", vec!["-C", "rc", "-a", "a"]),
        (
            "no envelope-from",
            vec!["-C", "nofrom", "-a", "a", "x@example.net"],
        ),
        (
            "cannot connect",
            vec!["-C", "rc", "-a", "a", "x@example.net"],
        ),
        (
            "recipient refused",
            vec!["-C", "refusing", "-a", "a", "nobody@example.net"],
        ),
    ];
    let spanish = [
        "no se encontró la cuenta nosuch en rc",
        "no se encontraron destinatarios",
        "cuenta a de nofrom: falta la dirección del remitente del sobre",
        &format!("no se puede conectar con 127.0.0.1, puerto {port}: Conexión rehusada"),
        "el servidor no aceptó la dirección de destinatario nobody@example.net",
    ];
    let english = [
        "account nosuch not found in rc",
        "no recipients found",
        "account a from nofrom: envelope-from address is missing",
        &format!("cannot connect to 127.0.0.1, port {port}: Connection refused"),
        "recipient address nobody@example.net not accepted by the server",
    ];
    let rsmtp = rsmtp_bin();
    for locale in ["fr_FR.UTF-8", "de_DE.UTF-8", "es_ES.UTF-8"] {
        if !require(
            installed(locale),
            &format!("the {locale} locale (Debian package locales-all)"),
        ) {
            continue;
        }
        let env = [("LC_ALL", locale)];
        for (i, (what, args)) in cases.iter().enumerate() {
            let theirs = first_line(&dir, &msmtp, &env, args);
            let ours = first_line(&dir, &rsmtp, &env, args);
            let c = first_line(&dir, &msmtp, &[("LC_ALL", "C")], args);
            assert!(c.starts_with(english[i]), "{what}: msmtp in C says {c:?}");
            assert!(
                first_line(&dir, &rsmtp, &[("LC_ALL", "C")], args).starts_with(english[i]),
                "{what}: rsmtp in C"
            );
            let msmtp_has_catalog = Path::new(&format!(
                "/usr/share/locale/{}/LC_MESSAGES/msmtp.mo",
                &locale[..2]
            ))
            .exists();
            if !msmtp_has_catalog {
                assert!(ours.starts_with(spanish[i]), "{what} in {locale}: {ours:?}");
                continue;
            }
            assert_ne!(theirs, c, "{what}: msmtp translates in {locale}");
            assert!(
                ours.starts_with(&theirs),
                "{what} in {locale}:\n msmtp: {theirs}\n rsmtp: {ours}"
            );
        }
    }
}

/// The language is chosen as msmtp's gettext chooses it: LC_ALL over LC_MESSAGES
/// over LANG, LANGUAGE's list first unless the locale is C, a locale glibc does not
/// have means English — compared with msmtp for each environment.
#[test]
fn the_language_is_chosen_like_msmtps() {
    let Some(msmtp) = require_peer("/usr/bin/msmtp", "msmtp (Debian package msmtp)") else {
        return;
    };
    if !require(
        installed("fr_FR.UTF-8") && installed("de_DE.UTF-8"),
        "the fr_FR and de_DE locales (Debian package locales-all)",
    ) {
        return;
    }
    let dir = Dir::new();
    dir.write("rc", "account a\nhost 127.0.0.1\nfrom a@example.org\n");
    std::fs::set_permissions(
        dir.join("rc"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let args = ["-C", "rc", "-a", "a"];
    let environments: &[&[(&str, &str)]] = &[
        &[("LANG", "fr_FR.UTF-8")],
        &[("LC_MESSAGES", "de_DE.UTF-8"), ("LANG", "fr_FR.UTF-8")],
        &[("LC_ALL", "fr_FR.UTF-8"), ("LC_MESSAGES", "de_DE.UTF-8")],
        &[("LC_ALL", "fr_FR.UTF-8"), ("LANGUAGE", "de:fr")],
        &[("LC_ALL", "C"), ("LANGUAGE", "de")],
        &[("LANG", "fr_FR.UTF-8"), ("LC_ALL", "")],
        &[("LC_ALL", "xx_YY.UTF-8")],
        &[("LC_ALL", "fr_FR.ISO-8859-15")],
        &[],
    ];
    let mut seen = BTreeSet::new();
    for env in environments {
        let theirs = first_line(&dir, &msmtp, env, &args);
        let ours = first_line(&dir, &rsmtp_bin(), env, &args);
        assert_eq!(ours, theirs, "{env:?}");
        seen.insert(ours);
    }
    assert_eq!(
        seen.len(),
        3,
        "English, French and German all seen: {seen:?}"
    );
}

/// One message each marked for translation in crates/ (`tr!("…")`, `tr_noop!("…")`,
/// `tr_in!(lang, "…")`, `trn_in!(lang, "…", "…", n)`), with where it is first.
fn marked_messages() -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut files = Vec::new();
    collect_rs(&repo_root().join("crates"), &mut files);
    files.sort();
    // The file that defines tr! and this scanner use made-up messages and `tr!(`
    // in strings.
    let skipped = [
        repo_root().join("crates/rsmtp-core/src/i18n.rs"),
        repo_root().join("crates/rsmtp/tests/i18n.rs"),
    ];
    for file in files.iter().filter(|f| !skipped.contains(f)) {
        let src = std::fs::read_to_string(file).expect("read source");
        for macro_ in ["tr!(", "tr_noop!(", "tr_in!(", "trn_in!("] {
            let mut from = 0;
            while let Some(i) = src[from..].find(macro_) {
                let at = from + i;
                from = at + macro_.len();
                // `tr!(` itself, not the end of `include_str!(`.
                if src[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
                {
                    continue;
                }
                let line_start = src[..at].rfind('\n').map_or(0, |n| n + 1);
                if src[line_start..at].trim_start().starts_with("//") {
                    continue;
                }
                let mut rest = src[from..].trim_start();
                if macro_.contains("_in") {
                    // After the language expression.
                    let Some(comma) = rest.find(',') else {
                        continue;
                    };
                    rest = rest[comma + 1..].trim_start();
                }
                if !rest.starts_with('"') {
                    continue;
                }
                let msgid = rust_string(rest);
                let line = src[..at].matches('\n').count() + 1;
                let rel = file.strip_prefix(repo_root()).unwrap_or(file).display();
                found.entry(msgid).or_insert(format!("{rel}:{line}"));
            }
        }
    }
    assert!(
        found.len() > 40,
        "the scan finds the marked messages: {found:?}"
    );
    found
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The value of the Rust string literal at the start of `s` (`"…"`, with `\`-newline
/// continuations and the usual escapes).
fn rust_string(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s[1..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => return out,
            '\\' => match chars.next() {
                Some('\n') => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\'') => out.push('\''),
                Some('\\') => out.push('\\'),
                // `\u{201c}`, as update-po.py reads it.
                Some('u') => {
                    let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                    let code = u32::from_str_radix(&hex, 16).expect("a \\u{…} escape");
                    out.push(char::from_u32(code).expect("a Unicode scalar value"));
                }
                other => panic!("unexpected escape {other:?} in a tr! message"),
            },
            c => out.push(c),
        }
    }
    panic!("unterminated tr! message: {s:.80}")
}

/// Every catalog file under po/ with its entries (header left out).
fn catalogs() -> Vec<(String, Vec<po::Entry>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("po"))
        .expect("po/")
        .flatten()
    {
        let path = entry.path();
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if ext != "po" && ext != "pot" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read catalog");
        let entries = po::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.push((
            name,
            entries.into_iter().filter(|e| !e.id.is_empty()).collect(),
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Each marked message has a confirmed (not fuzzy), non-empty translation (every
/// plural form of it) with the same `{placeholders}`, and po/rsmtp.pot lists it. rsmtp's
/// own messages need it in every po/LL.po; backup-alert's, whose alerts come in English,
/// French or Japanese (its `language` setting knows no other), in fr.po and ja.po: a
/// German or Spanish entry for them may stay empty.
#[test]
fn catalogs_are_complete() {
    let code = marked_messages();
    let mut missing = Vec::new();
    for (name, entries) in catalogs() {
        let by_id: BTreeMap<&str, &po::Entry> =
            entries.iter().map(|e| (e.id.as_str(), e)).collect();
        for (msgid, at) in &code {
            let Some(e) = by_id.get(msgid.as_str()) else {
                missing.push(format!("po/{name}: no entry for {msgid:?} ({at})"));
                continue;
            };
            let alert_only = at.starts_with("crates/backup-alert/");
            if name.ends_with(".pot")
                || (alert_only && !["fr.po", "ja.po"].contains(&name.as_str()))
            {
                continue;
            }
            let forms = &e.translations;
            if forms.is_empty() || forms.iter().any(String::is_empty) || e.fuzzy {
                missing.push(format!("po/{name}: {msgid:?} is not translated ({at})"));
                continue;
            }
            let wanted = |t: &str| {
                // A singular form may leave the count out (`une ligne`); never add one.
                let mut p = placeholders(e.plural.as_deref().unwrap_or(msgid));
                let mut got = placeholders(t);
                if e.plural.is_some() {
                    p.retain(|n| *n != "n");
                    got.retain(|n| *n != "n");
                }
                p == got
            };
            for text in forms {
                if !wanted(text) {
                    missing.push(format!(
                        "po/{name}: {msgid:?} → {text:?} changes the placeholders ({at})"
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "run python3 contrib/i18n/update-po.py, then translate:\n{}",
        missing.join("\n")
    );
}

/// No catalog keeps a message the code no longer marks (a reworded message must be
/// translated again, not left behind under its old English).
#[test]
fn catalogs_have_no_obsolete_messages() {
    let code = marked_messages();
    let mut obsolete = Vec::new();
    for (name, entries) in catalogs() {
        for e in entries.iter().filter(|e| !code.contains_key(&e.id)) {
            obsolete.push(format!("po/{name}: {:?} is no longer in the code", e.id));
        }
    }
    assert!(
        obsolete.is_empty(),
        "run python3 contrib/i18n/update-po.py:\n{}",
        obsolete.join("\n")
    );
}

/// The catalogs are exactly what `contrib/i18n/update-po.py` writes: running it on a
/// clean checkout changes nothing (its references name files, not lines, so editing
/// code near a message does not rewrite every catalog).
#[test]
fn update_po_changes_nothing_on_a_clean_checkout() {
    let Some(python) = require_peer("/usr/bin/python3", "python3") else {
        return;
    };
    let out = std::process::Command::new(python)
        .arg(repo_root().join("contrib/i18n/update-po.py"))
        .arg("--check")
        .output()
        .expect("run update-po.py --check");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each po/LL.po is built into the binary (rsmtp-core's CATALOGS), and only those.
#[test]
fn every_catalog_is_built_in() {
    let files: BTreeSet<String> = catalogs()
        .into_iter()
        .filter_map(|(name, _)| name.strip_suffix(".po").map(str::to_string))
        .collect();
    let built_in: BTreeSet<String> = CATALOGS.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(files, built_in, "po/*.po vs rsmtp_core::i18n::CATALOGS");
    for (code, text) in CATALOGS {
        let on_disk =
            std::fs::read_to_string(repo_root().join(format!("po/{code}.po"))).expect("po");
        assert_eq!(*text, on_disk, "po/{code}.po is the one built in");
    }
}

/// What gettext itself reads from a catalog, as msgid → first msgstr (fuzzy and empty
/// entries left out, as msgfmt leaves them out): `msgunfmt` of a compiled `.mo`.
fn through_gettext(mo: &Path) -> BTreeMap<String, String> {
    let out = std::process::Command::new("msgunfmt")
        .arg(mo)
        .output()
        .expect("msgunfmt");
    assert!(out.status.success(), "msgunfmt {}", mo.display());
    let text = String::from_utf8(out.stdout).expect("UTF-8 catalog");
    entries_of(&text)
}

fn entries_of(text: &str) -> BTreeMap<String, String> {
    po::parse(text)
        .expect("parses")
        .into_iter()
        .filter(|e| !e.id.is_empty() && !e.fuzzy)
        .filter_map(|e| {
            let s = e.translations.into_iter().next()?;
            (!s.is_empty()).then_some((e.id, s))
        })
        .collect()
}

/// rsmtp's `.po` reader agrees with GNU gettext: each po/*.po passes `msgfmt --check`,
/// and reads the same as what `msgfmt` compiles from it; msmtp's own French catalog
/// (plurals, multi-line strings, escapes) reads as gettext reads it too.
#[test]
fn the_po_reader_agrees_with_gettext() {
    let Some(msgfmt) = require_peer("/usr/bin/msgfmt", "msgfmt (Debian package gettext)") else {
        return;
    };
    let dir = Dir::new();
    for (code, text) in CATALOGS {
        let po = repo_root().join(format!("po/{code}.po"));
        let mo = dir.join(&format!("{code}.mo"));
        let run = std::process::Command::new(&msgfmt)
            .arg("--check")
            .arg("-o")
            .arg(&mo)
            .arg(&po)
            .output()
            .expect("msgfmt");
        assert!(
            run.status.success(),
            "msgfmt --check po/{code}.po: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(entries_of(text), through_gettext(&mo), "po/{code}.po");
    }
    let msmtp_fr = Path::new("/usr/share/locale/fr/LC_MESSAGES/msmtp.mo");
    if require(
        msmtp_fr.exists(),
        "msmtp's French catalog (Debian package msmtp)",
    ) {
        let out = std::process::Command::new("msgunfmt")
            .arg(msmtp_fr)
            .output()
            .expect("msgunfmt");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        let ours = entries_of(&text);
        assert!(ours.len() > 200, "{} entries", ours.len());
        assert_eq!(
            ours.get("account %s not found in %s").map(String::as_str),
            Some("compte %s introuvable dans %s")
        );
        assert!(
            ours.keys().any(|k| k.contains('\n')),
            "multi-line entries read"
        );
    }
}

/// rsmtp's own messages in Japanese (msmtp has no Japanese catalog): the same catalog
/// backup-alert's alerts use, chosen by the locale like the others.
#[test]
fn messages_in_japanese() {
    if !require(
        installed("ja_JP.UTF-8"),
        "the ja_JP.UTF-8 locale (Debian package locales-all)",
    ) {
        return;
    }
    let dir = Dir::new();
    let port = closed_port();
    dir.write(
        "rc",
        format!("account a\nhost 127.0.0.1\nport {port}\nfrom a@example.org\n"),
    );
    std::fs::set_permissions(
        dir.join("rc"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let env = [("LC_ALL", "ja_JP.UTF-8")];
    let rsmtp = rsmtp_bin();
    assert_eq!(
        first_line(&dir, &rsmtp, &env, &["-C", "rc", "-a", "a"]),
        "宛先がありません"
    );
    assert_eq!(
        first_line(
            &dir,
            &rsmtp,
            &env,
            &["-C", "rc", "-a", "nosuch", "x@example.net"]
        ),
        "rc にアカウント nosuch が見つかりません（アカウント: a）"
    );
    assert!(first_line(
        &dir,
        &rsmtp,
        &env,
        &["-C", "rc", "-a", "a", "x@example.net"]
    )
    .starts_with(&format!(
        "127.0.0.1 のポート {port} に接続できません: 接続を拒否されました"
    )),);
}
