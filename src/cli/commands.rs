//! One function per subcommand: build the request, call the library, render the document,
//! and pick the exit code.

use super::args::{
    CaptureArgs, CheckArgs, EnvArgs, ExplainArgs, Fleet, Format, LabArgs, OutputArgs, ScanArgs,
    SimulateArgs, WatchArgs,
};
use super::progress::{self, Spinner};
use super::{EXIT_CANNOT_RUN, EXIT_FINDINGS, EXIT_NONCOMPLIANT, EXIT_PARTIAL, EXIT_SECURITY, fail};
use std::time::Duration;
use tlsdoctor::doctor::Verdict;
use tlsdoctor::document::AddressFailure;
use tlsdoctor::report::style::Style;
use tlsdoctor::report::{self, to_json};

pub async fn check(args: CheckArgs, style: Style) -> i32 {
    if args.connect.target.is_none() {
        return match args.output.format() {
            Format::Text | Format::Json if args.output.output.is_none() => {
                demo(args.output.json, args.connect.timeout, style).await
            }
            _ => fail(
                "Markdown, HTML and -o reports need a TARGET (the lab demo prints to the terminal)",
            ),
        };
    }
    let mut request = match args.request() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let recording = match super::fleet_store::begin(&args.store, "check") {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (progress, spinner) =
        Spinner::for_terminal(&request.connect.target, !args.output.no_progress);
    request.connect.progress = progress;
    let doc = tlsdoctor::pipeline::check(&request).await;
    progress::stop(spinner).await;
    let doc = match doc {
        Ok(d) => d,
        Err(e) => return failed_target(recording, &request.connect.target, &e),
    };
    let error = tlsdoctor::fleet::jobs::check_failure(&doc);
    if let Some(Err(code)) = recording.map(|r| r.finish(Ok((&doc, error)))) {
        return code;
    }
    let rendered = match args.output.format() {
        Format::Json => format!("{}\n", to_json(&doc)),
        Format::Text => report::check::render_human(&doc, text_style(&args.output, style)),
        Format::Markdown => report::markdown::render_check(&doc),
        Format::Html => report::html::render_check(&doc),
    };
    if let Err(code) = write_report(&args.output, &rendered) {
        return code;
    }
    report_errors(&doc.errors);
    if doc.partial {
        report_partial(&request.connect);
        EXIT_PARTIAL
    } else if doc.diagnoses.is_empty() {
        EXIT_CANNOT_RUN
    } else {
        match doc.verdict() {
            Verdict::ConnectionsFail => EXIT_FINDINGS,
            Verdict::SecurityProblem => EXIT_SECURITY,
            Verdict::Healthy if doc.noncompliant() => EXIT_NONCOMPLIANT,
            Verdict::Healthy => 0,
        }
    }
}

pub async fn scan(args: ScanArgs, style: Style) -> i32 {
    let mut request = match args.request() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let recording = match super::fleet_store::begin(&args.store, "scan") {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (progress, spinner) =
        Spinner::for_terminal(&request.connect.target, !args.output.no_progress);
    request.connect.progress = progress;
    let doc = tlsdoctor::pipeline::scan(&request).await;
    progress::stop(spinner).await;
    let doc = match doc {
        Ok(d) => d,
        Err(e) => return failed_target(recording, &request.connect.target, &e),
    };
    let error = tlsdoctor::fleet::jobs::scan_failure(&doc);
    if let Some(Err(code)) = recording.map(|r| r.finish(Ok((&doc, error)))) {
        return code;
    }
    let rendered = match args.output.format() {
        Format::Json => format!("{}\n", report::scan::render_json(&doc)),
        Format::Text => report::scan::render_human(&doc, text_style(&args.output, style)),
        Format::Markdown => report::markdown::render_scan(&doc),
        Format::Html => report::html::render_scan(&doc),
    };
    if let Err(code) = write_report(&args.output, &rendered) {
        return code;
    }
    report_errors(&doc.errors);
    if doc.partial {
        report_partial(&request.connect);
        return EXIT_PARTIAL;
    }
    if doc.servers.is_empty() {
        return EXIT_CANNOT_RUN;
    }
    if doc.noncompliant() {
        return EXIT_NONCOMPLIANT;
    }
    0
}

pub async fn simulate(args: SimulateArgs, style: Style) -> i32 {
    let mut request = match args.request() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let (progress, spinner) =
        Spinner::for_terminal(&request.connect.target, !args.output.no_progress);
    request.connect.progress = progress;
    let doc = tlsdoctor::pipeline::simulate(&request).await;
    progress::stop(spinner).await;
    let doc = match doc {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    let rendered = match args.output.format() {
        Format::Json => format!("{}\n", to_json(&doc)),
        Format::Text => report::simulate::render_human(&doc, text_style(&args.output, style)),
        Format::Markdown => report::markdown::render_simulate(&doc),
        Format::Html => report::html::render_simulate(&doc),
    };
    if let Err(code) = write_report(&args.output, &rendered) {
        return code;
    }
    report_errors(&doc.errors);
    if doc.partial {
        report_partial(&request.connect);
        return EXIT_PARTIAL;
    }
    if doc.servers.is_empty() {
        return EXIT_CANNOT_RUN;
    }
    0
}

/// A target that stopped before its document: recorded with its error when `--db` is on,
/// then the one-line error.
fn failed_target(
    recording: Option<super::fleet_store::Recording>,
    target: &str,
    error: &tlsdoctor::pipeline::PipelineError,
) -> i32 {
    let typed = tlsdoctor::fleet::jobs::pipeline_failure(error);
    if let Some(Err(code)) = recording.map(|r| r.finish::<()>(Err((target, typed)))) {
        return code;
    }
    fail(&error.to_string())
}

/// The line on stderr that says the output is partial.
fn report_partial(connect: &tlsdoctor::pipeline::ConnectOptions) {
    eprintln!(
        "tlsdoctor: the run's deadline ({:.1}s) was reached: the results are partial (probes \
         cut short say so)",
        connect.run_budget().as_secs_f64()
    );
}

/// Terminal text is coloured only when it goes to the terminal.
fn text_style(out: &OutputArgs, style: Style) -> Style {
    if out.output.is_some() {
        Style::plain()
    } else {
        style
    }
}

/// The report to standard output, or to `-o FILE`; a file that cannot be written is a
/// one-line error and the "could not run" exit code.
fn write_report(output: &OutputArgs, rendered: &str) -> Result<(), i32> {
    match &output.output {
        None => {
            out(rendered);
            Ok(())
        }
        Some(path) => std::fs::write(path, rendered).map_err(|e| {
            fail(&format!(
                "cannot write the report to {}: {e}",
                path.display()
            ))
        }),
    }
}

/// One line on stderr per address that could not be examined (escaped: it may quote the
/// peer, e.g. the banner of a port that does not speak TLS).
fn report_errors(errors: &[AddressFailure]) {
    for e in errors {
        eprintln!("tlsdoctor: error: {}", tlsdoctor::escape::escape(&e.error));
    }
}

pub fn explain(args: ExplainArgs, style: Style) -> i32 {
    let text = args.text.join(" ");
    let e = tlsdoctor::explain::explain(&text);
    if args.json {
        outln(to_json(&e));
    } else {
        out(&report::explain::render_explanation(&e, style.color));
    }
    0
}

pub async fn env(args: EnvArgs, style: Style) -> i32 {
    let opts = tlsdoctor::env::EnvOptions {
        pythons: args.pythons,
        ..Default::default()
    };
    let env = tlsdoctor::env::inspect(&opts).await;
    if args.json {
        outln(to_json(&env));
    } else {
        out(&report::env::render_env(&env, style.color));
    }
    0
}

pub async fn demo(json: bool, timeout: f64, style: Style) -> i32 {
    match tlsdoctor::demo::run(Duration::from_secs_f64(timeout)).await {
        Ok(demo) => {
            if json {
                outln(to_json(&demo));
            } else {
                out(&report::demo::render(&demo, style));
            }
            if demo.rows.iter().all(|r| r.correct) {
                0
            } else {
                EXIT_FINDINGS
            }
        }
        Err(e) => fail(&e),
    }
}

pub async fn lab(args: LabArgs, style: Style) -> i32 {
    if let Some(dir) = &args.record_evidence {
        return match tlsdoctor::demo::record_lab(dir).await {
            Ok(written) => {
                for p in written {
                    outln(p.display());
                }
                0
            }
            Err(e) => fail(&e),
        };
    }
    let opts = tlsdoctor::lab::LabOptions {
        listen: args.listen,
        base_port: args.base_port,
        write_ca: args.write_ca,
    };
    let lab = match tlsdoctor::lab::Lab::start(&opts).await {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    outln(style.bold("tlsdoctor lab: one misconfigured TLS server per failure mode"));
    out(&tlsdoctor::lab::render_table(&lab));
    if let Some(p) = &lab.root_ca_path {
        outln(format!(
            "\nlab root CA written to {} (trust it with --cafile / SSL_CERT_FILE)",
            p.display()
        ));
    }
    outln("\nPress Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    drop(lab);
    0
}

pub async fn capture(args: CaptureArgs) -> i32 {
    let listener = match tlsdoctor::capture::listen(args.listen).await {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    let bound = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    eprintln!("tlsdoctor: listening on {bound}; point the client at it");
    let captured = match tlsdoctor::capture::capture_one(
        &listener,
        Duration::from_secs_f64(args.wait),
        Duration::from_secs(10),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let info = tlsdoctor::capture::SkeletonInfo {
        id: args.id,
        name: args.name,
        library: args.library,
        style: args.style,
        command: args.command,
        date: tlsdoctor::capture::today(),
    };
    let text = tlsdoctor::capture::profile_skeleton(&captured, &info);
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return fail(&format!("cannot write {}: {e}", path.display()));
            }
            eprintln!(
                "tlsdoctor: recorded a {}-byte ClientHello from {}; profile written to {}",
                captured.records.len(),
                captured.peer,
                path.display()
            );
        }
        None => out(&text),
    }
    0
}

/// `watch`: relay until --count / --duration / Ctrl-C, a report per connection as it ends,
/// then the summary. Exit 1 when a connection failed.
pub async fn watch(args: WatchArgs, style: Style) -> i32 {
    let w = match tlsdoctor::watch::Watch::start(args.options()).await {
        Ok(w) => w,
        Err(e) => return fail(&e.to_string()),
    };
    let json = args.json;
    // The handler is installed before anything says where to connect, so a Ctrl-C that
    // comes at once still ends the run with its summary.
    let mut interrupt =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
            Ok(s) => s,
            Err(e) => return fail(&format!("cannot handle Ctrl-C: {e}")),
        };
    let stop = async move {
        interrupt.recv().await;
    };
    // On stderr, so stdout stays the report (and JSON Lines with --json).
    eprintln!(
        "tlsdoctor watch: listening on {} -> {} ({}); point the application at {}",
        w.local_addr(),
        tlsdoctor::escape::escape(&args.upstream),
        w.upstream_addr(),
        w.local_addr()
    );

    let summary = w
        .run(stop, |c| {
            if json {
                outln(report::watch::json_line("connection", c));
            } else {
                out(&report::watch::render_connection(c, style));
            }
        })
        .await;
    if json {
        outln(report::watch::json_line("summary", &summary));
    } else {
        out(&report::watch::render_summary(&summary, style));
    }
    if summary.failed > 0 { EXIT_FINDINGS } else { 0 }
}

/// Write to standard output. A reader that went away (`tlsdoctor … | head`) ends the
/// program quietly instead of a panic: what it wanted has been written.
fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("tlsdoctor: cannot write to standard output: {e}");
        std::process::exit(EXIT_CANNOT_RUN);
    }
}

/// [`out`] with a line end.
fn outln(text: impl std::fmt::Display) {
    out(&format!("{text}\n"));
}
/// `fleet …`.
pub fn fleet(args: Fleet, style: Style) -> i32 {
    match args {
        Fleet::Merge(m) => {
            let inputs: Vec<&std::path::Path> = m.inputs.iter().map(|p| p.as_path()).collect();
            let stdout = std::io::stdout();
            match tlsdoctor::fleet::merge::merge(&inputs, &mut stdout.lock()) {
                Ok(count) => {
                    eprintln!(
                        "tlsdoctor fleet merge: {} line(s) written, {} duplicate(s) dropped",
                        count.written, count.duplicates
                    );
                    0
                }
                Err(e) => fail(&e),
            }
        }
        Fleet::Import(a) => super::fleet_store::import(a, style),
        Fleet::Summary(a) => super::fleet_store::summary(a, style),
        Fleet::Diff(a) => super::fleet_store::diff(a, style),
        Fleet::Runs(a) => super::fleet_store::runs(a, style),
    }
}
