//! What `check` looks at: the newest backup file and whether it is fresh and big enough
//! ([`newest`], with `--path` wildcards from [`glob`]), or a borg/restic repository's
//! newest archive ([`repository`]); how many files it holds against the one before
//! ([`file_count`]); whether it reads to its end ([`verify`]) and matches its checksum
//! file ([`manifest`]), summed up for the alert by [`integrity`]. Nothing here sends mail:
//! `commands::check` turns the findings into an alert.

pub(crate) mod file_count;
pub(crate) mod glob;
pub(crate) mod integrity;
pub(crate) mod manifest;
pub(crate) mod newest;
pub(crate) mod repository;
pub(crate) mod verify;
