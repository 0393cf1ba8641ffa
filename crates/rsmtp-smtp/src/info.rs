//! `--serverinfo`: what a server says about itself — greeting, TLS session
//! and certificate, EHLO capabilities — printed the way msmtp prints it so
//! scripts and people reading it see the familiar layout.

use std::fmt;
use std::net::SocketAddr;

use crate::capabilities::Capabilities;
use crate::certinfo::CertInfo;
use crate::settings::TlsMode;

/// The negotiated TLS session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// e.g. `TLSv1_3`.
    pub protocol: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    /// The server's leaf certificate.
    pub certificate: Option<CertInfo>,
}

/// Everything `server_info` learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server as configured (`host`), name or IP address.
    pub host: String,
    /// The TCP port connected to (`port`; 25, 587 or 465 as a rule).
    pub port: u16,
    /// The IP address and port actually connected to; `None` over a unix
    /// `socket` or a SOCKS5 proxy, where the client never learns it.
    pub address: Option<SocketAddr>,
    /// How the connection was secured: STARTTLS, implicit TLS or none.
    pub tls_mode: TlsMode,
    /// The greeting text without the code.
    pub greeting: String,
    /// The TLS session, `None` for a plain connection (`tls off`).
    pub tls: Option<TlsInfo>,
    /// Capabilities from the last EHLO (after STARTTLS when TLS is used).
    pub capabilities: Capabilities,
    /// An LMTP server (`protocol lmtp`): shown as "LMTP server at", as msmtp does.
    pub lmtp: bool,
}

