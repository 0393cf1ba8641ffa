//! backup-alert
