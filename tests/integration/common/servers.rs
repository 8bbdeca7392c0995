//! Real peer servers for tests, each on a random free loopback port, killed on drop.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::openssl_certs::SelfSigned;

/// A port on 127.0.0.1 that is free for TCP and UDP now, for a server the test starts next.
///
/// The port is released before the server binds it, so it must not be one the kernel could
/// hand out meanwhile: ports are taken below the ephemeral range (which `bind(0)` and every
/// outgoing connection of the other tests in this process draw from), never twice in one
/// process, starting at a point that differs per process so concurrent test runs rarely meet.
pub fn free_port() -> u16 {
    free_ports(1)
}

/// `n` consecutive ports on 127.0.0.1, each free for TCP and UDP now, the first returned:
/// for a server that listens on a run of ports (the lab's `--base-port`). Taken as
/// [`free_port`] takes one, from the same allocator, so no server of another test is handed
/// any of them. (The lab test used to choose its run by a formula of its own, inside this
/// range: the likely cause of a staple test whose s_server port, its readiness probe
/// answered, then refused every connection while s_server ran, in CI and here.)
pub fn free_ports(n: u16) -> u16 {
    static NEXT: Mutex<Option<u16>> = Mutex::new(None);
    let (low, high) = port_range_below_ephemeral();
    let span = high - low;
    assert!(n >= 1 && n < span, "{n} consecutive ports in {low}..{high}");
    let mut next = NEXT.lock().unwrap_or_else(|e| e.into_inner());
    let start = *next.get_or_insert_with(|| {
        let seed = std::process::id() as u64
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos() as u64)
                .unwrap_or(0);
        low + (seed % span as u64) as u16
    });
    let free = |port: u16| {
        TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok()
    };
    for i in 0..span {
        let first = low + (start - low + i) % span;
        // A run never wraps past the top of the range.
        if first.checked_add(n).is_none_or(|end| end > high) {
            continue;
        }
        if (first..first + n).all(free) {
            *next = Some(low + (first - low + n) % span);
            return first;
        }
    }
    panic!("no {n} free consecutive ports on 127.0.0.1 in {low}..{high}");
}

/// A TCP port on which nothing listens, on every loopback address, for as long as this
/// value lives: a socket bound to 0.0.0.0:PORT without SO_REUSEADDR and never listening.
/// A connection to it is refused, and no other socket (a server of a test running
/// beside this one, even with SO_REUSEADDR) can bind the port meanwhile; a port merely
/// bound and released could be handed to such a server at once (fleet tests saw their
/// "closed" targets answer as another test's TLS server).
pub struct ClosedPort {
    /// Only held: the port stays reserved until it is closed on drop.
    _fd: std::os::fd::OwnedFd,
    pub port: u16,
}

impl ClosedPort {
    pub fn reserve() -> ClosedPort {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: plain socket calls on a descriptor this function owns; every result is
        // checked, and the descriptor is closed by OwnedFd on drop.
        unsafe {
            let raw = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(raw >= 0, "socket: {}", std::io::Error::last_os_error());
            let fd = std::os::fd::OwnedFd::from_raw_fd(raw);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_in).cast(),
                len,
            );
            assert_eq!(rc, 0, "bind 0.0.0.0:0: {}", std::io::Error::last_os_error());
            let mut len = len;
            let rc = libc::getsockname(
                fd.as_raw_fd(),
                (&mut addr as *mut libc::sockaddr_in).cast(),
                &mut len,
            );
            assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
            ClosedPort {
                _fd: fd,
                port: u16::from_be(addr.sin_port),
            }
        }
    }
}

/// [low, high): up to 10000 ports just below the kernel's ephemeral port range.
fn port_range_below_ephemeral() -> (u16, u16) {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let high = ephemeral_low.max(2048);
    (high.saturating_sub(10_000).max(1024), high)
}

/// Servers with a master process that must stop its children itself (SIGTERM, then wait).
const GRACEFUL: &[&str] = &[
    "nginx", "postfix", "dovecot", "postgres", "slapd", "mariadb", "prosody", "vsftpd", "sshd",
];

/// A running server process; killed (and reaped) on drop.
pub struct ServerProcess {
    pub port: u16,
    pub name: String,
    child: Child,
    log: PathBuf,
    _dir: Option<tempfile::TempDir>,
    /// The self-signed certificate the fixture made for this server, if it made one
    /// (clients can trust it as their CA file).
    pub cert: Option<PathBuf>,
}