impl fmt::Display for ServerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = if self.lmtp { "LMTP" } else { "SMTP" };
        match self.address {
            Some(a) => writeln!(
                f,
                "{protocol} server at {} ([{}]), port {}:",
                self.host,
                a.ip(),
                self.port
            )?,
            None => writeln!(f, "{protocol} server at {}, port {}:", self.host, self.port)?,
        }
        if !self.greeting.is_empty() {
            writeln!(f, "    {}", rsmtp_core::shown(&self.greeting))?;
        }
        if let Some(tls) = &self.tls {
            writeln!(f, "TLS session parameters:")?;
            writeln!(f, "    ({})-({})", tls.protocol, tls.cipher_suite)?;
            if let Some(cert) = &tls.certificate {
                write!(f, "{cert}")?;
            }
        }
        let caps = &self.capabilities;
        let starttls = caps.starttls || self.tls_mode == TlsMode::StartTls;
        // What msmtp lists (it does not show 8BITMIME, nor do we).
        let listed = caps.size.is_some()
            || caps.pipelining
            || caps.smtputf8
            || caps.etrn
            || caps.dsn
            || !caps.auth.is_empty();
        if !listed && !starttls {
            return writeln!(f, "No special capabilities.");
        }
        writeln!(f, "Capabilities:")?;
        if let Some(size) = caps.size {
            write!(f, "    SIZE {size}:\n        Maximum message size is ")?;
            match size {
                0 => writeln!(f, "unlimited")?,
                s if s > 1024 * 1024 => writeln!(f, "{s} bytes = {:.2} MiB", s as f64 / 1048576.0)?,
                s if s > 1024 => writeln!(f, "{s} bytes = {:.2} KiB", s as f64 / 1024.0)?,
                s => writeln!(f, "{s} bytes")?,
            }
        }
        if caps.pipelining {
            writeln!(
                f,
                "    PIPELINING:\n        Support for command grouping for faster transmission"
            )?;
        }
        if caps.smtputf8 {
            writeln!(
                f,
                "    SMTPUTF8:\n        Support for Internationalized Email"
            )?;
        }
        if caps.etrn {
            writeln!(
                f,
                "    ETRN:\n        Support for RMQS (Remote Message Queue Starting)"
            )?;
        }
        if caps.dsn {
            writeln!(
                f,
                "    DSN:\n        Support for Delivery Status Notifications"
            )?;
        }
        if starttls {
            writeln!(
                f,
                "    STARTTLS:\n        Support for TLS encryption via the STARTTLS command"
            )?;
        }
        if !caps.auth.is_empty() {
            writeln!(f, "    AUTH:\n        Supported authentication methods:")?;
            writeln!(f, "        {} ", caps.auth.join(" "))?;
            let scram: Vec<&str> = caps
                .auth
                .iter()
                .map(String::as_str)
                .filter(|m| m.starts_with("SCRAM-"))
                .collect();
            if !scram.is_empty() {
                let protocol = self.tls.as_ref().map(|t| t.protocol.as_str());
                let binding = match (scram.iter().any(|m| m.ends_with("-PLUS")), protocol) {
                    (false, _) => "not offered (no -PLUS variant)",
                    (true, Some("TLSv1_3")) => "tls-exporter (TLS 1.3)",
                    (true, Some("TLSv1_2")) => {
                        "tls-server-end-point (TLS 1.2; used with an explicit auth scram-…-plus)"
                    }
                    (true, _) => "offered, but this session has no TLS to bind to",
                };
                writeln!(
                    f,
                    "        SCRAM variants: {}; channel binding: {binding}",
                    scram.join(" ")
                )?;
            }
        }
        if caps.starttls && self.tls.is_none() {
            writeln!(
                f,
                "This server might advertise more or other capabilities when TLS is active."
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_server_layout() {
        let info = ServerInfo {
            lmtp: false,
            host: "localhost".into(),
            port: 25,
            address: Some("127.0.0.1:25".parse().unwrap()),
            tls_mode: TlsMode::Off,
            greeting: "mail ESMTP \x1b[31mhi".into(),
            tls: None,
            capabilities: Capabilities {
                size: Some(10 * 1024 * 1024),
                pipelining: true,
                starttls: true,
                auth: vec!["PLAIN".into(), "LOGIN".into()],
                ..Capabilities::default()
            },
        };
        let text = info.to_string();
        assert!(text.starts_with(
            "SMTP server at localhost ([127.0.0.1]), port 25:\n    mail ESMTP ?[31mhi\n"
        ));
        assert!(text.contains(
            "    SIZE 10485760:\n        Maximum message size is 10485760 bytes = 10.00 MiB\n"
        ));
        assert!(text.contains("    PIPELINING:\n"));
        assert!(text.contains("        Supported authentication methods:\n        PLAIN LOGIN \n"));
        assert!(text.ends_with(
            "This server might advertise more or other capabilities when TLS is active.\n"
        ));
    }

    #[test]
    fn scram_variants_and_channel_binding() {
        let mut info = ServerInfo {
            lmtp: false,
            host: "h".into(),
            port: 587,
            address: None,
            tls_mode: TlsMode::StartTls,
            greeting: String::new(),
            tls: Some(TlsInfo {
                protocol: "TLSv1_3".into(),
                cipher_suite: "TLS13_AES_256_GCM_SHA384".into(),
                certificate: None,
            }),
            capabilities: Capabilities {
                auth: vec![
                    "PLAIN".into(),
                    "SCRAM-SHA-256".into(),
                    "SCRAM-SHA-256-PLUS".into(),
                ],
                ..Capabilities::default()
            },
        };
        assert!(info.to_string().contains(
            "        SCRAM variants: SCRAM-SHA-256 SCRAM-SHA-256-PLUS; \
             channel binding: tls-exporter (TLS 1.3)\n"
        ));
        info.tls.as_mut().unwrap().protocol = "TLSv1_2".into();
        assert!(info
            .to_string()
            .contains("channel binding: tls-server-end-point (TLS 1.2;"));
        info.capabilities.auth = vec!["PLAIN".into()];
        assert!(!info.to_string().contains("SCRAM"));
    }

    #[test]
    fn no_capabilities() {
        let info = ServerInfo {
            lmtp: false,
            host: "h".into(),
            port: 25,
            address: None,
            tls_mode: TlsMode::Off,
            greeting: String::new(),
            tls: None,
            capabilities: Capabilities::default(),
        };
        assert_eq!(
            info.to_string(),
            "SMTP server at h, port 25:\nNo special capabilities.\n"
        );
    }
}
