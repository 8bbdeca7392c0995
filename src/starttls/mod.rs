//! STARTTLS: the plaintext dialogue that brings a mail, directory, chat or database server
//! to the point where it expects a ClientHello, one module per protocol. Each protocol is a
//! [`Prelude`] for the probe engine, so every probe and every full handshake of a scan goes
//! through the upgrade, under the same connection cap and deadlines.
//!
//! Every byte the server sends here is hostile: replies are read in bounded lines or bounded
//! messages ([`reply`]), never past the point where TLS starts.

mod binary;
mod failure;
mod ftp;
mod fuzz;
mod imap;
mod ldap;
mod mysql;
#[cfg(test)]
mod pipelined_tests;
mod pop3;
mod postgres;
pub mod reply;
mod shortcut;
mod sieve;
mod smtp;
mod xmpp;

pub use failure::{
    UpgradeFailure, client_texts, finding as failure_finding, quote_upgrade_clients,
    tls_client_texts,
};
pub use fuzz::fuzz_replies;

/// PostgreSQL's SSLRequest, for a sniffer that asks a silent port whether it is PostgreSQL.
pub fn postgres_ssl_request() -> [u8; 8] {
    postgres::SSL_REQUEST
}

/// An LDAP StartTLS extended request (message id 1), for the same sniffer.
pub fn ldap_start_tls_request() -> Vec<u8> {
    ldap::start_tls_request()
}

use crate::probe::{Prelude, PreludeError};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A protocol that upgrades a plaintext session to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// SMTP submission or relay: EHLO, then STARTTLS (RFC 3207).
    Smtp,
    /// LMTP: LHLO, then STARTTLS.
    Lmtp,
    /// IMAP: CAPABILITY, then STARTTLS (RFC 3501).
    Imap,
    /// POP3: CAPA, then STLS (RFC 2595).
    Pop3,
    /// FTP: AUTH TLS (RFC 4217).
    Ftp,
    /// ManageSieve: STARTTLS (RFC 5804).
    Sieve,
    /// NNTP: STARTTLS (RFC 4642).
    Nntp,
    /// LDAP: the StartTLS extended operation (RFC 4511 §4.14).
    Ldap,
    /// PostgreSQL: SSLRequest.
    Postgres,
    /// PostgreSQL 17 and later: TLS from the first byte with ALPN `postgresql` (libpq's
    /// `sslnegotiation=direct`); no plaintext dialogue.
    PostgresDirect,
    /// MySQL / MariaDB: the SSL capability flag in the handshake response.
    Mysql,
    /// XMPP client-to-server (RFC 6120).
    Xmpp,
    /// XMPP server-to-server.
    XmppServer,
}

impl Protocol {
    pub const ALL: [Protocol; 13] = [
        Protocol::Smtp,
        Protocol::Lmtp,
        Protocol::Imap,
        Protocol::Pop3,
        Protocol::Ftp,
        Protocol::Sieve,
        Protocol::Nntp,
        Protocol::Ldap,
        Protocol::Postgres,
        Protocol::PostgresDirect,
        Protocol::Mysql,
        Protocol::Xmpp,
        Protocol::XmppServer,
    ];

