//! rsmtp-smtp
