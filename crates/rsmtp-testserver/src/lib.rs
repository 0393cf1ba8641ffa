//! rsmtp-testserver
