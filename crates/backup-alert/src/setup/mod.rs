//! What `setup` needs beyond its wizard (`commands::setup`): msmtprc files read and
//! written ([`msmtprc`]), an existing one edited in place ([`msmtprc_edit`]), and the
//! person at the terminal asked ([`terminal`]).

pub mod msmtprc;
pub mod msmtprc_edit;
pub mod terminal;
