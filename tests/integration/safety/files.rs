//! What tlsdoctor reads and writes, end to end from the command line: `--write-fixes` stays
//! in its directory and never replaces a file without `--force`; the lab's client key is
//! written 0600 and the lab refuses to listen beyond loopback; CA files, intermediates and
//! client certificates or keys that are missing, directories, too large or malformed end in
//! one clear line and exit 2.

use super::hostile_pki::HostilePki;
use crate::common::cli::{Run, tlsdoctor};
use crate::common::pki::Pki;
use crate::common::servers::openssl_s_server_with;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// A run that could not start: exit 2, one line on stderr naming `names`, nothing else.
fn assert_refused(run: &Run, names: &str, why: &str) {
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
    assert!(lines[0].starts_with("tlsdoctor: error: "), "{}", run.stderr);
    assert!(lines[0].contains(names), "names {names}: {}", run.stderr);
    assert!(lines[0].contains(why), "says {why:?}: {}", run.stderr);
}

/// Bad input files of every kind, each with what the error must say about it.
fn bad_files(dir: &Path) -> Vec<(String, &'static str)> {
    let d = |n: &str| dir.join(n).to_str().unwrap().to_string();
    std::fs::write(d("garbage.pem"), "hello, not a certificate\n").unwrap();
    std::fs::write(
        d("junk-der.pem"),
        "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(
        d("bad-base64.pem"),
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(
        d("binary.pem"),
        [0xffu8, 0x00, 0x30, 0x82, 0xff, 0xff, 0x1b],
    )
    .unwrap();
    // Sparse: 11 MiB on paper, nothing on disk.
    std::fs::File::create(d("huge.pem"))
        .unwrap()
        .set_len(11 * 1024 * 1024)
        .unwrap();
    std::fs::create_dir(d("a-directory")).unwrap();
    vec![
        (d("missing.pem"), "No such file"),
        (d("a-directory"), "directory"),
        (d("huge.pem"), "larger than 10 MiB"),
        ("/dev/zero".to_string(), "larger than 10 MiB"),
        (d("garbage.pem"), ""),
        (d("junk-der.pem"), ""),
        (d("bad-base64.pem"), ""),
        (d("binary.pem"), ""),
    ]
}

#[test]
fn bad_ca_files_and_intermediates_end_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (path, why) in bad_files(dir.path()) {
        for (cmd, flag) in [
            ("check", "--cafile"),
            ("simulate", "--cafile"),
            ("check", "--intermediate"),
        ] {
            let start = Instant::now();
            // Nothing listens on port 1: the files are read before any connection.
            let run = tlsdoctor(&[cmd, "127.0.0.1:1", flag, &path, "--timeout", "2"]);
            assert_refused(&run, &path, why);
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{cmd} {flag} {path}"
            );
        }
    }
}

#[test]
fn bad_client_certificates_and_keys_end_in_one_line() {
    let pki = Pki::build();
    let cert = pki.path("good.pem");
    let key = pki.path("good.key");
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let dir = tempfile::tempdir().unwrap();
    for (path, why) in bad_files(dir.path()) {
        let run = tlsdoctor(&["check", "127.0.0.1:1", "--cert", &path, "--key", key]);
        assert_refused(&run, &path, why);
        let run = tlsdoctor(&["check", "127.0.0.1:1", "--cert", cert, "--key", &path]);
        assert_refused(&run, &path, why);
    }
    // A key that belongs to another certificate.
    let other = pki.path("expired.key");
    let run = tlsdoctor(&[
        "check",
        "127.0.0.1:1",
        "--cert",
        cert,
        "--key",
        other.to_str().unwrap(),
    ]);
    assert_refused(&run, "does not belong", "expired.key");
}

/// A server that sends its leaf without the intermediate: `check` writes fullchain.pem.
fn leaf_only_server(pki: &Pki) -> crate::common::servers::ServerProcess {
    openssl_s_server_with(&[], &pki.path("good.pem"), &pki.path("good.key"), None)
}

