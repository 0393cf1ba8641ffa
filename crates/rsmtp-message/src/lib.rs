//! rsmtp-message
