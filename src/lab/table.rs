//! The table `tlsdoctor lab` prints.

use super::Lab;

/// The table `tlsdoctor lab` prints: port, name, what is wrong, what a default OpenSSL 3
/// client gets, and the finding the doctor should report.
pub fn render_table(lab: &Lab) -> String {
    let headers = [
        "PORT",
        "ENDPOINT",
        "WHAT IS WRONG",
        "DEFAULT OPENSSL 3 CLIENT GETS",
        "FINDING",
    ];
    let rows: Vec<[String; 5]> = lab
        .endpoints
        .iter()
        .map(|e| {
            let mut got = e.expected_openssl3.clone();
            if let Some(py) = &e.expected_python {
                got.push_str(&format!(" (Python ssl: {py})"));
            }
            [
                e.port.to_string(),
                e.name.to_string(),
                e.fault.clone(),
                got,
                e.expect_finding.unwrap_or("-").to_string(),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths.iter()).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = String::new();
    if let Some(first) = lab.endpoints.first() {
        out.push_str(&format!(
            "tlsdoctor lab: {} endpoints on {} (SNI: localhost unless the endpoint says otherwise)\n",
            lab.endpoints.len(),
            first.addr.ip()
        ));
    }
    if let Some(path) = &lab.root_ca_path {
        out.push_str(&format!("lab root CA written to {}\n", path.display()));
    }
    out.push('\n');
    out.push_str(&line(headers));
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}
