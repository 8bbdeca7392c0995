//! Stand-ins for vulnerable servers: no OpenSSL build with these bugs can be had here, so a
//! relay in front of a real, current `openssl s_server` re-creates exactly one bug and passes
//! everything else through untouched. Real clients (and each tool's other probes) get the real
//! server's handshake; only the messages the bug is about are answered as the vulnerable
//! OpenSSL answered them:
//!
//! - [`Bug::Heartbleed`]: a ClientHello offering the heartbeat extension gets it taken up in the
//!   ServerHello (OpenSSL 1.0.1 always did), and a heartbeat request (offered or not) is
//!   answered with as many payload bytes as it *declares*: what it carried, then filler standing for the memory that
//!   followed it (OpenSSL 1.0.1–1.0.1f's over-read).
//! - [`Bug::Ticketbleed`]: a ClientHello presenting a session ticket with a session ID shorter
//!   than 32 bytes gets that ID echoed padded to 32 bytes (F5 BIG-IP's bug), when the real
//!   server resumed from the ticket and echoed it. The padding stands for memory, which is not
//!   the same from one connection to the next: a counter of the padded echoes in its first two
//!   bytes, then filler (testssl.sh calls the bug only when the bytes differ).
//! - [`Bug::GreaseIntolerant`]: a ClientHello carrying any GREASE value (RFC 8701) in its
//!   suites, extensions, groups or versions is met with a closed connection, as some
//!   middleboxes and old TLS stacks did when Chrome started sending GREASE.
//! - [`Bug::RobotOracle`]: a ClientKeyExchange whose RSA-decrypted premaster has bad PKCS#1
//!   v1.5 padding (not `00 02`, no separator, not 48 bytes after it) is met with a
//!   `handshake_failure` alert; a well-padded one goes on to the real server (which answers
//!   the unreadable Finished with `bad_record_mac`): the padding oracle ROBOT looks for.
//! - [`Bug::EarlyCcs`]: a ChangeCipherSpec before the client's key exchange is taken silently
//!   (not passed on); the next record is then "decrypted" with keys the client cannot have and
//!   fails with a fatal `bad_record_mac` alert, as OpenSSL before 1.0.1h did.
//!
//! The server behind a stand-in should speak TLS 1.2 at most (`-no_tls1_3`), as the OpenSSL
//! releases with these bugs did (sslyze does not test CCS injection on a TLS 1.3 server).
//!
//! Loopback only; every thread ends when its connection does; the listener stops on drop.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    Heartbleed,
    EarlyCcs,
    Ticketbleed,
    GreaseIntolerant,
    RobotOracle,
}

/// What a heartbeat over-read sends back after the bytes the request carried (and what
/// follows the counter in a Ticketbleed echo).
pub const MEMORY_FILLER: u8 = 0xa5;

/// How many Ticketbleed echoes were padded (in this test process).
static TICKETBLEED_ECHOES: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

/// The bytes a Ticketbleed echo adds to a `have`-byte session ID.
fn ticketbleed_memory(have: usize) -> Vec<u8> {
    let n = TICKETBLEED_ECHOES
        .fetch_add(1, Ordering::SeqCst)
        .wrapping_add(1);
    let mut memory = vec![MEMORY_FILLER; 32usize.saturating_sub(have)];
    for (m, b) in memory.iter_mut().zip(n.to_be_bytes()) {
        *m = b;
    }
    memory
}

pub struct Vulnerable {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Vulnerable {
    pub fn start(backend: SocketAddr, bug: Bug) -> Vulnerable {
        Self::start_with_key(backend, bug, None)
    }

