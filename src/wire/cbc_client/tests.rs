//! The client against a server written out here from the same RFC steps (ECDHE over X25519,
//! so no certificate key is needed): the framing, the transcript, the key block and both
//! Finished messages have to agree byte for byte. Interoperation with real servers is in
//! tests/integration/vulns/poodle.rs.

use super::*;
use crate::wire::extension::ServerExtension;
use crate::wire::prf::{TLS10, TLS12};

/// The server side of one handshake, as far as the tests need it.
struct Server {
    version: u16,
    suite: CbcSuite,
    ems: bool,
    random: [u8; 32],
    private: Option<EphemeralPrivateKey>,
    transcript: Vec<u8>,
    client_random: [u8; 32],
    /// After a taken Finished: the server's reading and writing states and the client's
    /// verify_data, for the records that follow.
    after: Option<(CipherState, CipherState, Vec<u8>)>,
}

fn msg(typ: HandshakeType, body: Vec<u8>) -> Vec<u8> {
    HandshakeMessage { typ, body }.to_bytes()
}

impl Server {
    fn new(version: u16, suite: CbcSuite, ems: bool) -> Server {
        let private =
            EphemeralPrivateKey::generate(&agreement::X25519, &SystemRandom::new()).unwrap();
        Server {
            version,
            suite,
            ems,
            random: [0x42; 32],
            private: Some(private),
            transcript: Vec::new(),
            client_random: [0; 32],
            after: None,
        }
    }

    /// The first flight for `hello` (the client's hello record), in records of `split` bytes
    /// of handshake data each.
    fn flight(&mut self, hello: &[u8], split: usize) -> Vec<u8> {
        let ch = ClientHello::parse_record(hello).unwrap();
        self.client_random = ch.random;
        self.transcript = ch.encode_handshake();
        let mut extensions = vec![ServerExtension::RenegotiationInfo(Vec::new())];
        if self.ems {
            extensions.push(ServerExtension::ExtendedMasterSecret);
        }
        let sh = ServerHello {
            legacy_version: self.version,
            random: self.random,
            session_id: vec![7; 32],
            cipher_suite: self.suite.id,
            compression: 0,
            extensions,
            is_hello_retry_request: false,
        };
        let public = self.private.as_ref().unwrap().compute_public_key().unwrap();
        let mut ske = vec![3, 0x00, 0x1d, 32];
        ske.extend_from_slice(public.as_ref());
        ske.extend_from_slice(&[0x04, 0x01, 0x00, 0x02, 0xaa, 0xbb]);
        let mut data = HandshakeMessage::of(&sh).to_bytes();
        data.extend(msg(
            HandshakeType::Certificate,
            CertificateList(vec![vec![0x30, 0x03, 1, 2, 3]]).to_bytes(),
        ));
        data.extend(msg(HandshakeType::ServerKeyExchange, ske));
        data.extend(msg(HandshakeType::ServerHelloDone, Vec::new()));
        self.transcript.extend_from_slice(&data);
        let mut out = Vec::new();
        for part in data.chunks(split) {
            encode_fragmented(ContentType::Handshake, self.version, part, &mut out);
        }
        out
    }

    /// Read the client's flight; answer as a server that checks padding does (`None`: the
    /// Finished record was refused) or with CCS + Finished.
    fn answer(&mut self, flight: &[u8], check_padding: bool) -> Option<Vec<u8>> {
        let mut d = Deframer::new();
        d.push(flight).unwrap();
        let cke = d.pop().unwrap().unwrap();
        assert_eq!(cke.typ, ContentType::Handshake);
        let body = &cke.payload[4..];
        assert_eq!(usize::from(body[0]), body.len() - 1);
        let premaster = agreement::agree_ephemeral(
            self.private.take().unwrap(),
            &UnparsedPublicKey::new(&agreement::X25519, &body[1..]),
            |k| k.to_vec(),
        )
        .unwrap();
        self.transcript.extend_from_slice(&cke.payload);
        let master = prf::master_secret(
            self.version,
            &premaster,
            &self.client_random,
            &self.random,
            self.ems.then_some(&self.transcript[..]),
        );
        let (mut read, mut write) = key_block(
            self.version,
            self.suite.mac,
            self.suite.key_len,
            &master,
            &self.client_random,
            &self.random,
        )
        .unwrap();
        let mac = self.suite.mac.tag_len();
        let ccs = d.pop().unwrap().unwrap();
        assert_eq!(
            (ccs.typ, &ccs.payload[..]),
            (ContentType::ChangeCipherSpec, &[1u8][..])
        );
        let fin = d.pop().unwrap().unwrap();
        assert!(d.pop().unwrap().is_none());
        let plain = match read.open(22, &fin.payload) {
            Ok(p) => p,
            Err(_) if check_padding => return None,
            Err(_) => {
                // A server that reads only the length byte (CVE-2014-8730).
                let (mut lax, _) = key_block(
                    self.version,
                    self.suite.mac,
                    self.suite.key_len,
                    &master,
                    &self.client_random,
                    &self.random,
                )
                .unwrap();
                let raw = lax.decrypt_for_test(&fin.payload);
                let pad = usize::from(*raw.last().unwrap());
                raw[..raw.len() - 1 - pad - mac].to_vec()
            }
        };
        let expected = prf::finished(self.version, &master, true, &self.transcript);
        assert_eq!(&plain[4..], &expected[..], "the client's verify_data");
        self.transcript.extend_from_slice(&plain);
        let verify = prf::finished(self.version, &master, false, &self.transcript);
        let mut out = Vec::new();
        encode_fragmented(ContentType::ChangeCipherSpec, self.version, &[1], &mut out);
        let sealed = write.seal(22, &msg(HandshakeType::Finished, verify), [9; 16]);
        encode_fragmented(ContentType::Handshake, self.version, &sealed, &mut out);
        self.after = Some((read, write, expected));
        Some(out)
    }
}