    /// The `--starttls` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Lmtp => "lmtp",
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Ftp => "ftp",
            Protocol::Sieve => "sieve",
            Protocol::Nntp => "nntp",
            Protocol::Ldap => "ldap",
            Protocol::Postgres => "postgres",
            Protocol::PostgresDirect => "postgres-direct",
            Protocol::Mysql => "mysql",
            Protocol::Xmpp => "xmpp",
            Protocol::XmppServer => "xmpp-server",
        }
    }

    /// How the protocol is named in messages, e.g. `SMTP STARTTLS`.
    pub fn upgrade_name(self) -> &'static str {
        match self {
            Protocol::Smtp => "SMTP STARTTLS",
            Protocol::Lmtp => "LMTP STARTTLS",
            Protocol::Imap => "IMAP STARTTLS",
            Protocol::Pop3 => "POP3 STLS",
            Protocol::Ftp => "FTP AUTH TLS",
            Protocol::Sieve => "ManageSieve STARTTLS",
            Protocol::Nntp => "NNTP STARTTLS",
            Protocol::Ldap => "LDAP StartTLS",
            Protocol::Postgres => "PostgreSQL SSLRequest",
            Protocol::PostgresDirect => "PostgreSQL direct TLS (ALPN postgresql)",
            Protocol::Mysql => "MySQL SSL request",
            Protocol::Xmpp => "XMPP STARTTLS",
            Protocol::XmppServer => "XMPP server-to-server STARTTLS",
        }
    }

    /// The protocol a well-known plaintext port implies when the user names none.
    pub fn for_port(port: u16) -> Option<Protocol> {
        Some(match port {
            21 => Protocol::Ftp,
            24 => Protocol::Lmtp,
            25 | 587 => Protocol::Smtp,
            110 => Protocol::Pop3,
            119 => Protocol::Nntp,
            143 => Protocol::Imap,
            389 => Protocol::Ldap,
            3306 => Protocol::Mysql,
            4190 => Protocol::Sieve,
            5222 => Protocol::Xmpp,
            5269 => Protocol::XmppServer,
            5432 => Protocol::Postgres,
            _ => return None,
        })
    }

    /// The port the protocol's servers listen on for the upgrade, by default.
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Smtp => 25,
            Protocol::Lmtp => 24,
            Protocol::Imap => 143,
            Protocol::Pop3 => 110,
            Protocol::Ftp => 21,
            Protocol::Sieve => 4190,
            Protocol::Nntp => 119,
            Protocol::Ldap => 389,
            Protocol::Postgres | Protocol::PostgresDirect => 5432,
            Protocol::Mysql => 3306,
            Protocol::Xmpp => 5222,
            Protocol::XmppServer => 5269,
        }
    }

    /// The port where the same service speaks TLS from the first byte, where there is one.
    pub fn implicit_tls_port(self) -> Option<u16> {
        match self {
            Protocol::Smtp => Some(465),
            Protocol::Imap => Some(993),
            Protocol::Pop3 => Some(995),
            Protocol::Ftp => Some(990),
            Protocol::Nntp => Some(563),
            Protocol::Ldap => Some(636),
            Protocol::Xmpp => Some(5223),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let p = match s.as_str() {
            "postgresql" | "psql" | "pgsql" => Protocol::Postgres,
            "postgresql-direct" | "postgres-17" => Protocol::PostgresDirect,
            "mariadb" => Protocol::Mysql,
            "xmpp-client" | "jabber" => Protocol::Xmpp,
            "pop" => Protocol::Pop3,
            "ldap" => Protocol::Ldap,
            other => match Protocol::ALL.into_iter().find(|p| p.as_str() == other) {
                Some(p) => p,
                None => {
                    let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.as_str()).collect();
                    return Err(format!(
                        "unknown STARTTLS protocol '{s}' (one of: {})",
                        names.join(", ")
                    ));
                }
            },
        };
        Ok(p)
    }
}

/// What the user asked for: `--starttls PROTO`, `--starttls none`, or nothing (then the URL
/// scheme or a well-known port decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    #[default]
    Auto,
    /// `--starttls none`: TLS from the first byte, whatever the port.
    Off,
    Use(Protocol),
}

impl FromStr for Choice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "off" | "no" => Ok(Choice::Off),
            "auto" => Ok(Choice::Auto),
            other => other.parse().map(Choice::Use),
        }
    }
}

/// Why the upgrade is in force: asked for, implied by the URL scheme, or by the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `--starttls PROTO`.
    Option,
    /// A URL scheme such as `smtp://` or `postgres://`.
    Scheme,
    /// A well-known port such as 587.
    Port,
    /// The port answered a TLS hello as this protocol does (its banner, or its answer to a
    /// sniffer's probe), and `check` went on through the upgrade.
    Sniffed,
}

/// The upgrade to run before TLS on every connection to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartTls {
    pub protocol: Protocol,
    /// The domain XMPP's stream header names (`to=`); default: the target's host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xmpp_host: Option<String>,
    pub source: Source,
    /// `--starttls-full`: every connection takes the full dialogue, none the pipelined form
    /// learned on the first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_dialogue: bool,
}

impl StartTls {
    pub fn new(protocol: Protocol, source: Source) -> Self {
        StartTls {
            protocol,
            xmpp_host: None,
            source,
            full_dialogue: false,
        }
    }

    /// A line for the report's notes: what is upgraded, and why.
    pub fn note(&self) -> String {
        let why = match self.source {
            Source::Option => "as asked (--starttls)".to_string(),
            Source::Scheme => "as the URL scheme implies".to_string(),
            Source::Port => format!(
                "because the port is {}'s well-known port (give --starttls none to probe TLS from the first byte)",
                self.protocol.as_str().to_ascii_uppercase()
            ),
            Source::Sniffed => format!(
                "because the port answered a TLS hello as {} does (the same as --starttls {})",
                self.protocol.as_str().to_ascii_uppercase(),
                self.protocol
            ),
        };
        if self.protocol == Protocol::PostgresDirect {
            return format!(
                "every connection speaks TLS from the first byte with ALPN \"postgresql\" in every hello (PostgreSQL direct TLS), {why}"
            );
        }
        format!(
            "every connection upgrades with {} before TLS, {why}",
            self.protocol.upgrade_name()
        )
    }

