//! The body of the `starttls_replies` fuzz target (fuzz/fuzz_targets/starttls_replies.rs),
//! a plain function so `cargo test --lib starttls::fuzz` runs it too: arbitrary bytes as
//! every reply parser of the upgrades (the sniffer has its own body,
//! `scan::plaintext::fuzz_sniff`, in the same target). None may panic, and what
//! they accept must be consistent with the bytes.

/// Feed `data` to every reply parser; the first byte picks nothing, all run.
pub fn fuzz_replies(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n') {
        if let Some((code, _)) = super::reply::parse_coded_line(line) {
            assert!((0..1000).contains(&code), "{line:?}");
            assert!(line.starts_with(&format!("{code:03}")), "{line:?}");
        }
    }
    if let Ok(r) = super::ldap::parse_response(data) {
        assert!(
            r.diagnostic.len() <= data.len() * 3,
            "lossy text grows at most 3x"
        );
    }
    if let Ok(super::mysql::Greeting::Handshake { version, .. }) =
        super::mysql::parse_greeting(data)
    {
        assert!(version.len() <= data.len() * 3);
    }
    let _ = super::postgres::error_message(data);
    let q = super::failure::quote(&text);
    assert!(!q.chars().any(|c| c.is_control()), "{q:?}");
}

#[cfg(test)]
mod tests {
    use super::fuzz_replies;

    /// Real replies, then thousands of deterministic mutations and random inputs.
    #[test]
    fn fuzz_replies_holds_on_mutations() {
        let seeds: [&[u8]; 6] = [
            b"250-mail.test\r\n250-STARTTLS\r\n250 CHUNKING\r\n",
            b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
            &[
                0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
            ],
            b"\x0a10.11.6-MariaDB\0\x01\0\0\0aaaaaaaa\0\xff\xff",
            b"SFATAL\0C0A000\0Munsupported frontend protocol\0\0",
            b"HTTP/1.1 407 Proxy Authentication Required\r\n",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for seed in seeds {
            fuzz_replies(seed);
            for _ in 0..500 {
                let mut m = seed.to_vec();
                for _ in 0..(next() % 4 + 1) {
                    let i = (next() as usize) % m.len().max(1);
                    match next() % 3 {
                        0 if !m.is_empty() => m[i] = next() as u8,
                        1 => m.insert(i.min(m.len()), next() as u8),
                        _ => m.truncate(i),
                    }
                }
                fuzz_replies(&m);
            }
        }
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            fuzz_replies(&data);
            crate::scan::plaintext::fuzz_sniff(&data);
        }
    }
}
