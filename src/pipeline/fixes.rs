//! `check --write-fixes`: the artefacts each diagnosis calls for, with the chain completed
//! from the user's certificates and, when asked, from the issuers the server's own
//! certificates name (AIA caIssuers).

use super::PipelineError;
use crate::doctor::fixes::{anchor_subjects, fetch_missing_issuers, write_fixes};
use crate::document::CheckDocument;
use crate::probe::{ProbeConfig, Prober};
use std::path::{Path, PathBuf};

/// Read every certificate in PEM files, with a one-line error naming a bad file.
pub(crate) fn read_pem_certs(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, PipelineError> {
    let mut out = Vec::new();
    for p in paths {
        let bad = |msg: String| PipelineError::Intermediate(msg);
        let text =
            std::fs::read(p).map_err(|e| bad(format!("cannot read {}: {e}", p.display())))?;
        let blocks =
            pem::parse_many(&text).map_err(|e| bad(format!("{} is not PEM: {e}", p.display())))?;
        let certs: Vec<Vec<u8>> = blocks
            .into_iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| b.into_contents())
            .collect();
        if certs.is_empty() {
            return Err(bad(format!("{} holds no certificate", p.display())));
        }
        out.extend(certs);
    }
    Ok(out)
}

/// Write the fixes of every diagnosis in `doc` under `dir` (one subdirectory per address
/// when there are several). `fetch`: download missing issuers, with these deadlines (an
/// issuer URL that points at the server itself goes through a prober for it). Files written
/// and download notes are added to `doc`.
pub(crate) async fn write_all(
    doc: &mut CheckDocument,
    dir: &Path,
    extra_certs: &[Vec<u8>],
    cafile: Option<&Path>,
    fetch: Option<&ProbeConfig>,
) -> Result<(), PipelineError> {
    let anchors = anchor_subjects(cafile);
    let many = doc.diagnoses.len() > 1;
    for d in &doc.diagnoses {
        let sub = if many {
            dir.join(d.address.replace([':', '[', ']'], "_"))
        } else {
            dir.to_path_buf()
        };
        let mut extra = extra_certs.to_vec();
        if let Some(cfg) = fetch {
            let chain = d
                .evidence
                .as_ref()
                .map(|e| e.chain_der.clone())
                .unwrap_or_default();
            let server = d.address.parse().ok().map(|a| Prober::new(a, cfg.clone()));
            let (have, notes) =
                fetch_missing_issuers(&chain, extra, &anchors, cfg.probe_timeout, server.as_ref())
                    .await;
            extra = have;
            doc.notes.extend(notes);
        }
        let written = write_fixes(d, &sub, &extra, &anchors).map_err(PipelineError::Fixes)?;
        doc.fixes_written.extend(written);
    }
    Ok(())
}
