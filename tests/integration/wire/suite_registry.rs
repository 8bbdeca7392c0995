//! The cipher-suite registry checked against real implementations: the installed OpenSSL's own
//! cipher table, and ClientHellos captured from real clients.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use tlsdoctor::wire::suites::{self, CipherSuite, SuiteProtocol};
use tlsdoctor::wire::version::ProtocolVersion;

const CIPHER_STRING: &str = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";

fn openssl_ciphers(extra: &[&str]) -> String {
    let out = Command::new("openssl")
        .arg("ciphers")
        .arg("-V")
        .args(extra)
        .arg(CIPHER_STRING)
        .output()
        .expect("the openssl CLI is needed for this test (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl ciphers failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("openssl output is UTF-8")
}

/// `0xC0,0x2F` -> 0xc02f
fn parse_id(field: &str) -> u32 {
    let (hi, lo) = field.split_once(',').expect("id is 0xHH,0xLL");
    let byte = |s: &str| u32::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex byte");
    byte(hi) << 8 | byte(lo)
}

fn value<'a>(fields: &[&'a str], key: &str) -> &'a str {
    fields
        .iter()
        .find_map(|f| f.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {fields:?}"))
}

/// Our key-exchange label as OpenSSL prints it (`Kx=`).
fn openssl_kx(s: &CipherSuite) -> &'static str {
    match s.kx {
        "RSA" => "RSA",
        "DHE" | "DH" => "DH",
        "ECDHE" | "ECDH" => "ECDH",
        "PSK" => "PSK",
        "DHE_PSK" => "DHEPSK",
        "RSA_PSK" => "RSAPSK",
        "ECDHE_PSK" => "ECDHEPSK",
        "SRP" => "SRP",
        "any" => "any",
        other => panic!("no OpenSSL Kx label known for {other} ({})", s.iana),
    }
}

fn openssl_au(s: &CipherSuite) -> &'static str {
    match s.auth {
        "anon" => "None",
        "RSA" => "RSA",
        "DSS" => "DSS",
        "ECDSA" => "ECDSA",
        "PSK" => "PSK",
        "SRP" => "SRP",
        "any" => "any",
        other => panic!("no OpenSSL Au label known for {other} ({})", s.iana),
    }
}

/// Our cipher as OpenSSL's `Enc=` label and key size.
fn openssl_enc(s: &CipherSuite) -> String {
    let e = s.enc;
    let family = if e == "NULL" {
        return "None".to_string();
    } else if e == "3DES_EDE_CBC" {
        // OpenSSL prints the raw 168-bit key; we record the effective 112 bits.
        assert_eq!(s.bits, 112);
        return "3DES(168)".to_string();
    } else if e == "CHACHA20_POLY1305" {
        "CHACHA20/POLY1305"
    } else if e.starts_with("AES_") && e.ends_with("_CCM_8") {
        "AESCCM8"
    } else if e.starts_with("AES_") && e.ends_with("_CCM") {
        "AESCCM"
    } else if e.starts_with("AES_") && e.ends_with("_GCM") {
        "AESGCM"
    } else if e.starts_with("AES_") && e.ends_with("_CBC") {
        "AES"
    } else if e.starts_with("ARIA_") && e.ends_with("_GCM") {
        "ARIAGCM"
    } else if e.starts_with("CAMELLIA_") && e.ends_with("_CBC") {
        "Camellia"
    } else if e == "SEED_CBC" {
        "SEED"
    } else if e.starts_with("RC4") {
        "RC4"
    } else if e == "DES_CBC" {
        "DES"
    } else if e == "IDEA_CBC" {
        "IDEA"
    } else {
        panic!("no OpenSSL Enc label known for {e} ({})", s.iana)
    };
    format!("{family}({})", s.bits)
}

fn openssl_mac(s: &CipherSuite) -> &'static str {
    match s.mac {
        "SHA" => "SHA1",
        "SHA256" => "SHA256",
        "SHA384" => "SHA384",
        "MD5" => "MD5",
        "AEAD" => "AEAD",
        other => panic!("no OpenSSL Mac label known for {other} ({})", s.iana),
    }
}

