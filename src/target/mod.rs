//! Targets: what the user asked us to connect to, and where that actually is.
//!
//! Two steps, kept apart so the first one can be tested without any network:
//! - [`parse`] turns the user's text (`host`, `host:port`, `[v6]:port`, `https://…`,
//!   `mongodb://…`, `mongodb+srv://…`) into a [`TargetSpec`]. Pure, no I/O.
//! - [`resolve`] turns a spec into concrete [`ResolvedTarget`]s: SRV/TXT expansion for
//!   `mongodb+srv://`, A/AAAA (or the system resolver), the addresses to probe and the SNI name.
//!
//! Secrets in the input (URI passwords, `tlsCertificateKeyFilePassword`) are never stored:
//! the spec keeps a redacted copy of the input, so `Debug`, `Display` and `Serialize` are safe.

pub(crate) mod mongo;
mod parse;
mod resolve;
mod service;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Serialize, Serializer};

pub use parse::parse;
pub use resolve::resolve;

/// Port used when the input names none (plain targets and `https://`).
pub const DEFAULT_PORT: u16 = 443;
/// Port used for `mongodb://` hosts without a port (and for SRV seeds, which carry none).
pub const MONGODB_DEFAULT_PORT: u16 = 27017;

/// How the target was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// `host`, `host:port`, `[v6]:port`, `::1`.
    Plain,
    /// `https://host[:port][/path]`.
    Https,
    /// `mongodb://h1[:p1][,h2[:p2]…][/db][?options]`.
    Mongodb,
    /// `mongodb+srv://host[/db][?options]`: hosts come from DNS SRV records.
    MongodbSrv,
    /// A service URL (`smtp://`, `imaps://`, `postgres://`, …): see [`ServiceUrl`].
    Service,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Plain => "plain",
            Scheme::Https => "https",
            Scheme::Mongodb => "mongodb",
            Scheme::MongodbSrv => "mongodb+srv",
            Scheme::Service => "service",
        }
    }
}

/// A host: a DNS name (lower-cased, without trailing dot) or an IP literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl Host {
    /// The DNS name, if this host is one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Host::Name(n) => Some(n),
            Host::Ip(_) => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl Serialize for Host {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A host and the port to use on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct HostPort {
    pub host: Host,
    pub port: u16,
}

impl fmt::Display for HostPort {
    /// `host:port`, with IPv6 literals bracketed: `[::1]:443`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]:{}", self.port),
            h => write!(f, "{h}:{}", self.port),
        }
    }
}

/// The TLS-related options of a MongoDB connection string, typed, plus the few connection
/// options that change which servers are contacted. Holds no secrets: a key-file password is
/// only recorded as "was given".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MongoTlsOptions {
    /// `tls=` / `ssl=` as written; `None` when absent (for `mongodb+srv://` absent means true).
    pub tls: Option<bool>,
    /// `tlsCAFile`.
    pub ca_file: Option<PathBuf>,
    /// `tlsCertificateKeyFile`: client certificate and key, PEM.
    pub cert_key_file: Option<PathBuf>,
    /// `tlsCertificateKeyFilePassword` was present (its value is discarded).
    pub cert_key_password_set: bool,
    /// `tlsAllowInvalidHostnames`.
    pub allow_invalid_hostnames: bool,
    /// `tlsAllowInvalidCertificates`.
    pub allow_invalid_certificates: bool,
    /// `tlsInsecure` (drivers treat it as both "allow invalid" options and no revocation checks).
    pub insecure: bool,
    /// `tlsDisableOCSPEndpointCheck`.
    pub disable_ocsp_endpoint_check: bool,
    /// `tlsDisableCertificateRevocationCheck`.
    pub disable_revocation_check: bool,
    /// `replicaSet` (from the URI, or from the SRV seed's TXT record).
    pub replica_set: Option<String>,
    /// `authSource` (from the URI, or from the SRV seed's TXT record).
    pub auth_source: Option<String>,
    /// `loadBalanced` (from the URI, or from the SRV seed's TXT record).
    pub load_balanced: Option<bool>,
    /// `srvServiceName`: SRV service label, default `mongodb` (`_mongodb._tcp.<host>`).
    pub srv_service_name: Option<String>,
}

