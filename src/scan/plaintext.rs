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
    /// Recognised only by sending this protocol's own greeting (see [`probe_mongodb`]).
    #[serde(default)]
    active_probe: Option<String>,
}

impl Entry {
    fn matches(&self, bytes: &[u8]) -> bool {
        if self.active_probe.is_some() {
            return false;
        }
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

/// The table entry for a protocol recognised by an active probe.
pub fn by_probe(name: &str) -> Option<&'static Entry> {
    table()
        .iter()
        .find(|e| e.active_probe.as_deref() == Some(name))
}

/// A MongoDB OP_MSG `hello` command on database `admin`, as a driver sends it first.
pub fn mongodb_hello() -> Vec<u8> {
    // BSON {hello: 1, $db: "admin"}
    let mut doc = Vec::new();
    doc.push(0x10);
    doc.extend_from_slice(b"hello\0");
    doc.extend_from_slice(&1i32.to_le_bytes());
    doc.push(0x02);
    doc.extend_from_slice(b"$db\0");
    doc.extend_from_slice(&6i32.to_le_bytes());
    doc.extend_from_slice(b"admin\0");
    doc.push(0);
    let mut bson = ((doc.len() + 4) as i32).to_le_bytes().to_vec();
    bson.extend_from_slice(&doc);
    let mut body = 0u32.to_le_bytes().to_vec(); // flagBits
    body.push(0); // section kind 0: the command document
    body.extend_from_slice(&bson);
    let mut msg = ((16 + body.len()) as i32).to_le_bytes().to_vec();
    msg.extend_from_slice(&1i32.to_le_bytes()); // requestID
    msg.extend_from_slice(&0i32.to_le_bytes()); // responseTo
    msg.extend_from_slice(&2013i32.to_le_bytes()); // OP_MSG
    msg.extend_from_slice(&body);
    msg
}

/// Whether `reply` is a MongoDB wire-protocol answer to our request 1 (OP_MSG or OP_REPLY).
pub fn is_mongodb_reply(reply: &[u8]) -> bool {
    if reply.len() < 16 {
        return false;
    }
    let word = |i: usize| i32::from_le_bytes([reply[i], reply[i + 1], reply[i + 2], reply[i + 3]]);
    let (len, response_to, opcode) = (word(0), word(8), word(12));
    (16..=48 * 1024 * 1024).contains(&len) && response_to == 1 && (opcode == 2013 || opcode == 1)
}

/// Send a plain MongoDB `hello` and report whether the peer answers as MongoDB does.
pub async fn probe_mongodb(prober: &crate::probe::Prober) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // MongoDB's own protocol, so no prelude: this asks whether the port speaks it instead
    // of TLS.
    let Ok(mut conn) = prober.open_plaintext().await else {
        return false;
    };
    let s = &mut conn.stream;
    let run = async {
        s.write_all(&mongodb_hello()).await.ok()?;
        let mut buf = [0u8; 16];
        s.read_exact(&mut buf).await.ok()?;
        Some(is_mongodb_reply(&buf))
    };
    matches!(
        tokio::time::timeout_at(conn.deadline, run).await,
        Ok(Some(true))
    )
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

    #[test]
    fn mongodb_hello_is_well_formed() {
        let m = mongodb_hello();
        let len = i32::from_le_bytes([m[0], m[1], m[2], m[3]]) as usize;
        assert_eq!(len, m.len());
        let bson_len = i32::from_le_bytes([m[21], m[22], m[23], m[24]]) as usize;
        assert_eq!(
            21 + bson_len,
            m.len(),
            "one BSON document fills the section"
        );
        assert!(by_probe("mongodb").is_some());
        let mut reply = m.clone();
        reply[8..12].copy_from_slice(&1i32.to_le_bytes());
        assert!(is_mongodb_reply(&reply));
        assert!(!is_mongodb_reply(b"HTTP/1.1 400 Bad Request\r\n"));
    }
}
