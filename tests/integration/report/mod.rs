//! Reports people hand on (issue 18): `--format markdown` and `--format html`, with `-o FILE`,
//! for `check`, `scan` and `simulate` against the built-in lab and real servers. Markdown is
//! parsed as GitHub-flavoured Markdown and compared with recorded snapshots; HTML is rendered
//! in a real headless Chromium, whose DOM is read back and whose network use is watched.

mod html;
mod markdown;
mod progress;

use std::path::PathBuf;
use tlsdoctor::lab::{Lab, LabOptions};

/// The built-in lab, in process, with its root CA written to a temporary directory.
pub struct LabRun {
    pub lab: Lab,
    pub root: PathBuf,
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl LabRun {
    pub fn start() -> LabRun {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let opts = LabOptions {
            write_ca: Some(dir.path().to_path_buf()),
            ..LabOptions::default()
        };
        let lab = rt.block_on(Lab::start(&opts)).expect("lab starts");
        let root = lab.root_ca_path.clone().expect("root CA written");
        // The lab's certificates are whole days from their dates, counted from the second it
        // made them; in that same second every "days left" would be one more.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        LabRun {
            lab,
            root,
            _dir: dir,
            _rt: rt,
        }
    }

    /// The `check` arguments for one endpoint: address, its SNI (or none), the lab root.
    pub fn check_args(&self, endpoint: &str) -> Vec<String> {
        let e = self
            .lab
            .endpoints
            .iter()
            .find(|e| e.name == endpoint)
            .unwrap_or_else(|| panic!("no lab endpoint {endpoint}"));
        // No SNI in the catalogue: connect by IP address, which sends none.
        let mut args = vec![e.addr.to_string()];
        if let Some(sni) = &e.sni {
            args.extend(["--sni".to_string(), sni.clone()]);
        }
        args.extend(["--cafile".to_string(), self.root.display().to_string()]);
        args
    }
}
