//! Small network peers for the tests: a unix-socket front for a TCP test server
//! (`socket PATH`) and a SOCKS5 proxy (RFC 1928, no authentication) that records
//! what it was asked to connect to.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

/// Copies bytes both ways until either side closes.
fn splice<A, B>(a: A, b: B)
where
    A: Read + Write + Send + 'static + TryCloneHalf,
    B: Read + Write + Send + 'static + TryCloneHalf,
{
    let (mut a_read, mut a_write) = (a.clone_half(), a);
    let (mut b_read, mut b_write) = (b.clone_half(), b);
    thread::spawn(move || {
        let _ = std::io::copy(&mut a_read, &mut b_write);
        b_write.close_write();
    });
    thread::spawn(move || {
        let _ = std::io::copy(&mut b_read, &mut a_write);
        a_write.close_write();
    });
}

pub(crate) trait TryCloneHalf: Sized {
    fn clone_half(&self) -> Self;
    fn close_write(&self);
}

impl TryCloneHalf for TcpStream {
    fn clone_half(&self) -> Self {
        self.try_clone().expect("clone socket")
    }
    fn close_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

impl TryCloneHalf for UnixStream {
    fn clone_half(&self) -> Self {
        self.try_clone().expect("clone socket")
    }
    fn close_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

/// Listens on a unix socket at `path` and connects each client to
/// `127.0.0.1:port` (the test server), so that server's TLS and AUTH are
/// reached over the unix socket.
pub(crate) fn unix_front(path: &Path, port: u16) {
    let listener = UnixListener::bind(path).expect("bind unix socket");
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            if let Ok(server) = TcpStream::connect(("127.0.0.1", port)) {
                splice(client, server);
            }
        }
    });
}

/// What a client asked the proxy for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SocksRequest {
    /// RFC 1928 ATYP: 1 IPv4, 3 domain name, 4 IPv6.
    pub atyp: u8,
    pub host: String,
    pub port: u16,
}

/// A SOCKS5 proxy on loopback: every CONNECT goes to `127.0.0.1:backend`
/// whatever was asked (so a made-up name works), unless `refuse` holds a
/// reply code to answer instead.
pub(crate) struct Socks5Proxy {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<SocksRequest>>>,
}

impl Socks5Proxy {
    pub(crate) fn start(backend: u16, refuse: Option<u8>) -> Socks5Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                thread::spawn(move || serve(client, backend, refuse, &seen));
            }
        });
        Socks5Proxy { port, requests }
    }

    pub(crate) fn requests(&self) -> Vec<SocksRequest> {
        self.requests.lock().expect("requests").clone()
    }
}

fn serve(
    mut c: TcpStream,
    backend: u16,
    refuse: Option<u8>,
    seen: &Mutex<Vec<SocksRequest>>,
) -> Option<()> {
    let mut head = [0u8; 2];
    c.read_exact(&mut head).ok()?;
    let mut methods = vec![0u8; usize::from(head[1])];
    c.read_exact(&mut methods).ok()?;
    if head[0] != 5 || !methods.contains(&0) {
        let _ = c.write_all(&[5, 0xFF]);
        return None;
    }
    c.write_all(&[5, 0]).ok()?;
    let mut req = [0u8; 4];
    c.read_exact(&mut req).ok()?;
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            c.read_exact(&mut a).ok()?;
            std::net::Ipv4Addr::from(a).to_string()
        }
        3 => {
            let mut n = [0u8; 1];
            c.read_exact(&mut n).ok()?;
            let mut name = vec![0u8; usize::from(n[0])];
            c.read_exact(&mut name).ok()?;
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut a = [0u8; 16];
            c.read_exact(&mut a).ok()?;
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => return None,
    };
    let mut p = [0u8; 2];
    c.read_exact(&mut p).ok()?;
    seen.lock().ok()?.push(SocksRequest {
        atyp: req[3],
        host,
        port: u16::from_be_bytes(p),
    });
    let reply = |code: u8| [5, code, 0, 1, 127, 0, 0, 1, 0, 0];
    if let Some(code) = refuse {
        let _ = c.write_all(&reply(code));
        return None;
    }
    let server = TcpStream::connect(("127.0.0.1", backend)).ok()?;
    c.write_all(&reply(0)).ok()?;
    splice(c, server);
    Some(())
}
