//! `check --write-fixes`: the artefacts each diagnosis calls for, with the chain completed
//! from the user's certificates and, when asked, from the issuers the server's own
//! certificates name (AIA caIssuers), written into the user's directory.
//!
//! Writing is careful because names and contents come from peers: a subdirectory per
//! address is named by [`crate::files::safe_file_name`], every file is created afresh
//! ([`crate::files::write_new`]: an existing file or a planted symbolic link is never written
//! through), nothing is written when a file is already there unless the request says to
//! replace it, and the README that lists the files escapes the peer's names in it.

use super::PipelineError;
use crate::doctor::Diagnosis;
use crate::doctor::fixes::{
    FixFile, WrittenFix, anchor_subjects, fetch_missing_issuers, fix_files,
};
use crate::document::CheckDocument;
use crate::files::{self, Existing, WriteError};
use crate::probe::{ProbeConfig, Prober};
use std::path::{Path, PathBuf};

/// Read every certificate in PEM files, with a one-line error naming a bad file.
pub(crate) fn read_pem_certs(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, PipelineError> {
    let mut out = Vec::new();
    for p in paths {
        let bad = |msg: String| PipelineError::Intermediate(msg);
        let text = files::read_input(p).map_err(|e| {
            bad(format!(
                "cannot read intermediate file {}: {e}",
                p.display()
            ))
        })?;
        let blocks = pem::parse_many(&text)
            .map_err(|e| bad(format!("intermediate file {} is not PEM: {e}", p.display())))?;
        let certs: Vec<Vec<u8>> = blocks
            .into_iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| b.into_contents())
            .collect();
        if certs.is_empty() {
            return Err(bad(format!(
                "intermediate file {} holds no certificate",
                p.display()
            )));
        }
        for (i, der) in certs.iter().enumerate() {
            if let Err(e) = x509_parser::parse_x509_certificate(der) {
                return Err(bad(format!(
                    "intermediate file {}: certificate #{} is not a valid X.509 certificate: {e}",
                    p.display(),
                    i + 1
                )));
            }
        }
        out.extend(certs);
    }
    Ok(out)
}

/// Write the fixes of every diagnosis in `doc` under `dir` (one subdirectory per address
/// when there are several). `fetch`: download missing issuers, with these deadlines (an
/// issuer URL that points at the server itself goes through a prober for it). `replace`:
/// overwrite files already there; otherwise any one of them is an error and nothing is
/// written. Files written and download notes are added to `doc`.
pub(crate) async fn write_all(
    doc: &mut CheckDocument,
    dir: &Path,
    extra_certs: &[Vec<u8>],
    cafile: Option<&Path>,
    fetch: Option<&ProbeConfig>,
    replace: bool,
) -> Result<(), PipelineError> {
    let anchors = anchor_subjects(cafile);
    let many = doc.diagnoses.len() > 1;
    let mut planned: Vec<(PathBuf, Vec<FixFile>)> = Vec::new();
    for d in &doc.diagnoses {
        let sub = if many {
            dir.join(files::safe_file_name(&d.address))
        } else {
            dir.to_path_buf()
        };
        let mut extra = extra_certs.to_vec();
        if let Some(cfg) = fetch {
            let chain = d
                .evidence
                .as_ref()
                .map(|e| e.chain_der().to_vec())
                .unwrap_or_default();
            let server = d.address.parse().ok().map(|a| Prober::new(a, cfg.clone()));
            let (have, notes) =
                fetch_missing_issuers(&chain, extra, &anchors, cfg.probe_timeout, server.as_ref())
                    .await;
            extra = have;
            doc.notes.extend(notes);
        }
        let mut planned_files = fix_files(d, &sub, &extra, &anchors);
        if !planned_files.is_empty() {
            planned_files.push(readme(d, &planned_files));
        }
        planned.push((sub, planned_files));
    }
    let existing = if replace {
        Existing::Replace
    } else {
        // Refuse before writing anything, so a refused run leaves the directory as it was.
        if let Some(path) = planned
            .iter()
            .flat_map(|(sub, fs)| fs.iter().map(move |f| sub.join(f.name)))
            .find(|p| std::fs::symlink_metadata(p).is_ok())
        {
            return Err(exists(&path));
        }
        Existing::Refuse
    };
    for (sub, planned_files) in planned {
        make_dir(&sub)?;
        for f in planned_files {
            let path = sub.join(f.name);
            files::write_new(&path, f.body.as_bytes(), false, existing).map_err(|e| match e {
                WriteError::Exists(_) => exists(&path),
                other => PipelineError::Fixes(other.to_string()),
            })?;
            doc.fixes_written.push(WrittenFix {
                path,
                purpose: f.purpose,
            });
        }
    }
    Ok(())
}

fn exists(path: &Path) -> PipelineError {
    PipelineError::Fixes(format!(
        "{} already exists; nothing was written (--force replaces existing files)",
        path.display()
    ))
}

/// Create `dir` (and its parents); a file or a symbolic link in its place is an error, so
/// the fixes land in the directory named, never where a link points.
fn make_dir(dir: &Path) -> Result<(), PipelineError> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(PipelineError::Fixes(format!(
            "cannot write fixes into {}: it is not a directory",
            dir.display()
        ))),
        Err(_) => std::fs::create_dir_all(dir)
            .map_err(|e| PipelineError::Fixes(format!("cannot create {}: {e}", dir.display()))),
    }
}

/// README.txt: what each file is for. The purposes quote certificate names, so they are
/// escaped as for a terminal (where `cat README.txt` shows them).
fn readme(d: &Diagnosis, planned: &[FixFile]) -> FixFile {
    use crate::escape::escape;
    let mut index = format!("Fixes tlsdoctor wrote for {}:\n\n", escape(&d.target));
    for f in planned {
        index.push_str(&format!("{}\n    {}\n", f.name, escape(&f.purpose)));
    }
    FixFile {
        name: "README.txt",
        body: index,
        purpose: "what each file is for".into(),
    }
}
