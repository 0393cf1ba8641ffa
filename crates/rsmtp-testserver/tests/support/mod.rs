//! A deliberately dumb SMTP client for testing the server: raw writes, reads whole
//! replies, optional rustls on top. Every read has a timeout.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rsmtp_testserver::{CertKey, TestCa};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    Gone,
}

pub(crate) struct Client {
    stream: Stream,
    buf: Vec<u8>,
    pub peer_cert: Option<Vec<u8>>,
}

/// A reply: code and text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub(crate) fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl Client {
    pub(crate) fn connect(port: u16) -> Client {
        let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect to the test server");
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(TIMEOUT)).unwrap();
        Client {
            stream: Stream::Plain(tcp),
            buf: Vec::new(),
            peer_cert: None,
        }
    }

    /// Connect and handshake at once (implicit TLS).
    pub(crate) fn connect_tls(port: u16, tls: &TlsClient) -> Result<Client, String> {
        let mut c = Client::connect(port);
        c.handshake(tls)?;
        Ok(c)
    }

    pub(crate) fn set_read_timeout(&self, t: Duration) {
        self.tcp().set_read_timeout(Some(t)).unwrap();
    }

    fn tcp(&self) -> &TcpStream {
        match &self.stream {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
            Stream::Gone => panic!("connection gone"),
        }
    }

    /// Run the client side of a TLS handshake on the current plain connection.
    pub(crate) fn handshake(&mut self, tls: &TlsClient) -> Result<(), String> {
        let Stream::Plain(mut tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            panic!("already TLS");
        };
        let name = ServerName::try_from(tls.server_name.clone()).unwrap();
        let mut conn = ClientConnection::new(tls.config.clone(), name).unwrap();
        while conn.is_handshaking() {
            match conn.complete_io(&mut tcp) {
                Ok((0, 0)) => return Err("eof during handshake".into()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        self.peer_cert = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.as_ref().to_vec());
        self.stream = Stream::Tls(Box::new(StreamOwned::new(conn, tcp)));
        Ok(())
    }

    pub(crate) fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes());
    }

    pub(crate) fn send_bytes(&mut self, bytes: &[u8]) {
        let r = match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes).and_then(|_| s.flush()),
            Stream::Tls(s) => s.write_all(bytes).and_then(|_| s.flush()),
            Stream::Gone => panic!("connection gone"),
        };
        r.expect("write to the test server");
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 65536];
        let n = match &mut self.stream {
            Stream::Plain(s) => s.read(&mut chunk)?,
            Stream::Tls(s) => s.read(&mut chunk)?,
            Stream::Gone => 0,
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                let s = String::from_utf8_lossy(&line);
                return Ok(Some(s.trim_end_matches(['\r', '\n']).to_string()));
            }
            if self.fill()? == 0 {
                return Ok(None);
            }
        }
    }

    /// Read one complete (possibly multi-line) reply; Err on timeout/EOF.
    pub(crate) fn try_reply(&mut self) -> io::Result<Reply> {
        let mut lines = Vec::new();
        loop {
            let Some(line) = self.line()? else {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed",
                ));
            };
            let code: u16 = line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .unwrap_or_else(|| panic!("malformed reply line {line:?}"));
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if last {
                return Ok(Reply { code, lines });
            }
        }
    }

    pub(crate) fn reply(&mut self) -> Reply {
        self.try_reply().expect("a reply from the test server")
    }

    /// Send one command line (CRLF added) and read its reply.
    pub(crate) fn cmd(&mut self, line: &str) -> Reply {
        self.send(&format!("{line}\r\n"));
        self.reply()
    }

    /// True if the server closed the connection (EOF) within the read timeout.
    pub(crate) fn is_closed(&mut self) -> bool {
        loop {
            match self.fill() {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    return false
                }
                Err(_) => return true,
            }
        }
    }

    /// Greeting + EHLO; returns the EHLO reply.
    pub(crate) fn hello(&mut self) -> Reply {
        assert_eq!(self.reply().code, 220);
        let r = self.cmd("EHLO client.example");
        assert_eq!(r.code, 250, "{r:?}");
        r
    }

    /// MAIL/RCPT/DATA/body one at a time; returns the final reply.
    pub(crate) fn send_message(&mut self, from: &str, to: &[&str], body: &str) -> Reply {
        assert_eq!(self.cmd(&format!("MAIL FROM:<{from}>")).code, 250);
        for rcpt in to {
            assert_eq!(self.cmd(&format!("RCPT TO:<{rcpt}>")).code, 250);
        }
        assert_eq!(self.cmd("DATA").code, 354);
        self.send(body);
        self.send(".\r\n");
        self.reply()
    }
}

/// A rustls client configuration.
pub(crate) struct TlsClient {
    pub config: Arc<ClientConfig>,
    pub server_name: String,
}

impl TlsClient {
    /// Trust the test CA, no client certificate.
    pub(crate) fn trusting(ca: &TestCa) -> TlsClient {
        TlsClient::build(ca, None)
    }

    /// Trust the test CA and present a client certificate.
    pub(crate) fn with_client_cert(ca: &TestCa, cert: &CertKey) -> TlsClient {
        TlsClient::build(ca, Some(cert))
    }

    /// Trust this CA certificate.
    pub(crate) fn trusting_der(ca: CertificateDer<'static>) -> TlsClient {
        TlsClient::build_with(ca, None)
    }

    fn build(ca: &TestCa, cert: Option<&CertKey>) -> TlsClient {
        TlsClient::build_with(ca.ca_der().clone(), cert)
    }

    fn build_with(ca: CertificateDer<'static>, cert: Option<&CertKey>) -> TlsClient {
        let mut roots = RootCertStore::empty();
        roots.add(ca).unwrap();
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots);
        let config = match cert {
            None => builder.with_no_client_auth(),
            Some(c) => builder
                .with_client_auth_cert(vec![c.cert_der().clone()], c.key_der())
                .unwrap(),
        };
        TlsClient {
            config: Arc::new(config),
            server_name: "localhost".to_string(),
        }
    }
}
