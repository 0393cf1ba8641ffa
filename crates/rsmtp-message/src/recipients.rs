//! Addresses read from the header: the `-t` recipients and the `From` address.
//!
//! The header block is split into fields by [`crate::headers`]; each address field
//! is read on its own by [`crate::address_list`], which understands groups, comments,
//! quoted display names with commas, quoted local parts and source routes. Every
//! field of a name counts.

use crate::address::check_address;
use crate::address_list::elements;
use crate::error::printable;
use crate::headers::{fields, Field};

/// What `-t` found in the header: the recipients to send to, and the elements of
/// the address fields that name no usable address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderRecipients {
    /// The recipients, in header order, duplicates kept (msmtp keeps them).
    pub addresses: Vec<String>,
    /// The elements left out, in header order.
    pub skipped: Vec<SkippedElement>,
}

/// An element of a To/Cc/Bcc field that names no usable address: `"Undisclosed"`
/// (a display name alone), `a..b` (not a mailbox nor a local name). It is left out
/// and named; the message still goes to the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedElement {
    /// The header field name as written in the mail.
    pub header: String,
    /// The element as written, control characters escaped.
    pub text: String,
    /// Why it was left out.
    pub reason: String,
}

impl std::fmt::Display for SkippedElement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}",
            rsmtp_core::tr!(
                "skipped '{element}' in the {header} header: {reason}",
                element = self.text,
                header = self.header,
                reason = self.reason
            )
        )
    }
}

/// The recipients a `-t` run takes from the header, in header order.
///
/// All `To`, `Cc` and `Bcc` fields count. When the header has `Resent-` fields,
/// only the `Resent-To`, `Resent-Cc` and `Resent-Bcc` of the first (newest) block of
/// consecutive `Resent-` fields count instead, the rule of sendmail and msmtp.
/// Duplicates are kept, as msmtp keeps them. An element that names no address, or
/// one that is neither a mailbox nor a local name, is left out and listed in
/// [`HeaderRecipients::skipped`] rather than sent as a bogus `RCPT TO` (msmtp sends
/// such junk) or refusing the whole message.
pub fn header_recipients(header: &[u8]) -> HeaderRecipients {
    let fields = fields(header);
    let selected: Vec<&Field> = match fields.iter().position(Field::is_resent) {
        Some(start) => fields[start..]
            .iter()
            .take_while(|f| f.is_resent())
            .filter(|f| f.is("Resent-To") || f.is("Resent-Cc") || f.is("Resent-Bcc"))
            .collect(),
        None => fields
            .iter()
            .filter(|f| f.is("To") || f.is("Cc") || f.is("Bcc"))
            .collect(),
    };
    let mut found = HeaderRecipients::default();
    for field in selected {
        let value = String::from_utf8_lossy(&header[field.value.clone()]);
        for element in elements(&value) {
            let checked = match element.address {
                Some(address) => check_address(&address).map(|()| address),
                None => Err(rsmtp_core::tr!("it has no address").into_owned()),
            };
            match checked {
                Ok(address) => found.addresses.push(address),
                Err(reason) => found.skipped.push(SkippedElement {
                    header: field.name.clone().unwrap_or_default(),
                    text: printable(&unfold(&element.text)),
                    reason,
                }),
            }
        }
    }
    found
}

/// A folded element on one line: each line break and the blanks after it become
/// one space.
fn unfold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first.trim_end_matches('\r'));
    }
    for line in lines {
        out.push(' ');
        out.push_str(line.trim_end_matches('\r').trim_start_matches([' ', '\t']));
    }
    out
}

