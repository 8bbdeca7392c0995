//! Path building: parse the certificates as sent, link them from the leaf by issuer, and find
//! where a trust store anchors the linked path. Issuer matching is done here rather than by
//! rustls-webpki because webpki cannot tell a missing intermediate from an unknown root.

use x509_parser::prelude::*;

use super::super::describe::{CertInfo, SigCheck, check_signature};
use super::super::stores::{Anchor, TrustStore};

/// A certificate the server sent, parsed and described.
pub(super) struct Parsed<'a> {
    pub cert: X509Certificate<'a>,
    pub info: CertInfo,
}

/// The sent certificates linked from the leaf (index 0 of `parsed`): indexes into `parsed`,
/// leaf first, each issued by the one before, ending at a self-signed certificate or at the
/// last one whose issuer was not sent.
pub(super) fn link(parsed: &[Parsed<'_>]) -> Vec<usize> {
    let mut path = vec![0usize];
    while path.len() < parsed.len() {
        let cur = &parsed[*path.last().unwrap_or(&0)];
        if cur.info.self_issued && cur.info.self_signed_verified {
            break;
        }
        let next =
            (0..parsed.len()).find(|j| !path.contains(j) && issued_by(&cur.cert, &parsed[*j].cert));
        match next {
            Some(j) => path.push(j),
            None => break,
        }
    }
    path
}

pub(super) fn issued_by(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    if child.issuer().as_raw() != parent.subject().as_raw() {
        return false;
    }
    let ids = (key_id(child, true), key_id(parent, false));
    if let (Some(aki), Some(ski)) = &ids
        && aki != ski
    {
        return false;
    }
    match check_signature(child, parent.public_key()) {
        SigCheck::Valid => true,
        SigCheck::Invalid => false,
        // Algorithms ring cannot check (ecdsa-with-SHA1, DSA): trust matching names, and key ids
        // when both certificates carry them.
        SigCheck::Unsupported => true,
    }
}

fn key_id(c: &X509Certificate<'_>, authority: bool) -> Option<Vec<u8>> {
    c.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) if authority => {
                a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            ParsedExtension::SubjectKeyIdentifier(k) if !authority => Some(k.0.to_vec()),
            _ => None,
        })
}

fn anchor_issued(child: &X509Certificate<'_>, a: &Anchor) -> bool {
    if child.issuer().as_raw() != a.subject_der.as_slice() {
        return false;
    }
    match SubjectPublicKeyInfo::from_der(&a.spki_der) {
        Ok((_, spki)) => check_signature(child, &spki) != SigCheck::Invalid,
        Err(_) => false,
    }
}

fn anchor_is(c: &X509Certificate<'_>, a: &Anchor) -> bool {
    c.subject().as_raw() == a.subject_der.as_slice() && c.public_key().raw == a.spki_der.as_slice()
}

/// Where a store anchors the sent path: `(position in path, anchor)`. When the anchor is the
/// certificate at that position itself (the server sent the root), the flag is true.
pub(super) fn anchor_in<'s>(
    parsed: &[Parsed<'_>],
    path: &[usize],
    store: &'s TrustStore,
) -> Option<(usize, &'s Anchor, bool)> {
    for (pos, &i) in path.iter().enumerate() {
        let c = &parsed[i].cert;
        if let Some(a) = store.roots.iter().find(|a| anchor_is(c, a)) {
            return Some((pos, a, true));
        }
        if let Some(a) = store.roots.iter().find(|a| anchor_issued(c, a)) {
            return Some((pos, a, false));
        }
    }
    None
}
