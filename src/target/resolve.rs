//! Name resolution: SRV/TXT expansion for `mongodb+srv://`, A/AAAA lookups, SNI choice.
//!
//! With `--dns ADDR` every lookup goes to that server through hickory-resolver (UDP, TCP on
//! truncation). Without it, A/AAAA use the system resolver (`getaddrinfo`, so `/etc/hosts`
//! applies) and SRV/TXT use hickory with the system's `resolv.conf`. Every lookup is bounded by
//! `ResolveOptions::timeout`; IP literals are never looked up.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use super::mongo::{apply_txt, srv_target_domain_check};
use super::{
    Host, MongoTlsOptions, ResolveOptions, ResolvedTarget, Scheme, TargetError, TargetSpec,
};

/// Resolve every host of `spec` (SRV-expanded for `mongodb+srv://`) to the addresses to probe.
/// Returns one [`ResolvedTarget`] per host, in the order of the input (SRV targets sorted by
/// priority, then weight descending, then name).
pub async fn resolve(
    spec: &TargetSpec,
    opts: &ResolveOptions,
) -> Result<Vec<ResolvedTarget>, TargetError> {
    if !opts.no_sni
        && let Some(sni) = &opts.sni
    {
        check_sni(sni)?;
    }
    let dns = match opts.dns {
        Some(server) => Some(Dns::new(server, opts.timeout)?),
        None => None,
    };

    if spec.scheme != Scheme::MongodbSrv {
        let mut out = Vec::with_capacity(spec.hosts.len());
        for hp in &spec.hosts {
            let mut t = resolve_host(
                &hp.host,
                hp.port,
                opts,
                dns.as_ref(),
                spec.mongo.clone(),
                Vec::new(),
            )
            .await?;
            t.upgrade = spec.upgrade.clone();
            out.push(t);
        }
        return Ok(out);
    }

    // mongodb+srv: the seed's SRV records name the hosts, its TXT record adds options.
    let Some(seed) = spec.hosts.first().and_then(|hp| hp.host.name()) else {
        return Err(TargetError::MalformedUri {
            input: spec.input.clone(),
            reason: "mongodb+srv:// needs exactly one host name".into(),
        });
    };
    let srv_dns = match dns {
        Some(d) => d,
        None => Dns::system(opts.timeout)?,
    };
    let uri_opts = spec.mongo.clone().unwrap_or_default();
    let service = uri_opts.srv_service_name.as_deref().unwrap_or("mongodb");
    let srv_name = format!("_{service}._tcp.{seed}");
    let mut targets = srv_dns.srv(&srv_name).await?;
    // Target "." means "no service here" (RFC 2782); port 0 cannot be connected to.
    targets.retain(|t| !t.name.is_empty() && t.port != 0);
    if targets.is_empty() {
        return Err(TargetError::SrvNoRecords { name: srv_name });
    }
    for t in &targets {
        srv_target_domain_check(seed, &t.name).map_err(|domain| {
            TargetError::SrvTargetOutsideDomain {
                seed: seed.to_string(),
                target: t.name.clone(),
                domain,
            }
        })?;
    }
    targets.sort_by(|a, b| {
        (a.priority, std::cmp::Reverse(a.weight), &a.name, a.port).cmp(&(
            b.priority,
            std::cmp::Reverse(b.weight),
            &b.name,
            b.port,
        ))
    });
    targets.dedup_by(|a, b| a.name == b.name && a.port == b.port);

    let txt = srv_dns.txt(seed).await?;
    let (merged, mut notes) = match txt {
        Some(txt) => apply_txt(seed, &txt, &uri_opts)?,
        None => (uri_opts, Vec::new()),
    };
    notes.insert(
        0,
        format!("host from SRV record {srv_name} (seed '{seed}')"),
    );

    let mut out = Vec::with_capacity(targets.len());
    for t in &targets {
        let host = Host::Name(t.name.clone());
        // For A/AAAA, the SRV targets follow the same path as any other name.
        out.push(
            resolve_host(
                &host,
                t.port,
                opts,
                Some(&srv_dns).filter(|_| opts.dns.is_some()),
                Some(merged.clone()),
                notes.clone(),
            )
            .await?,
        );
    }
    Ok(out)
}

/// An SNI override must be something a ClientHello can carry.
fn check_sni(sni: &str) -> Result<(), TargetError> {
    let bad = |reason: &str| TargetError::InvalidSni {
        sni: sni.to_string(),
        reason: reason.to_string(),
    };
    if sni.is_empty() {
        return Err(bad("empty (use --no-sni to send no server name)"));
    }
    if sni.len() > 255 {
        return Err(bad("longer than 255 bytes"));
    }
    if sni.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains whitespace or control characters"));
    }
    Ok(())
}

