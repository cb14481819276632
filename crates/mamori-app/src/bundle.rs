//! Signed offline bundles of feed data, for hospital networks without internet access:
//! fetch and import on a connected machine, `export-bundle`, carry the file in, and
//! `import-bundle --trust KEY.pub` on the closed network.
//!
//! A bundle is a tar file: `manifest.json` (what is inside, with each member's SHA-256 and
//! record count), `manifest.sig` (an Ed25519 signature over the manifest's exact bytes),
//! and gzip'd JSON-lines members in mamori's own model. Import checks the signature with
//! the trusted public key and every member's digest before changing anything, then imports
//! all members in one transaction, hashing again as it reads.

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use mamori_core::vuln::{Advisory, EpssScore, KevEntry, Vulnerability};
use mamori_store::{StoredEpss, Upsert};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{audit, io, App, AppError, Result};

const FORMAT: &str = "mamori-feed-bundle";
const PRIVATE_HEADER: &str = "mamori bundle signing key (Ed25519, keep secret) v1";
const PUBLIC_HEADER: &str = "mamori bundle public key (Ed25519) v1";

/// The bundle's table of contents; signed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Always `mamori-feed-bundle`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// When the bundle was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: String,
    /// Only records stored after this time (a delta), or all.
    pub since: Option<DateTime<Utc>>,
    /// The signer's public key (hex); must equal the trusted key.
    pub public_key: String,
    /// The data members.
    pub files: Vec<ManifestFile>,
}

/// One member of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    /// Member name.
    pub name: String,
    /// Hex SHA-256 of the member's bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// JSON lines (records) inside.
    pub records: u64,
}

