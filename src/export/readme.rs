//! `README.txt`: what an auditor reads first. It says what each file is and how to check
//! the bundle with tools this project did not write.

use crate::ledger::entry::RAW_CONTEXT;
use crate::tlog::note::NoteVerifier;

pub(super) struct Facts<'a> {
    pub origin: &'a str,
    pub tree_size: u64,
    pub keys: &'a [NoteVerifier],
    pub entries: &'a [u64],
    /// An entry with its raw record in the bundle: (seq, raw hash hex).
    pub example: Option<(u64, String)>,
    pub first: Option<u64>,
}

fn list(seqs: &[u64]) -> String {
    let shown: Vec<String> = seqs.iter().take(20).map(u64::to_string).collect();
    let more = if seqs.len() > 20 {
        format!(", ... ({} in all)", seqs.len())
    } else {
        String::new()
    };
    if shown.is_empty() {
        "none".into()
    } else {
        format!("{}{more}", shown.join(", "))
    }
}

pub(super) fn text(f: &Facts) -> String {
    let keys: String = f
        .keys
        .iter()
        .map(|k| format!("    {}+{:08x}  ({k})\n", k.name, k.id))
        .collect();
    let n = f.first.unwrap_or(0);
    let (raw_seq, raw_hex) = f
        .example
        .clone()
        .unwrap_or((n, "<raw hash hex>".to_string()));
    format!(
        r#"AUDITOR BUNDLE (auditledger)
============================

Evidence exported from an auditledger ledger: a report, the ledger entries it cites,
their original source records, and proofs that those entries are in the ledger's signed,
append-only history. All of it can be checked offline, without the ledger, and with
tools that the ledger's authors did not write.

  Ledger (origin):  {origin}
  Tree size:        {size} entries{span}; the report was computed on them
  Entries included: {entries}
  Signed by:
{keys}
Get the ledger's verifier key from its owner by another channel (it is what
`auditledger status` prints as verifier_key) and compare it with verifier-key.txt. A key
that only came inside this bundle shows that the bundle is self-consistent, not who made it.

FILES
  report/             the report files, exactly as produced
  checkpoint.txt      the signed checkpoint: a C2SP signed note (Ed25519) whose text is a
                      C2SP tlog-checkpoint: origin, tree size, base64 SHA-256 Merkle root
                      (RFC 6962), and a "time" line saying when it was signed
  verifier-key.txt    every key that signed checkpoint.txt, one per line, as a note
                      verifier key: <name>+<8 hex key id>+<base64(0x01 || Ed25519 key)>
  entries/N.bin       entry N's canonical bytes (postcard, format version 1): exactly the
                      input of Merkle leaf N
  entries/N.json      the same entry as readable JSON, its hashes, and where its raw
                      record is ("raw": file, or redacted with the redaction's seq)
  raw/<hash>          an entry's original source record, named by its raw hash; absent
                      when the record was redacted (e.g. an erasure request): the entry
                      still holds the hash, so the rest still verifies
  proofs/N.json       inclusion proof of leaf N in the tree of checkpoint.txt:
                      {{"type":"inclusion","hash":"sha256","leaf_index":N,"tree_size":{size},
                       "leaf_hash":"<base64>","path":["<base64>",...],"checkpoint":"<note>"}}
  MANIFEST.b3         BLAKE3 of every other file, in b3sum's format
  MANIFEST.note       a signed note (the checkpoint's format) by the ledger's key over
                      "origin", "tree_size" and "manifest_b3 <BLAKE3 of MANIFEST.b3>":
                      it binds the report files, the conclusions, to the ledger's owner
  README.txt          this file

HOW TO CHECK IT

With auditledger:
    auditledger verify-bundle . --pubkey '<verifier key you obtained>'

By hand (run the commands in this directory; bash):

1. No file altered, missing or added. MANIFEST.b3 is plain BLAKE3 (no key, no context),
   so the BLAKE3 team's b3sum checks it, and the second command must print nothing:
       b3sum --check MANIFEST.b3
       find . -type f ! -name MANIFEST.b3 ! -name MANIFEST.note | sed 's|^\./||' | sort | diff - <(cut -c67- MANIFEST.b3)
   MANIFEST.note signs the manifest: open it with the verifier key as in step 2 (Go's
   note.Open), and its "manifest_b3" line must be what b3sum MANIFEST.b3 prints. Edited
   report files with a recomputed manifest fail here.

2. The checkpoint is signed by the ledger's key: open checkpoint.txt with Go's
   golang.org/x/mod/sumdb/note (note.NewVerifier(key), note.Open); the program below does.

3. Each entry is leaf N of that tree. Its leaf hash is SHA-256(0x00 || entries/N.bin):
       (printf '\000'; cat entries/{n}.bin) | sha256sum | xxd -r -p | base64
   must print the "leaf_hash" of proofs/{n}.json. Then check the proof's path against the
   root in checkpoint.txt with golang.org/x/mod/sumdb/tlog (tlog.CheckRecord) or
   github.com/transparency-dev/merkle (proof.VerifyInclusion with rfc6962.DefaultHasher).

4. Each raw record is the one the entry names. An entry's raw_hash is BLAKE3 in
   derive_key mode with the context string
       {raw_context}
   (unlike the plain BLAKE3 of MANIFEST.b3), so:
       b3sum --derive-key "{raw_context}" raw/{raw_hex}
   must print the file's own name, which must be the "raw_hash" of entries/{raw_seq}.json.
   In entries/N.bin the raw hash follows the version byte, the seq (a LEB128 varint) and
   the 32-byte previous-entry hash.

5. The report cites only entries that are here: each "seq" in the "evidence" list of the
   report's JSON has entries/<seq>.bin and proofs/<seq>.json, and its "hash" is the
   "hash" in entries/<seq>.json (the entry's BLAKE3 chain hash).

A Go program for steps 2 and 3 (go mod init check; go get golang.org/x/mod; then
go run . <this directory> '<verifier key>'):

    package main

    import (
        "encoding/json"
        "fmt"
        "os"
        "path/filepath"
        "strconv"
        "strings"

        "golang.org/x/mod/sumdb/note"
        "golang.org/x/mod/sumdb/tlog"
    )

    func must(err error) {{
        if err != nil {{
            fmt.Println("FAILED:", err)
            os.Exit(1)
        }}
    }}

    func main() {{
        dir, key := os.Args[1], os.Args[2]
        v, err := note.NewVerifier(key)
        must(err)
        msg, err := os.ReadFile(filepath.Join(dir, "checkpoint.txt"))
        must(err)
        n, err := note.Open(msg, note.VerifierList(v))
        must(err)
        lines := strings.Split(n.Text, "\n")
        size, err := strconv.ParseInt(lines[1], 10, 64)
        must(err)
        root, err := tlog.ParseHash(lines[2])
        must(err)
        files, err := filepath.Glob(filepath.Join(dir, "proofs", "*.json"))
        must(err)
        for _, f := range files {{
            var p struct {{
                LeafIndex int64    `json:"leaf_index"`
                TreeSize  int64    `json:"tree_size"`
                LeafHash  string   `json:"leaf_hash"`
                Path      []string `json:"path"`
            }}
            b, err := os.ReadFile(f)
            must(err)
            must(json.Unmarshal(b, &p))
            name := strconv.FormatInt(p.LeafIndex, 10) + ".bin"
            entry, err := os.ReadFile(filepath.Join(dir, "entries", name))
            must(err)
            leaf := tlog.RecordHash(entry)
            if leaf.String() != p.LeafHash || p.TreeSize != size {{
                must(fmt.Errorf("%s: leaf hash or tree size differs", f))
            }}
            var path tlog.RecordProof
            for _, s := range p.Path {{
                h, err := tlog.ParseHash(s)
                must(err)
                path = append(path, h)
            }}
            must(tlog.CheckRecord(path, size, root, p.LeafIndex, leaf))
            fmt.Printf("OK: entry %d is in the signed tree\n", p.LeafIndex)
        }}
        fmt.Printf("OK: %s, %d entries, signed by %s\n", lines[0], size, v.Name())
    }}

More: docs/bundle.md in the auditledger repository.
"#,
        origin = f.origin,
        size = f.tree_size,
        span = if f.tree_size == 0 {
            String::new()
        } else {
            format!(" (seqs 0 to {})", f.tree_size - 1)
        },
        entries = list(f.entries),
        keys = keys,
        n = n,
        raw_context = RAW_CONTEXT,
        raw_hex = raw_hex,
        raw_seq = raw_seq,
    )
}
