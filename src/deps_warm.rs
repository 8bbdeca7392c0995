#![allow(unused_imports)]
use {
    anyhow as _, clap as _, hex as _, hickory_resolver as _, percent_encoding as _, rcgen as _,
    ring as _, rustls as _, rustls_native_certs as _, rustls_pki_types as _, serde_json as _,
    sha1 as _, sha2 as _, thiserror as _, time as _, tokio as _, tokio_rustls as _, toml as _,
    webpki as _, webpki_roots as _, x509_parser as _,
};