/// What an export or import did.
#[derive(Debug, Clone, Default)]
pub struct BundleReport {
    /// Records per member name.
    pub records: BTreeMap<String, u64>,
    /// Import only: added / updated / unchanged over all records.
    pub added: u64,
    /// Records replaced by a newer version.
    pub updated: u64,
    /// Records the store already had.
    pub unchanged: u64,
    /// The manifest.
    pub manifest: Option<Manifest>,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let t = text.trim();
    if t.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(t.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

fn bundle_error(ja: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::bad_value("bundle", ja, en)
}

/// Creates a signing key pair: `KEY` (secret, mode 0600) and `KEY.pub`.
pub fn keygen(path: &Path) -> Result<(PathBuf, PathBuf)> {
    let public = PathBuf::from(format!("{}.pub", path.display()));
    for p in [path, public.as_path()] {
        if p.exists() {
            return Err(bundle_error(
                format!("{} は既にあります。上書きしません", p.display()),
                format!("{} already exists; it is not overwritten", p.display()),
            ));
        }
    }
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(io(path))?;
    writeln!(f, "{PRIVATE_HEADER}\n{}", hex(&seed)).map_err(io(path))?;
    std::fs::write(
        &public,
        format!("{PUBLIC_HEADER}\n{}\n", hex(key.verifying_key().as_bytes())),
    )
    .map_err(io(&public))?;
    Ok((path.to_path_buf(), public))
}

fn read_key_line(path: &Path, header: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(header) {
        return Err(bundle_error(
            format!(
                "{} は mamori の鍵ファイルではありません (`mamori feeds keygen` で作成します)",
                path.display()
            ),
            format!(
                "{} is not a mamori key file (make one with `mamori feeds keygen`)",
                path.display()
            ),
        ));
    }
    Ok(lines.next().unwrap_or("").trim().to_string())
}

pub(crate) fn signing_key(path: &Path) -> Result<SigningKey> {
    let line = read_key_line(path, PRIVATE_HEADER)?;
    let seed = unhex::<32>(&line).ok_or_else(|| {
        bundle_error(
            format!("{}: 鍵が壊れています", path.display()),
            format!("{}: the key is damaged", path.display()),
        )
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

pub(crate) fn trusted_key(path: &Path) -> Result<VerifyingKey> {
    let line = read_key_line(path, PUBLIC_HEADER)?;
    unhex::<32>(&line)
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| {
            bundle_error(
                format!("{}: 公開鍵が壊れています", path.display()),
                format!("{}: the public key is damaged", path.display()),
            )
        })
}

#[derive(Serialize, Deserialize)]
struct VulnLine {
    source: String,
    origin: String,
    record: Vulnerability,
}

#[derive(Serialize, Deserialize)]
struct AdvisoryLine {
    origin: String,
    record: Advisory,
}

#[derive(Serialize, Deserialize)]
struct KevLine {
    catalog_version: String,
    record: KevEntry,
}

#[derive(Serialize, Deserialize)]
struct EpssLine {
    cve: String,
    score: EpssScore,
    score_date: Option<String>,
    model_version: Option<String>,
}

/// Writes JSON lines into a gzip temporary file, hashing the compressed bytes.
struct Member {
    name: &'static str,
    path: PathBuf,
    gz: flate2::write::GzEncoder<std::fs::File>,
    records: u64,
}

impl Member {
    fn new(dir: &Path, name: &'static str) -> Result<Member> {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).map_err(io(&path))?;
        Ok(Member {
            name,
            path,
            gz: flate2::write::GzEncoder::new(file, flate2::Compression::default()),
            records: 0,
        })
    }

    fn line<T: Serialize>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.gz, value)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        self.gz.write_all(b"\n").map_err(io(&self.path))?;
        self.records += 1;
        Ok(())
    }

    fn finish(self) -> Result<(ManifestFile, PathBuf)> {
        self.gz.finish().map_err(io(&self.path))?;
        let mut hasher = Sha256::new();
        let mut f = std::fs::File::open(&self.path).map_err(io(&self.path))?;
        let bytes = std::io::copy(&mut f, &mut hasher).map_err(io(&self.path))?;
        Ok((
            ManifestFile {
                name: self.name.into(),
                sha256: hex(&hasher.finalize()),
                bytes,
                records: self.records,
            },
            self.path,
        ))
    }
}

/// `--since`: a time, or an earlier bundle whose creation time is used.
pub fn since_of(arg: &str) -> Result<DateTime<Utc>> {
    let p = Path::new(arg);
    if p.is_file() {
        let (manifest, _) = read_manifest(p)?;
        return Ok(manifest.created_at);
    }
    DateTime::parse_from_rfc3339(arg)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            mamori_core::value::parse_date(arg)
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .map_err(|_| {
            bundle_error(
                format!("--since「{arg}」は日時でもバンドルファイルでもありません"),
                format!("--since \"{arg}\" is neither a date/time nor a bundle file"),
            )
        })
}

fn read_manifest(path: &Path) -> Result<(Manifest, Vec<u8>)> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let mut archive = tar::Archive::new(file);
    for entry in archive.entries().map_err(|e| not_bundle(path, e))? {
        let mut entry = entry.map_err(|e| not_bundle(path, e))?;
        if entry
            .path()
            .map(|p| p == Path::new("manifest.json"))
            .unwrap_or(false)
        {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| not_bundle(path, e))?;
            let manifest: Manifest =
                serde_json::from_slice(&bytes).map_err(|e| not_bundle(path, e))?;
            return Ok((manifest, bytes));
        }
    }
    Err(not_bundle(path, "no manifest.json"))
}

fn not_bundle(path: &Path, e: impl std::fmt::Display) -> AppError {
    bundle_error(
        format!("{} は mamori のバンドルとして読めません ({e})。ファイルが壊れているか、途中で切れています", path.display()),
        format!("{} cannot be read as a mamori bundle ({e}); the file is damaged or truncated", path.display()),
    )
}

