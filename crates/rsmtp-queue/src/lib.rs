//! rsmtp-queue
