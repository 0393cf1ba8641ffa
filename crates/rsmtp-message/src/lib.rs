//! The message as bytes: everything between stdin and the SMTP session.
//!
//! No network and no configuration files; the only I/O is the input being read and
//! the body spool file. The steps, in the order `rsmtp` uses them:
//!
//! 1. [`read_message`]`(input, spool_dir) -> Result<`[`Incoming`]`, _>` reads the
//!    input to its end: the header block (any size that ends in a blank line, bounded by
//!    [`HEADER_BLOCK_MAX`]; [`HEADER_LIMIT`] without one) into memory,
//!    the body into a [`Spool`] temp file, line ends normalised to CRLF as msmtp
//!    sends them. [`Incoming`] reports the header bytes, whether a blank separator
//!    line existed, the body length and whether 8-bit bytes occur.
//! 2. [`header_recipients`]`(header) -> `[`HeaderRecipients`] gives the `-t`
//!    recipients (all To/Cc/Bcc fields, or the first Resent- block's) and the
//!    elements left out because they name no usable address, and
//!    [`header_from`]`(header) -> Option<String>` the From address
//!    (`--read-envelope-from`).
//! 3. [`Aliases::parse`] / [`Aliases::load`] and [`Aliases::expand`] replace local
//!    recipients (no `@`) as msmtp's `aliases` file does.
//! 4. [`validate_address`] checks every envelope address; [`needs_smtputf8`] says
//!    whether `MAIL FROM` needs `SMTPUTF8`.
//! 5. [`rewrite_header`]`(header, &`[`HeaderEdits`]`) -> Result<Vec<u8>, _>` drops
//!    Bcc and prepends From / To / Date / Message-ID as msmtp does; values come
//!    from [`from_header_value`], [`date_header_value`] / [`date_header_now`] and
//!    [`message_id`]. [`Message::from_incoming`] does this and joins the body.
//! 6. [`Message`] gives [`Message::len`], [`Message::eight_bit`] and a streaming
//!    [`Message::reader`] over the final bytes (not dot-stuffed: the SMTP layer does
//!    that).
//!
//! Every failure is a [`MessageError`] whose [`MessageError::exit_code`] is the
//! sysexits value msmtp uses (64 no recipients, 65 bad data, 74 I/O, 78 aliases).
//!
//! Where rsmtp knowingly differs from msmtp 1.8.23 (checked against its sent bytes):
//! input whose first line is not a header field, and whose first block names no
//! field at all, is all body (sendmail semantics; msmtp would send it as header
//! lines); a To/Cc/Bcc element that is no usable address is skipped and named
//! (msmtp sends it to the server); NUL in the header is refused (msmtp sends
//! it); `Resent-Bcc` is removed with `Bcc`; a full name is quoted or RFC 2047
//! encoded (msmtp writes it raw, which breaks on a comma).

#![warn(missing_docs)]

mod address;
mod address_list;
mod aliases;
mod error;
mod headers;
mod message;
mod recipients;
mod rewrite;
mod spool;

pub use address::{needs_smtputf8, validate_address};
pub use address_list::{address_list, envelope_address};
pub use aliases::Aliases;
pub use error::MessageError;
pub use message::Message;
pub use recipients::{header_from, header_recipients, HeaderRecipients, SkippedElement};
pub use rewrite::{
    date_header_now, date_header_value, from_header_value, message_id, rewrite_header, FromEdit,
    HeaderEdits, ToEdit,
};
pub use spool::{read_message, read_message_into, Incoming, Spool, HEADER_BLOCK_MAX, HEADER_LIMIT};