impl App {
    /// Writes the store's feed data (or what was stored after `since`) as a signed bundle.
    pub fn export_bundle(
        &mut self,
        out: &Path,
        key: &Path,
        since: Option<DateTime<Utc>>,
    ) -> Result<BundleReport> {
        self.require(mamori_core::access::Permission::ImportFeeds)?;
        let signer = signing_key(key)?;
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let work = dir.join(format!(".mamori-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&work).map_err(io(&work))?;
        let result = self.write_bundle(out, &work, &signer, since);
        let _ = std::fs::remove_dir_all(&work);
        result
    }

    fn write_bundle(
        &mut self,
        out: &Path,
        work: &Path,
        signer: &SigningKey,
        since: Option<DateTime<Utc>>,
    ) -> Result<BundleReport> {
        let actor = self.actor.clone();
        let tx = self.store.begin_read()?;
        let mut vulns = Member::new(work, "vulnerabilities.jsonl.gz")?;
        for (id, source) in tx.vulnerability_ids_since(since)? {
            if let Some(s) = tx.vulnerability(&id)? {
                vulns.line(&VulnLine {
                    source,
                    origin: s.origin,
                    record: s.vuln,
                })?;
            }
        }
        let mut advisories = Member::new(work, "advisories.jsonl.gz")?;
        for id in tx.advisory_ids_since(since)? {
            if let Some((a, origin)) = tx.advisory(&id)? {
                advisories.line(&AdvisoryLine { origin, record: a })?;
            }
        }
        // KEV and EPSS are small: always whole.
        let mut kev = Member::new(work, "kev.jsonl.gz")?;
        for (e, catalog_version) in tx.all_kev()? {
            kev.line(&KevLine {
                catalog_version,
                record: e,
            })?;
        }
        let mut epss = Member::new(work, "epss.jsonl.gz")?;
        for (cve, s) in tx.all_epss()? {
            epss.line(&EpssLine {
                cve,
                score: s.score,
                score_date: s.score_date,
                model_version: s.model_version,
            })?;
        }
        drop(tx);
        let members: Vec<(ManifestFile, PathBuf)> = [vulns, advisories, kev, epss]
            .into_iter()
            .map(Member::finish)
            .collect::<Result<_>>()?;
        let manifest = Manifest {
            format: FORMAT.into(),
            version: 1,
            created_at: Utc::now(),
            created_by: actor,
            since,
            public_key: hex(signer.verifying_key().as_bytes()),
            files: members.iter().map(|(m, _)| m.clone()).collect(),
        };
        let manifest_bytes =
            serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::Internal(e.to_string()))?;
        let signature = hex(&signer.sign(&manifest_bytes).to_bytes());
        let tmp = work.join("bundle.tar");
        {
            let file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            let mut builder = tar::Builder::new(file);
            let mut add = |name: &str, bytes: &[u8]| -> Result<()> {
                let mut h = tar::Header::new_gnu();
                h.set_size(bytes.len() as u64);
                h.set_mode(0o644);
                h.set_mtime(manifest.created_at.timestamp().max(0) as u64);
                h.set_cksum();
                builder.append_data(&mut h, name, bytes).map_err(io(&tmp))
            };
            add("manifest.json", &manifest_bytes)?;
            add("manifest.sig", signature.as_bytes())?;
            for (m, path) in &members {
                let mut h = tar::Header::new_gnu();
                h.set_size(m.bytes);
                h.set_mode(0o644);
                h.set_mtime(manifest.created_at.timestamp().max(0) as u64);
                h.set_cksum();
                let f = std::fs::File::open(path).map_err(io(path))?;
                builder.append_data(&mut h, &m.name, f).map_err(io(&tmp))?;
            }
            builder
                .into_inner()
                .and_then(|f| f.sync_all())
                .map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, out).map_err(io(out))?;
        Ok(BundleReport {
            records: members
                .iter()
                .map(|(m, _)| (m.name.clone(), m.records))
                .collect(),
            manifest: Some(manifest),
            ..Default::default()
        })
    }

    /// Verifies a bundle against the trusted public key and imports it in one transaction.
    /// Nothing changes unless the signature and every digest are right.
    pub fn import_bundle(&mut self, path: &Path, trust: &Path) -> Result<BundleReport> {
        self.require(mamori_core::access::Permission::ImportFeeds)?;
        let key = trusted_key(trust)?;
        // Pass 1: signature and digests, before any change.
        let (manifest, manifest_bytes, signature, digests) = {
            let file = std::fs::File::open(path).map_err(io(path))?;
            let mut archive = tar::Archive::new(file);
            let (mut manifest_bytes, mut signature) = (None, None);
            let mut digests: BTreeMap<String, String> = BTreeMap::new();
            for entry in archive.entries().map_err(|e| not_bundle(path, e))? {
                let mut entry = entry.map_err(|e| not_bundle(path, e))?;
                let name = entry
                    .path()
                    .map_err(|e| not_bundle(path, e))?
                    .display()
                    .to_string();
                match name.as_str() {
                    "manifest.json" | "manifest.sig" => {
                        let mut b = Vec::new();
                        entry.read_to_end(&mut b).map_err(|e| not_bundle(path, e))?;
                        if name == "manifest.json" {
                            manifest_bytes = Some(b)
                        } else {
                            signature = Some(b)
                        }
                    }
                    _ => {
                        let mut hasher = Sha256::new();
                        std::io::copy(&mut entry, &mut hasher).map_err(|e| not_bundle(path, e))?;
                        if digests
                            .insert(name.clone(), hex(&hasher.finalize()))
                            .is_some()
                        {
                            return Err(not_bundle(path, format!("{name} appears twice")));
                        }
                    }
                }
            }
            let manifest_bytes =
                manifest_bytes.ok_or_else(|| not_bundle(path, "no manifest.json"))?;
            let signature = signature.ok_or_else(|| not_bundle(path, "no manifest.sig"))?;
            let manifest: Manifest =
                serde_json::from_slice(&manifest_bytes).map_err(|e| not_bundle(path, e))?;
            (manifest, manifest_bytes, signature, digests)
        };
        let sig = std::str::from_utf8(&signature)
            .ok()
            .and_then(unhex::<64>)
            .map(|b| Signature::from_bytes(&b));
        let verified = sig.is_some_and(|s| key.verify_strict(&manifest_bytes, &s).is_ok());
        if !verified {
            return Err(bundle_error(
                format!("{}: 署名を検証できません。信頼する公開鍵 ({}) で署名されたバンドルではないか、改ざんされています。何も取り込んでいません", path.display(), trust.display()),
                format!("{}: the signature does not verify with the trusted key ({}); the bundle was signed by another key or altered. Nothing was imported", path.display(), trust.display()),
            ));
        }
        if manifest.format != FORMAT || manifest.version != 1 {
            return Err(not_bundle(
                path,
                format!(
                    "unsupported bundle format {} v{}",
                    manifest.format, manifest.version
                ),
            ));
        }
        let listed: BTreeMap<&str, &ManifestFile> = manifest
            .files
            .iter()
            .map(|f| (f.name.as_str(), f))
            .collect();
        for (name, digest) in &digests {
            match listed.get(name.as_str()) {
                Some(f) if &f.sha256 == digest => {}
                Some(_) => {
                    return Err(bundle_error(
                        format!("{}: {name} のハッシュ値が署名済みの目録と一致しません (改ざんまたは破損)。何も取り込んでいません", path.display()),
                        format!("{}: the SHA-256 of {name} does not match the signed manifest (altered or damaged). Nothing was imported", path.display()),
                    ))
                }
                None => return Err(not_bundle(path, format!("{name} is not in the signed manifest"))),
            }
        }
        if let Some(missing) = manifest
            .files
            .iter()
            .find(|f| !digests.contains_key(&f.name))
        {
            return Err(not_bundle(path, format!("{} is missing", missing.name)));
        }

        // Pass 2: import in one transaction, hashing again as we read.
        let actor = self.actor.clone();
        let origin = format!(
            "bundle:{}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let mut report = BundleReport {
            manifest: Some(manifest.clone()),
            ..Default::default()
        };
        // The sources the bundle carried records of, to mark as synced.
        let mut sources = std::collections::BTreeSet::new();
        let mut tx = self.store.begin()?;
        let file = std::fs::File::open(path).map_err(io(path))?;
        let mut archive = tar::Archive::new(file);
        for entry in archive.entries().map_err(|e| not_bundle(path, e))? {
            let entry = entry.map_err(|e| not_bundle(path, e))?;
            let name = entry
                .path()
                .map_err(|e| not_bundle(path, e))?
                .display()
                .to_string();
            let Some(expected) = listed.get(name.as_str()) else {
                continue;
            };
            let mut hashing = HashingReader {
                inner: entry,
                hasher: Sha256::new(),
            };
            let mut records = 0u64;
            {
                let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(&mut hashing));
                for (n, line) in reader.lines().enumerate() {
                    let line = line.map_err(|e| not_bundle(path, format!("{name}: {e}")))?;
                    if line.is_empty() {
                        continue;
                    }
                    let bad = |e: serde_json::Error| {
                        not_bundle(path, format!("{name} line {}: {e}", n + 1))
                    };
                    let outcome = match name.as_str() {
                        "vulnerabilities.jsonl.gz" => {
                            let l: VulnLine = serde_json::from_str(&line).map_err(bad)?;
                            sources.insert(l.source.clone());
                            tx.upsert_vulnerability(
                                &l.record,
                                &l.source,
                                &format!("{origin} ({})", l.origin),
                            )?
                        }
                        "advisories.jsonl.gz" => {
                            let l: AdvisoryLine = serde_json::from_str(&line).map_err(bad)?;
                            sources.insert("csaf".to_string());
                            tx.upsert_advisory(
                                &l.record,
                                "csaf",
                                &format!("{origin} ({})", l.origin),
                            )?
                        }
                        "kev.jsonl.gz" => {
                            let l: KevLine = serde_json::from_str(&line).map_err(bad)?;
                            sources.insert("kev".to_string());
                            tx.upsert_kev(&l.record, &l.catalog_version)?
                        }
                        "epss.jsonl.gz" => {
                            let l: EpssLine = serde_json::from_str(&line).map_err(bad)?;
                            sources.insert("epss".to_string());
                            tx.upsert_epss(
                                &l.cve,
                                &StoredEpss {
                                    score: l.score,
                                    score_date: l.score_date,
                                    model_version: l.model_version,
                                },
                            )?
                        }
                        _ => continue,
                    };
                    records += 1;
                    match outcome {
                        Upsert::Added => report.added += 1,
                        Upsert::Updated => report.updated += 1,
                        Upsert::Unchanged => report.unchanged += 1,
                    }
                }
            }
            let _ = std::io::copy(&mut hashing, &mut std::io::sink());
            if hex(&hashing.hasher.finalize()) != expected.sha256 || records != expected.records {
                return Err(bundle_error(
                    format!(
                        "{}: 取り込み中に {name} の内容が変わりました。何も取り込んでいません",
                        path.display()
                    ),
                    format!(
                        "{}: {name} changed while it was being imported. Nothing was imported",
                        path.display()
                    ),
                ));
            }
            report.records.insert(name.clone(), records);
        }
        for source in &sources {
            tx.set_feed_state(source, None)?;
        }
        audit(
            tx.as_mut(),
            &actor,
            "feeds.import_bundle",
            Some(&origin),
            json!({ "created_at": manifest.created_at, "created_by": manifest.created_by, "public_key": manifest.public_key,
                    "since": manifest.since, "records": report.records, "added": report.added, "updated": report.updated }),
        )?;
        tx.commit()?;
        Ok(report)
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