async fn resolve_host(
    host: &Host,
    port: u16,
    opts: &ResolveOptions,
    dns: Option<&Dns>,
    mongo: Option<MongoTlsOptions>,
    notes: Vec<String>,
) -> Result<ResolvedTarget, TargetError> {
    let addresses = match host {
        Host::Ip(ip) => vec![*ip],
        Host::Name(name) => match dns {
            Some(dns) => dns.addresses(name).await?,
            None => system_addresses(name, port, opts.timeout).await?,
        },
    };
    let probe: Vec<SocketAddr> = if opts.all_addresses {
        addresses
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect()
    } else {
        addresses
            .first()
            .map(|ip| SocketAddr::new(*ip, port))
            .into_iter()
            .collect()
    };
    let sni = if opts.no_sni {
        None
    } else if let Some(sni) = &opts.sni {
        Some(sni.clone())
    } else {
        host.name().map(str::to_string)
    };
    Ok(ResolvedTarget {
        host: host.clone(),
        port,
        addresses,
        probe,
        sni,
        mongo,
        notes,
        upgrade: None,
    })
}

/// Keep the first occurrence of each address.
fn dedup(addrs: impl IntoIterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for a in addrs {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// A/AAAA through the operating system (getaddrinfo): honours /etc/hosts and nsswitch.
async fn system_addresses(
    name: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<IpAddr>, TargetError> {
    let lookup = tokio::net::lookup_host((name, port));
    match tokio::time::timeout(timeout, lookup).await {
        Err(_) => Err(TargetError::DnsTimeout {
            name: name.to_string(),
            what: "addresses".into(),
            timeout,
        }),
        Ok(Err(e)) => Err(TargetError::UnknownHost {
            host: name.to_string(),
            detail: e.to_string(),
        }),
        Ok(Ok(addrs)) => {
            let addrs = dedup(addrs.map(|sa| sa.ip()));
            if addrs.is_empty() {
                Err(TargetError::UnknownHost {
                    host: name.to_string(),
                    detail: "the system resolver returned no addresses".into(),
                })
            } else {
                Ok(addrs)
            }
        }
    }
}

/// One SRV record's target.
struct SrvTarget {
    name: String,
    port: u16,
    priority: u16,
    weight: u16,
}

/// A hickory resolver plus the description used in messages.
struct Dns {
    resolver: TokioResolver,
    server: String,
    timeout: Duration,
}

impl Dns {
    /// A resolver that asks only `server` (UDP, falling back to TCP), ignoring /etc/hosts.
    fn new(server: SocketAddr, timeout: Duration) -> Result<Dns, TargetError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = server.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = server.port();
        let ns = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
        let config = ResolverConfig::from_name_servers(vec![ns]);
        let mut ropts = resolver_opts(timeout);
        ropts.use_hosts_file = ResolveHosts::Never;
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(ropts)
            .build()
            .map_err(|e| TargetError::Dns {
                name: server.to_string(),
                what: "resolver setup".into(),
                detail: e.to_string(),
            })?;
        Ok(Dns {
            resolver,
            server: format!("DNS server {server}"),
            timeout,
        })
    }

    /// A resolver configured from the system (resolv.conf), for SRV/TXT without `--dns`.
    fn system(timeout: Duration) -> Result<Dns, TargetError> {
        let setup_err = |e: NetError| TargetError::Dns {
            name: "system resolver".into(),
            what: "resolver setup (/etc/resolv.conf)".into(),
            detail: e.to_string(),
        };
        let mut builder = TokioResolver::builder_tokio().map_err(setup_err)?;
        *builder.options_mut() = resolver_opts(timeout);
        let resolver = builder.build().map_err(setup_err)?;
        Ok(Dns {
            resolver,
            server: "the system's DNS servers".into(),
            timeout,
        })
    }

    /// Run one lookup under the timeout; `Ok(None)` when the name or records do not exist.
    async fn bounded<T>(
        &self,
        name: &str,
        what: &str,
        fut: impl Future<Output = Result<T, NetError>>,
    ) -> Result<Option<T>, TargetError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => Err(self.timeout_error(name, what)),
            Ok(Ok(v)) => Ok(Some(v)),
            Ok(Err(e)) if e.is_no_records_found() || e.is_nx_domain() => Ok(None),
            Ok(Err(NetError::Timeout)) => Err(self.timeout_error(name, what)),
            Ok(Err(e)) => Err(TargetError::Dns {
                name: name.to_string(),
                what: format!("{what} at {}", self.server),
                detail: e.to_string(),
            }),
        }
    }

    fn timeout_error(&self, name: &str, what: &str) -> TargetError {
        TargetError::DnsTimeout {
            name: name.to_string(),
            what: format!("{what} at {}", self.server),
            timeout: self.timeout,
        }
    }

    async fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, TargetError> {
        let found = self
            .bounded(name, "A/AAAA", self.resolver.lookup_ip(fqdn(name)))
            .await?;
        let addrs = found.map(|l| dedup(l.iter())).unwrap_or_default();
        if addrs.is_empty() {
            return Err(TargetError::UnknownHost {
                host: name.to_string(),
                detail: format!("no A/AAAA records at {}", self.server),
            });
        }
        Ok(addrs)
    }

    async fn srv(&self, name: &str) -> Result<Vec<SrvTarget>, TargetError> {
        let found = self
            .bounded(name, "SRV", self.resolver.srv_lookup(fqdn(name)))
            .await?;
        let Some(lookup) = found else {
            return Ok(Vec::new());
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some(SrvTarget {
                    name: srv
                        .target
                        .to_ascii()
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                    port: srv.port,
                    priority: srv.priority,
                    weight: srv.weight,
                }),
                _ => None,
            })
            .collect())
    }

    /// The seed's TXT record, its strings concatenated; at most one record is allowed.
    async fn txt(&self, name: &str) -> Result<Option<String>, TargetError> {
        let found = self
            .bounded(name, "TXT", self.resolver.txt_lookup(fqdn(name)))
            .await?;
        let Some(lookup) = found else {
            return Ok(None);
        };
        let records: Vec<String> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect();
        match records.len() {
            0 => Ok(None),
            1 => Ok(records.into_iter().next()),
            n => Err(TargetError::SrvTxtInvalid {
                name: name.to_string(),
                reason: format!("{n} TXT records found, at most one is allowed"),
            }),
        }
    }
}

