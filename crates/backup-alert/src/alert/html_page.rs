//! The one HTML page skeleton every generated mail uses (alerts, `report`'s digest): the
//! head, the card, the fact table, the headings, the footer.
//!
//! Styles are inline, so a client that drops `<style>` (some webmail) still shows a light
//! card with explicit colours that dark mode cannot invert into their background. A
//! `<style>` block adds what inline styles cannot say, with `!important` to win over them:
//!
//! - under `prefers-color-scheme: dark` the card, the log blocks and the rules turn dark
//!   and the status colours lighter (GitHub's dark palette), so a phone in dark mode does
//!   not show a white card on black; the summary box and the marked line keep their light
//!   tint and dark ink, readable either way;
//! - at a phone's width (`max-width: 480px`) a fact's label may wrap and takes at most
//!   a third of the row, so French and Japanese labels ("Dernière sauvegarde réussie")
//!   do not squeeze the values into a narrow column.

use std::fmt::Write as _;

use crate::model::Status;

/// Text colour used on every light box, in light and dark mode alike.
pub(crate) const INK: &str = "#1f2328";
/// The style that makes long lines wrap instead of running off a phone's screen.
pub(crate) const WRAP: &str = "white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere";
/// Muted text (the footer, chart dates) on the light card.
pub(crate) const MUTED: &str = "#59636e";
/// Rules and borders on the light card.
pub(crate) const RULE: &str = "#d0d7de";

const STYLE: &str = "<style>\n\
@media (prefers-color-scheme: dark) {\n\
  body, .ba-card { background:#0d1117 !important; color:#e6edf3 !important; }\n\
  .ba-pre { background:#161b22 !important; color:#e6edf3 !important; border-color:#30363d !important; }\n\
  .ba-rule { border-color:#30363d !important; }\n\
  .ba-muted { color:#9198a1 !important; }\n\
  .ba-chart { background:#0d1117 !important; }\n\
  .ba-success, .ba-restore { color:#3fb950 !important; }\n\
  .ba-failure { color:#ff7b72 !important; }\n\
  .ba-warning { color:#d29922 !important; }\n\
  .ba-rotation, .ba-info { color:#58a6ff !important; }\n\
}\n\
@media (max-width: 480px) {\n\
  .ba-facts th { white-space:normal !important; width:33%; padding-right:8px !important; }\n\
}\n\
</style>\n";

/// The page up to the card's content: `lang` is the `lang` attribute, `title` the
/// (unescaped) title.
pub(crate) fn open(lang: &str, title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"supported-color-schemes\" content=\"light dark\">\n\
         <title>{}</title>\n{STYLE}</head>\n\
         <body style=\"margin:0;padding:0;color-scheme:light dark\">\n\
         <div class=\"ba-card\" style=\"background:#ffffff;color:{INK};padding:12px;\
         font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;\
         line-height:1.45;max-width:800px\">\n",
        escape_html(title)
    )
}

/// The footer and the end of the page.
pub(crate) fn close() -> String {
    format!(
        "<hr class=\"ba-rule\" style=\"border:0;border-top:1px solid {RULE}\">\
         <small class=\"ba-muted\" style=\"color:{MUTED}\">backup-alert {}</small>\n</div>\n\
         </body></html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The class that gives a status colour its dark-mode variant.
pub(crate) fn status_class(status: Status) -> String {
    format!("ba-{}", status.as_str())
}

/// The page's heading in the status colour: `<h2>✅ text</h2>` (`text` unescaped).
pub(crate) fn heading(status: Status, text: &str) -> String {
    format!(
        "<h2 class=\"{}\" style=\"color:{};font-size:20px;margin:0 0 8px 0;{WRAP}\">{} {}</h2>\n",
        status_class(status),
        status.colour(),
        status.mark(),
        escape_html(text)
    )
}

/// A table of `label: value` rows (unescaped).
pub(crate) fn facts<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a str)>,
    margin_bottom: u32,
) -> String {
    let mut out = format!(
        "<table class=\"ba-facts\" style=\"border-collapse:collapse;margin:0 0 {margin_bottom}px 0\">\n"
    );
    for (k, v) in rows {
        let _ = writeln!(
            out,
            "<tr><th align=\"left\" style=\"vertical-align:top;padding:2px 12px 2px 0;\
             white-space:nowrap\">{}</th><td style=\"padding:2px 0;{WRAP}\">{}</td></tr>",
            escape_html(k),
            escape_html(v)
        );
    }
    out.push_str("</table>\n");
    out
}

/// Escape text for HTML element content and attribute values.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