impl MongoTlsOptions {
    /// Whether the driver would speak TLS at all for this scheme.
    pub fn tls_enabled(&self, scheme: Scheme) -> bool {
        self.tls.unwrap_or(scheme == Scheme::MongodbSrv)
    }

    /// Whether certificate-chain errors are ignored (`tlsAllowInvalidCertificates` or `tlsInsecure`).
    pub fn effective_allow_invalid_certificates(&self) -> bool {
        self.allow_invalid_certificates || self.insecure
    }

    /// Whether host-name mismatches are ignored (`tlsAllowInvalidHostnames` or `tlsInsecure`).
    pub fn effective_allow_invalid_hostnames(&self) -> bool {
        self.allow_invalid_hostnames || self.insecure
    }
}

/// What a service URL's scheme says about TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceUrl {
    /// The scheme as written, lower-cased (`smtp`, `imaps`, `postgresql`).
    pub scheme: String,
    /// The upgrade it implies; none: TLS from the first byte (`smtps://`, `imaps://`, …).
    pub upgrade: Option<crate::starttls::Protocol>,
    /// The TLS mode the URL sets (`sslmode=require`, `ssl-mode=REQUIRED`), as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// A parsed target. `input` is the user's text with secrets replaced by `****`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetSpec {
    /// The input, redacted (passwords never appear here).
    pub input: String,
    pub scheme: Scheme,
    /// Hosts as written. For `mongodb+srv://` this is the single SRV seed name with port
    /// 27017 as a placeholder: the real hosts and ports come from [`resolve`].
    pub hosts: Vec<HostPort>,
    /// Present for `mongodb://` and `mongodb+srv://`.
    pub mongo: Option<MongoTlsOptions>,
    /// Present for service URLs (`smtp://`, `postgres://`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceUrl>,
    /// The plaintext upgrade before TLS, once [`TargetSpec::choose_upgrade`] decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<crate::starttls::StartTls>,
    /// Warnings about the input worth showing the user (e.g. a MongoDB URI without `tls=true`).
    pub notes: Vec<String>,
}

impl TargetSpec {
    /// Decide the upgrade every connection runs before TLS: `--starttls` when given, else
    /// what a service URL's scheme implies, else a plain target's well-known port (587 is
    /// SMTP submission, 5432 PostgreSQL, …). The decision is noted for the report.
    pub fn choose_upgrade(&mut self, choice: crate::starttls::Choice, xmpp_host: Option<&str>) {
        use crate::starttls::{Choice, Protocol, Source, StartTls};
        let port = self.hosts.first().map(|h| h.port);
        let chosen = match choice {
            Choice::Off => None,
            Choice::Use(p) => Some(StartTls::new(p, Source::Option)),
            Choice::Auto => match (&self.service, self.scheme) {
                (Some(s), _) => s.upgrade.map(|p| StartTls::new(p, Source::Scheme)),
                (None, Scheme::Plain) => port
                    .and_then(Protocol::for_port)
                    .map(|p| StartTls::new(p, Source::Port)),
                _ => None,
            },
        };
        self.upgrade = chosen.map(|mut u| {
            u.xmpp_host = xmpp_host
                .map(str::to_string)
                .or_else(|| self.hosts.first().map(|h| h.host.to_string()));
            self.notes.push(u.note());
            u
        });
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

/// How to resolve a [`TargetSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOptions {
    /// DNS server to ask (`--dns ADDR`). `None`: the system resolver for A/AAAA (so
    /// `/etc/hosts` works) and the system's configured name servers for SRV/TXT.
    pub dns: Option<SocketAddr>,
    /// `--sni NAME`: send this server name instead of the host name.
    pub sni: Option<String>,
    /// `--no-sni`: send no server name at all (wins over `sni`).
    pub no_sni: bool,
    /// `--all-addresses`: probe every resolved address, not just the first.
    pub all_addresses: bool,
    /// Limit for each DNS lookup.
    pub timeout: Duration,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        ResolveOptions {
            dns: None,
            sni: None,
            no_sni: false,
            all_addresses: false,
            timeout: Duration::from_secs(5),
        }
    }
}

