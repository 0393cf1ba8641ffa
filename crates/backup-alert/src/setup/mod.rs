//! What `setup` needs beyond its wizard (`commands::setup`): msmtprc files read and
//! written ([`msmtprc`]), an existing one edited in place ([`msmtprc_edit`]), the
//! providers it knows ([`provider`]), and the person at the terminal asked ([`terminal`]);
//! an OAuth 2.0 account signed in ([`oauth`]).

pub(crate) mod msmtprc;
pub(crate) mod msmtprc_edit;
pub(crate) mod oauth;
pub(crate) mod provider;
pub(crate) mod terminal;