fn resolver_opts(timeout: Duration) -> ResolverOpts {
    let mut o = ResolverOpts::default();
    // Two tries within the caller's budget; the outer tokio timeout is the hard limit.
    o.timeout = (timeout / 2).max(Duration::from_millis(50));
    o.attempts = 2;
    o.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    o
}

/// Absolute name, so no search domains are tried.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn ip_literals_are_not_resolved_and_get_no_sni() {
        let spec = parse("[::1]:8443").unwrap();
        // An unreachable DNS server proves no lookup happens for literals.
        let opts = ResolveOptions {
            dns: Some("127.0.0.1:9".parse().unwrap()),
            ..Default::default()
        };
        let got = rt().block_on(resolve(&spec, &opts)).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].addresses, vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]);
        assert_eq!(
            got[0].probe,
            vec!["[::1]:8443".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(got[0].sni, None);
        assert_eq!(got[0].label(), "[::1]:8443");
    }

    #[test]
    fn system_resolver_uses_etc_hosts_and_sni_rules() {
        let spec = parse("localhost:4433").unwrap();
        let got = rt()
            .block_on(resolve(&spec, &ResolveOptions::default()))
            .unwrap();
        assert_eq!(got[0].label(), "localhost:4433");
        assert!(
            got[0].addresses.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "{:?}",
            got[0].addresses
        );
        assert_eq!(got[0].probe.len(), 1);
        assert_eq!(got[0].sni.as_deref(), Some("localhost"));

        let all = ResolveOptions {
            all_addresses: true,
            sni: Some("other.test".into()),
            ..Default::default()
        };
        let got = rt().block_on(resolve(&spec, &all)).unwrap();
        assert_eq!(got[0].probe.len(), got[0].addresses.len());
        assert_eq!(got[0].sni.as_deref(), Some("other.test"));

        let none = ResolveOptions {
            no_sni: true,
            sni: Some("ignored.test".into()),
            ..Default::default()
        };
        let got = rt().block_on(resolve(&spec, &none)).unwrap();
        assert_eq!(got[0].sni, None);

        let ip = parse("127.0.0.1").unwrap();
        let forced = ResolveOptions {
            sni: Some("forced.test".into()),
            ..Default::default()
        };
        let got = rt().block_on(resolve(&ip, &forced)).unwrap();
        assert_eq!(got[0].sni.as_deref(), Some("forced.test"));

        let bad = ResolveOptions {
            sni: Some(String::new()),
            ..Default::default()
        };
        let err = rt().block_on(resolve(&ip, &bad)).unwrap_err();
        assert!(err.to_string().contains("--no-sni"), "{err}");
    }
}