/// One concrete endpoint to probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedTarget {
    pub host: Host,
    pub port: u16,
    /// Every address the name resolved to, in resolver order, without duplicates.
    pub addresses: Vec<IpAddr>,
    /// The addresses to probe: the first one, or all of them with `all_addresses`.
    pub probe: Vec<SocketAddr>,
    /// Server name to send in the ClientHello; never an IP literal unless given with `--sni`.
    pub sni: Option<String>,
    /// MongoDB options in effect for this host (URI options over TXT-record options).
    pub mongo: Option<MongoTlsOptions>,
    /// What resolution found worth telling (e.g. options taken from the TXT record).
    pub notes: Vec<String>,
    /// The upgrade before TLS on every connection (the spec's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<crate::starttls::StartTls>,
}

impl ResolvedTarget {
    /// `host:port`, or `[v6]:port` for IPv6 literals.
    pub fn label(&self) -> String {
        HostPort {
            host: self.host.clone(),
            port: self.port,
        }
        .to_string()
    }
}

/// Why a target could not be parsed or resolved. Every message is one line and names the
/// offending input (redacted when it may hold credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("empty target: give a host, host:port, https://… or mongodb://… URI")]
    Empty,
    #[error(
        "unsupported scheme '{scheme}://' in '{input}': use host[:port], https://, mongodb://, mongodb+srv://, or a service URL (smtp://, imap://, pop3://, ftp://, ldap://, postgres://, mysql://, xmpp://, smtps://, imaps://, pop3s://, ldaps://, ftps://)"
    )]
    UnsupportedScheme { input: String, scheme: String },
    #[error("'{input}' is plain HTTP, not a TLS endpoint: tlsdoctor needs TLS, try '{suggestion}'")]
    PlainHttp { input: String, suggestion: String },
    #[error("malformed URI '{input}': {reason}")]
    MalformedUri { input: String, reason: String },
    #[error("invalid host '{host}' in '{input}': {reason}")]
    InvalidHost {
        input: String,
        host: String,
        reason: String,
    },
    #[error("invalid port '{port}' in '{input}': not a number (valid ports are 1-65535)")]
    PortNotNumeric { input: String, port: String },
    #[error("port out of range in '{input}': {port} (valid ports are 1-65535)")]
    PortOutOfRange { input: String, port: String },
    #[error("invalid option '{option}' in '{input}': {reason}")]
    InvalidOption {
        input: String,
        option: String,
        reason: String,
    },
    #[error("unknown host '{host}'{}", detail_suffix(.detail))]
    UnknownHost { host: String, detail: String },
    #[error("DNS lookup of {what} for '{name}' timed out after {}", fmt_duration(.timeout))]
    DnsTimeout {
        name: String,
        what: String,
        timeout: Duration,
    },
    #[error("DNS lookup of {what} for '{name}' failed: {detail}")]
    Dns {
        name: String,
        what: String,
        detail: String,
    },
    #[error(
        "no SRV records at '{name}': the mongodb+srv:// host has no {name} SRV record (check the host name, or use mongodb:// with explicit hosts)"
    )]
    SrvNoRecords { name: String },
    #[error(
        "SRV record target '{target}' is not inside '{domain}' (required for seed '{seed}'): MongoDB drivers refuse such SRV results"
    )]
    SrvTargetOutsideDomain {
        seed: String,
        target: String,
        domain: String,
    },
    #[error("TXT record of '{name}' is invalid for mongodb+srv: {reason}")]
    SrvTxtInvalid { name: String, reason: String },
    #[error("invalid --sni value '{sni}': {reason}")]
    InvalidSni { sni: String, reason: String },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

fn fmt_duration(d: &Duration) -> String {
    if d.as_millis() % 1000 == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