fn openssl_min_version(label: &str) -> ProtocolVersion {
    match label {
        "SSLv3" => ProtocolVersion::Ssl3,
        "TLSv1" => ProtocolVersion::Tls10,
        "TLSv1.2" => ProtocolVersion::Tls12,
        "TLSv1.3" => ProtocolVersion::Tls13,
        other => panic!("unexpected OpenSSL version label {other}"),
    }
}

#[test]
fn every_suite_openssl_lists_matches_the_registry() {
    // `openssl ciphers -V`: id - name version Kx= Au= Enc= Mac=
    let plain = openssl_ciphers(&[]);
    // With -stdname: id - IANA name - OpenSSL name version Kx= Au= Enc= Mac=
    let std = openssl_ciphers(&["-stdname"]);
    let mut checked = HashSet::new();
    let mut failures = Vec::new();
    for line in plain.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(f.len() >= 7 && f[1] == "-", "unexpected line {line:?}");
        let id = parse_id(f[0]);
        let name = f[2];
        let Some(s) = suites::by_id(id) else {
            failures.push(format!("0x{id:04x} {name}: not in registry"));
            continue;
        };
        checked.insert(id);
        let mut check = |what: &str, ours: String, theirs: &str| {
            if ours != theirs {
                failures.push(format!(
                    "0x{id:04x} {name}: {what} registry {ours:?} vs openssl {theirs:?}"
                ));
            }
        };
        check("name", s.openssl.unwrap_or("-").to_string(), name);
        check("Kx", openssl_kx(s).to_string(), value(&f, "Kx="));
        check("Au", openssl_au(s).to_string(), value(&f, "Au="));
        check("Enc", openssl_enc(s), value(&f, "Enc="));
        check("Mac", openssl_mac(s).to_string(), value(&f, "Mac="));
        check(
            "min version",
            s.versions().0.name(),
            &openssl_min_version(f[3]).name(),
        );
        let tls13 = f[3] == "TLSv1.3";
        check(
            "protocol",
            format!("{:?}", s.protocol),
            if tls13 { "Tls13" } else { "Tls" },
        );
        assert_eq!(
            suites::by_name(name).map(|s| s.id),
            Some(id),
            "by_name({name})"
        );
    }
    let mut std_count = 0;
    for line in std.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(
            f.len() >= 9 && f[1] == "-" && f[3] == "-",
            "unexpected line {line:?}"
        );
        let id = parse_id(f[0]);
        std_count += 1;
        match suites::by_id(id) {
            Some(s) if s.iana == f[2] => {}
            Some(s) => failures.push(format!(
                "0x{id:04x}: IANA name registry {} vs openssl {}",
                s.iana, f[2]
            )),
            None => failures.push(format!("0x{id:04x} {}: not in registry", f[2])),
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // OpenSSL 3.0 offers ~150 suites at SECLEVEL=0; far fewer means the command misbehaved.
    assert!(
        checked.len() >= 100,
        "only {} suites checked",
        checked.len()
    );
    assert_eq!(std_count, checked.len());
}

/// The recorded hellos of real clients, kept in the repository (see its NOTICE.md).
fn client_hellos_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/testssl/client-hellos.json")
}

fn has_name(s: &CipherSuite, name: &str) -> bool {
    std::iter::once(s.iana)
        .chain(s.openssl)
        .chain(s.aliases())
        .any(|n| n.eq_ignore_ascii_case(name))
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("client_hello_hex is hex")
}

