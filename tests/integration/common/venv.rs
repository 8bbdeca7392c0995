//! Python virtual environments for tests that need a client or server from PyPI: made under
//! target/test-venv/NAME on first use and reused afterwards.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The venv's python, after `pip install PIP_ARGS` if `import_check` (a Python statement such
/// as `import tlslite`) does not already succeed in it.
pub fn python_venv(name: &str, pip_args: &[&str], import_check: &str) -> PathBuf {
    // Tests that share a venv run at once: on a fresh clone two of them would make it and
    // pip-install into it together, and one could see it half made. One at a time.
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-venv")
        .join(name);
    let py = venv.join("bin/python");
    let ready = |py: &PathBuf| {
        Command::new(py)
            .args(["-c", import_check])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&py) {
        let st = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(st.success(), "cannot create the venv at {}", venv.display());
        let st = Command::new(&py)
            .args(["-m", "pip", "install", "-q"])
            .args(pip_args)
            .status()
            .expect("pip install");
        assert!(st.success(), "pip install {} failed", pip_args.join(" "));
    }
    assert!(ready(&py), "`{import_check}` fails in {}", venv.display());
    py
}

/// The venv with the real PyMongo, its `ocsp` extra (pyOpenSSL) and dnspython (for
/// mongodb+srv:// look-ups): `pip install 'pymongo[ocsp]' dnspython` once.
pub fn pymongo() -> &'static PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        python_venv(
            "pymongo",
            &["pymongo[ocsp]", "dnspython"],
            "import pymongo, OpenSSL, pymongo.ocsp_support, dns.resolver",
        )
    })
}
