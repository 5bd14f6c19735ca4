//! `auditledger ingest` end to end: bad input gets a clear error naming file, record and
//! field, and commits nothing; `--skip-invalid` commits the good records and writes the
//! rejects; `--dry-run` writes nothing; re-ingesting adds nothing; roster identities are
//! applied; and no parser panics on arbitrary bytes (property test).

use std::fs;
use std::path::Path;

use auditledger::sources::{self, framing};
use proptest::prelude::*;

use crate::util::run;

fn init(dir: &Path) {
    let (code, _, err) = run(dir, &["init", "--origin", "acme.example/ingest"]);
    assert_eq!(code, 0, "{err}");
}

fn size(dir: &Path) -> u64 {
    let (_, out, _) = run(dir, &["status", "--format", "json"]);
    serde_json::from_str::<serde_json::Value>(&out).unwrap()["size"]
        .as_u64()
        .unwrap()
}

const GOOD: &str = r#"{"uuid":"u1","published":"2026-03-14T00:00:00.000Z","eventType":"user.lifecycle.deactivate","outcome":{"result":"SUCCESS"},"actor":{"alternateId":"system@okta.com"},"target":[{"type":"User","alternateId":"jose.nunez@acme.example"}]}"#;

#[test]
fn bad_input_is_refused_with_location_and_nothing_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let f = tmp.path().join("in.json");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated JSON",
            format!("[{GOOD},{{\"uuid\":\"u2\"").into_bytes(),
            "in.json: record [1], line 1 column",
        ),
        (
            "wrong type",
            format!(
                "[{GOOD},{}]",
                GOOD.replace("\"u1\"", "\"u2\"")
                    .replace("\"user.lifecycle.deactivate\"", "42")
            )
            .into_bytes(),
            "in.json:[1]: field /eventType: expected a string, got a number",
        ),
        (
            "missing id",
            format!("{GOOD}\n{}\n", GOOD.replace("\"uuid\":\"u1\",", "")).into_bytes(),
            "in.json:2: field /uuid: missing",
        ),
        (
            "time without offset",
            format!(
                "{GOOD}\n{}\n",
                GOOD.replace("\"u1\"", "\"u3\"")
                    .replace("00.000Z", "00.000")
            )
            .into_bytes(),
            "in.json:2: field /published:",
        ),
        (
            "binary file",
            vec![0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3],
            "binary data",
        ),
    ];
    for (name, bytes, want) in cases {
        fs::write(&f, bytes).unwrap();
        let (code, out, err) = run(&dir, &["ingest", "--source", "okta", f.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(err.contains(want), "{name}: expected {want:?} in:\n{err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert_eq!(size(&dir), 0, "{name}: nothing may be committed");
    }
}

#[test]
fn bom_crlf_and_one_line_files_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let f = tmp.path().join("in.ndjson");
    let second = GOOD.replace("\"u1\"", "\"u2\"");
    fs::write(&f, format!("\u{feff}{GOOD}\r\n{second}\r\n")).unwrap();
    let (code, out, err) = run(&dir, &["ingest", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 records, 2 events; added 2"), "{out}");
    let one = tmp.path().join("one.json");
    fs::write(&one, GOOD.replace("\"u1\"", "\"u9\"")).unwrap();
    let (code, out, err) = run(&dir, &["ingest", one.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 1"), "{out}");
    assert_eq!(size(&dir), 3);
}

#[test]
fn skip_invalid_dry_run_and_reingest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let f = tmp.path().join("mixed.ndjson");
    let bad = GOOD
        .replace("\"u1\"", "\"u2\"")
        .replace("00.000Z", "00.000");
    let third = GOOD.replace("\"u1\"", "\"u3\"");
    fs::write(&f, format!("{GOOD}\n{bad}\n{third}\n")).unwrap();

    let (code, out, _) = run(
        &dir,
        &["ingest", "--dry-run", "--skip-invalid", f.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    assert!(out.contains("would add 2"), "{out}");
    assert_eq!(size(&dir), 0, "a dry run writes nothing");

    let rejects = tmp.path().join("rejects.jsonl");
    let (code, out, err) = run(
        &dir,
        &[
            "ingest",
            "--skip-invalid",
            "--rejects",
            rejects.to_str().unwrap(),
            f.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 2, duplicates 0, rejected 1"), "{out}");
    let rej: serde_json::Value =
        serde_json::from_str(fs::read_to_string(&rejects).unwrap().trim()).unwrap();
    assert_eq!(rej["location"], "2");
    assert!(rej["reason"].as_str().unwrap().contains("/published"));
    assert_eq!(rej["raw"], bad.as_str());

    let (_, out, _) = run(
        &dir,
        &[
            "ingest",
            "--skip-invalid",
            "--rejects",
            rejects.to_str().unwrap(),
            f.to_str().unwrap(),
        ],
    );
    assert!(out.contains("added 0, duplicates 2"), "{out}");
    assert_eq!(size(&dir), 2);
    // --rejects alone would be ignored: a usage error instead.
    let (code, _, err) = run(
        &dir,
        &[
            "ingest",
            "--rejects",
            rejects.to_str().unwrap(),
            f.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--skip-invalid"), "{err}");
    let (code, _, _) = run(&dir, &["verify"]);
    assert_eq!(code, 0);
}

/// Ingest stores the account as the IdP gave it; the policy maps it to the person from the
/// roster. So the same files ingested in either order give the same entries, and `check`
/// attributes the same events.
#[test]
fn accounts_are_stored_as_given_and_resolved_by_the_policy_in_any_ingest_order() {
    let tmp = tempfile::tempdir().unwrap();
    // A roster entry as the `roster` source produces it, appended as a normalised event.
    let roster = tmp.path().join("roster.jsonl");
    fs::write(
        &roster,
        r#"{"source":"roster","kind":"roster.entry","subject":"jose.nunez@acme.example","occurred_at":"2026-01-05T09:00:00-08:00","attrs":{"email":"jose.nunez@acme.example","accounts":"okta:jnunez@acme.okta.com;github:jnunez-acme"}}"#,
    )
    .unwrap();
    let okta = tmp.path().join("okta.ndjson");
    let other = GOOD
        .replace("\"u1\"", "\"u2\"")
        .replace("jose.nunez@acme.example", "stranger@else.example");
    fs::write(
        &okta,
        format!(
            "{}\n{other}\n",
            GOOD.replace("jose.nunez@acme.example", "JNunez@acme.okta.com")
        ),
    )
    .unwrap();
    let mut okta_events = vec![];
    for (name, roster_first) in [("a", true), ("b", false)] {
        let dir = tmp.path().join(name);
        init(&dir);
        let append_roster = || {
            let (code, _, err) = run(&dir, &["append", roster.to_str().unwrap()]);
            assert_eq!(code, 0, "{err}");
        };
        if roster_first {
            append_roster();
        }
        let (code, out, err) = run(&dir, &["ingest", okta.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("added 2"), "{out}");
        if !roster_first {
            append_roster();
        }
        let (_, log, _) = run(&dir, &["log", "--format", "json"]);
        let events: Vec<serde_json::Value> = log
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| v["payload"]["event"].clone())
            .filter(|e| e["source"] == "okta")
            .collect();
        assert_eq!(
            events[0]["subject"], "jnunez@acme.okta.com",
            "the account, not the person"
        );
        assert_eq!(
            events[0]["account"], "JNunez@acme.okta.com",
            "as the IdP wrote it"
        );
        okta_events.push(events);
        let (code, out, err) = run(&dir, &["check", "--format", "json"]);
        assert!(code <= 1, "{err}");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            report["unattributed_events"],
            serde_json::json!({"okta": 1}),
            "only the stranger is unattributed: {out}"
        );
    }
    assert_eq!(
        okta_events[0], okta_events[1],
        "ingest order changes nothing"
    );
}

fn fuzz_cases() -> u32 {
    // A longer run: FUZZ_CASES=100000 cargo test --release --test tests no_source_panics
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]
    /// No parser panics on arbitrary bytes, nor on arbitrary JSON objects.
    #[test]
    fn no_source_panics_on_arbitrary_input(bytes in proptest::collection::vec(any::<u8>(), 0..400),
                                           keys in proptest::collection::vec("[a-z@_]{1,12}", 0..6),
                                           texts in proptest::collection::vec(".{0,20}", 0..6)) {
        let _ = framing::for_each_record(&bytes[..], &framing::Reads::All, &mut |r| {
            if let Ok(v) = &r.value {
                for s in sources::all() {
                    let _ = s.normalise(v);
                    let _ = s.sniff(v, framing::Content::JsonLines);
                }
            }
            Ok(())
        });
        let mut obj = serde_json::Map::new();
        for (k, t) in keys.iter().zip(texts.iter()) {
            obj.insert(k.clone(), serde_json::Value::String(t.clone()));
        }
        let v = serde_json::Value::Object(obj);
        for s in sources::all() {
            let _ = s.normalise(&v);
        }
    }

    /// Records built from each source's real field names, with values of every shape at the
    /// paths the source reads: no panic, and every record is either events (each valid) or
    /// a field error that names a field.
    #[test]
    fn sources_on_records_with_their_own_field_names(
        (source, record) in shaped_record(),
    ) {
        let src = sources::by_name(source).unwrap();
        check_result(source, &record, src.normalise(&record))?;
        // The mixed Entra source reads every Entra shape.
        if source.starts_with("entra") {
            check_result("entra", &record, sources::by_name("entra").unwrap().normalise(&record))?;
        }
    }

    /// A well-formed record is never refused because of a field the source does not know,
    /// at the top level or inside the objects it reads, whatever that field's value.
    #[test]
    fn unknown_extra_fields_change_nothing(
        which in 0..WELL_FORMED.len(),
        key in "zz[a-z_]{1,10}",
        value in json_value(),
        nested in any::<bool>(),
    ) {
        let (source, text, inner) = WELL_FORMED[which];
        let base: serde_json::Value = serde_json::from_str(text).unwrap();
        let src = sources::by_name(source).unwrap();
        let want = src.normalise(&base);
        prop_assert!(want.is_ok(), "{source}: the base record must be good: {want:?}");
        let mut extended = base.clone();
        let target = if nested { extended.pointer_mut(inner) } else { Some(&mut extended) };
        if let Some(serde_json::Value::Object(map)) = target {
            map.insert(key.clone(), value);
        }
        let got = src.normalise(&extended);
        prop_assert_eq!(got, want, "{} with extra {:?}", source, key);
    }
}

/// One well-formed record per JSON source, and the pointer of an object inside it that the
/// source reads (for the nested extra field).
const WELL_FORMED: &[(&str, &str, &str)] = &[
    ("okta", GOOD, "/outcome"),
    (
        "entra-audit",
        r#"{"id":"a1","activityDisplayName":"Disable account","activityDateTime":"2026-03-14T00:00:00Z","result":"success","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"targetResources":[{"id":"u1","type":"User","userPrincipalName":"jo@acme.example","modifiedProperties":[]}]}"#,
        "/initiatedBy/user",
    ),
    (
        "entra-audit",
        r#"{"time":"2026-03-14T00:00:00Z","category":"AuditLogs","operationName":"Disable account","resultType":"Success","properties":{"id":"a1","activityDisplayName":"Disable account","result":"success","targetResources":[{"type":"User","userPrincipalName":"jo@acme.example"}]}}"#,
        "/properties",
    ),
    (
        "entra-signin",
        r#"{"time":"2026-04-02T08:00:01Z","category":"SignInLogs","resultType":"0","properties":{"id":"s2","userPrincipalName":"jo@acme.example","status":{"errorCode":0}}}"#,
        "/properties/status",
    ),
    (
        "entra-signin",
        r#"{"id":"s1","createdDateTime":"2026-04-02T08:00:00Z","userPrincipalName":"jo@acme.example","status":{"errorCode":50126,"failureReason":"Invalid"}}"#,
        "/status",
    ),
    (
        "keycloak",
        r#"{"time":1773900300000,"type":"LOGIN_ERROR","realmId":"acme","userId":"5b1c","error":"invalid_user_credentials","details":{"username":"jo"}}"#,
        "/details",
    ),
    (
        "keycloak",
        r#"{"time":1773900000000,"realmId":"acme","authDetails":{"userId":"admin-7"},"operationType":"UPDATE","resourceType":"USER","resourcePath":"users/5b1c","representation":"{\"username\":\"jo\",\"enabled\":false}"}"#,
        "/authDetails",
    ),
    (
        "onelogin",
        r#"{"id":900001,"created_at":"2026-03-14T00:00:00.000Z","event_type_id":15,"user_id":123456,"user_name":"Bob Cat"}"#,
        "",
    ),
    (
        "github",
        r#"{"@timestamp":1773900000000,"_document_id":"d1","action":"org.remove_member","actor":"admin","user":"jo"}"#,
        "",
    ),
    (
        "google",
        r#"{"kind":"admin#reports#activity","id":{"time":"2026-03-14T00:00:00.000Z","uniqueQualifier":"1","applicationName":"login","customerId":"C1"},"actor":{"email":"jo@acme.example"},"events":[{"type":"login","name":"login_success","parameters":[{"name":"login_type","value":"google_password"}]}]}"#,
        "/actor",
    ),
];

/// The fields each JSON source reads, as JSON pointers; `*` is an array index (0 or 1).
const FIELDS: &[(&str, &[&str])] = &[
    (
        "okta",
        &[
            "/uuid",
            "/published",
            "/eventType",
            "/outcome/result",
            "/outcome/reason",
            "/actor/alternateId",
            "/actor/type",
            "/target/*/type",
            "/target/*/alternateId",
            "/target/*/id",
            "/client/ipAddress",
            "/authenticationContext/externalSessionId",
            "/debugContext/debugData/changedAttributes",
        ],
    ),
    (
        "entra-audit",
        &[
            "/id",
            "/activityDateTime",
            "/activityDisplayName",
            "/category",
            "/result",
            "/resultReason",
            "/correlationId",
            "/initiatedBy/user/userPrincipalName",
            "/initiatedBy/user/ipAddress",
            "/initiatedBy/app/displayName",
            "/targetResources/*/type",
            "/targetResources/*/userPrincipalName",
            "/targetResources/*/id",
            "/targetResources/*/displayName",
            "/targetResources/*/modifiedProperties/*/displayName",
            "/targetResources/*/modifiedProperties/*/newValue",
            "/targetResources/*/modifiedProperties/*/oldValue",
        ],
    ),
    (
        "entra-audit",
        &[
            "/time",
            "/category",
            "/operationName",
            "/resultType",
            "/callerIpAddress",
            "/properties/id",
            "/properties/activityDisplayName",
            "/properties/activityDateTime",
            "/properties/result",
            "/properties/initiatedBy/user/userPrincipalName",
            "/properties/targetResources/*/type",
            "/properties/targetResources/*/userPrincipalName",
            "/properties/targetResources/*/displayName",
            "/properties/targetResources/*/modifiedProperties/*/displayName",
            "/properties/targetResources/*/modifiedProperties/*/newValue",
        ],
    ),
    (
        "entra-signin",
        &[
            "/time",
            "/category",
            "/resultType",
            "/correlationId",
            "/resultDescription",
            "/properties/id",
            "/properties/createdDateTime",
            "/properties/userPrincipalName",
            "/properties/servicePrincipalName",
            "/properties/appId",
            "/properties/servicePrincipalId",
            "/properties/status/errorCode",
            "/properties/status/failureReason",
            "/properties/ipAddress",
            "/properties/isInteractive",
        ],
    ),
    (
        "entra-signin",
        &[
            "/id",
            "/createdDateTime",
            "/userPrincipalName",
            "/servicePrincipalName",
            "/appId",
            "/status/errorCode",
            "/status/failureReason",
            "/sessionId",
            "/correlationId",
            "/ipAddress",
            "/appDisplayName",
            "/isInteractive",
        ],
    ),
    (
        "keycloak",
        &[
            "/id",
            "/time",
            "/type",
            "/realmId",
            "/clientId",
            "/userId",
            "/sessionId",
            "/ipAddress",
            "/error",
            "/details/username",
            "/details/token_id",
            "/details/refresh_token_id",
            "/details/revoked_client",
        ],
    ),
    (
        "keycloak",
        &[
            "/id",
            "/time",
            "/realmId",
            "/operationType",
            "/resourceType",
            "/resourcePath",
            "/representation",
            "/error",
            "/authDetails/userId",
            "/authDetails/ipAddress",
        ],
    ),
    (
        "onelogin",
        &[
            "/id",
            "/created_at",
            "/event_type_id",
            "/user_id",
            "/user_name",
            "/actor_user_id",
            "/actor_user_name",
            "/actor_system",
            "/ipaddr",
            "/notes",
            "/error_description",
            "/app_name",
            "/role_name",
            "/client_id",
            "/login_name",
        ],
    ),
    (
        "github",
        &[
            "/@timestamp",
            "/created_at",
            "/_document_id",
            "/action",
            "/actor",
            "/user",
            "/org",
            "/org_id",
            "/actor_ip",
            "/programmatic_access_type",
            "/token_id",
            "/hashed_token",
            "/token_scopes",
            "/data/team",
        ],
    ),
    (
        "google",
        &[
            "/id/time",
            "/id/applicationName",
            "/id/uniqueQualifier",
            "/actor/email",
            "/ipAddress",
            "/events/*/name",
            "/events/*/type",
            "/events/*/parameters/*/name",
            "/events/*/parameters/*/value",
            "/events/*/parameters/*/multiValue",
            "/events/*/parameters/*/boolValue",
        ],
    ),
];

/// Values the sources meet in real records: times of both kinds, numbers and digit
/// strings, names the classifiers know, nulls, and nested shapes.
fn json_leaf() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as V;
    prop_oneof![
        Just(V::Null),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(V::from),
        (0i64..2_000_000_000_000).prop_map(V::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(V::Null, V::Number)),
        prop::sample::select(vec![
            "2026-03-14T00:00:00.000Z",
            "2026-03-14 00:00:00",
            "12/12/2025 3:03:58 PM",
            "1773900000000",
            "0",
            "50126",
            "50140",
            "Success",
            "Failure",
            "failure",
            "success",
            "User",
            "ServicePrincipal",
            "Application",
            "AuditLogs",
            "SignInLogs",
            "ADFSSignInLogs",
            "ProvisioningLogs",
            "Disable account",
            "Update user",
            "Add member to role",
            "Add service principal credentials",
            "[false]",
            "[\"[KeyIdentifier=k1,KeyType=Password]\"]",
            "AccountEnabled",
            "KeyDescription",
            "LOGIN",
            "LOGIN_ERROR",
            "CODE_TO_TOKEN",
            "user_not_found",
            "expired_code",
            "UPDATE",
            "DELETE",
            "ACTION",
            "users/u1",
            "users/u1/logout",
            "users/u1/credentials/c1",
            "clients/c1/client-secret",
            "{\"enabled\":false}",
            "{not json",
            "user.lifecycle.deactivate",
            "SUCCESS",
            "FAILURE",
            "org.remove_member",
            "login_success",
            "",
            " ",
            "jo@acme.example",
        ])
        .prop_map(|s| V::String(s.to_string())),
        ".{0,12}".prop_map(V::String),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    json_leaf().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..3)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Sets `value` at `pointer`, creating objects and arrays on the way (`*` → index 0 or 1).
fn set_at(root: &mut serde_json::Value, pointer: &str, index: usize, value: serde_json::Value) {
    use serde_json::Value as V;
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut cur = root;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if *part == "*" {
            if !cur.is_array() {
                *cur = V::Array(vec![]);
            }
            let Some(items) = cur.as_array_mut() else {
                return;
            };
            while items.len() <= index {
                items.push(V::Object(Default::default()));
            }
            cur = &mut items[index];
        } else {
            if !cur.is_object() {
                *cur = V::Object(Default::default());
            }
            let Some(map) = cur.as_object_mut() else {
                return;
            };
            if last {
                map.insert(part.to_string(), value);
                return;
            }
            cur = map
                .entry(part.to_string())
                .or_insert_with(|| V::Object(Default::default()));
        }
    }
    if parts.last() == Some(&"*") {
        *cur = value;
    }
}

/// A record of one source: some of its fields, each set to a value of any shape; half
/// the time the rest is taken from a well-formed record of that source, so the deep paths
/// (classification, subjects) are reached too.
fn shaped_record() -> impl Strategy<Value = (&'static str, serde_json::Value)> {
    (0..FIELDS.len()).prop_flat_map(|i| {
        let (source, fields) = FIELDS[i];
        (
            Just(source),
            proptest::collection::vec(
                (
                    prop::sample::select(fields.to_vec()),
                    0usize..2,
                    json_value(),
                ),
                0..8,
            ),
            any::<bool>(),
        )
            .prop_map(move |(source, sets, from_good)| {
                let mut record = WELL_FORMED
                    .iter()
                    .find(|(s, _, _)| *s == source && from_good)
                    .map(|(_, text, _)| serde_json::from_str(text).unwrap())
                    .unwrap_or_else(|| serde_json::Value::Object(Default::default()));
                for (pointer, index, value) in sets {
                    set_at(&mut record, pointer, index, value);
                }
                (source, record)
            })
    })
}

fn check_result(
    source: &str,
    record: &serde_json::Value,
    result: Result<Vec<auditledger::event::Event>, sources::FieldError>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(events) => {
            for e in events {
                prop_assert!(
                    e.validate().is_ok(),
                    "{source}: invalid event {e:?} from {record}"
                );
                prop_assert!(
                    !e.subject.trim().is_empty(),
                    "{source}: empty subject from {record}"
                );
            }
        }
        Err(err) => {
            prop_assert!(
                err.field.starts_with('/') && !err.problem.trim().is_empty(),
                "{source}: the error must name a field: {err:?} for {record}"
            );
        }
    }
    Ok(())
}

/// Seeds from the fixtures, mutated: truncations and byte flips of real records.
#[test]
fn no_source_panics_on_mutated_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = vec![];
    for group in ["idp", "team"] {
        let Ok(dirs) = fs::read_dir(root.join(group)) else {
            continue;
        };
        for d in dirs.flatten() {
            if let Ok(entries) = fs::read_dir(d.path()) {
                files.extend(
                    entries
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| !p.to_string_lossy().ends_with(".py")),
                );
            }
        }
    }
    assert!(!files.is_empty());
    let mut runs = 0;
    for f in files {
        let bytes = fs::read(&f).unwrap();
        for k in 0..40usize {
            let mut m = bytes.clone();
            if m.is_empty() {
                break;
            }
            let at = (k * 7919) % m.len();
            if k % 2 == 0 {
                m.truncate(at);
            } else {
                m[at] = m[at].wrapping_add(k as u8);
            }
            let _ = framing::for_each_record(&m[..], &framing::Reads::All, &mut |r| {
                if let Ok(v) = &r.value {
                    for s in sources::all() {
                        let _ = s.normalise(v);
                    }
                }
                Ok(())
            });
            runs += 1;
        }
    }
    assert!(runs > 100);
}

/// The same event delivered twice with other formatting (a hook body and an API page: key
/// order, whitespace) is stored once; the same id with other content is stored and
/// reported, through `ingest` and through `append` alike.
#[test]
fn same_id_is_a_duplicate_only_with_the_same_content() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let first = tmp.path().join("page.json");
    fs::write(&first, format!("[{GOOD}]")).unwrap();
    let (code, out, err) = run(&dir, &["ingest", first.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 1, duplicates 0"), "{out}");

    // Reformatted: keys reordered, spaces and newlines added. Same content.
    let value: serde_json::Value = serde_json::from_str(GOOD).unwrap();
    let mut reordered = serde_json::Map::new();
    for (k, v) in value.as_object().unwrap().iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    let hook = tmp.path().join("hook.json");
    fs::write(
        &hook,
        serde_json::to_string_pretty(&vec![serde_json::Value::Object(reordered)]).unwrap(),
    )
    .unwrap();
    let (code, out, err) = run(
        &dir,
        &["ingest", "--source", "okta", hook.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 0, duplicates 1"), "{out}");
    assert!(!out.contains("WARNING"), "{out}");

    // Same uuid, backdated: kept and reported.
    let forged = tmp.path().join("forged.json");
    fs::write(
        &forged,
        format!("[{}]", GOOD.replace("2026-03-14T00", "2026-02-01T00")),
    )
    .unwrap();
    let (code, out, err) = run(&dir, &["ingest", forged.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 1, duplicates 0"), "{out}");
    assert!(out.contains("seq 1 reuses the id of seq 0"), "{out}");
    // Again: now a duplicate of the copy it is.
    let (_, out, _) = run(&dir, &["ingest", forged.to_str().unwrap()]);
    assert!(out.contains("added 0, duplicates 1"), "{out}");

    // A normalised event that merely claims to be that Okta event.
    let claim = tmp.path().join("claim.jsonl");
    fs::write(
        &claim,
        r#"{"source":"okta","source_id":"u1","kind":"account.deactivated","subject":"jose.nunez@acme.example","occurred_at":"2026-01-02T00:00:00Z"}"#,
    )
    .unwrap();
    let (code, out, err) = run(&dir, &["append", claim.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("seq 2 reuses the id of seq 0"), "{out}");
    assert_eq!(size(&dir), 3);

    let (_, out, _) = run(&dir, &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut pairs: Vec<(u64, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "source-id-conflict")
        .map(|f| {
            (
                f["details"]["earlier_seq"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                f["details"]["later_seq"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(pairs, [(0, 1), (0, 2)]);
    let (code, _, _) = run(&dir, &["verify"]);
    assert_eq!(code, 0, "the ledger itself is intact");
}

/// Once a record's raw bytes are redacted, only its normalised event is left to compare: the
/// same event again (as it was, or reformatted) is a duplicate, through `ingest` and its
/// dry run alike, and the same id with other content is stored and reported.
/// An Entra "Update user" that re-enables an account and sets a new leave date is two
/// events from one record; when the record has no id, the second must not be dropped as a
/// copy of the first (they share the raw record), and a re-ingest adds neither.
#[test]
fn both_events_of_one_record_without_an_id_are_kept_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let record = r#"{"activityDisplayName":"Update user","activityDateTime":"2026-03-01T09:00:00Z","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"targetResources":[{"id":"u1","type":"User","userPrincipalName":"jose.nunez@acme.example","modifiedProperties":[{"displayName":"AccountEnabled","oldValue":"[false]","newValue":"[true]"},{"displayName":"EmployeeLeaveDateTime","oldValue":"[]","newValue":"[\"2026-03-31T23:59:59Z\"]"}]}]}"#;
    let f = tmp.path().join("audit.json");
    fs::write(&f, format!("[{record}]")).unwrap();
    let file = f.to_str().unwrap();
    let (code, out, err) = run(&dir, &["ingest", "--source", "entra-audit", file]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 2, duplicates 0"), "{out}");
    let (code, out, err) = run(&dir, &["ingest", "--source", "entra-audit", file]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 0, duplicates 2"), "{out}");
    assert_eq!(size(&dir), 2);
}

#[test]
fn a_redacted_record_is_still_recognised_by_its_event() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let first = tmp.path().join("page.json");
    fs::write(&first, format!("[{GOOD}]")).unwrap();
    let (code, _, err) = run(&dir, &["ingest", first.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, log, _) = run(&dir, &["log", "--limit", "1", "--format", "json"]);
    let entry: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    let raw = entry["raw_hash"].as_str().unwrap().to_string();
    let (code, _, err) = run(&dir, &["redact", &raw, "--reason", "erasure"]);
    assert_eq!(code, 0, "{err}");

    let hook = tmp.path().join("hook.json");
    let value: serde_json::Value = serde_json::from_str(GOOD).unwrap();
    fs::write(&hook, serde_json::to_string_pretty(&vec![value]).unwrap()).unwrap();
    for file in [&first, &hook] {
        let file = file.to_str().unwrap();
        let (code, out, err) = run(&dir, &["ingest", "--dry-run", "--source", "okta", file]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("would add 0, duplicates 1"),
            "dry run of {file}: {out}"
        );
        let (code, out, err) = run(&dir, &["ingest", "--source", "okta", file]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("added 0, duplicates 1"), "{file}: {out}");
    }
    let other = tmp.path().join("other.json");
    fs::write(
        &other,
        format!(
            "[{}]",
            GOOD.replace("system@okta.com", "mallory@acme.example")
        ),
    )
    .unwrap();
    let (code, out, err) = run(&dir, &["ingest", other.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 1, duplicates 0"), "{out}");
    assert!(out.contains("seq 2 reuses the id of seq 0"), "{out}");
}

/// A field missing in the IdP's casing but present in another is named with what the
/// record has; a field missing outright is not. (Entra's PascalCase shapes, a Sentinel
/// table row's columns among them, are read as Graph records: the row with only
/// `ResultType` for its outcome is a sign-in.)
#[test]
fn a_missing_field_present_in_another_casing_is_pointed_out() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let row = r#"{"TimeGenerated":"2026-03-19T17:05:00Z","CreatedDateTime":"2026-03-19T17:05:00Z","UserPrincipalName":"a@x.example","ResultType":"0","Type":"SigninLogs"}"#;
    let file = tmp.path().join("row.ndjson");
    fs::write(&file, row).unwrap();
    let args = ["ingest", "--source", "entra-signin", file.to_str().unwrap()];
    let (code, out, err) = run(&dir, &args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("auth.succeeded") && out.contains("added        1"),
        "{out}"
    );
    fs::write(&file, row.replace("CreatedDateTime", "Other")).unwrap();
    let (code, _, err) = run(&dir, &args);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("row.ndjson:1: field /createdDateTime: missing")
            && !err.contains("keys are case-sensitive"),
        "{err}"
    );
    // A CSV export's column, the same.
    let csv = tmp.path().join("audit.csv");
    fs::write(
        &csv,
        "Action,actor,created_at\r\norg.remove_member,bob,1773903600000\r\n",
    )
    .unwrap();
    let (code, _, err) = run(
        &dir,
        &["ingest", "--source", "github", csv.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("audit.csv:2: field /action: missing")
            && err.contains("the record has `Action`"),
        "{err}"
    );
}

/// Text that is not JSON, given to a JSON-only source, is refused (exit 2): an error page
/// saved in place of an export is not an empty export.
#[test]
fn an_error_page_saved_as_an_export_is_refused_not_taken_as_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let cases = [
        ("okta", "Unauthorized"),
        (
            "keycloak",
            "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
        ),
        ("events", "Unauthorized\n"),
    ];
    for (source, text) in cases {
        let file = tmp.path().join("export.json");
        fs::write(&file, text).unwrap();
        let args = if source == "events" {
            vec!["append", file.to_str().unwrap()]
        } else {
            vec!["ingest", "--source", source, file.to_str().unwrap()]
        };
        let (code, _, err) = run(&dir, &args);
        assert_eq!(code, 2, "{source}: {err}");
        assert!(
            err.contains(&format!("not JSON: the {source} source reads")),
            "{source}: {err}"
        );
    }
    assert_eq!(size(&dir), 0);
}

/// A dry run says what the real run then does: the same added and duplicate counts and
/// the same id conflicts, with an id reused against the ledger, within a file and in a
/// later file of the same run (which the real run reads after committing the first), and
/// a reformatted repeat taken as the duplicate it is.
#[test]
fn a_dry_run_reports_the_duplicates_and_conflicts_the_real_run_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let with = |id: &str, who: &str| {
        GOOD.replace("\"u1\"", &format!("\"{id}\""))
            .replace("jose.nunez", who)
    };
    let before = tmp.path().join("before.ndjson");
    fs::write(&before, with("u3", "ana")).unwrap();
    let (code, _, err) = run(&dir, &["ingest", before.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let reformatted: serde_json::Value = serde_json::from_str(&with("u1", "bo")).unwrap();
    let lines = [
        with("u1", "bo"),
        serde_json::to_string_pretty(&reformatted)
            .unwrap()
            .replace('\n', " "),
        with("u1", "cy"),
        with("u2", "di"),
        with("u3", "ed"),
        with("u1", "cy"),
    ];
    let file = tmp.path().join("page.ndjson");
    fs::write(&file, lines.join("\n")).unwrap();
    // A second file: all of the first again, and one id of the first with other content.
    let second = tmp.path().join("again.ndjson");
    fs::write(
        &second,
        format!("{}\n{}", lines.join("\n"), with("u2", "fay")),
    )
    .unwrap();
    let summaries = |dry: bool, batch: &str| {
        let files = [file.to_str().unwrap(), second.to_str().unwrap()];
        let mut args = vec!["ingest", "--format", "json", "--batch", batch];
        args.extend(files);
        if dry {
            args.push("--dry-run");
        }
        let (code, out, err) = run(&dir, &args);
        assert_eq!(code, 0, "{err}");
        out.lines()
            .map(|line| {
                let f: serde_json::Value = serde_json::from_str(line).unwrap();
                (
                    f["added"].clone(),
                    f["duplicates"].clone(),
                    f["conflicts"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    // Staged one record at a time and a thousand at a time alike.
    let dry = [summaries(true, "1"), summaries(true, "1000")];
    assert_eq!(size(&dir), 1, "a dry run writes nothing");
    let real = summaries(false, "1");
    assert_eq!(dry[0], real);
    assert_eq!(dry[1], real);
    assert_eq!(
        real,
        [
            (
                4.into(),
                2.into(),
                serde_json::json!([{"earlier": 1, "later": 2}, {"earlier": 0, "later": 4}])
            ),
            (
                1.into(),
                6.into(),
                serde_json::json!([{"earlier": 3, "later": 5}])
            )
        ]
    );
}

/// An empty export (a quiet day) is zero records and exit 0, whatever its shape, so a cron
/// job does not break; with `--source auto` it says there was nothing to recognise.
#[test]
fn empty_exports_are_zero_records_not_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let cases: [(&str, &str, &[u8]); 5] = [
        ("empty.json", "okta", b""),
        ("blank.ndjson", "okta", b"\n \r\n"),
        ("array.json", "okta", b"[]"),
        ("envelope.json", "entra-signin", br#"{"value": []}"#),
        ("header-only.csv", "roster", b"person,email,employment,role,team,manager,tech_lead,contract_end,time_zone,accounts,tokens,left_on,effective_at\r\n"),
    ];
    for (name, source, bytes) in cases {
        let f = tmp.path().join(name);
        fs::write(&f, bytes).unwrap();
        let (code, out, err) = run(&dir, &["ingest", "--source", source, f.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("0 records, 0 events"), "{name}: {out}");
        let (code, out, err) = run(&dir, &["ingest", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{name} with --source auto: {out}{err}");
        assert!(
            out.contains("no records (an empty export)") || out.contains("0 records"),
            "{name}: {out}{err}"
        );
    }
    assert_eq!(size(&dir), 0);
}

/// Every file given is tried, each committed whole or not at all, and the run ends with
/// one line per file; a refused file makes the exit code 2 without stopping the others.
#[test]
fn every_file_is_tried_and_each_is_all_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let good = |n: u32| {
        let path = tmp.path().join(format!("good{n}.ndjson"));
        let lines: Vec<String> = (0..3)
            .map(|i| GOOD.replace("\"u1\"", &format!("\"g{n}-{i}\"")))
            .collect();
        fs::write(&path, lines.join("\n")).unwrap();
        path
    };
    let (first, last) = (good(1), good(2));
    // A bad record after 1,500 good ones: more than one staged batch must be discarded.
    let bad = tmp.path().join("bad.ndjson");
    let mut lines: Vec<String> = (0..1500)
        .map(|i| GOOD.replace("\"u1\"", &format!("\"b{i}\"")))
        .collect();
    lines.push(
        GOOD.replace("\"u1\"", "\"bx\"")
            .replace("00.000Z", "00.000"),
    );
    fs::write(&bad, lines.join("\n")).unwrap();
    let missing = tmp.path().join("missing.json");
    let args = [&first, &bad, &missing, &last].map(|p| p.to_str().unwrap().to_string());
    let mut argv = vec!["ingest", "--source", "okta"];
    argv.extend(args.iter().map(String::as_str));
    let (code, _, err) = run(&dir, &argv);
    assert_eq!(code, 2, "{err}");
    for (file, what) in [
        (&first, "committed 3 event(s) (ledger size 3)"),
        (&bad, "refused: nothing from it committed"),
        (&missing, "refused: cannot be read"),
        (&last, "committed 3 event(s) (ledger size 6)"),
    ] {
        assert!(
            err.contains(&format!("{}: {what}", file.display())),
            "{what}:\n{err}"
        );
    }
    assert!(err.contains("2 of 4 file(s) were not ingested"), "{err}");
    assert_eq!(
        size(&dir),
        6,
        "the bad file's 1,500 good records were discarded"
    );
    let (code, _, err) = run(&dir, &["verify"]);
    assert_eq!(code, 0, "{err}");
}

/// A pipe read with `--source auto` (the default), as `ingest <(curl ...)` gives one:
/// recognising its format reads its first record, so it is spooled and read whole, not
/// opened twice and found empty the second time.
#[cfg(unix)]
#[test]
fn a_pipe_is_recognised_and_ingested_whole() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let fifo = tmp.path().join("export.ndjson");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut pipe = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            for i in 0..300 {
                let record = GOOD.replace("\"u1\"", &format!("\"p{i}\"")) + "\n";
                pipe.write_all(record.as_bytes()).unwrap();
            }
        })
    };
    let (code, out, err) = run(&dir, &["ingest", fifo.to_str().unwrap()]);
    writer.join().unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(size(&dir), 300, "{out}{err}");
}

/// SIGTERM in the middle of a file: the file in progress is discarded, the files before it
/// stay committed, the ones after are not tried, and the run says so (exit 2). The input
/// is a FIFO, so the test decides exactly where in the file the signal arrives.
#[cfg(unix)]
#[test]
fn sigterm_discards_the_file_in_progress_and_says_what_was_committed() {
    use std::io::Write as _;
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let first = tmp.path().join("first.ndjson");
    fs::write(&first, GOOD).unwrap();
    let fifo = tmp.path().join("live.ndjson");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let after = tmp.path().join("after.ndjson");
    fs::write(&after, GOOD.replace("\"u1\"", "\"a1\"")).unwrap();
    let child = crate::util::bin()
        .args([
            "--ledger",
            dir.to_str().unwrap(),
            "ingest",
            "--source",
            "okta",
        ])
        .args([&first, &fifo, &after])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let record = |i: usize| GOOD.replace("\"u1\"", &format!("\"f{i}\"")) + "\n";
    let mut pipe = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    for i in 0..2500 {
        pipe.write_all(record(i).as_bytes()).unwrap();
    }
    pipe.flush().unwrap();
    // The first file is committed before the FIFO is opened for reading.
    assert_eq!(size(&dir), 1);
    // The shell's own `kill`: a fresh machine need not have procps.
    let killed = std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    // The next record read sees the flag.
    let _ = pipe.write_all(record(9999).as_bytes());
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}: committed 1 event(s)", first.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: interrupted: nothing from it committed",
            fifo.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: not tried: interrupted", after.display())),
        "{err}"
    );
    assert_eq!(size(&dir), 1);
    let (code, _, err) = run(&dir, &["verify"]);
    assert_eq!(code, 0, "{err}");
    // The next run takes the whole file again.
    let (code, out, err) = run(&dir, &["ingest", after.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 1"), "{out}");
}

/// A record over the size limit is refused with a message naming the limit and the flag.
#[test]
fn an_oversized_record_is_refused_naming_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let f = tmp.path().join("big.ndjson");
    let big = GOOD.replace(
        "\"SUCCESS\"}",
        &format!("\"SUCCESS\",\"reason\":\"{}\"}}", "x".repeat(3000)),
    );
    fs::write(&f, format!("{GOOD}\n{}\n", big.replace("\"u1\"", "\"u2\""))).unwrap();
    let (code, _, err) = run(
        &dir,
        &["ingest", "--max-record-bytes", "2048", f.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("big.ndjson:2: the record is"), "{err}");
    assert!(
        err.contains("the limit is 2048 (--max-record-bytes)"),
        "{err}"
    );
    assert_eq!(size(&dir), 0);
}

/// GitHub's audit log streaming writes `<uuid>.json.gz`: a gzip-compressed export reads as
/// the export it holds (its records are the decompressed bytes, so the plain file adds
/// nothing after it), and a torn one is refused whole, saying it is gzip.
#[test]
fn gzip_compressed_exports_read_as_the_export_they_hold() {
    use std::io::Write as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    init(&dir);
    let plain = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/idp/okta/system-log.ndjson");
    let bytes = fs::read(&plain).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();
    let torn = tmp.path().join("torn.json.gz");
    fs::write(&torn, &gz[..gz.len() / 2]).unwrap();
    let before = size(&dir);
    let (code, _, err) = run(
        &dir,
        &["ingest", "--source", "okta", torn.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("gzip-compressed input"), "{err}");
    assert_eq!(size(&dir), before, "nothing of a torn file is committed");

    let file = tmp.path().join("stream.json.gz");
    fs::write(&file, &gz).unwrap();
    let (code, out, err) = run(
        &dir,
        &["ingest", "--source", "okta", file.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("11 records, 11 events; added 11"), "{out}");
    let (code, out, err) = run(
        &dir,
        &["ingest", "--source", "okta", plain.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 0, duplicates 11"), "{out}");

    // Progress is measured against the file's size as stored: the compressed bytes read,
    // not the decompressed ones, which would run past 100 %.
    let input = auditledger::ingest::Input::open(&file).unwrap();
    let mut last = 0;
    auditledger::ingest::walk(
        &input,
        auditledger::sources::by_name("okta").unwrap(),
        &mut |n| last = last.max(n),
        &|chunk| chunk,
        &mut |_| Ok(()),
    )
    .unwrap();
    assert_eq!((last, input.len), (gz.len() as u64, gz.len() as u64));
}
