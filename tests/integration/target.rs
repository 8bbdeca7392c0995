//! Resolution against a real DNS server: dnsmasq on 127.0.0.1 at a random port, serving
//! made-up `.test` names only (`--local=/test/` makes it answer NXDOMAIN for the rest of
//! `.test` instead of forwarding anything). Every lookup passes `dns`, so nothing here asks
//! the system's resolvers or the internet.

use std::net::{IpAddr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::dns::Dnsmasq;
use tlsdoctor::target::{Host, ResolveOptions, TargetError, parse, resolve};

/// dnsmasq serving a fixed zone.
fn start_dnsmasq() -> Dnsmasq {
    let records = [
        // A good cluster: two hosts, TXT with the options drivers accept.
        "--srv-host=_mongodb._tcp.cluster.example.test,host1.example.test,27017,0,5",
        "--srv-host=_mongodb._tcp.cluster.example.test,host2.example.test,27018,1,5",
        "--txt-record=cluster.example.test,replicaSet=rs0&authSource=admin",
        // One SRV target outside example.test.
        "--srv-host=_mongodb._tcp.evil.example.test,host1.example.test,27017",
        "--srv-host=_mongodb._tcp.evil.example.test,db.attacker.test,27017",
        // Two TXT records: drivers refuse.
        "--srv-host=_mongodb._tcp.twotxt.example.test,host1.example.test,27017",
        "--txt-record=twotxt.example.test,authSource=admin",
        "--txt-record=twotxt.example.test,replicaSet=rs1",
        // A TXT option drivers do not allow there.
        "--srv-host=_mongodb._tcp.badtxt.example.test,host1.example.test,27017",
        "--txt-record=badtxt.example.test,tls=false",
        // srvServiceName=custom.
        "--srv-host=_custom._tcp.custom.example.test,host2.example.test,27019",
        // A SRV target name that has no address.
        "--srv-host=_mongodb._tcp.dangling.example.test,missing.example.test,27017",
        // Addresses.
        "--host-record=host1.example.test,127.0.0.1",
        "--host-record=host2.example.test,127.0.0.2,::1",
    ];
    Dnsmasq::start(&records)
}

/// Resolution through this dnsmasq only.
fn through(dns: &Dnsmasq) -> ResolveOptions {
    ResolveOptions {
        dns: Some(dns.addr),
        timeout: Duration::from_secs(3),
        ..Default::default()
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn srv_expansion_txt_options_and_rejections() {
    let dns = start_dnsmasq();
    let opts = through(&dns);

    // Hosts, ports and options from SRV + TXT, sorted by SRV priority.
    let spec = parse("mongodb+srv://user:pw@cluster.example.test/db?tlsCAFile=/ca.pem").unwrap();
    let got = resolve(&spec, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", dns.log()));
    let labels: Vec<String> = got.iter().map(|t| t.label()).collect();
    assert_eq!(
        labels,
        ["host1.example.test:27017", "host2.example.test:27018"]
    );
    assert_eq!(got[0].addresses, vec![ip("127.0.0.1")]);
    assert_eq!(got[0].probe, vec!["127.0.0.1:27017".parse().unwrap()]);
    assert_eq!(got[0].sni.as_deref(), Some("host1.example.test"));
    assert_eq!(got[1].sni.as_deref(), Some("host2.example.test"));
    let mut both = got[1].addresses.clone();
    both.sort();
    assert_eq!(both, vec![ip("127.0.0.2"), ip("::1")]);
    assert_eq!(got[1].probe.len(), 1);
    let m = got[0].mongo.as_ref().unwrap();
    assert_eq!(m.replica_set.as_deref(), Some("rs0"));
    assert_eq!(m.auth_source.as_deref(), Some("admin"));
    assert_eq!(m.ca_file.as_deref(), Some(std::path::Path::new("/ca.pem")));
    assert!(
        got[0]
            .notes
            .iter()
            .any(|n| n.contains("from the TXT record"))
    );
    assert!(!format!("{got:?}").contains("pw@"));

    // URI options win over TXT options.
    let spec = parse("mongodb+srv://cluster.example.test/?replicaSet=mine").unwrap();
    let got = resolve(&spec, &opts).await.unwrap();
    let m = got[0].mongo.as_ref().unwrap();
    assert_eq!(m.replica_set.as_deref(), Some("mine"));
    assert_eq!(m.auth_source.as_deref(), Some("admin"));

    // --all-addresses and --sni / --no-sni apply to SRV-expanded hosts too.
    let mut all = through(&dns);
    all.all_addresses = true;
    all.sni = Some("override.test".into());
    let got = resolve(&parse("mongodb+srv://cluster.example.test").unwrap(), &all)
        .await
        .unwrap();
    assert_eq!(got[1].probe.len(), 2);
    assert!(
        got.iter()
            .all(|t| t.sni.as_deref() == Some("override.test"))
    );

    // srvServiceName picks another SRV service label.
    let spec = parse("mongodb+srv://custom.example.test/?srvServiceName=custom").unwrap();
    let got = resolve(&spec, &opts).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].label(), "host2.example.test:27019");

    // SRV target outside the seed's parent domain: refused, naming it.
    let spec = parse("mongodb+srv://evil.example.test/").unwrap();
    let err = resolve(&spec, &opts).await.unwrap_err();
    assert!(
        matches!(&err, TargetError::SrvTargetOutsideDomain { target, domain, .. }
            if target == "db.attacker.test" && domain == "example.test"),
        "{err}"
    );
    assert!(err.to_string().contains("db.attacker.test"), "{err}");

    // TXT rules.
    let err = resolve(&parse("mongodb+srv://twotxt.example.test/").unwrap(), &opts)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("2 TXT records"), "{err}");
    let err = resolve(&parse("mongodb+srv://badtxt.example.test/").unwrap(), &opts)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("'tls' is not allowed"), "{err}");

    // No SRV record at all, and an SRV target without an address.
    let err = resolve(&parse("mongodb+srv://nosrv.example.test/").unwrap(), &opts)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TargetError::SrvNoRecords { name } if name == "_mongodb._tcp.nosrv.example.test"),
        "{err}"
    );
    let err = resolve(
        &parse("mongodb+srv://dangling.example.test/").unwrap(),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unknown host 'missing.example.test'"),
        "{err}"
    );
}

