//! `run`: one arm per subcommand, each opening the ledger, calling the library and printing.

use super::commands::*;
use super::print::*;
use super::*;

pub(crate) fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Init { origin, format } => {
            let origin = origin.clone();
            let env = env_key();
            let init = app::init_ledger(
                &cli.ledger,
                cli.key_file.as_deref(),
                env.as_deref(),
                &origin,
            )?;
            if *format == Format::Json {
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "ledger": cli.ledger,
                        "origin": origin,
                        "key_file": init.wrote_key,
                        "verifier_key": init.ledger.current_key().to_string(),
                    }))?
                );
                return Ok(());
            }
            say!(
                "initialised ledger {} (origin {origin})",
                cli.ledger.display()
            );
            if let Some(path) = init.wrote_key {
                say!("signing key written to {} (mode 0600)", path.display());
            }
            say!("verifier key: {}", init.ledger.current_key());
        }
        Command::Append {
            files,
            batch,
            format,
        } => {
            let mut stdin = app::spool_stdin(files)?;
            let mut ledger = open_writer(&cli)?;
            for file in files {
                let s = app::append_file(&mut ledger, file, &mut stdin, *batch)?;
                print_ingest_summary(&s, *format)?;
            }
            if *format == Format::Text {
                say!("ledger size {}", ledger.size());
            }
        }
        Command::Ingest {
            source,
            files,
            dry_run,
            skip_invalid,
            rejects,
            batch,
            max_record_bytes,
            format,
        } => {
            if source != "auto" && auditledger::sources::by_name(source).is_none() {
                let hint = auditledger::sources::nearest_name(source)
                    .map(|n| format!("did you mean {n}? "))
                    .unwrap_or_default();
                bail!("unknown --source {source:?}: {hint}`auditledger sources` lists them");
            }
            let mut stdin = app::spool_stdin(files)?;
            let interrupt = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, interrupt.clone())
                    .context("installing the interrupt handler")?;
            }
            let opts = IngestOptions {
                dry_run: *dry_run,
                skip_invalid: *skip_invalid,
                rejects: rejects.clone(),
                batch: *batch,
                max_record_bytes: *max_record_bytes,
                interrupt: Some(interrupt.clone()),
            };
            let mut ledger = if *dry_run {
                open_reader(&cli)?
            } else {
                open_writer(&cli)?
            };
            // Every file is tried; each is committed whole or not at all.
            let bar: std::cell::RefCell<Option<(PathBuf, indicatif::ProgressBar)>> =
                Default::default();
            let mut printed: Result<()> = Ok(());
            let outcomes = app::ingest_files(
                &mut ledger,
                files,
                &mut stdin,
                source,
                &opts,
                &mut |file, n, len| {
                    let mut bar = bar.borrow_mut();
                    if bar.as_ref().is_none_or(|(f, _)| f != file) {
                        *bar = Some((file.to_path_buf(), progress_bar(len)));
                    }
                    if let Some((_, b)) = bar.as_ref() {
                        b.set_position(n);
                    }
                },
                &mut |_, outcome| {
                    if let Some((_, b)) = bar.borrow_mut().take() {
                        b.finish_and_clear();
                    }
                    match outcome {
                        FileOutcome::Done(summary) => {
                            if printed.is_ok() {
                                printed = print_ingest_summary(summary, *format);
                            }
                        }
                        FileOutcome::NoRecords(why) => say!("{}", terminal_safe(why)),
                        FileOutcome::Refused(e) => {
                            eprintln!("error: {}", terminal_safe(&e.to_string()))
                        }
                        FileOutcome::Interrupted
                        | FileOutcome::NotTried
                        | FileOutcome::Failed(_) => {}
                    }
                },
            );
            printed?;
            let outcomes = match outcomes {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("files: the ledger failed; the files after the one it failed on were not tried");
                    return Err(e.into());
                }
            };
            let lines: Vec<(String, String)> = outcomes
                .iter()
                .map(|(file, o)| (file.display().to_string(), outcome_line(o)))
                .collect();
            let failed = outcomes.iter().filter(|(_, o)| o.failed()).count();
            if files.len() > 1 || failed > 0 {
                print_outcomes(&lines);
            }
            if failed > 0 {
                let interrupted = outcomes
                    .iter()
                    .any(|(_, o)| matches!(o, FileOutcome::Interrupted));
                bail!(
                    "{failed} of {} file(s) were not ingested{}",
                    files.len(),
                    if interrupted { " (interrupted)" } else { "" }
                );
            }
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "auditledger",
                &mut std::io::stdout(),
            );
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .context("writing the man page")?;
        }
        Command::Sources { format } => match format {
            Format::Text => {
                for s in sources::all() {
                    say!("{:<14} {}", s.name(), s.description());
                }
            }
            Format::Json => {
                let list: Vec<serde_json::Value> = sources::all()
                    .into_iter()
                    .map(|s| {
                        let (role, idp) = match s.role() {
                            sources::Role::IdentityProvider { idp } => {
                                ("identity-provider", Some(idp))
                            }
                            sources::Role::Platform { idp } => ("platform", Some(idp)),
                            sources::Role::Team => ("team", None),
                            sources::Role::Tool => ("tool", None),
                        };
                        serde_json::json!({
                            "name": s.name(),
                            "role": role,
                            "idp": idp,
                            "description": s.description(),
                            "pull": idp.is_some_and(|i| sources::poll::by_name(i).is_some()),
                        })
                    })
                    .collect();
                say!("{}", serde_json::to_string_pretty(&list)?);
            }
        },
        Command::Status { format } => {
            let ledger = open_reader_documented(&cli, *format)?;
            let status = Status::of(&ledger)?;
            match format {
                Format::Json => say!("{}", serde_json::to_string_pretty(&status)?),
                Format::Text => {
                    say!("ledger:        {}", cli.ledger.display());
                    say!("origin:        {}", status.origin);
                    say!("size:          {}", status.size);
                    say!("root:          {}", status.root);
                    say!("head:          {}", status.head);
                    say!("key:           {}", status.key_fingerprint);
                    say!("verifier_key:  {}", status.verifier_key);
                    let files: Vec<String> = status
                        .files
                        .iter()
                        .map(|(n, b)| format!("{n} {b}"))
                        .collect();
                    say!("files (bytes): {}", files.join(", "));
                    say_raw!("checkpoint:\n{}", status.checkpoint);
                }
            }
        }
        Command::Log {
            from,
            limit,
            format,
        } => {
            let ledger = open_reader(&cli)?;
            if *from >= ledger.size() && !quiet() {
                match ledger.size().checked_sub(1) {
                    Some(last) => eprintln!("note: nothing from seq {from} on: the last is {last}"),
                    None => eprintln!("note: the ledger holds no entries yet"),
                }
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for e in ledger.entries(*from, limit.unwrap_or(u64::MAX)) {
                let e = e?;
                let line = match format {
                    Format::Json => serde_json::to_string(&serde_json::json!({
                        "seq": e.entry.seq,
                        "hash": to_hex(&e.chain),
                        "prev": to_hex(&e.entry.prev),
                        "raw_hash": to_hex(&e.entry.raw_hash),
                        "payload": e.entry.payload,
                    }))?,
                    Format::Text => terminal_safe(&log_line(&e.entry.seq, &e.entry.payload)),
                };
                if quiet() {
                    continue; // still read: a bad entry is still an error
                }
                if writeln!(out, "{line}").is_err() {
                    break; // a closed pipe (e.g. `| head`) is not an error
                }
            }
        }
        Command::Checkpoint => {
            let ledger = open_reader(&cli)?;
            say_raw!("{}", ledger.latest_checkpoint()?);
        }
        Command::Check {
            policy,
            as_of,
            format,
            fail_on,
            now,
            allow_future,
        } => {
            let fail_on = match fail_on.as_str() {
                "none" => None,
                other => Some(Severity::parse(other).with_context(|| {
                    format!(
                        "--fail-on {other:?}: expected info, low, medium, high, critical or none"
                    )
                })?),
            };
            let policy = app::load_policy(policy.as_deref())?;
            let as_of = match as_of.as_deref() {
                Some(text) => {
                    let at = app::parse_as_of(text)?;
                    app::refuse_future("--as-of", text, at, *allow_future)?;
                    Some(at)
                }
                None => None,
            };
            let now = now
                .as_deref()
                .map(|text| app::parse_time("--now", text, *allow_future))
                .transpose()?;
            let ledger = open_reader_documented(&cli, *format)?;
            let (result, _) = auditledger::policy::check_with_facts(&ledger, &policy, as_of, now)?;
            match format {
                Format::Text => say_raw!(
                    "{}",
                    terminal_safe(&auditledger::policy::render_text(&result))
                ),
                Format::Json => say!("{}", serde_json::to_string_pretty(&result)?),
            }
            if result.nothing_checked && fail_on.is_some() {
                return Err(GateFailure(
                    "check failed: IdP events but no roster, so nothing was checked (--fail-on none accepts this)"
                        .into(),
                )
                .into());
            }
            if let (Some(limit), Some(worst)) = (fail_on, result.worst()) {
                let n = result
                    .findings
                    .iter()
                    .filter(|f| f.severity >= limit)
                    .count();
                if worst >= limit {
                    return Err(GateFailure(format!(
                        "check failed: {n} finding(s) at or above {limit}"
                    ))
                    .into());
                }
            }
        }
        Command::Report {
            args,
            out,
            message_format,
        } => {
            let ledger = open_reader(&cli)?;
            let (report, files) =
                app::make_report(&ledger, &app::verify_fully(&ledger)?, &request(args))?;
            app::write_report_files(out, &files)?;
            if *message_format == Format::Json {
                let paths: Vec<String> = files
                    .iter()
                    .map(|(name, _)| out.join(name).display().to_string())
                    .collect();
                say!(
                    "{}",
                    serde_json::json!({
                        "report": report.kind,
                        "title": report.title,
                        "files": paths,
                        "findings": report.findings.len(),
                        "tree_size": report.attestation.tree_size,
                        "root": report.attestation.root,
                        "key_fingerprint": report.attestation.key_fingerprint,
                        "period": report.period,
                    })
                );
                return Ok(());
            }
            for (name, _) in &files {
                say!("{}", out.join(name).display());
            }
            eprintln!(
                "{}: {} finding(s), computed at checkpoint {} (key {})",
                report.title,
                report.findings.len(),
                report.attestation.tree_size,
                report.attestation.key_fingerprint
            );
        }
        Command::Export {
            args,
            out,
            message_format,
        } => {
            let ledger = open_reader(&cli)?;
            // The manifest is signed with the ledger's key: exporting needs it, as writing does.
            let key_file = app::key_path(cli.key_file.as_deref(), &cli.ledger);
            let signer = auditledger::ledger::keys::load_signer(&key_file, env_key().as_deref())?;
            let verified = app::verify_fully(&ledger)?;
            let (report, files) = app::make_report(&ledger, &verified, &request(args))?;
            let summary =
                app::write_report_bundle(&ledger, &verified, &signer, &report, &files, out)?;
            if *message_format == Format::Json {
                say!(
                    "{}",
                    serde_json::json!({
                        "bundle": out.display().to_string(),
                        "report": report.kind,
                        "report_files": files.len(),
                        "cited_entries": report.evidence.len(),
                        "tree_size": report.attestation.tree_size,
                        "manifest_b3": summary.manifest_b3,
                    })
                );
                return Ok(());
            }
            say!(
                "bundle {}: {} report file(s), {} cited entries with proofs; manifest BLAKE3 {}",
                out.display(),
                files.len(),
                report.evidence.len(),
                summary.manifest_b3
            );
        }
        Command::Policy {
            command:
                PolicyCommand::Init {
                    profile,
                    out,
                    force,
                },
        } => {
            let profile = Profile::parse(profile).with_context(|| {
                format!("--profile {profile:?}: expected standard or compliance")
            })?;
            let text = Policy::template(profile);
            match out {
                None => say_raw!("{text}"),
                Some(path) => {
                    if path.exists() && !force {
                        bail!("{} exists; pass --force to replace it", path.display());
                    }
                    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {} ({} profile)", path.display(), profile.as_str());
                }
            }
        }
        Command::Verify {
            checkpoints,
            pubkey,
            format,
        } => {
            let mut opts = VerifyOptions::default();
            if let Some(k) = pubkey {
                opts.trusted_keys.push(parse_pubkey(k)?);
            }
            for path in checkpoints {
                let text = fs::read_to_string(path)
                    .with_context(|| format!("reading checkpoint {}", path.display()))?;
                opts.held_checkpoints
                    .push((path.display().to_string(), text));
            }
            let ledger = open_reader_documented(&cli, *format)?;
            let bar = verify_progress_bar(ledger.size());
            let result = verify_with_progress(&ledger, &opts, &mut |done, _| {
                if let Some(b) = &bar {
                    b.set_position(done);
                }
            });
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            match result {
                Ok(v) if *format == Format::Json => {
                    let r = v.report();
                    say!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({
                            "ok": true,
                            "size": r.size,
                            "root": base64_root(&r.root),
                            "head": to_hex(&r.head),
                            "checkpoints_checked": r.checkpoints_checked,
                            "held_checkpoints": r.external_checkpoints,
                            "key_rotations": r.key_rotations,
                            "redacted_raw_records": r.redacted_raw_records,
                            "keys": r.keys,
                            "trusted_key": pubkey.is_some(),
                        }))?
                    );
                }
                Ok(v) => {
                    let r = v.report();
                    say!(
                        "OK: {} entries; root {}; {} checkpoints checked ({} held); {} key rotation(s); {} raw record(s) redacted",
                        r.size,
                        base64_root(&r.root),
                        r.checkpoints_checked,
                        r.external_checkpoints,
                        r.key_rotations,
                        r.redacted_raw_records
                    );
                    if pubkey.is_none() {
                        say!(
                            "trusted: the key stored in the ledger ({}), not one you supplied: this shows the ledger is consistent with itself; pass --pubkey with a key you hold to check it is the one you expect",
                            r.keys.join(", ")
                        );
                    }
                }
                Err(VerifyFailure::Read(e)) => {
                    if *format == Format::Json && e.is_integrity() {
                        say_failure_document(e.first_bad_seq(), &e.to_string())?;
                    }
                    return Err(e.into());
                }
                Err(f) => {
                    let msg = match f.first_bad_seq() {
                        Some(seq) => format!("FAILED at seq {seq}: {f}"),
                        None => format!("FAILED: {f}"),
                    };
                    if *format == Format::Json {
                        say_failure_document(f.first_bad_seq(), &f.to_string())?;
                    }
                    bail!(IntegrityFailure(msg));
                }
            }
        }
        Command::Prove {
            seq,
            size,
            consistency,
        } => {
            let ledger = open_reader(&cli)?;
            let size = size.unwrap_or(ledger.size());
            let proof = match (seq, consistency) {
                (Some(seq), None) => Proof::Inclusion(ledger.prove_inclusion(*seq, size)?),
                (None, Some(old)) => Proof::Consistency(ledger.prove_consistency(*old, size)?),
                _ => bail!("give a SEQ for an inclusion proof or --consistency OLD_SIZE"),
            };
            if let Proof::Inclusion(p) = &proof {
                if p.checkpoint.is_none() && !quiet() {
                    eprintln!(
                        "note: no checkpoint was signed at size {size}, so the proof carries none; \
                         verify-proof will need --checkpoint with one of that size (the sizes \
                         signed are in checkpoints.log; `auditledger checkpoint` prints the latest)"
                    );
                }
            }
            say!("{}", proof.to_json());
        }
        Command::VerifyProof {
            proof,
            checkpoint,
            pubkey,
            format,
        } => {
            let key = parse_pubkey(pubkey)?;
            let text = fs::read_to_string(proof)
                .with_context(|| format!("reading proof {}", proof.display()))?;
            let checkpoint = checkpoint
                .as_ref()
                .map(|p| {
                    fs::read_to_string(p)
                        .with_context(|| format!("reading checkpoint {}", p.display()))
                })
                .transpose()?;
            let keys = [key];
            let parsed = Proof::parse(&text)
                .map_err(|e| IntegrityFailure(format!("{}: {e}", proof.display())))?;
            if let Proof::Inclusion(p) = &parsed {
                if p.checkpoint.is_none() && checkpoint.is_none() {
                    // A missing input, not a proof that fails: a usage error.
                    bail!(
                        "the proof carries no checkpoint (none was signed at its size {}): give \
                         --checkpoint with the checkpoint of that size",
                        p.tree_size
                    );
                }
            }
            let result = match &parsed {
                Proof::Inclusion(p) => p.verify(checkpoint.as_deref(), &keys).map(|cp| {
                    format!(
                        "OK: entry {} is in the tree of {} entries signed by {} (origin {})",
                        p.leaf_index, cp.size, keys[0].name, cp.origin
                    )
                }),
                Proof::Consistency(p) => {
                    let Some(old) = checkpoint.as_deref() else {
                        bail!("a consistency proof needs --checkpoint with the old checkpoint");
                    };
                    p.verify(old, &keys).map(|(o, n)| {
                        format!(
                            "OK: the tree of {} entries is a prefix of the tree of {} entries (origin {})",
                            o.size, n.size, n.origin
                        )
                    })
                }
            };
            if *format == Format::Json {
                let (kind, index) = match &parsed {
                    Proof::Inclusion(p) => ("inclusion", Some(p.leaf_index)),
                    Proof::Consistency(_) => ("consistency", None),
                };
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "ok": result.is_ok(),
                        "type": kind,
                        "leaf_index": index,
                        "result": match &result {
                            Ok(msg) => msg.clone(),
                            Err(e) => e.to_string(),
                        },
                    }))?
                );
            }
            match result {
                Ok(msg) if *format == Format::Text => say!("{msg}"),
                Ok(_) => {}
                Err(e) => bail!(IntegrityFailure(format!("FAILED: {e}"))),
            }
        }
        Command::VerifyBundle {
            dir,
            pubkey,
            trust_bundle_key,
            format,
        } => {
            if pubkey.is_none() && !trust_bundle_key {
                bail!(
                    "verify-bundle needs --pubkey KEY: a verifier key you obtained independently of the bundle (a key inside the bundle proves nothing by itself); --trust-bundle-key checks with the bundle's own key, which shows only that the bundle is self-consistent"
                );
            }
            verify_bundle_cmd(dir, pubkey.as_deref(), *format)?
        }
        Command::RotateKey {
            new_key_file,
            format,
        } => {
            if new_key_file.is_none() && env_key().is_some() {
                bail!("the key came from ${KEY_ENV}; pass --new-key-file to say where the new key goes");
            }
            let mut ledger = open_writer(&cli)?;
            let key_file = app::key_path(cli.key_file.as_deref(), &cli.ledger);
            let (summary, new, written) =
                ledger.rotate_key_file(&key_file, new_key_file.as_deref())?;
            if *format == Format::Json {
                say!(
                    "{}",
                    serde_json::json!({
                        "rotation_seq": summary.first_seq,
                        "tree_size": ledger.size(),
                        "new_key_file": written.display().to_string(),
                        "verifier_key": new.verifier().to_string(),
                    })
                );
                return Ok(());
            }
            say!("new signing key written to {}", written.display());
            say!(
                "rotation recorded at seq {}; new verifier key: {}",
                summary.first_seq,
                new.verifier()
            );
        }
        Command::Migrate { format } => {
            let m = auditledger::ledger::legacy::migrate(&cli.ledger)?;
            if *format == Format::Json {
                say!(
                    "{}",
                    serde_json::json!({
                        "entries": m.entries,
                        "checkpoints": m.checkpoints,
                        "backup": m.backup.display().to_string(),
                    })
                );
                return Ok(());
            }
            say!(
                "converted {}: {} entries, {} checkpoints kept; the old store is in {} (delete it once `auditledger verify` passes)",
                cli.ledger.display(),
                m.entries,
                m.checkpoints,
                m.backup.display()
            );
        }
        Command::Redact {
            raw_hash,
            reason,
            format,
        } => {
            let target = from_hex32(raw_hash)
                .with_context(|| format!("{raw_hash:?} is not a 64-hex-digit raw hash"))?;
            let mut ledger = open_writer(&cli)?;
            let s = ledger.redact(&target, reason)?;
            if *format == Format::Json {
                say!(
                    "{}",
                    serde_json::json!({
                        "raw_hash": raw_hash,
                        "redaction_seq": s.first_seq,
                        "tree_size": ledger.size(),
                    })
                );
                return Ok(());
            }
            say!(
                "raw record {raw_hash} redacted; redaction recorded at seq {}",
                s.first_seq
            );
        }
        Command::Demo { fixtures, out } => demo(fixtures, out)?,
        Command::Pull {
            config,
            once,
            format,
        } => pull_cmd(&cli, config, *once, *format)?,
        Command::Serve { config } => serve_cmd(&cli, config)?,
        Command::Config {
            command: ConfigCommand::Init { out },
        } => match out {
            None => say_raw!("{}", auditledger::intake::config::TEMPLATE),
            Some(path) => {
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                file.write_all(auditledger::intake::config::TEMPLATE.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                say!("wrote {}; set the variables it names, then run `auditledger pull --config {} --once`", path.display(), path.display());
            }
        },
    }
    Ok(())
}

pub(crate) fn request(args: &ReportArgs) -> app::ReportRequest {
    app::ReportRequest {
        kind: args
            .kind_flag
            .clone()
            .or_else(|| args.kind_pos.clone())
            .unwrap_or_default(),
        formats: args.format.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        sprint: args.sprint.clone(),
        days: args.days,
        now: args.now.clone(),
        as_of: args.as_of.clone(),
        policy: args.policy.clone(),
        allow_future: args.allow_future,
    }
}
