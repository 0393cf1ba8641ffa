//! Addresses read from the header: the `-t` recipients and the `From` address.
//!
//! The header block is split into fields by [`crate::headers`]; each address field
//! is read on its own by [`crate::address_list`], which understands groups, comments,
//! quoted display names with commas, quoted local parts and source routes. Every
//! field of a name counts.

use crate::address::check_address;
use crate::error::{printable, MessageError};
use crate::headers::{fields, Field};

/// The recipients a `-t` run takes from the header, in header order.
///
/// All `To`, `Cc` and `Bcc` fields count. When the header has `Resent-` fields,
/// only the `Resent-To`, `Resent-Cc` and `Resent-Bcc` of the first (newest) block of
/// consecutive `Resent-` fields count instead, the rule of sendmail and msmtp.
/// Duplicates are kept, as msmtp keeps them. An address that is neither a mailbox
/// nor a local name is an error ([`MessageError::InvalidHeaderAddress`], exit 65)
/// rather than a bogus `RCPT TO`.
pub fn header_recipients(header: &[u8]) -> Result<Vec<String>, MessageError> {
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
    let mut recipients = Vec::new();
    for field in selected {
        for address in addresses(&header[field.value.clone()]) {
            if let Err(reason) = check_address(&address) {
                return Err(MessageError::InvalidHeaderAddress {
                    header: field.name.clone().unwrap_or_default(),
                    address: printable(&address),
                    reason,
                });
            }
            recipients.push(address);
        }
    }
    Ok(recipients)
}

/// The address of the sender named in the header, for `--read-envelope-from`: the
/// first `From` field, or a `Resent-From` that comes before it (the resender is
/// the sender of a resent message). `None` when there is no such field or it holds
/// no address.
pub fn header_from(header: &[u8]) -> Option<String> {
    fields(header)
        .iter()
        .find(|f| f.is("From") || f.is("Resent-From"))
        .and_then(|f| addresses(&header[f.value.clone()]).into_iter().next())
}

/// The addresses in one address field value (what follows the colon).
fn addresses(value: &[u8]) -> Vec<String> {
    crate::address_list::address_list(&String::from_utf8_lossy(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rcpts(h: &str) -> Vec<String> {
        match header_recipients(h.as_bytes()) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
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
            rcpts("To: root, www-data\r\nCc: root (Cron Daemon), <admin>\r\nBcc: Undisclosed recipients\r\n"),
            ["root", "www-data", "root", "admin"]
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
    fn invalid_address_is_an_error_naming_the_field() {
        let e = header_recipients(b"Cc: a@x.org, <bad address@x.org>\r\n");
        match e {
            Err(e @ MessageError::InvalidHeaderAddress { .. }) => {
                assert!(e.to_string().contains("Cc"), "{e}");
                assert_eq!(e.exit_code(), 65);
            }
            other => panic!("{other:?}"),
        }
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