    /// With the backend's RSA private key (PKCS#8 PEM), which [`Bug::RobotOracle`] needs.
    pub fn start_with_key(
        backend: SocketAddr,
        bug: Bug,
        key: Option<&std::path::Path>,
    ) -> Vulnerable {
        use rsa::pkcs8::DecodePrivateKey;
        let key = key.map(|k| {
            Arc::new(
                rsa::RsaPrivateKey::from_pkcs8_pem(&std::fs::read_to_string(k).unwrap()).unwrap(),
            )
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let key = key.clone();
                std::thread::spawn(move || relay(client, backend, bug, key));
            }
        });
        Vulnerable { port, stop }
    }

    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Vulnerable {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One TLS record, read whole (bounded by the record size limit).
fn read_record(s: &mut TcpStream) -> Option<(u8, [u8; 2], Vec<u8>)> {
    let mut h = [0u8; 5];
    s.read_exact(&mut h).ok()?;
    let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
    if len > (1 << 14) + 2048 {
        return None;
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some((h[0], [h[1], h[2]], body))
}

fn record(typ: u8, version: [u8; 2], body: &[u8]) -> Vec<u8> {
    let mut out = vec![typ, version[0], version[1]];
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Whether a ClientHello record offers extension 15 (heartbeat).
fn offers_heartbeat(rec: &[u8]) -> bool {
    // parse_record wants exactly one hello; a hello split over records is not offered here.
    let whole = record(22, [3, 1], rec);
    tlsdoctor::wire::ClientHello::parse_record(&whole).is_ok_and(|h| {
        h.extensions
            .iter()
            .any(|e| e.typ() == tlsdoctor::wire::heartbeat::EXTENSION_TYPE)
    })
}

/// The server's first handshake record with the ServerHello at its start edited by `edit`
/// (its session ID and its extensions block); unchanged if it does not start with one.
fn edit_server_hello(body: &[u8], edit: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>)) -> Vec<u8> {
    let parsed = (|| {
        if *body.first()? != 2 {
            return None;
        }
        let hs_len = u32::from_be_bytes([0, body[1], body[2], body[3]]) as usize;
        let sh = body.get(4..4 + hs_len)?;
        let sid_len = usize::from(*sh.get(34)?);
        let sid = sh.get(35..35 + sid_len)?.to_vec();
        let mid = sh.get(35 + sid_len..35 + sid_len + 3)?.to_vec();
        let ext_at = 35 + sid_len + 3;
        let exts = match sh.get(ext_at..ext_at + 2) {
            Some(l) => {
                let n = usize::from(u16::from_be_bytes([l[0], l[1]]));
                sh.get(ext_at + 2..ext_at + 2 + n)?.to_vec()
            }
            None => Vec::new(),
        };
        Some((
            sh[..34].to_vec(),
            sid,
            mid,
            exts,
            body.get(4 + hs_len..)?.to_vec(),
        ))
    })();
    let Some((head, mut sid, mid, mut exts, rest)) = parsed else {
        return body.to_vec();
    };
    edit(&mut sid, &mut exts);
    let mut sh = head;
    sh.push(sid.len() as u8);
    sh.extend_from_slice(&sid);
    sh.extend_from_slice(&mid);
    sh.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    sh.extend_from_slice(&exts);
    let mut out = vec![2];
    out.extend_from_slice(&(sh.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&sh);
    out.extend_from_slice(&rest);
    out
}

/// Whether a ClientHello record carries a GREASE value anywhere a client may put one.
fn carries_grease(rec: &[u8]) -> bool {
    use tlsdoctor::wire::ClientExtension as E;
    let grease = |v: u16| v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff);
    let Ok(h) = tlsdoctor::wire::ClientHello::parse_record(&record(22, [3, 1], rec)) else {
        return false;
    };
    h.cipher_suites.iter().any(|s| grease(s.0))
        || h.extensions.iter().any(|e| {
            grease(e.typ())
                || match e {
                    E::SupportedGroups(g) => g.iter().any(|g| grease(g.0)),
                    E::KeyShare(k) => k.iter().any(|(g, _)| grease(g.0)),
                    E::SupportedVersions(v) => v.iter().any(|v| grease(*v)),
                    _ => false,
                }
        })
}

/// The session ID of a ClientHello record that presents a session ticket with a short ID.
fn short_id_with_ticket(rec: &[u8]) -> Option<Vec<u8>> {
    use tlsdoctor::wire::ClientExtension;
    let h = tlsdoctor::wire::ClientHello::parse_record(&record(22, [3, 1], rec)).ok()?;
    let ticket = h
        .extensions
        .iter()
        .any(|e| matches!(e, ClientExtension::SessionTicket(t) if !t.is_empty()));
    (ticket && (1..32).contains(&h.session_id.len())).then_some(h.session_id)
}

/// Whether a record is a handshake record starting with a ServerHello.
fn first_hello(typ: u8, body: &[u8]) -> bool {
    typ == 22 && body.first() == Some(&2)
}

/// Whether a handshake record's body holds a ServerHelloDone (the end of the first flight).
fn has_hello_done(body: &[u8]) -> bool {
    let mut at = 0;
    while let Some(h) = body.get(at..at + 4) {
        if h[0] == 14 {
            return true;
        }
        at += 4 + u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
    }
    false
}

/// The over-read: as many payload bytes as the request declares.
fn heartbleed_answer(request: &[u8]) -> Option<Vec<u8>> {
    if request.len() < 3 || request[0] != 1 {
        return None;
    }
    let declared = usize::from(u16::from_be_bytes([request[1], request[2]]));
    let mut payload: Vec<u8> = request[3..].iter().copied().take(declared).collect();
    payload.resize(declared, MEMORY_FILLER);
    let mut out = vec![2];
    out.extend_from_slice(&(declared as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&[0u8; 16]);
    Some(out)
}

/// Whether a ClientKeyExchange body (handshake header included) decrypts to a well-padded
/// 48-byte premaster.
fn premaster_well_padded(key: &rsa::RsaPrivateKey, cke: &[u8]) -> bool {
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    let Some(c) = cke.get(6..) else {
        return false;
    };
    let m = rsa::BigUint::from_bytes_be(c)
        .modpow(key.d(), key.n())
        .to_bytes_be();
    let k = key.size();
    let mut block = vec![0u8; k.saturating_sub(m.len())];
    block.extend_from_slice(&m);
    let sep = block.iter().skip(2).position(|&b| b == 0).map(|i| i + 2);
    block.first() == Some(&0)
        && block.get(1) == Some(&2)
        && sep.is_some_and(|s| s >= 10 && block.len() - s - 1 == 48)
}

fn relay(
    mut client: TcpStream,
    backend: SocketAddr,
    bug: Bug,
    key: Option<Arc<rsa::RsaPrivateKey>>,
) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(20)));
    // The backend (a single-threaded s_server) is only dialled once a whole TLS record came:
    // an SSLv2 hello or a silent client must not hold it.
    let mut peek = [0u8; 1];
    if !matches!(client.peek(&mut peek), Ok(1)) || peek[0] != 22 {
        return;
    }
    let Some(hello) = read_record(&mut client) else {
        return;
    };
    if bug == Bug::GreaseIntolerant && carries_grease(&hello.2) {
        return;
    }
    let Ok(server) = TcpStream::connect(backend) else {
        return;
    };
    let to_client = Arc::new(Mutex::new(client.try_clone().unwrap()));
    let heartbeat = Arc::new(AtomicBool::new(false));
    // Set once the server's first flight has gone to the client: OpenSSL read the client's
    // records in order, so it answered a heartbeat only after sending that flight.
    let flight_sent = Arc::new(AtomicBool::new(false));
    // The suite the server chose (0 until its ServerHello passed): the ROBOT oracle only
    // judges RSA key exchanges.
    let suite = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let short_id = if bug == Bug::Ticketbleed {
        short_id_with_ticket(&hello.2)
    } else {
        None
    };
    // Server to client: the first handshake record gets the heartbeat extension when asked,
    // or the short session ID padded with filler.
    {
        let (mut server, to_client, heartbeat, flight_sent, suite) = (
            server.try_clone().unwrap(),
            to_client.clone(),
            heartbeat.clone(),
            flight_sent.clone(),
            suite.clone(),
        );
        std::thread::spawn(move || {
            let mut first = true;
            while let Some((typ, v, body)) = read_record(&mut server) {
                let body = if first && typ == 22 && heartbeat.load(Ordering::SeqCst) {
                    edit_server_hello(&body, |_, exts| exts.extend_from_slice(&[0, 15, 0, 1, 1]))
                } else if let (true, 22, Some(ours)) = (first, typ, &short_id) {
                    edit_server_hello(&body, |sid, _| {
                        if sid == ours {
                            let memory = ticketbleed_memory(sid.len());
                            sid.extend_from_slice(&memory);
                        }
                    })
                } else {
                    body
                };
                first = false;
                // The suite is noted before the ServerHello goes on: the client's key
                // exchange, which the other thread judges by it, may come back at once.
                if first_hello(typ, &body) {
                    let sid_len = usize::from(body.get(38).copied().unwrap_or(0));
                    if let Some(id) = body.get(39 + sid_len..41 + sid_len) {
                        let id = u32::from(u16::from_be_bytes([id[0], id[1]]));
                        suite.store(id, Ordering::SeqCst);
                    }
                }
                let mut c = to_client.lock().unwrap();
                if c.write_all(&record(typ, v, &body)).is_err() {
                    break;
                }
                if typ == 22 && has_hello_done(&body) {
                    flight_sent.store(true, Ordering::SeqCst);
                }
            }
            let _ = to_client.lock().unwrap().shutdown(Shutdown::Both);
        });
    }
    let mut server = server;
    let mut first = true;
    let mut key_exchange_seen = false;
    let mut early_ccs = false;
    // Whether the client's ChangeCipherSpec went on: its handshake records are encrypted
    // after it, and an encrypted Finished whose first byte happens to be 16 (1 in 256) is no
    // ClientKeyExchange (taken for one, it made the ROBOT oracle answer a well-padded
    // exchange with handshake_failure now and then).
    let mut encrypted = false;
    let mut next = Some(hello);
    while let Some((typ, v, body)) = next.take().or_else(|| read_record(&mut client)) {
        if first && typ == 22 && bug == Bug::Heartbleed && offers_heartbeat(&body) {
            heartbeat.store(true, Ordering::SeqCst);
        }
        first = false;
        let key_exchange = typ == 22 && !encrypted && body.first() == Some(&16);
        if key_exchange {
            key_exchange_seen = true;
        }
        match bug {
            // OpenSSL 1.0.1-1.0.1f answered heartbeat requests whether or not the hello had
            // offered the extension (sslyze's test offers none).
            Bug::Heartbleed if typ == 24 => {
                for _ in 0..250 {
                    if flight_sent.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                if let Some(answer) = heartbleed_answer(&body) {
                    let _ = to_client.lock().unwrap().write_all(&record(24, v, &answer));
                }
                continue;
            }
            Bug::RobotOracle
                if key_exchange
                    && tlsdoctor::wire::suites::by_id(suite.load(Ordering::SeqCst))
                        .is_some_and(|s| s.kx == "RSA") =>
            {
                let ok = key
                    .as_ref()
                    .is_some_and(|k| premaster_well_padded(k, &body));
                if !ok {
                    let _ = to_client
                        .lock()
                        .unwrap()
                        .write_all(&record(21, v, &[2, 40]));
                    break;
                }
            }
            Bug::EarlyCcs if early_ccs => {
                let _ = to_client
                    .lock()
                    .unwrap()
                    .write_all(&record(21, v, &[2, 20]));
                break;
            }
            Bug::EarlyCcs if typ == 20 && !key_exchange_seen => {
                early_ccs = true;
                continue;
            }
            _ => {}
        }
        if typ == 20 {
            encrypted = true;
        }
        if server.write_all(&record(typ, v, &body)).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Both);
    let _ = client.shutdown(Shutdown::Both);
}
