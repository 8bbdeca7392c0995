//! A real DNS server for tests: dnsmasq on 127.0.0.1 at a random port, serving only the records
//! a test gives it (`--local=/test/` answers NXDOMAIN for the rest of `.test` instead of
//! forwarding anything), so no lookup leaves the machine.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::servers::free_port;

/// A running dnsmasq; killed and reaped on drop.
pub struct Dnsmasq {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Dnsmasq {
    /// Start dnsmasq serving `records` (dnsmasq options such as `--srv-host=…`,
    /// `--txt-record=…`, `--host-record=…`); returns once it accepts TCP queries.
    pub fn start<S: AsRef<str>>(records: &[S]) -> Dnsmasq {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("tlsdoctor-test-dnsmasq-{port}.log"));
        let out = std::fs::File::create(&log).expect("dnsmasq log file");
        let err = out.try_clone().expect("dnsmasq log file");
        let child = Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--no-poll",
                "--pid-file=",
                "--user=root",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--local=/test/",
                "--log-queries",
                "--log-facility=-",
            ])
            .arg(format!("--port={port}"))
            .args(records.iter().map(|r| r.as_ref()))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start dnsmasq");
        let mut d = Dnsmasq {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!("dnsmasq exited ({status}): {}", d.log());
            }
            if TcpStream::connect_timeout(&d.addr, Duration::from_millis(200)).is_ok() {
                return d;
            }
            assert!(Instant::now() < deadline, "dnsmasq not ready: {}", d.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What dnsmasq logged (its queries included), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