#[tokio::test]
async fn plain_and_mongodb_hosts_through_dns_option() {
    let dns = start_dnsmasq();
    let opts = through(&dns);

    let spec = parse("mongodb://host1.example.test,host2.example.test:27018/?tls=true").unwrap();
    let got = resolve(&spec, &opts).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].label(), "host1.example.test:27017");
    assert_eq!(got[1].label(), "host2.example.test:27018");
    assert_eq!(got[0].mongo.as_ref().unwrap().tls, Some(true));

    let spec = parse("https://HOST2.example.test:8443/x").unwrap();
    let mut all = through(&dns);
    all.all_addresses = true;
    let got = resolve(&spec, &all).await.unwrap();
    assert_eq!(got[0].host, Host::Name("host2.example.test".into()));
    assert_eq!(got[0].addresses.len(), 2);
    assert_eq!(got[0].probe.len(), 2);
    assert!(got[0].probe.iter().all(|sa| sa.port() == 8443));
    assert_eq!(got[0].sni.as_deref(), Some("host2.example.test"));

    // Unknown host: NXDOMAIN from the server, reported quickly and in one line.
    let started = Instant::now();
    let err = resolve(&parse("nope.example.test").unwrap(), &opts)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < opts.timeout,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        err.to_string()
            .starts_with("unknown host 'nope.example.test'"),
        "{err}"
    );
    assert!(!err.to_string().contains('\n'));
}

#[tokio::test]
async fn silent_dns_server_times_out_within_the_limit() {
    // A UDP socket that never answers (and no TCP listener on that port).
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let opts = ResolveOptions {
        dns: Some(silent.local_addr().unwrap()),
        timeout: Duration::from_millis(800),
        ..Default::default()
    };
    let started = Instant::now();
    let err = resolve(&parse("host1.example.test").unwrap(), &opts)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(matches!(err, TargetError::DnsTimeout { .. }), "{err}");
    assert!(err.to_string().contains("host1.example.test"), "{err}");

    let err = resolve(&parse("mongodb+srv://cluster.example.test").unwrap(), &opts)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(
        err.to_string()
            .contains("_mongodb._tcp.cluster.example.test"),
        "{err}"
    );
}

/// Cross-check with a real MongoDB driver: pymongo (from PyPI, in the test venv shared with
/// the OCSP tests) resolves the same seeds against the same dnsmasq and must accept or refuse
/// exactly where tlsdoctor does.
#[tokio::test]
async fn pymongo_agrees_on_srv_acceptance() {
    let python = crate::common::venv::pymongo();
    let dns = start_dnsmasq();
    let seeds = [
        "mongodb+srv://cluster.example.test/?replicaSet=mine",
        "mongodb+srv://evil.example.test/",
        "mongodb+srv://twotxt.example.test/",
        "mongodb+srv://badtxt.example.test/",
        "mongodb+srv://nosrv.example.test/",
    ];
    let script = r#"
import sys, dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]; r.port = int(sys.argv[1]); r.lifetime = 3
dns.resolver.default_resolver = r
from pymongo.uri_parser import parse_uri
for uri in sys.argv[2:]:
    try:
        res = parse_uri(uri)
        hosts = ",".join(f"{h}:{p}" for h, p in sorted(res["nodelist"]))
        print("OK", hosts, res["options"].get("replicaSet"), res["options"].get("authSource"))
    except Exception as e:
        print("ERR", type(e).__name__, str(e).replace("\n", " "))
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(dns.addr.port().to_string())
        .args(seeds)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), seeds.len(), "pymongo output: {stdout}");
    for (seed, line) in seeds.iter().zip(lines) {
        let ours = resolve(&parse(seed).unwrap(), &through(&dns)).await;
        match ours {
            Ok(targets) => {
                let mut hosts: Vec<String> = targets.iter().map(|t| t.label()).collect();
                hosts.sort();
                let m = targets[0].mongo.as_ref().unwrap();
                let want = format!(
                    "OK {} {} {}",
                    hosts.join(","),
                    m.replica_set.as_deref().unwrap_or("None"),
                    m.auth_source.as_deref().unwrap_or("None")
                );
                assert_eq!(line, want, "{seed}");
            }
            Err(e) => assert!(
                line.starts_with("ERR"),
                "{seed}: tlsdoctor refused ({e}) but pymongo accepted: {line}"
            ),
        }
    }
}
