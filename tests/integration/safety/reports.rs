//! Markdown and HTML reports of a server whose names are hostile (control characters,
//! `<script>`, Markdown syntax): nothing the peer sent becomes markup or script, and the HTML
//! rendered in Chromium has no element the report did not make.

use super::hostile_pki::HostilePki;
use crate::common::cli::tlsdoctor;

fn report(format: &str, ca: &str, target: &str) -> String {
    let run = tlsdoctor(&["check", target, "--cafile", ca, "--format", format]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.stdout
}

#[test]
fn hostile_names_stay_text_in_markdown_and_html() {
    let pki = HostilePki::build();
    let server = pki.server();
    let target = format!("localhost:{}", server.port);
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().unwrap();

    let md = report("markdown", ca, &target);
    assert!(!md.contains("<script"), "{md}");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
    assert!(!md.chars().any(|c| (c as u32) < 0x20 && c != '\n'), "{md}");
    assert!(!md.contains('\u{202e}'), "{md}");
    assert!(md.contains("evil\\\\x1b\\[2J"), "{md}");

    let html = report("html", ca, &target);
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        !html.chars().any(|c| (c as u32) < 0x20 && c != '\n'),
        "{html}"
    );
    assert!(!html.contains('\u{202e}'), "{html}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.html");
    std::fs::write(&file, &html).unwrap();
    let page = crate::common::browser::render(&file, None);
    assert!(page.fetches.is_empty(), "{:?}", page.fetches);
    assert!(!page.dom.contains("<script"), "{}", page.dom);
    assert!(page.dom.contains("&lt;script&gt;"), "{}", page.dom);
}