    /// The prelude the probe engine runs on every connection (one per address: what the
    /// first connection learns serves that address's later ones).
    pub fn prelude(&self) -> std::sync::Arc<dyn Prelude> {
        std::sync::Arc::new(Upgrade::new(
            self.protocol,
            self.xmpp_host
                .clone()
                .unwrap_or_else(|| "localhost".to_string()),
            !self.full_dialogue,
        ))
    }
}

/// One protocol's upgrade as a [`Prelude`]: the full dialogue until one has succeeded, then
/// the pipelined form where the protocol has one and the server allowed it (`shortcut`).
#[derive(Debug)]
pub struct Upgrade {
    pub protocol: Protocol,
    /// The XMPP domain (`to=`); unused by other protocols.
    pub domain: String,
    memory: shortcut::Memory,
}

impl Upgrade {
    /// `pipelining` false: always the full dialogue.
    pub fn new(protocol: Protocol, domain: String, pipelining: bool) -> Self {
        Upgrade {
            protocol,
            domain,
            memory: shortcut::Memory::new(
                pipelining && Self::has_pipelined_form(protocol),
                Self::early_request_of(protocol, "").is_some(),
            ),
        }
    }

    /// The protocols whose upgrade can skip a round trip. The others already wait for one
    /// answer only (LDAP, PostgreSQL, MySQL), or may not: NNTP's STARTTLS "MUST NOT be
    /// pipelined" (RFC 4642 §2.2.1), so it is never sent before the greeting or with
    /// another command, and its dialogue stays greeting, STARTTLS, 382.
    fn has_pipelined_form(protocol: Protocol) -> bool {
        matches!(
            protocol,
            Protocol::Smtp
                | Protocol::Lmtp
                | Protocol::Imap
                | Protocol::Pop3
                | Protocol::Ftp
                | Protocol::Sieve
                | Protocol::Xmpp
                | Protocol::XmppServer
        )
    }

    /// The full dialogue. Ok(true): TLS may start, and what the server said allows the
    /// pipelined form next time.
    async fn full(&self, stream: &mut TcpStream, deadline: Instant) -> Result<bool, PreludeError> {
        let always = |r: Result<(), PreludeError>| r.map(|()| true);
        match self.protocol {
            Protocol::Smtp => smtp::upgrade(stream, deadline, "EHLO").await,
            Protocol::Lmtp => smtp::upgrade(stream, deadline, "LHLO").await,
            Protocol::Imap => always(imap::upgrade(stream, deadline).await),
            Protocol::Pop3 => always(pop3::upgrade(stream, deadline).await),
            Protocol::Ftp => always(ftp::upgrade(stream, deadline).await),
            Protocol::Sieve => always(sieve::upgrade(stream, deadline).await),
            Protocol::Nntp => always(smtp::nntp_upgrade(stream, deadline).await),
            Protocol::Ldap => always(ldap::upgrade(stream, deadline).await),
            Protocol::Postgres => always(postgres::upgrade(stream, deadline).await),
            Protocol::PostgresDirect => Ok(true),
            Protocol::Mysql => always(mysql::upgrade(stream, deadline).await),
            Protocol::Xmpp => always(xmpp::upgrade(stream, deadline, &self.domain, false).await),
            Protocol::XmppServer => {
                always(xmpp::upgrade(stream, deadline, &self.domain, true).await)
            }
        }
    }

    /// What a protocol whose pipelined form goes out with the connection sends at once
    /// (IMAP, POP3, FTP and ManageSieve before the greeting, XMPP's stream header and
    /// `<starttls/>`): these try it from the first connection. None for the others (SMTP and
    /// LMTP must await the greeting and learn PIPELINING first).
    fn early_request_of(protocol: Protocol, domain: &str) -> Option<Vec<u8>> {
        Some(match protocol {
            Protocol::Imap => imap::PIPELINED.into(),
            Protocol::Pop3 => pop3::PIPELINED.into(),
            Protocol::Ftp => ftp::PIPELINED.into(),
            Protocol::Sieve => sieve::PIPELINED.into(),
            Protocol::Xmpp => xmpp::pipelined_request(domain, false).into_bytes(),
            Protocol::XmppServer => xmpp::pipelined_request(domain, true).into_bytes(),
            _ => return None,
        })
    }

    /// The answers to [`Self::early_request_of`]'s request.
    async fn early_answers(
        &self,
        stream: &mut TcpStream,
        deadline: Instant,
    ) -> Result<(), PreludeError> {
        match self.protocol {
            Protocol::Imap => imap::pipelined_answers(stream, deadline).await,
            Protocol::Pop3 => pop3::pipelined_answers(stream, deadline).await,
            Protocol::Ftp => ftp::pipelined_answers(stream, deadline).await,
            Protocol::Sieve => sieve::pipelined_answers(stream, deadline).await,
            Protocol::Xmpp | Protocol::XmppServer => {
                xmpp::pipelined_answers(stream, deadline).await
            }
            // Not reached: only the protocols with an early request are optimistic.
            _ => self.full(stream, deadline).await.map(|_| ()),
        }
    }