impl ServerProcess {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What the server printed so far (stdout and stderr), for assertion messages.
    /// Whether the process is still running (an exit is reported with its status).
    pub fn still_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("{} exited ({status})", self.name)),
            Err(e) => Err(format!("{}: cannot wait: {e}", self.name)),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if GRACEFUL.contains(&self.name.as_str()) {
            // SIGKILL on the nginx master orphans its workers (they keep running, reparented to
            // init). SIGTERM makes the master stop its workers and then exit; the same holds
            // for the other servers with a master process.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawn `cmd` with output to a log file and wait until `port` accepts TCP connections.
pub fn spawn_listening(
    name: &str,
    mut cmd: Command,
    port: u16,
    dir: Option<tempfile::TempDir>,
) -> ServerProcess {
    let log = std::env::temp_dir().join(format!("tlsdoctor-test-{name}-{port}.log"));
    let out = std::fs::File::create(&log).expect("create log");
    let err = out.try_clone().unwrap();
    let child = cmd
        .stdin(Stdio::piped()) // s_server exits on stdin EOF; keep the pipe open
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let mut proc = ServerProcess {
        port,
        name: name.to_string(),
        child,
        log,
        _dir: dir,
        cert: None,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!("{name} exited early ({status}): {}", proc.log());
        }
        // The port answering is not enough when the server listens itself (one process):
        // the listening socket must be its own, not another program's that held the port
        // a moment (a staple test's s_server once passed this with its port refusing
        // everything after).
        if TcpStream::connect_timeout(&proc.addr(), Duration::from_millis(200)).is_ok()
            && (!single_process(name) || listens_itself(proc.child.id(), port))
        {
            return proc;
        }
        if Instant::now() > deadline {
            panic!("{name} did not listen on {} in 10s: {}", port, proc.log());
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Servers whose first process holds its listening socket (no master handing it on, no
/// wrapper script): openssl s_server (every variant the tests name) and gnutls-serv.
fn single_process(name: &str) -> bool {
    name.starts_with("openssl-s_server") || name == "gnutls-serv"
}

/// Whether process `pid` holds a TCP socket listening on `port` (its descriptors against
/// /proc/net/tcp and tcp6); true when /proc cannot tell, so only a clear no holds it back.
fn listens_itself(pid: u32, port: u16) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return true;
    };
    let own: std::collections::HashSet<String> = fds
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut listening = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            return true;
        };
        // "sl local_address rem_address st ... inode": state 0A is LISTEN.
        for f in text
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
        {
            let local_port = f.get(1).and_then(|a| a.rsplit(':').next());
            if f.get(3) == Some(&"0A")
                && local_port.and_then(|p| u16::from_str_radix(p, 16).ok()) == Some(port)
            {
                listening.extend(f.get(9).map(|i| i.to_string()));
            }
        }
    }
    listening.iter().any(|inode| own.contains(inode))
}

/// A self-signed certificate (key `key_spec`, e.g. "rsa:2048") for `localhost`, in `dir`.
/// Returns (cert, key).
pub fn self_signed(dir: &Path, name: &str, key_spec: &str) -> (PathBuf, PathBuf) {
    self_signed_shifted(dir, name, key_spec, None)
}

/// As [`self_signed`], made with the clock shifted by `shift` (a faketime offset such as
/// "-12h"): such a certificate is not a whole number of days from expiry, so the days left
/// that a scan reports do not depend on how many seconds ago it was made.
pub fn self_signed_shifted(
    dir: &Path,
    name: &str,
    key_spec: &str,
    shift: Option<&str>,
) -> (PathBuf, PathBuf) {
    let (cert, key) = (format!("{name}.crt"), format!("{name}.key"));
    SelfSigned {
        cert: &cert,
        key: &key,
        key_spec,
        subject: "/CN=localhost",
        days: 30,
        extensions: &["subjectAltName=DNS:localhost,IP:127.0.0.1"],
        clock_shift: shift,
    }
    .make(dir);
    (dir.join(cert), dir.join(key))
}

/// `openssl s_server` with the given extra arguments, serving a fresh self-signed RSA certificate.
pub fn openssl_s_server(extra: &[&str]) -> ServerProcess {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "server", "rsa:2048");
    let mut p = openssl_s_server_with(extra, &cert, &key, Some(dir));
    p.cert = Some(cert);
    p
}

/// `openssl s_server` with the given certificate and key.
pub fn openssl_s_server_with(
    extra: &[&str],
    cert: &Path,
    key: &Path,
    dir: Option<tempfile::TempDir>,
) -> ServerProcess {
    openssl_s_server_at(free_port(), extra, cert, key, dir)
}

/// `openssl s_server` on a given loopback port (one taken with [`free_port`]), e.g. to
/// start a server again where an earlier one listened.
pub fn openssl_s_server_at(
    port: u16,
    extra: &[&str],
    cert: &Path,
    key: &Path,
    dir: Option<tempfile::TempDir>,
) -> ServerProcess {
    spawn_listening(
        "openssl-s_server",
        openssl_s_server_command(port, extra, cert, key),
        port,
        dir,
    )
}

/// The `openssl s_server` command [`openssl_s_server_at`] starts, for a caller that adds
/// to it (an environment variable) before [`spawn_listening`].
pub fn openssl_s_server_command(port: u16, extra: &[&str], cert: &Path, key: &Path) -> Command {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_server", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .args(["-quiet", "-naccept", "100000"])
        .args(extra);
    cmd
}

