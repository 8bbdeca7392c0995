//! Name the protocol a non-TLS port speaks, from the first bytes it sent.
//! The knowledge lives in `data/plaintext-protocols.toml`.

use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct Table {
    protocol: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub name: String,
    pub hint: String,
    #[serde(default)]
    starts_with: Option<String>,
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    first_byte: Option<u8>,
    #[serde(default)]
    first_byte_at_4: Option<u8>,
}

impl Entry {
    fn matches(&self, bytes: &[u8]) -> bool {
        let starts = self
            .starts_with
            .as_ref()
            .is_none_or(|p| bytes.starts_with(p.as_bytes()));
        let contains = self
            .contains
            .as_ref()
            .is_none_or(|p| bytes.windows(p.len().max(1)).any(|w| w == p.as_bytes()));
        let first = self.first_byte.is_none_or(|b| bytes.first() == Some(&b));
        let at4 = self
            .first_byte_at_4
            .is_none_or(|b| bytes.get(4) == Some(&b));
        starts && contains && first && at4
    }
}

fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str::<Table>(include_str!("../../data/plaintext-protocols.toml"))
            .map(|t| t.protocol)
            .unwrap_or_default()
    })
}

/// The protocol these first bytes most likely belong to, if recognised.
pub fn identify(first_bytes: &[u8]) -> Option<&'static Entry> {
    table().iter().find(|e| e.matches(first_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads() {
        assert!(
            table().len() >= 8,
            "data/plaintext-protocols.toml failed to parse"
        );
    }

    #[test]
    fn identifies_common_banners() {
        let cases: &[(&[u8], &str)] = &[
            (b"HTTP/1.1 400 Bad Request\r\n", "HTTP"),
            (b"220 mail.example.test ESMTP Postfix\r\n", "SMTP"),
            (b"220 (vsFTPd 3.0.3)\r\n", "FTP"),
            (b"+OK Dovecot ready.\r\n", "POP3"),
            (b"* OK [CAPABILITY IMAP4rev1] ready\r\n", "IMAP"),
            (b"SSH-2.0-OpenSSH_9.2\r\n", "SSH"),
            (b"EXXXXSFATAL\0C0A000\0", "PostgreSQL"),
        ];
        for (bytes, want) in cases {
            let got = identify(bytes).map(|e| e.name.as_str()).unwrap_or("none");
            assert!(
                got.contains(want),
                "{:?}: got {got}, want {want}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert!(identify(b"\x16\x03\x01").is_none());
    }
}