    /// The optimistic shortcut: the early request, then its answers, which must follow the
    /// server's first byte within [`shortcut::after_first_byte`]. The wait for that first
    /// byte may use half of what is left before `deadline`, so the full dialogue that follows
    /// a failure keeps the other half.
    async fn optimistic(
        &self,
        stream: &mut TcpStream,
        deadline: Instant,
    ) -> Result<(), PreludeError> {
        let request = Self::early_request_of(self.protocol, &self.domain).unwrap_or_default();
        reply::send_bytes(stream, deadline, &request).await?;
        let sent = Instant::now();
        let half = sent + deadline.saturating_duration_since(sent) / 2;
        let mut one = [0u8; 1];
        match tokio::time::timeout_at(half, stream.peek(&mut one)).await {
            Err(_) => return Err(PreludeError::Timeout),
            Ok(r) => r?,
        };
        let cut = deadline.min(Instant::now() + shortcut::after_first_byte(sent.elapsed()));
        tokio::time::timeout_at(cut, self.early_answers(stream, cut))
            .await
            .unwrap_or(Err(PreludeError::Timeout))
    }

    /// The learned shortcut: SMTP's and LMTP's EHLO/LHLO and STARTTLS in one write after
    /// the greeting, once an upgrade showed PIPELINING. (The protocols that speak first take
    /// [`Self::optimistic`] from the start instead.)
    async fn pipelined(
        &self,
        stream: &mut TcpStream,
        deadline: Instant,
    ) -> Result<(), PreludeError> {
        match self.protocol {
            Protocol::Smtp => smtp::pipelined(stream, deadline, "EHLO").await,
            Protocol::Lmtp => smtp::pipelined(stream, deadline, "LHLO").await,
            // Not reached: the memory of the others never learns a shortcut.
            _ => self.full(stream, deadline).await.map(|_| ()),
        }
    }
}

impl Prelude for Upgrade {
    fn name(&self) -> &str {
        self.protocol.upgrade_name()
    }

    fn required_alpn(&self) -> Option<&'static str> {
        (self.protocol == Protocol::PostgresDirect).then_some(postgres::DIRECT_ALPN)
    }

    fn run<'a>(
        &'a self,
        stream: &'a mut TcpStream,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), PreludeError>> {
        Box::pin(async move {
            let start = Instant::now();
            if let Some(budget) = self.memory.budget() {
                let r = match budget {
                    shortcut::Budget::Within(budget) => {
                        let cut = deadline.min(start + budget);
                        tokio::time::timeout_at(cut, self.pipelined(stream, cut))
                            .await
                            .unwrap_or(Err(PreludeError::Timeout))
                    }
                    shortcut::Budget::AfterFirstByte => self.optimistic(stream, deadline).await,
                };
                // Any failure, even one the full dialogue would also meet, goes back to the
                // full dialogue on a fresh connection: only that one decides a result.
                return r.map_err(|e| {
                    self.memory.give_up();
                    PreludeError::Shortcut {
                        reason: e.to_string(),
                    }
                });
            }
            let allows = self.full(stream, deadline).await?;
            self.memory.learn(start.elapsed(), allows);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases() {
        for p in Protocol::ALL {
            assert_eq!(p.as_str().parse::<Protocol>(), Ok(p));
        }
        assert_eq!("PostgreSQL".parse::<Protocol>(), Ok(Protocol::Postgres));
        assert_eq!("mariadb".parse::<Protocol>(), Ok(Protocol::Mysql));
        let err = "gopher".parse::<Protocol>().unwrap_err();
        assert!(err.contains("smtp") && err.contains("gopher"), "{err}");
    }

    #[test]
    fn well_known_ports() {
        assert_eq!(Protocol::for_port(587), Some(Protocol::Smtp));
        assert_eq!(Protocol::for_port(5432), Some(Protocol::Postgres));
        assert_eq!(Protocol::for_port(443), None);
        assert_eq!(
            Protocol::for_port(465),
            None,
            "SMTPS is TLS from the first byte"
        );
        for p in Protocol::ALL {
            if p == Protocol::PostgresDirect {
                // The same port as SSLRequest: 5432 implies the upgrade every version knows.
                assert_eq!(
                    Protocol::for_port(p.default_port()),
                    Some(Protocol::Postgres)
                );
                continue;
            }
            assert_eq!(Protocol::for_port(p.default_port()), Some(p));
        }
    }
}
