//! One line of a mail log, msmtp's or Postfix's, as `key=value` fields: what it says
//! about the message (sent, queued, failed) and why it failed.

/// One parsed log line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct LogEntry {
    /// The time prefix as written.
    pub(crate) time: String,
    /// `key=value` fields in order, quotes removed.
    pub(crate) fields: Vec<(String, String)>,
}

impl LogEntry {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn exitcode(&self) -> &str {
        self.get("exitcode").unwrap_or("")
    }

    pub(crate) fn is_success(&self) -> bool {
        self.exitcode() == "EX_OK" || self.get("status") == Some("sent")
    }

    /// Kept for a later try: rsmtp's queue, or Postfix's `status=deferred`.
    pub(crate) fn is_queued(&self) -> bool {
        self.get("errormsg")
            .is_some_and(|m| m.contains("(queued as "))
            || self.get("status") == Some("deferred")
    }

    /// Why it failed: exit code plus the server's reply or the error message (for a
    /// Postfix line: the status, the DSN code and Postfix's text).
    pub(crate) fn reason(&self) -> String {
        if let Some(status) = self.get("status") {
            let mut r = format!("status={status}");
            if let Some(dsn) = self.get("dsn") {
                r.push_str(&format!(" dsn={dsn}"));
            }
            if let Some(detail) = self.get("detail") {
                r.push_str(&format!(" ({detail})"));
            }
            return r;
        }
        let mut r = self.exitcode().to_string();
        if let Some(status) = self.get("smtpstatus") {
            r.push_str(&format!(" smtpstatus={status}"));
            if let Some(msg) = self.get("smtpmsg") {
                r.push_str(&format!(" '{msg}'"));
            }
        }
        if let Some(msg) = self.get("errormsg") {
            r.push_str(&format!(" errormsg='{msg}'"));
        }
        r
    }
}
