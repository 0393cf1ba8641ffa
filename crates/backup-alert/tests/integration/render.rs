//! The HTML part of real alerts (and of `report`'s digest) rendered in headless Chromium at a phone's width
//! (390 px): no element may reach past the right edge — the line that matters,
//! `borg: Remote: Permission denied (publickey)` behind a 300-character path, must wrap —
//! and in dark mode (`prefers-color-scheme: dark`) every text keeps its contrast against
//! the background it is drawn on. A PNG screenshot of each is saved in the test's
//! directory. Control pages that do overflow and do lose contrast show that the
//! measurements can fail.
//!
//! The peer is Debian's `chromium-headless-shell` (or `chromium`); `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::*;

/// Phone width in CSS pixels (an iPhone 12–15).
const WIDTH: u32 = 390;

/// Measures the page once it is laid out and writes the result into the DOM, where
/// `--dump-dom` shows it: the document's scroll width, the viewport width, whether dark
/// mode is on, the elements reaching past the viewport's right edge, and how many
/// elements with text have a contrast ratio below 4.5 (WCAG AA) against the first
/// opaque background behind them (the canvas when there is none).
const PROBE: &str = r#"<script>
(function () {
  var W = window.innerWidth;
  var dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
  var all = document.body.getElementsByTagName('*');
  function rgb(s) {
    var m = s.match(/[\d.]+/g) || [0, 0, 0];
    return { r: +m[0], g: +m[1], b: +m[2], a: m.length > 3 ? +m[3] : 1 };
  }
  function lum(c) {
    function ch(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  }
  var canvas = rgb(getComputedStyle(document.documentElement).backgroundColor);
  if (canvas.a === 0) canvas = dark ? { r: 18, g: 18, b: 18, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
  var over = [], low = 0, worst = 99, worstAt = 'none';
  for (var i = 0; i < all.length; i++) {
    var el = all[i];
    if (el.tagName === 'SCRIPT') continue;
    // A box past the edge, or text running out of its box (a block stays as wide as
    // its parent while an unwrapped line overflows it).
    if (el.getBoundingClientRect().right > W + 0.5 ||
        (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)) over.push(el.tagName);
    var text = false;
    for (var k = 0; k < el.childNodes.length; k++) {
      var n = el.childNodes[k];
      if (n.nodeType === 3 && n.textContent.trim()) text = true;
    }
    if (!text) continue;
    var fg = rgb(getComputedStyle(el).color), bg = null;
    for (var p = el; p; p = p.parentElement) {
      var c = rgb(getComputedStyle(p).backgroundColor);
      if (c.a > 0) { bg = c; break; }
    }
    bg = bg || canvas;
    var a = lum(fg), b = lum(bg);
    var ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low++;
    if (ratio < worst) { worst = ratio; worstAt = el.tagName; }
  }
  // The card's own background (dark mode must not leave a white card on black), and
  // the narrowest share of its row a fact's value gets next to its label.
  var card = document.body.firstElementChild;
  var cardLum = card ? lum(rgb(getComputedStyle(card).backgroundColor)) : -1;
  var narrowest = 1;
  var rows = document.getElementsByTagName('tr');
  for (var r = 0; r < rows.length; r++) {
    var td = rows[r].getElementsByTagName('td')[0];
    if (!td) continue;
    var share = td.getBoundingClientRect().width / rows[r].getBoundingClientRect().width;
    if (share < narrowest) narrowest = share;
  }
  document.documentElement.setAttribute('data-probe',
    'cardLum=' + cardLum.toFixed(3) + ';narrowestValue=' + narrowest.toFixed(2) +
    ';scrollWidth=' + document.documentElement.scrollWidth + ';innerWidth=' + W +
    ';dark=' + dark + ';overflowing=' + over.join(',') + ';lowContrast=' + low +
    ';worst=' + worst.toFixed(2) + ' ' + worstAt);
})();
</script>"#;

/// What the probe measured.
#[derive(Debug)]
struct Probe {
    /// Relative luminance of the card's background (0 black, 1 white).
    card_lum: f64,
    /// The narrowest share of a fact row its value gets.
    narrowest_value: f64,
    scroll_width: u32,
    inner_width: u32,
    dark: bool,
    overflowing: String,
    low_contrast: u32,
    worst: String,
}

fn chromium() -> Option<PathBuf> {
    for p in ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    rsmtp_testserver::peer::require_peer(
        "/usr/bin/chromium-headless-shell",
        "chromium-headless-shell",
    )
}

/// Headless Chromium at WIDTH × 2000, light or dark, on `page`, with `extra` arguments.
fn browser(bin: &Path, dir: &Path, dark: bool, page: &Path, extra: &[String]) -> String {
    let mut c = Command::new(bin);
    c.env("HOME", dir)
        .arg("--headless")
        // Tests run as root in CI, where Chromium's sandbox refuses to start.
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--hide-scrollbars")
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--window-size={WIDTH},2000"));
    if dark {
        // Blink's preferred colour scheme: 0 is dark.
        c.arg("--blink-settings=preferredColorScheme=0");
    }
    c.args(extra).arg(format!("file://{}", page.display()));
    let out = c.output().expect("start chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Render `html` with the probe added before `</body>`; return what it measured.
fn measure(bin: &Path, dir: &Path, name: &str, html: &str, dark: bool) -> Probe {
    let page = dir.join(format!("{name}.html"));
    let probed = match html.rfind("</body>") {
        Some(i) => format!("{}{PROBE}{}", &html[..i], &html[i..]),
        None => format!("{html}{PROBE}"),
    };
    std::fs::write(&page, probed).unwrap();
    let dom = browser(bin, dir, dark, &page, &["--dump-dom".to_string()]);
    let start = dom.find("data-probe=\"").expect("the probe ran") + "data-probe=\"".len();
    let value = &dom[start..start + dom[start..].find('"').unwrap()];
    let field = |key: &str| {
        value
            .split(';')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} missing from {value}"))
            .to_string()
    };
    Probe {
        card_lum: field("cardLum").parse().unwrap(),
        narrowest_value: field("narrowestValue").parse().unwrap(),
        scroll_width: field("scrollWidth").parse().unwrap(),
        inner_width: field("innerWidth").parse().unwrap(),
        dark: field("dark") == "true",
        overflowing: field("overflowing"),
        low_contrast: field("lowContrast").parse().unwrap(),
        worst: field("worst"),
    }
}

/// A PNG screenshot of `page` (the alert as received, without the probe).
fn screenshot(bin: &Path, dir: &Path, name: &str, html: &str, dark: bool) -> PathBuf {
    let page = dir.join(format!("{name}-shot.html"));
    std::fs::write(&page, html).unwrap();
    let png = dir.join(format!("{name}.png"));
    browser(
        bin,
        dir,
        dark,
        &page,
        &[format!("--screenshot={}", png.display())],
    );
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        png.display()
    );
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    assert_eq!(width, WIDTH, "{} is {WIDTH} px wide", png.display());
    png
}

fn assert_fits(p: &Probe, what: &str) {
    assert_eq!(
        p.inner_width, WIDTH,
        "{what}: the viewport is not {WIDTH} px: {p:?}"
    );
    assert!(
        p.scroll_width <= WIDTH && p.overflowing.is_empty(),
        "{what}: a line runs past {WIDTH} px: {p:?}"
    );
}

#[test]
fn alerts_fit_a_phone_and_stay_readable_in_dark_mode() {
    let Some(bin) = chromium() else { return };
    let server = server();
    let env = Env::new(&server);
    // An unbroken 300-character path in front of the line that matters.
    let deep: String = (0..30).map(|i| format!("/segment{i:02}")).collect();
    assert_eq!(deep.len(), 300);
    let line = format!("{deep}: borg: Remote: Permission denied (publickey)");
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "borg-nightly"]);
    c.arg("--").args([
        "sh",
        "-c",
        &format!(
            "echo 'Creating archive at ssh://backup@nas{deep}::nightly'; echo '{line}' >&2; exit 2"
        ),
    ]);
    run(c).assert_code(2);
    let failure = one_message(&server);
    let html = parse(&failure)
        .body_html(0)
        .expect("an HTML part")
        .into_owned();
    assert!(html.contains("borg: Remote: Permission denied (publickey)"));
    // the check alert: an absolute path as long, in the facts table
    let dir = env.path(&format!("backups{deep}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("db.tar.gz"), b"tiny").unwrap();
    run(env.sub(&[
        "check",
        "--path",
        env.path("backups").to_str().unwrap(),
        "--max-age",
        "1d",
        "--min-size",
        "1M",
        "--to",
        TO,
        "--no-flood",
    ]))
    .assert_code(1);
    let msgs = server.wait_for_messages(2, WAIT);
    let check_html = parse(&msgs[1]).body_html(0).unwrap().into_owned();
    // the weekly digest of both, with its SVG charts
    run(env.sub(&["report", "--to", TO])).assert_code(0);
    let msgs = server.wait_for_messages(3, WAIT);
    let report_html = parse(&msgs[2]).body_html(0).unwrap().into_owned();
    assert_eq!(report_html.matches("<svg ").count(), 2, "{report_html}");

    let out = env.path("render");
    std::fs::create_dir_all(&out).unwrap();
    for (name, page) in [
        ("failure", &html),
        ("check", &check_html),
        ("report", &report_html),
    ] {
        let light = measure(&bin, &out, name, page, false);
        assert!(!light.dark);
        assert_fits(&light, name);
        assert_eq!(light.low_contrast, 0, "{name}: low contrast: {light:?}");
        assert!(light.card_lum > 0.9, "{name}: a light card: {light:?}");
        let dark = measure(&bin, &out, &format!("{name}-dark"), page, true);
        assert!(dark.dark, "dark mode was not on: {dark:?}");
        // dark mode is a dark card, not a white card on black
        assert!(
            dark.card_lum < 0.05,
            "{name} (dark): the card stays light: {dark:?}"
        );
        assert_fits(&dark, &format!("{name} (dark)"));
        assert_eq!(
            dark.low_contrast, 0,
            "{name} (dark): low contrast: {dark:?}"
        );
        screenshot(&bin, &out, &format!("{name}-{WIDTH}"), page, false);
        screenshot(&bin, &out, &format!("{name}-{WIDTH}-dark"), page, true);
    }

    // The measurements can fail: an unwrapped line overflows, and dark ink on the dark
    // canvas is caught.
    let control = format!(
        "<!DOCTYPE html><html><head><meta name=\"viewport\" content=\"width=device-width, \
         initial-scale=1\"><meta name=\"color-scheme\" content=\"light dark\"></head><body>\
         <pre>{line}</pre><p style=\"color:#1f2328\">dark ink, no background</p></body></html>"
    );
    let light = measure(&bin, &out, "control", &control, false);
    assert!(
        light.scroll_width > WIDTH && light.overflowing.contains("PRE"),
        "{light:?}"
    );
    assert_eq!(light.low_contrast, 0, "{light:?}");
    let dark = measure(&bin, &out, "control-dark", &control, true);
    assert!(
        dark.low_contrast >= 1 && dark.worst.ends_with(" P"),
        "{dark:?}"
    );
}

/// French and Japanese labels ("Dernière sauvegarde réussie", "最後の正常なバックアップ")
/// do not squeeze the values into a narrow column at 390 px: every value keeps more than
/// half of its row, light and dark.
#[test]
fn long_labels_leave_the_values_room_on_a_phone() {
    let Some(bin) = chromium() else { return };
    let out_dir = tempfile::tempdir().unwrap();
    for language in ["fr", "ja"] {
        let server = server();
        let env = Env::new(&server);
        let dir = env.path("backups");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("db-2026-12-01.tar.gz"), b"tiny").unwrap();
        let mut c = env.sub(&[
            "check",
            "--path",
            dir.to_str().unwrap(),
            "--max-age",
            "1d",
            "--min-size",
            "1M",
            "--to",
            TO,
            "--language",
            language,
        ]);
        c.env("LC_ALL", "C");
        run(c).assert_code(1);
        let html = parse(&one_message(&server))
            .body_html(0)
            .unwrap()
            .into_owned();
        for dark in [false, true] {
            let name = format!("labels-{language}-{}", if dark { "dark" } else { "light" });
            let p = measure(&bin, out_dir.path(), &name, &html, dark);
            assert_fits(&p, &name);
            assert!(
                p.narrowest_value > 0.5,
                "{name}: a value squeezed to {} of its row: {p:?}",
                p.narrowest_value
            );
            screenshot(
                &bin,
                out_dir.path(),
                &format!("{name}-{WIDTH}"),
                &html,
                dark,
            );
        }
    }
}