fn write_fixes(target: &str, root: &Path, dir: &Path, more: &[&str]) -> Run {
    let mut args = vec![
        "check",
        target,
        "--cafile",
        root.to_str().unwrap(),
        "--write-fixes",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    tlsdoctor(&args)
}

#[test]
fn write_fixes_never_replaces_a_file_without_force() {
    let pki = Pki::build();
    let server = leaf_only_server(&pki);
    let target = format!("localhost:{}", server.port);
    let root = pki.path("root.pem");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("fixes");

    let first = write_fixes(&target, &root, &dir, &[]);
    assert_eq!(first.code, 1, "{}\n{}", first.stdout, first.stderr);
    let chain = dir.join("fullchain.pem");
    assert!(
        std::fs::read_to_string(&chain)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );

    // The user's own edit survives a second run, which writes nothing at all.
    std::fs::write(&chain, "my edited chain\n").unwrap();
    std::fs::remove_file(dir.join("README.txt")).unwrap();
    let again = write_fixes(&target, &root, &dir, &[]);
    assert_refused(&again, "fullchain.pem", "--force");
    assert_eq!(
        std::fs::read_to_string(&chain).unwrap(),
        "my edited chain\n"
    );
    assert!(
        !dir.join("README.txt").exists(),
        "a refused run writes nothing"
    );

    let forced = write_fixes(&target, &root, &dir, &["--force"]);
    assert_eq!(forced.code, 1, "{}\n{}", forced.stdout, forced.stderr);
    assert!(
        std::fs::read_to_string(&chain)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(dir.join("README.txt").exists());
}

#[test]
fn write_fixes_never_writes_through_a_link() {
    let pki = Pki::build();
    let server = leaf_only_server(&pki);
    let target = format!("localhost:{}", server.port);
    let root = pki.path("root.pem");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("fixes");
    std::fs::create_dir(&dir).unwrap();
    let victim = out.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").unwrap();
    let link = dir.join("fullchain.pem");
    std::os::unix::fs::symlink(&victim, &link).unwrap();

    let run = write_fixes(&target, &root, &dir, &[]);
    assert_refused(&run, "fullchain.pem", "already exists");
    let run = write_fixes(&target, &root, &dir, &["--force"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.is_file(), "the link was replaced by a file of our own");

    // A link in place of the fixes directory itself is refused too.
    let elsewhere = tempfile::tempdir().unwrap();
    let linked_dir = out.path().join("linked");
    std::os::unix::fs::symlink(elsewhere.path(), &linked_dir).unwrap();
    let run = write_fixes(&target, &root, &linked_dir, &[]);
    assert_refused(&run, "linked", "not a directory");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn write_fixes_escapes_peer_names_in_what_it_writes() {
    // The hostile leaf without its CA: the chain is incomplete and fullchain.pem's purpose,
    // listed in README.txt, quotes the missing issuer's hostile name.
    let pki = HostilePki::build();
    let server = openssl_s_server_with(&[], &pki.path("leaf.pem"), &pki.path("leaf.key"), None);
    let out = tempfile::tempdir().unwrap();
    let run = tlsdoctor(&[
        "check",
        &format!("localhost:{}", server.port),
        "--write-fixes",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let readme = std::fs::read_to_string(out.path().join("README.txt")).unwrap();
    assert!(readme.contains("Hostile CA \\x1b[31mred"), "{readme}");
    assert!(!readme.contains('\x1b'), "{readme:?}");
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let name = entry.unwrap().file_name();
        let name = name.to_str().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "{name:?}"
        );
    }
}

#[test]
fn lab_writes_its_client_key_private_and_listens_on_loopback_only() {
    for addr in ["0.0.0.0", "192.0.2.1", "::"] {
        let run = tlsdoctor(&["lab", "--listen", addr]);
        assert_refused(&run, addr, "loopback only");
    }

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("tlsdoctor-lab-client.key");
    // A key left world-readable by someone else is replaced by a private one.
    std::fs::write(&key, "old").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut lab = std::process::Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
        .args(["lab", "--write-ca"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let root = dir.path().join("tlsdoctor-lab-root.pem");
    while !(root.exists() && std::fs::read_to_string(&key).is_ok_and(|k| k.contains("KEY")))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = lab.kill();
    let _ = lab.wait();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    assert_eq!(mode(&key), 0o600, "the client key is private");
}