fn feed_all(hs: &mut CbcHandshake, bytes: &[u8], chunk: usize) -> Vec<Progress> {
    let mut seen = Vec::new();
    for part in bytes.chunks(chunk) {
        let p = hs.feed(part).unwrap();
        if p != Progress::NeedMore {
            seen.push(p);
        }
    }
    seen
}

#[test]
fn a_correct_handshake_is_verified_in_every_version_suite_and_chunking() {
    for version in [TLS10, 0x0302, TLS12] {
        for id in [0xc013u16, 0xc014, 0xc027] {
            let suite = speakable(CipherSuiteId(id)).unwrap();
            if suite.mac == RecordMac::Sha256 && version < TLS12 {
                continue;
            }
            for (ems, split, chunk) in [(false, 10_000, 10_000), (true, 7, 3)] {
                let (mut hs, hello) = CbcHandshake::start(
                    ProtocolVersion::from_wire(version),
                    Some("example.test"),
                    &[CipherSuiteId(id)],
                );
                let mut server = Server::new(version, suite, ems);
                let flight = server.flight(&hello, split);
                assert_eq!(feed_all(&mut hs, &flight, chunk), [Progress::FlightDone]);
                assert_eq!(hs.suite(), Some(suite));
                let out = hs.client_flight(Padding::Correct).unwrap();
                let answer = server.answer(&out, true).expect("correct padding is taken");
                assert_eq!(
                    feed_all(&mut hs, &answer, chunk),
                    [Progress::ServerFinished { verified: true }],
                    "version {version:04x} suite {id:04x} ems {ems}"
                );
            }
        }
    }
}

#[test]
fn wrong_padding_is_refused_by_a_checking_server_and_taken_by_a_lax_one() {
    let suite = speakable(CipherSuiteId(0xc013)).unwrap();
    for check in [true, false] {
        let (mut hs, hello) =
            CbcHandshake::start(ProtocolVersion::Tls12, None, &[CipherSuiteId(0xc013)]);
        let mut server = Server::new(TLS12, suite, true);
        let flight = server.flight(&hello, 100);
        assert_eq!(hs.feed(&flight).unwrap(), Progress::FlightDone);
        let out = hs.client_flight(Padding::WrongBytes).unwrap();
        match server.answer(&out, check) {
            None => assert!(check),
            Some(answer) => {
                assert!(!check);
                assert_eq!(
                    hs.feed(&answer).unwrap(),
                    Progress::ServerFinished { verified: true }
                );
            }
        }
    }
}

#[test]
fn alerts_and_undecryptable_records_are_reported() {
    let (mut hs, _) = CbcHandshake::start(ProtocolVersion::Tls12, None, &[CipherSuiteId(0x002f)]);
    let mut alert = Vec::new();
    encode_fragmented(ContentType::Alert, TLS12, &[2, 40], &mut alert);
    match hs.feed(&alert).unwrap() {
        Progress::Alert { alert, encrypted } => {
            assert!(!encrypted);
            assert_eq!(alert.description.to_u8(), 40);
        }
        p => panic!("{p:?}"),
    }
    // After the server's ChangeCipherSpec, garbage is no Finished.
    let suite = speakable(CipherSuiteId(0xc013)).unwrap();
    let (mut hs, hello) = CbcHandshake::start(ProtocolVersion::Tls12, None, &[suite.id]);
    let mut server = Server::new(TLS12, suite, false);
    assert_eq!(
        hs.feed(&server.flight(&hello, 50)).unwrap(),
        Progress::FlightDone
    );
    hs.client_flight(Padding::Correct).unwrap();
    let mut reply = Vec::new();
    encode_fragmented(ContentType::ChangeCipherSpec, TLS12, &[1], &mut reply);
    encode_fragmented(ContentType::Handshake, TLS12, &[0x55; 64], &mut reply);
    assert_eq!(hs.feed(&reply).unwrap(), Progress::Undecryptable);
}

