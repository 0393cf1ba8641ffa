//! What every subcommand starts from: the settings (read once, `--settings` and the
//! system file) and the name this machine goes by in alerts.

use crate::error::Error;
use crate::settings::{self, Settings};

/// What every subcommand needs: the settings and this machine's name.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) settings: Settings,
    pub(crate) host: String,
}

impl Context {
    pub(crate) fn load(explicit: Option<&std::path::Path>) -> Result<Context, Error> {
        let nodename = host_name();
        let settings = settings::load(explicit, &nodename)?;
        let host = settings.hostname.clone().unwrap_or(nodename);
        Ok(Context { settings, host })
    }
}

/// This machine's host name (uname nodename).
pub(crate) use rsmtp_core::os::node_name as host_name;
