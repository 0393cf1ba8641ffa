//! rsmtp-config