/// Cipher-suite ids in a TLS-record ClientHello (bounds-checked; these are test fixtures).
fn tls_hello_suites(rec: &[u8]) -> Vec<u16> {
    // record header 5, handshake header 4, version 2, random 32
    let mut p = 5 + 4 + 2 + 32;
    p += 1 + usize::from(rec[p]);
    let len = usize::from(u16::from_be_bytes([rec[p], rec[p + 1]]));
    p += 2;
    rec[p..p + len]
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// 3-byte cipher specs in an SSLv2 ClientHello.
fn sslv2_hello_specs(rec: &[u8]) -> Vec<u32> {
    // 2-byte record header, type 1, version 2, spec length 2, session-id length 2, challenge 2
    let len = usize::from(u16::from_be_bytes([rec[5], rec[6]]));
    rec[11..11 + len]
        .chunks_exact(3)
        .map(|c| u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]))
        .collect()
}

fn is_grease(id: u16) -> bool {
    let [hi, lo] = id.to_be_bytes();
    hi == lo && hi & 0x0f == 0x0a
}

#[test]
fn every_client_cipher_name_resolves_and_matches_the_wire() {
    let path = client_hellos_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("client-hellos.json is JSON");
    let clients = doc["clients"].as_array().expect("clients array");
    assert!(clients.len() > 100, "only {} clients", clients.len());
    let mut failures = Vec::new();
    let mut names_checked = 0;
    for c in clients {
        let cid = c["id"].as_str().unwrap_or("?");
        let names: Vec<&str> = ["openssl_cipher_list", "tls13_ciphersuites"]
            .iter()
            .filter_map(|k| c[*k].as_str())
            .flat_map(|l| l.split(':'))
            .filter(|n| !n.is_empty())
            .collect();
        for n in &names {
            names_checked += 1;
            if suites::by_name(n).is_none() {
                failures.push(format!("{cid}: {n} does not resolve"));
            }
        }
        let rec = unhex(c["client_hello_hex"].as_str().expect("client_hello_hex"));
        if rec[0] == 0x16 {
            // The OpenSSL list is the hello's suites minus signalling values and GREASE; it
            // leaves out suites OpenSSL has no name for and, for some clients, TLS 1.3 ones.
            let wire: HashSet<u32> = tls_hello_suites(&rec)
                .into_iter()
                .filter(|&id| {
                    id != suites::TLS_EMPTY_RENEGOTIATION_INFO_SCSV.0
                        && id != suites::TLS_FALLBACK_SCSV.0
                        && !is_grease(id)
                })
                .map(u32::from)
                .collect();
            let named: HashSet<u32> = names
                .iter()
                .filter_map(|n| suites::by_name(n))
                .map(|s| s.id)
                .collect();
            for id in named.difference(&wire) {
                failures.push(format!("{cid}: named 0x{id:04x} is not in the hello"));
            }
            for id in wire.difference(&named) {
                match suites::by_id(*id) {
                    None => failures.push(format!("{cid}: wire id 0x{id:04x} not in registry")),
                    Some(s) if s.openssl.is_none() || s.protocol == SuiteProtocol::Tls13 => {}
                    Some(s) => failures.push(format!(
                        "{cid}: wire 0x{id:04x} ({}) missing from the name list",
                        s.display_name()
                    )),
                }
            }
        } else {
            // SSLv2-format hello: the name list follows the cipher specs one for one.
            let specs: Vec<u32> = sslv2_hello_specs(&rec)
                .into_iter()
                .filter(|&s| s != u32::from(suites::TLS_EMPTY_RENEGOTIATION_INFO_SCSV.0))
                .collect();
            assert_eq!(specs.len(), names.len(), "{cid}");
            for (spec, name) in specs.iter().zip(&names) {
                match suites::by_id(*spec) {
                    Some(s) if has_name(s, name) => {
                        let want = if spec >> 16 == 0 {
                            SuiteProtocol::Tls
                        } else {
                            SuiteProtocol::Sslv2
                        };
                        assert_eq!(s.protocol, want, "{cid} {name}");
                    }
                    other => failures.push(format!(
                        "{cid}: spec 0x{spec:06x} is {:?}, list says {name}",
                        other.map(|s| s.display_name())
                    )),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(names_checked > 1000, "only {names_checked} names checked");
}
