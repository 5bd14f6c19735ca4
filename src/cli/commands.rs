//! The longer subcommands: `pull`, `serve`, `verify-bundle` and `demo`.

use super::print::*;
use super::*;

pub(crate) fn load_intake_config(path: &Path) -> Result<auditledger::intake::config::Config> {
    Ok(auditledger::intake::config::Config::load(path, &|k| {
        std::env::var(k).ok()
    })?)
}

/// The CLI's ledger and key, unless the intake config names them.
pub(crate) fn with_config_paths(cli: &Cli, config: &auditledger::intake::config::Config) -> Cli {
    Cli {
        ledger: config.ledger.clone().unwrap_or_else(|| cli.ledger.clone()),
        key_file: config.key_file.clone().or_else(|| cli.key_file.clone()),
        quiet: cli.quiet,
        color: cli.color,
        command: Command::Man,
    }
}

pub(crate) fn pull_cmd(cli: &Cli, config_path: &Path, once: bool, format: Format) -> Result<()> {
    use auditledger::intake;
    init_logging();
    let config = load_intake_config(config_path)?;
    if config.pull.is_empty() {
        bail!("{}: no [[pull]] sources", config_path.display());
    }
    let ledger = open_writer(&with_config_paths(cli, &config))?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .context("installing the interrupt handler")?;
    }
    let reports = intake::run_pull(&config, ledger, once, stop)?;
    if format == Format::Json {
        say!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            say!(
                "{}: {} page(s), {} event(s) added, {} already present{}{}",
                r.stream,
                r.pages,
                r.added,
                r.duplicates,
                if r.rejected > 0 {
                    format!(", {} malformed record(s) refused", r.rejected)
                } else {
                    String::new()
                },
                if r.conflicts > 0 {
                    format!(", {} id conflict(s) (see `auditledger check`)", r.conflicts)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}

pub(crate) fn serve_cmd(cli: &Cli, config_path: &Path) -> Result<()> {
    init_logging();
    let config = load_intake_config(config_path)?;
    if config.serve.is_none() {
        bail!(
            "{}: no [serve] section (listen = \"HOST:PORT\")",
            config_path.display()
        );
    }
    let ledger = open_writer(&with_config_paths(cli, &config))?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .context("installing the interrupt handler")?;
    }
    auditledger::intake::serve::run_serve(&config, ledger, stop, &mut |addr| {
        // Scripts and tests wait for this line (the port may have been 0).
        say!("listening on {addr}");
        let _ = std::io::stdout().flush();
    })?;
    say!("stopped");
    Ok(())
}

/// `verify-bundle`: exit 0 when the bundle checks out, 1 for any integrity problem (all of
/// them listed), 2 when it cannot be read or the key is malformed.
pub(crate) fn verify_bundle_cmd(dir: &Path, pubkey: Option<&str>, format: Format) -> Result<()> {
    use auditledger::export::{verify_bundle, BundleError};
    let key = pubkey.map(parse_pubkey).transpose()?;
    let result = verify_bundle(dir, key.as_ref());
    if format == Format::Json {
        let doc = match &result {
            Ok(v) => serde_json::json!({
                "ok": true,
                "origin": v.origin,
                "tree_size": v.tree_size,
                "root": base64_root(&v.root),
                "signed_by": v.key_fingerprints,
                "key_supplied": v.key_supplied,
                "entries": v.entries,
                "raw_records": v.raw_records,
                "redacted": v.redacted,
                "report_files": v.report_files,
                "cited": v.cited,
                "files": v.files,
                "manifest_b3": v.manifest_b3,
            }),
            Err(BundleError::Integrity(problems)) => serde_json::json!({
                "ok": false,
                "problems": problems
                    .iter()
                    .map(|p| serde_json::json!({"file": p.file, "problem": p.problem}))
                    .collect::<Vec<_>>(),
            }),
            Err(_) => serde_json::Value::Null,
        };
        if !doc.is_null() {
            say!("{}", serde_json::to_string_pretty(&doc)?);
        }
        return match result {
            Ok(_) => Ok(()),
            Err(BundleError::Integrity(p)) => bail!(IntegrityFailure(format!(
                "FAILED: bundle {}: {} problem(s)",
                dir.display(),
                p.len()
            ))),
            Err(e) => Err(e.into()),
        };
    }
    match result {
        Ok(v) => {
            if !v.key_supplied {
                eprintln!(
                    "warning: no --pubkey given: the checkpoint was checked with the bundle's own verifier-key.txt, which shows only that the bundle is self-consistent; compare the key fingerprint below with one you obtained independently"
                );
            }
            say!("OK: bundle {}", dir.display());
            say!(
                "  checkpoint: origin {}, tree size {}, root {}",
                v.origin,
                v.tree_size,
                base64_root(&v.root)
            );
            say!(
                "  signed by:  {} ({})",
                v.key_fingerprints.join(", "),
                if v.key_supplied {
                    "the key you supplied"
                } else {
                    "key from the bundle, NOT independently supplied"
                }
            );
            say!(
                "  entries:    {} with inclusion proofs; {} raw record(s), {} redacted",
                v.entries.len(),
                v.raw_records,
                v.redacted
            );
            say!(
                "  report:     {} file(s); all {} cited seq(s) present",
                v.report_files,
                v.cited
            );
            say!(
                "  manifest:   {} files match MANIFEST.b3 (BLAKE3 of MANIFEST.b3: {})",
                v.files,
                v.manifest_b3
            );
            Ok(())
        }
        Err(BundleError::Integrity(problems)) => bail!(IntegrityFailure(format!(
            "FAILED: bundle {}: {} problem(s):\n{}",
            dir.display(),
            problems.len(),
            problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn demo(fixtures: &Path, out: &Path) -> Result<()> {
    let d = app::demo(fixtures, out)?;
    say!(
        "1. created ledger {} (origin {})",
        d.ledger_dir.display(),
        d.origin
    );
    say!("2. ingested the fixture quarter (Q1 2026, two teams, four IdPs):");
    for (source, path, events, added) in &d.ingested {
        say!(
            "   {:<13} {:<46} {:>3} events, {:>3} added",
            source,
            path.display(),
            events,
            added
        );
    }
    say!(
        "   okta export again: {} added, {} duplicates (re-ingesting adds nothing)",
        d.again.0,
        d.again.1
    );
    say!(
        "3. verified {} entries, {} checkpoints",
        d.verified_entries,
        d.verified_checkpoints
    );
    say!(
        "4. policy check ({} profile) at {}: {} people in scope, {} findings ({})",
        d.profile,
        app::DEMO_NOW,
        d.people,
        d.findings,
        d.findings_path.display()
    );
    say!(
        "   the same check by hand: auditledger check --ledger {} --policy {} --now {}",
        d.ledger_dir.display(),
        d.policy_path.display(),
        app::DEMO_NOW
    );
    for (sev, n) in &d.by_severity {
        say!("   {n:>3} {sev}");
    }
    say!("   headline findings:");
    for (sev, summary) in &d.headlines {
        say!("   - [{sev}] {summary}");
    }
    say!("5. reports in {}:", out.display());
    for (kind, pdf, files, findings) in &d.reports {
        say!(
            "   {:<20} {} ({} files; {} findings)",
            kind,
            pdf.display(),
            files,
            findings
        );
    }
    say!(
        "6. auditor bundle {}: {} cited entries with raw records and proofs; check it with\n   auditledger verify-bundle {} --pubkey {}",
        d.bundle.display(),
        d.cited,
        d.bundle.display(),
        d.verifier_key_path.display()
    );
    say!("   manifest BLAKE3 (send it separately): {}", d.manifest_b3);
    say!("7. signed checkpoint ({}):\n", d.checkpoint_path.display());
    say_raw!("{}", d.checkpoint);
    say!(
        "\nverifier key ({}): {}",
        d.verifier_key_path.display(),
        d.verifier_key
    );
    say!(
        "signing key of this throwaway ledger: {} (to write to it: --key-file {})",
        d.signing_key_path.display(),
        d.signing_key_path.display()
    );
    Ok(())
}