/// `gnutls-serv` with a priority string, serving a fresh self-signed RSA certificate.
pub fn gnutls_serv(priority: &str, extra: &[&str]) -> ServerProcess {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "server", "rsa:2048");
    gnutls_serv_with(priority, extra, &cert, &key, dir)
}

/// `gnutls-serv` with a priority string and the given certificate and key (kept in `dir`).
pub fn gnutls_serv_with(
    priority: &str,
    extra: &[&str],
    cert: &Path,
    key: &Path,
    dir: tempfile::TempDir,
) -> ServerProcess {
    let port = free_port();
    let mut cmd = Command::new("gnutls-serv");
    cmd.arg("--port")
        .arg(port.to_string())
        .arg("--x509certfile")
        .arg(cert)
        .arg("--x509keyfile")
        .arg(key)
        .arg("--priority")
        .arg(priority)
        .args(extra);
    let mut p = spawn_listening("gnutls-serv", cmd, port, Some(dir));
    p.cert = Some(cert.to_path_buf());
    p
}

/// nginx (several workers) with `server_block` placed inside `http {}`; the block must use
/// `listen 127.0.0.1:{port} ssl;` — `{port}`, `{cert}` and `{key}` are substituted.
pub fn nginx(http_block: &str) -> ServerProcess {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "server", "rsa:2048");
    nginx_with(http_block, &cert, &key, dir)
}

/// nginx with its default TLS settings (TLS 1.2 and 1.3, its default suites) on a fresh
/// self-signed RSA certificate.
pub fn nginx_default() -> ServerProcess {
    nginx(
        "server {\n listen 127.0.0.1:{port} ssl;\n ssl_certificate {cert};\n ssl_certificate_key {key};\n}",
    )
}

pub fn nginx_with(
    http_block: &str,
    cert: &Path,
    key: &Path,
    dir: tempfile::TempDir,
) -> ServerProcess {
    let port = free_port();
    let d = dir.path();
    let body = http_block
        .replace("{port}", &port.to_string())
        .replace("{cert}", &cert.display().to_string())
        .replace("{key}", &key.display().to_string());
    let conf = format!(
        "daemon off;\nmaster_process on;\nworker_processes 4;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n{body}\n}}\n",
        d = d.display()
    );
    let conf_path = d.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut cmd = Command::new("nginx");
    cmd.arg("-c").arg(&conf_path).arg("-p").arg(d);
    spawn_listening("nginx", cmd, port, Some(dir))
}

/// A plain TCP server that writes `banner` on connect and then reads (and ignores) input,
/// like an SMTP or HTTP server on a port a user thinks speaks TLS. Thread-based; lives until
/// the process ends, which is fine for tests.
pub fn banner_server(banner: &'static [u8], reply: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = s.write_all(banner);
                let mut buf = [0u8; 4096];
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                if let Ok(n) = s.read(&mut buf) {
                    if n > 0 {
                        let _ = s.write_all(reply);
                    }
                }
            });
        }
    });
    addr
}

/// A crafted server for live observation: it forwards the client's ClientHello to `backend`
/// and the backend's answer back, then hangs up as soon as the client sends its next flight
/// (its key exchange). A replayed hello sees a normal first flight, so a prediction says the
/// client connects; a real client never completes its handshake. Stops on drop.
pub struct HangsUpAfterHello {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl HangsUpAfterHello {
    pub fn start(backend: SocketAddr) -> HangsUpAfterHello {
        use std::io::Write;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(mut client) = client else { continue };
                std::thread::spawn(move || {
                    let Ok(mut server) = TcpStream::connect(backend) else {
                        return;
                    };
                    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
                    // The ClientHello record: header, then its length.
                    let mut header = [0u8; 5];
                    if client.read_exact(&mut header).is_err() {
                        return;
                    }
                    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
                    let mut body = vec![0u8; len];
                    if client.read_exact(&mut body).is_err() {
                        return;
                    }
                    let _ = server.write_all(&header);
                    let _ = server.write_all(&body);
                    let mut down = server.try_clone().unwrap();
                    let mut up = client.try_clone().unwrap();
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut down, &mut up);
                    });
                    // The client's next bytes: hang up on both.
                    let mut next = [0u8; 1];
                    let _ = client.read(&mut next);
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    let _ = server.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        HangsUpAfterHello { port, stop }
    }

    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for HangsUpAfterHello {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

#[test]
fn a_ready_s_server_is_seen_holding_its_own_listening_socket() {
    let mut srv = openssl_s_server(&[]);
    let pid = srv.child.id();
    assert!(listens_itself(pid, srv.port));
    let closed = ClosedPort::reserve();
    assert!(!listens_itself(pid, closed.port));
    // This test process does not hold it.
    assert!(!listens_itself(std::process::id(), srv.port));
    assert!(srv.still_running().is_ok());
}