/// The address of the sender named in the header, for `--read-envelope-from`: the
/// first `From` field, or a `Resent-From` that comes before it (the resender is
/// the sender of a resent message). `None` when there is no such field or it holds
/// no address.
pub fn header_from(header: &[u8]) -> Option<String> {
    fields(header)
        .iter()
        .find(|f| f.is("From") || f.is("Resent-From"))
        .and_then(|f| {
            crate::address_list::address_list(&String::from_utf8_lossy(&header[f.value.clone()]))
                .into_iter()
                .next()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rcpts(h: &str) -> Vec<String> {
        let found = header_recipients(h.as_bytes());
        assert!(found.skipped.is_empty(), "{:?}", found.skipped);
        found.addresses
    }

    #[test]
    fn every_to_cc_bcc_field_counts() {
        let h = "To: a@x.org\r\nCc: b@x.org\r\nSubject: s\r\nBcc: c@x.org\r\nTo: d@x.org\r\n";
        assert_eq!(rcpts(h), ["a@x.org", "b@x.org", "c@x.org", "d@x.org"]);
    }

    #[test]
    fn names_are_case_insensitive_and_other_fields_ignored() {
        let h =
            "tO: a@x.org\r\nCC: b@x.org\r\nbcc: c@x.org\r\nReply-To: r@x.org\r\nFrom: f@x.org\r\n";
        assert_eq!(rcpts(h), ["a@x.org", "b@x.org", "c@x.org"]);
    }

    #[test]
    fn groups_and_undisclosed_recipients() {
        let h = "To: undisclosed-recipients:;\r\nCc: team: a@x.org, \"B\" <b@y.org>;, c@z.org\r\n";
        assert_eq!(rcpts(h), ["a@x.org", "b@y.org", "c@z.org"]);
    }

    #[test]
    fn quoted_display_names_with_commas_and_comments() {
        let h = "To: \"Doe, John\" <john@x.org>, jane@x.org (Jane, Doe), <bare@x.org>\r\n";
        assert_eq!(rcpts(h), ["john@x.org", "jane@x.org", "bare@x.org"]);
    }

    #[test]
    fn rfc2047_names_and_utf8() {
        let h = "To: =?UTF-8?B?SsO2cmcsIE3DvGxsZXI=?= <joerg@x.org>, =?ISO-8859-1?Q?Andr=E9?= <andre@x.org>\r\nCc: Jörg <jörg@bücher.de>\r\n";
        assert_eq!(rcpts(h), ["joerg@x.org", "andre@x.org", "jörg@bücher.de"]);
    }

    #[test]
    fn folded_fields() {
        let h = "To: a@x.org,\r\n b@x.org,\r\n\t\"Long\r\n Name\" <c@x.org>\r\nSubject: x\r\n";
        assert_eq!(rcpts(h), ["a@x.org", "b@x.org", "c@x.org"]);
    }

    #[test]
    fn lf_only_and_unterminated_last_line() {
        assert_eq!(
            rcpts("Subject: x\nTo: a@x.org,\n b@x.org"),
            ["a@x.org", "b@x.org"]
        );
    }

    #[test]
    fn local_names_are_recipients() {
        assert_eq!(
            rcpts("To: root, www-data\r\nCc: root (Cron Daemon), <admin>\r\n"),
            ["root", "www-data", "root", "admin"]
        );
        let found = header_recipients(b"Bcc: Undisclosed recipients\r\n");
        assert!(found.addresses.is_empty());
        assert_eq!(
            found.skipped[0].to_string(),
            "skipped 'Undisclosed recipients' in the Bcc header: it has no address"
        );
    }

    #[test]
    fn resent_block_replaces_to_cc_bcc() {
        let h = "Resent-To: r1@x.org\r\nResent-Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n\
                 Resent-Bcc: r2@x.org\r\nTo: a@x.org\r\nResent-To: old@x.org\r\nCc: b@x.org\r\n";
        assert_eq!(rcpts(h), ["r1@x.org", "r2@x.org"]);
    }

    #[test]
    fn resent_block_without_recipients_gives_none() {
        assert!(rcpts("Resent-From: a@x.org\r\nTo: b@x.org\r\n").is_empty());
    }

    #[test]
    fn no_recipient_fields() {
        assert!(rcpts("Subject: x\r\nX-To: a@x.org\r\n").is_empty());
        assert!(rcpts("").is_empty());
    }

    #[test]
    fn a_bad_element_is_skipped_and_named_the_others_kept() {
        let found = header_recipients(
            b"To: \"Undisclosed\", a@x.org\r\nCc: a..b, z@x.org,\r\n <bad\r\n address@x.org>\r\n",
        );
        assert_eq!(found.addresses, ["a@x.org", "z@x.org"]);
        let named: Vec<String> = found.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            named,
            [
                "skipped '\"Undisclosed\"' in the To header: it has no address",
                "skipped 'a..b' in the Cc header: not a mailbox (user@domain) nor a local user name",
                "skipped '<bad address@x.org>' in the Cc header: a blank is not allowed before @ unless quoted",
            ]
        );
    }

    #[test]
    fn the_rfc_2822_appendix_case_of_msmtps_test_suite() {
        let h = "To: Some(wonderful \\) chap) <to10(his account)@localhost(this host)>\r\n\
                 Cc:A Group(Some people)\r\n     :Some Person <to11@(their's host.)example.com>,\r\n\
                 \x20             to12, \r\n\t        Person <to13@localhost> (a friend); (the end of the group)\r\n\
                 Bcc:(Empty list)(start)Undisclosed recipients  :(nobody(that I know))  ;\r\n";
        assert_eq!(
            rcpts(h),
            [
                "to10@localhost",
                "to11@example.com",
                "to12",
                "to13@localhost"
            ]
        );
    }

    #[test]
    fn from_address() {
        assert_eq!(
            header_from(b"Subject: x\r\nFrom: \"Doe, J\" <j@x.org>\r\nFrom: k@x.org\r\n")
                .as_deref(),
            Some("j@x.org")
        );
        assert_eq!(
            header_from(b"Resent-From: r@x.org\r\nFrom: f@x.org\r\n").as_deref(),
            Some("r@x.org")
        );
        assert_eq!(
            header_from(b"From: (no address here)\r\nTo: a@x.org\r\n"),
            None
        );
        assert_eq!(header_from(b"To: a@x.org\r\n"), None);
    }
}