#[test]
fn what_it_cannot_complete_is_said_not_guessed() {
    assert!(speakable(CipherSuiteId(0xc028)).is_none(), "SHA-384 PRF");
    assert!(speakable(CipherSuiteId(0x009c)).is_none(), "GCM is no CBC");
    // A flight not yet complete has no client flight.
    let (mut hs, _) = CbcHandshake::start(ProtocolVersion::Tls12, None, &[CipherSuiteId(0x002f)]);
    assert_eq!(
        hs.client_flight(Padding::Correct),
        Err(Unspeakable::Incomplete)
    );
    // RSA key exchange with a certificate that is no certificate.
    let suite = speakable(CipherSuiteId(0x002f)).unwrap();
    let (mut hs, hello) = CbcHandshake::start(ProtocolVersion::Tls12, None, &[suite.id]);
    let mut server = Server::new(TLS12, suite, false);
    assert_eq!(
        hs.feed(&server.flight(&hello, 50)).unwrap(),
        Progress::FlightDone
    );
    assert_eq!(
        hs.client_flight(Padding::Correct),
        Err(Unspeakable::NoRsaKey)
    );
    assert_eq!(
        ecdhe_params(&[3, 0, 0x17, 65, 4]),
        None,
        "a point shorter than announced"
    );
}

#[test]
fn fuzz_body_takes_garbage_and_real_flights() {
    fuzz_one(&[]);
    fuzz_one(&[5, 22, 3, 3, 0, 4, 2, 0, 0, 0]);
    fuzz_one(&[1; 300]);
    let suite = speakable(CipherSuiteId(0xc013)).unwrap();
    let (_, hello) = CbcHandshake::start(ProtocolVersion::Tls12, None, &[suite.id]);
    let mut server = Server::new(TLS12, suite, false);
    let mut input = vec![17];
    input.extend(server.flight(&hello, 33));
    input.extend([20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 16]);
    input.extend([0u8; 16]);
    fuzz_one(&input);
}

/// What a probe that goes on talking after the handshake (client renegotiation) is handed:
/// record states that continue both directions' sequences, the client's verify_data, and
/// whether the server agreed to RFC 5746.
#[test]
fn an_established_handshake_hands_on_its_record_states_and_verify_data() {
    let suite = speakable(CipherSuiteId(0xc013)).unwrap();
    let (mut hs, hello) =
        CbcHandshake::start(ProtocolVersion::Tls12, Some("example.test"), &[suite.id]);
    let mut server = Server::new(TLS12, suite, true);
    let flight = server.flight(&hello, 10_000);
    assert_eq!(feed_all(&mut hs, &flight, 100), [Progress::FlightDone]);
    let out = hs.client_flight(Padding::Correct).unwrap();
    let answer = server.answer(&out, true).unwrap();
    assert_eq!(
        feed_all(&mut hs, &answer, 100),
        [Progress::ServerFinished { verified: true }]
    );
    let mut est = hs.established().expect("a finished handshake");
    let (mut server_read, mut server_write, verify) = server.after.take().unwrap();
    assert_eq!(est.client_verify_data, verify);
    assert!(est.secure_renegotiation);
    let sealed = est.write.seal(22, b"the next record", [3; 16]);
    assert_eq!(server_read.open(22, &sealed).unwrap(), b"the next record");
    let sealed = server_write.seal(21, &[1, 100], [4; 16]);
    assert_eq!(est.read.open(21, &sealed).unwrap(), [1, 100]);
}

#[test]
fn no_established_state_before_the_server_finished() {
    let (mut hs, hello) =
        CbcHandshake::start(ProtocolVersion::Tls12, None, &[CipherSuiteId(0xc013)]);
    let mut server = Server::new(TLS12, speakable(CipherSuiteId(0xc013)).unwrap(), false);
    let flight = server.flight(&hello, 10_000);
    assert_eq!(feed_all(&mut hs, &flight, 10_000), [Progress::FlightDone]);
    hs.client_flight(Padding::Correct).unwrap();
    assert!(hs.established().is_none());
}
