//! `check`: resolve, prepare the examination once, examine every address (measure, gather
//! evidence, diagnose), then write the fix artefacts.

use super::fanout::{self, Address};
use super::request::{CheckRequest, ClientCertFiles};
use super::{PipelineError, clients, fixes, follow, live};
use crate::doctor::{self, Evidence, Examination};
use crate::document::CheckDocument;
use crate::ocsp::QueryPolicy;
use crate::scan::{FullHandshakes, measure};

/// Diagnose every address of the request's target. Errors are about the request itself (bad
/// target, unreadable files, unknown client, fixes that cannot be written); an address that
/// cannot be examined is listed in the document's `errors`.
pub async fn check(req: &CheckRequest) -> Result<CheckDocument, PipelineError> {
    let run = req.connect.start_run();
    let (spec, targets) = fanout::resolve(&req.connect).await?;
    let trust = req.trust.with_target_default(&spec);
    let loaded = trust.load()?;
    let client_key = req.client_cert.as_ref().map(load_client_key).transpose()?;
    let extra_certs = fixes::read_pem_certs(&req.intermediates)?;
    let (clients, prepared) = tokio::join!(
        clients::for_check(req.client.as_deref()),
        live::prepare(req)
    );
    let clients = clients?;
    let prepared = prepared?;
    let examination = Examination {
        stores: loaded.stores(clients.local.as_ref()),
        profiles: clients.profiles,
        local_client: clients.local,
        client_key,
        ocsp: if req.ocsp_query {
            QueryPolicy::Always
        } else {
            QueryPolicy::WhenNotStapled
        },
    };

    let mut doc = CheckDocument::new(&req.connect.target, req.client.clone());
    doc.notes = spec.notes.clone();
    let error = req.error.as_deref();
    let audit = req.audit.as_ref();
    let record = req.live.record_disagreements.as_deref();
    let upgrade = spec.upgrade.as_ref();
    let protocol = upgrade.map(|u| u.protocol);
    let (diagnoses, errors) = fanout::each_address(&targets, &req.connect, &run, |a| {
        let examination = &examination;
        let prepared = prepared.as_ref();
        async move {
            let (mut d, mut written) =
                diagnose_one(&a, examination, prepared, error, audit, record, protocol).await?;
            // A port that is not what the target implied is examined again the way its
            // clients reach it (pipeline/follow.rs).
            follow::tls_first_instead(&a, &mut d, upgrade).await;
            let Some(detour) = follow::after(&a, &d, upgrade, req.connect.starttls).await else {
                return Ok::<_, String>((vec![d], written, None));
            };
            let note = detour.note(&a.label);
            let mut again = detour.address.clone();
            again.label = detour.label(&a.label);
            let (mut second, more) = diagnose_one(
                &again,
                examination,
                prepared,
                error,
                audit,
                record,
                detour.protocol(),
            )
            .await?;
            written.extend(more);
            second.checked.insert(0, note.clone());
            let ds = match detour.kind {
                follow::DetourKind::Through(_) => {
                    follow::explain_first(&mut d, upgrade);
                    vec![d, second]
                }
                follow::DetourKind::Direct { .. } => vec![second],
            };
            Ok((ds, written, Some(note)))
        }
    })
    .await;
    for (ds, written, note) in diagnoses {
        doc.notes.extend(note);
        doc.notes.extend(
            written
                .iter()
                .map(|p| format!("disagreement fixture written: {}", p.display())),
        );
        doc.diagnoses.extend(ds);
    }
    doc.errors = errors;
    if let Some(dir) = &req.write_fixes {
        let fetch = req
            .fetch_intermediate
            .then(|| req.connect.probe_config(&run));
        let cafile = trust.cafile.as_deref();
        fixes::write_all(
            &mut doc,
            dir,
            &extra_certs,
            cafile,
            fetch.as_ref(),
            req.replace_fixes,
        )
        .await?;
    }
    doc.partial = run.reached();
    Ok(doc)
}

/// Examine one address, diagnose it, and make the diagnosis follow what the real clients
/// did when they ran; the disagreement fixtures written come back too.
async fn diagnose_one(
    a: &Address,
    examination: &Examination,
    prepared: Option<&crate::live::Prepared>,
    error: Option<&str>,
    audit: Option<&crate::audit::AuditRequest>,
    record: Option<&std::path::Path>,
    upgrade: Option<crate::starttls::Protocol>,
) -> Result<(doctor::Diagnosis, Vec<std::path::PathBuf>), String> {
    let (ev, observed) = tokio::join!(examine(a, examination), async {
        match prepared {
            Some(p) => crate::live::observe(&a.ctx, p).await,
            None => Vec::new(),
        }
    });
    let mut d = doctor::diagnose(ev?, error);
    match (audit, d.scan.as_ref()) {
        (Some(req), Some(scan)) if super::scan::ran_every_default_check(scan) => {
            let chain = d.certificate_chain.as_ref();
            d.audit = Some(crate::audit::join(scan, chain, &mut d.findings, req));
        }
        // A grade judged on sections `--checks` left out would be wrong (as for `scan`).
        (Some(_), Some(_)) => d.checked.push(
            "no audit grade: --checks left out default checks, and a grade needs every one"
                .to_string(),
        ),
        _ => {}
    }
    // Behind an upgrade, the protocol's own clients (psql, mariadb, smtplib…) are quoted too.
    if let Some(p) = upgrade {
        crate::starttls::quote_upgrade_clients(p, &mut d.findings);
    }
    let mut written = Vec::new();
    if prepared.is_some() {
        written = live::follow(&mut d, &a.ctx, observed, record).await?;
    }
    Ok((d, written))
}

/// Examine one address: measure the server (scan and full handshakes), then gather the
/// evidence a diagnosis or a simulation rests on. Errors only when it cannot be reached.
pub async fn examine(address: &Address, with: &Examination) -> Result<Evidence, String> {
    // The profiles' hellos depend on nothing the measurement finds: they share its rounds.
    let (measured, replies) = tokio::join!(
        measure(
            &address.ctx,
            address.label.clone(),
            address.resolved.clone(),
            FullHandshakes::WithScan,
        ),
        address
            .ctx
            .prober
            .config()
            .progress
            .track("client simulations", doctor::replay(&address.ctx, with)),
    );
    doctor::gather_replayed(&address.ctx, measured, with, Some(replies)).await
}

fn load_client_key(
    files: &ClientCertFiles,
) -> Result<std::sync::Arc<rustls::sign::CertifiedKey>, PipelineError> {
    crate::cert::fetch::load_client_key(&files.cert, &files.key)
        .map_err(PipelineError::ClientCertificate)
}
