//! 事業者確認: asking the vendor (the devices' 保守事業者) whether fixes can be applied. One
//! inquiry covers many findings; opening it moves them to 事業者確認中. The 事業者確認依頼
//! sheet (.xlsx) lists what is asked; the vendor's filled-in sheet is read back and its answers
//! recorded per finding — all rows or none.

use std::path::Path;

use chrono::NaiveDate;
use mamori_core::access::Permission;
use mamori_core::remediation::{transition, Remediation, Verdict};
use mamori_core::{Labelled, Lang};
use mamori_ledger::inquiry::{read_inquiry_answers, write_inquiry_sheet, SheetHeader, SheetItem};
use mamori_store::{FindingEvent, Inquiry, InquiryItem};
use serde_json::json;

use crate::remediation::{no_finding, Findings};
use crate::{allowed, audit, io, App, AppError, Result};

fn bad(field: &str, ja: String, en: String) -> AppError {
    AppError::bad_value(field, ja, en)
}

/// Vendor names compare without case or surrounding space.
pub(crate) fn same_vendor(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// What importing a vendor's sheet did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnswerReport {
    /// Findings whose answer was recorded.
    pub answered: usize,
    /// Inquiries now fully answered.
    pub completed: Vec<i64>,
}

/// An inquiry must say what it asks.
fn need_question(question: &str) -> Result<()> {
    if question.trim().is_empty() {
        return Err(bad(
            "question",
            "確認事項を書いてください (--question)".into(),
            "write the question (--question)".into(),
        ));
    }
    Ok(())
}

/// Opens one inquiry to `vendor` in `tx`: checks each finding's device is the vendor's and
/// may move to 事業者確認中, stores the inquiry, moves the findings, writes the audit entry.
fn open_in(
    tx: &mut dyn mamori_store::Tx,
    actor: &str,
    roles: &[mamori_core::Role],
    today: NaiveDate,
    vendor: &str,
    ids: &[i64],
    question: &str,
) -> Result<i64> {
    let actor = actor.to_string();
    let mut moves = Vec::new();
    for &id in ids {
        let f = tx.finding(id)?.ok_or_else(|| no_finding(id))?;
        let device_vendor = tx
            .asset(&f.asset_id)?
            .and_then(|a| a.asset.vendor)
            .unwrap_or_default();
        if !same_vendor(&device_vendor, vendor) {
            return Err(bad(
                &format!("#{id}"),
                format!("検出 {id} の機器 {} の保守事業者は「{device_vendor}」で、「{vendor}」ではありません。台帳の保守事業者を確認してください", f.asset_id),
                format!("finding {id}'s device {} is maintained by {device_vendor:?}, not {vendor:?}; check the ledger's vendor column", f.asset_id),
            ));
        }
        let from = Remediation::parse(&f.state).unwrap_or(Remediation::New);
        if from != Remediation::AskedVendor {
            let need =
                transition(from, Remediation::AskedVendor).map_err(|e| AppError::BadValue {
                    field: format!("#{id}"),
                    message_ja: e.message(Lang::Ja),
                    message_en: e.message(Lang::En),
                })?;
            allowed(&actor, roles, need)?;
            moves.push((id, from));
        }
    }
    let q = Inquiry {
        id: 0,
        vendor: vendor.trim().to_string(),
        question: question.trim().to_string(),
        asked_on: today,
        asked_by: actor.clone(),
        status: "open".into(),
        items: ids
            .iter()
            .map(|&finding| InquiryItem {
                finding,
                verdict: None,
                conditions: None,
                answer: None,
                answered_on: None,
                recorded_by: None,
            })
            .collect(),
    };
    let qid = tx.insert_inquiry(&q)?;
    for (id, from) in moves {
        tx.set_finding_state(&FindingEvent {
            finding: id,
            actor: actor.clone(),
            from: from.code().into(),
            to: Remediation::AskedVendor.code().into(),
            reason: Some(format!("inquiry #{qid}")),
            detail: json!({ "inquiry": qid, "vendor": q.vendor }),
            planned_date: None,
        })?;
    }
    audit(
        tx,
        &actor,
        "inquiry.open",
        Some(&format!("inquiry:{qid}")),
        json!({ "vendor": q.vendor, "question": q.question, "findings": ids }),
    )?;
    Ok(qid)
}

impl App {
    /// Asks `vendor` about findings on its devices; they move to 事業者確認中.
    pub fn open_inquiry(&mut self, vendor: &str, which: &Findings, question: &str) -> Result<i64> {
        self.require(Permission::Triage)?;
        need_question(question)?;
        let (actor, roles, today) = (self.actor.clone(), self.roles.clone(), self.today());
        let mut tx = self.store.begin()?;
        let ids = which.ids(tx.as_ref())?;
        let qid = open_in(tx.as_mut(), &actor, &roles, today, vendor, &ids, question)?;
        tx.commit()?;
        Ok(qid)
    }

    /// Asks each device's 保守事業者 about its findings: one inquiry per vendor, all in one
    /// transaction. Returns (vendor, inquiry) pairs. A finding whose device names no vendor
    /// is an error (the ledger's 保守事業者 column must say whom to ask).
    pub fn open_inquiries(
        &mut self,
        which: &Findings,
        question: &str,
    ) -> Result<Vec<(String, i64)>> {
        self.require(Permission::Triage)?;
        need_question(question)?;
        let (actor, roles, today) = (self.actor.clone(), self.roles.clone(), self.today());
        let mut tx = self.store.begin()?;
        let ids = which.ids(tx.as_ref())?;
        // Vendors in first-seen order, with their findings.
        let mut groups: Vec<(String, Vec<i64>)> = Vec::new();
        for &id in &ids {
            let f = tx.finding(id)?.ok_or_else(|| no_finding(id))?;
            let vendor = tx
                .asset(&f.asset_id)?
                .and_then(|a| a.asset.vendor)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| {
                    bad(
                        &format!("#{id}"),
                        format!("検出 {id} の機器「{}」には保守事業者がありません。台帳の保守事業者を記入してください", f.asset_id),
                        format!("finding {id}'s device {:?} names no maintenance vendor; fill in the ledger's vendor column", f.asset_id),
                    )
                })?;
            match groups.iter_mut().find(|(v, _)| same_vendor(v, &vendor)) {
                Some((_, list)) => list.push(id),
                None => groups.push((vendor, vec![id])),
            }
        }
        let mut opened = Vec::new();
        for (vendor, list) in groups {
            let qid = open_in(tx.as_mut(), &actor, &roles, today, &vendor, &list, question)?;
            opened.push((vendor, qid));
        }
        tx.commit()?;
        Ok(opened)
    }

    /// Attaches a file to an inquiry (the vendor's letter, a test report): the bytes are kept
    /// in the data directory's `attachments/` under their SHA-256, which is recorded and
    /// audited. Returns the SHA-256.
    pub fn attach_to_inquiry(&mut self, inquiry: i64, file: &Path) -> Result<String> {
        self.require(Permission::RecordVendorAnswer)?;
        let scope = self.vendor_scope();
        {
            let tx = self.store.begin_read()?;
            let q = tx
                .inquiries()?
                .into_iter()
                .find(|q| q.id == inquiry)
                .ok_or_else(|| {
                    bad(
                        "inquiry",
                        format!("照会 #{inquiry} はありません"),
                        format!("there is no inquiry #{inquiry}"),
                    )
                })?;
            if let Some(company) = scope {
                if !same_vendor(&q.vendor, &company) {
                    return Err(bad(
                        "inquiry",
                        format!("照会 #{inquiry} はあなたの会社宛てではありません"),
                        format!("inquiry #{inquiry} is not addressed to your company"),
                    ));
                }
            }
        }
        let (name, sha, size) = self.keep_file(file)?;
        let mut tx = self.store.begin()?;
        tx.insert_attachment(&mamori_store::Attachment {
            inquiry,
            name: name.clone(),
            sha256: sha.clone(),
            size,
            added_by: self.actor.clone(),
        })?;
        audit(
            tx.as_mut(),
            &self.actor,
            "inquiry.attach",
            Some(&format!("inquiry:{inquiry}")),
            json!({ "name": name, "sha256": sha, "size": size }),
        )?;
        tx.commit()?;
        Ok(sha)
    }

    /// Keeps a file (at most 50 MB) in the data directory's `attachments/` under its SHA-256;
    /// returns its name, SHA-256 and size. Evidence for inquiries and attestations.
    pub(crate) fn keep_file(&self, file: &Path) -> Result<(String, String, i64)> {
        use sha2::{Digest, Sha256};
        let bytes = crate::read_input(file, crate::MAX_INPUT_BYTES)?;
        if bytes.len() > 50 * 1024 * 1024 {
            return Err(bad(
                "file",
                format!("{} は 50 MB を超えています", file.display()),
                format!("{} is over 50 MB", file.display()),
            ));
        }
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let dir = self.data_dir.join("attachments");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let stored = dir.join(&sha);
        if !stored.exists() {
            // Written beside, then renamed: a crash leaves no half file under the hash.
            let part = dir.join(format!("{sha}.part"));
            std::fs::write(&part, &bytes).map_err(io(&part))?;
            std::fs::rename(&part, &stored).map_err(io(&stored))?;
        }
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok((name, sha, bytes.len() as i64))
    }

    /// An inquiry's attachments, each checked against its SHA-256 (`false` when the kept file
    /// is missing or changed).
    pub fn inquiry_attachments(
        &mut self,
        inquiry: i64,
    ) -> Result<Vec<(mamori_store::Attachment, bool)>> {
        use sha2::{Digest, Sha256};
        self.require(Permission::View)?;
        let list = self.store.begin_read()?.attachments(inquiry)?;
        let dir = self.data_dir.join("attachments");
        Ok(list
            .into_iter()
            .map(|a| {
                let intact = std::fs::read(dir.join(&a.sha256)).is_ok_and(|b| {
                    Sha256::digest(&b)
                        .iter()
                        .map(|x| format!("{x:02x}"))
                        .collect::<String>()
                        == a.sha256
                });
                (a, intact)
            })
            .collect())
    }

    /// A 事業者 user's company, when that is all the user may answer for.
    fn vendor_scope(&self) -> Option<String> {
        let others = self.roles.iter().any(|&r| {
            r != mamori_core::Role::Vendor
                && mamori_core::access::allows(r, Permission::RecordVendorAnswer)
        });
        (!others).then(|| self.vendor.clone().unwrap_or_default())
    }

    /// Every inquiry, newest first.
    pub fn inquiries(&mut self) -> Result<Vec<Inquiry>> {
        self.require(Permission::View)?;
        Ok(self.store.begin_read()?.inquiries()?)
    }

    /// Writes the 事業者確認依頼 sheet for `vendor`: every unanswered finding of its open
    /// inquiries. Returns how many rows it has.
    pub fn export_inquiry_sheet(&mut self, vendor: &str, path: &Path) -> Result<usize> {
        self.require(Permission::Triage)?;
        let today = self.today();
        let mut tx = self.store.begin()?;
        let mut items = Vec::new();
        for q in tx.inquiries()?.into_iter().rev() {
            if q.status != "open" || !same_vendor(&q.vendor, vendor) {
                continue;
            }
            for it in q.items.iter().filter(|i| i.verdict.is_none()) {
                let Some(f) = tx.finding(it.finding)? else {
                    continue;
                };
                let asset = tx.asset(&f.asset_id)?.map(|a| a.asset);
                let facts = tx.vuln_facts(&f.vuln)?;
                items.push(SheetItem {
                    inquiry: q.id,
                    finding: f.id,
                    asset_id: f.asset_id.clone(),
                    asset_name: f.asset_name.clone(),
                    model: asset
                        .as_ref()
                        .and_then(|a| a.model.clone())
                        .unwrap_or_default(),
                    location: asset
                        .as_ref()
                        .and_then(|a| a.location.clone())
                        .unwrap_or_default(),
                    component: f.component.clone(),
                    version: f.version.clone().unwrap_or_default(),
                    vuln: f.vuln.clone(),
                    title: facts
                        .as_ref()
                        .and_then(|x| x.title.clone())
                        .unwrap_or_default(),
                    cvss: facts.as_ref().and_then(|x| x.max_cvss),
                    kev: f.kev,
                    question: q.question.clone(),
                });
            }
        }
        if items.is_empty() {
            return Err(bad(
                "vendor",
                format!("「{vendor}」への未回答の照会はありません (`mamori inquiry list`)"),
                format!("no unanswered inquiry to {vendor:?} (see `mamori inquiry list`)"),
            ));
        }
        let bytes = write_inquiry_sheet(
            &SheetHeader {
                vendor: vendor.trim().into(),
                date: today,
            },
            &items,
        )
        .map_err(|error| AppError::Export {
            file: path.display().to_string(),
            error,
        })?;
        std::fs::write(path, bytes).map_err(io(path))?;
        audit(
            tx.as_mut(),
            &self.actor,
            "inquiry.export",
            Some(vendor.trim()),
            json!({ "file": path.display().to_string(), "rows": items.len() }),
        )?;
        tx.commit()?;
        Ok(items.len())
    }

    /// Records the answers of a vendor's filled-in sheet. Every answered row must name an
    /// item of an open inquiry and give a valid 回答区分 (条件付き with its conditions) and
    /// date; otherwise nothing is recorded and every bad row is named.
    pub fn import_inquiry_answers(&mut self, path: &Path) -> Result<AnswerReport> {
        self.require(Permission::RecordVendorAnswer)?;
        let bytes = crate::read_input(path, crate::MAX_INPUT_BYTES)?;
        let name = path.display().to_string();
        let rows = read_inquiry_answers(&name, &bytes).map_err(|e| match e {
            mamori_ledger::inquiry::InquirySheetError::Table(error) => AppError::Table {
                file: name.clone(),
                error,
            },
            mamori_ledger::inquiry::InquirySheetError::NoHeader => bad(
                "file",
                format!(
                    "{name}: 事業者確認依頼の見出し行（照会番号・検出番号・回答区分）がありません"
                ),
                format!("{name}: no 事業者確認依頼 header row (照会番号, 検出番号, 回答区分)"),
            ),
        })?;
        self.record_answers(&name, &rows)
    }

    /// Records a vendor's answers given as rows (a sheet's, or one typed into the web form
    /// with row 0; `name` starts each message): all or nothing, every bad row named.
    pub fn record_answers(
        &mut self,
        name: &str,
        rows: &[mamori_ledger::inquiry::AnswerRow],
    ) -> Result<AnswerReport> {
        self.require(Permission::RecordVendorAnswer)?;
        let today = self.today();
        let name = name.to_string();
        // A 事業者 user (no other role that records answers) answers only its company's.
        let scope = self.vendor_scope();
        let mut tx = self.store.begin()?;
        let mut inquiries = tx.inquiries()?;
        let mut errors: Vec<(String, String)> = Vec::new();
        // The (inquiry, finding) pairs this sheet answers.
        let mut recorded: Vec<(i64, i64)> = Vec::new();
        for r in rows {
            // Row 0: an answer not read from a sheet (the web form, the API).
            let at = |ja: String, en: String| match r.row {
                0 => (format!("{name}: {ja}"), format!("{name}: {en}")),
                row => (
                    format!("{name} {row}行目: {ja}"),
                    format!("{name} row {row}: {en}"),
                ),
            };
            let (Ok(qid), Ok(fid)) = (r.inquiry.parse::<i64>(), r.finding.parse::<i64>()) else {
                errors.push(at(
                    "照会番号と検出番号は数字のままにしてください".into(),
                    "照会番号 and 検出番号 must stay the numbers they were".into(),
                ));
                continue;
            };
            let Some(q) = inquiries
                .iter_mut()
                .find(|q| q.id == qid && q.status == "open")
            else {
                errors.push(at(
                    format!("照会 #{qid} は未回答の照会にありません"),
                    format!("inquiry #{qid} is not an open inquiry"),
                ));
                continue;
            };
            if let Some(company) = &scope {
                if !same_vendor(&q.vendor, company) {
                    errors.push(at(
                        format!(
                            "照会 #{qid} は {} 宛てで、あなたの会社（{company}）宛てではありません",
                            q.vendor
                        ),
                        format!(
                            "inquiry #{qid} is addressed to {}, not to your company ({company})",
                            q.vendor
                        ),
                    ));
                    continue;
                }
            }
            let Some(item) = q.items.iter_mut().find(|i| i.finding == fid) else {
                errors.push(at(
                    format!("検出 {fid} は照会 #{qid} の対象ではありません"),
                    format!("finding {fid} is not part of inquiry #{qid}"),
                ));
                continue;
            };
            let Some(verdict) = Verdict::parse(&r.verdict) else {
                errors.push(at(
                    format!(
                        "回答区分「{}」は {} のいずれかにしてください",
                        r.verdict,
                        Verdict::choices(Lang::Ja)
                    ),
                    format!(
                        "回答区分 {:?} must be one of {}",
                        r.verdict,
                        Verdict::choices(Lang::En)
                    ),
                ));
                continue;
            };
            if verdict == Verdict::Conditional && r.conditions.trim().is_empty() {
                errors.push(at(
                    "条件付き適用可には条件を書いてください".into(),
                    "a conditional answer needs its conditions (条件)".into(),
                ));
                continue;
            }
            let on = if r.answered_on.trim().is_empty() {
                today
            } else {
                match NaiveDate::parse_from_str(r.answered_on.trim(), "%Y-%m-%d")
                    .or_else(|_| NaiveDate::parse_from_str(r.answered_on.trim(), "%Y/%m/%d"))
                {
                    Ok(d) if d <= today => d,
                    Ok(d) => {
                        errors.push(at(
                            format!("回答日 {d} が未来の日付です"),
                            format!("the answer date {d} is in the future"),
                        ));
                        continue;
                    }
                    Err(_) => {
                        errors.push(at(
                            format!(
                                "回答日「{}」は日付ではありません (YYYY-MM-DD)",
                                r.answered_on
                            ),
                            format!("回答日 {:?} is not a date (YYYY-MM-DD)", r.answered_on),
                        ));
                        continue;
                    }
                }
            };
            item.verdict = Some(verdict.code().into());
            item.conditions = Some(r.conditions.clone()).filter(|c| !c.is_empty());
            item.answer = Some(r.answer.clone()).filter(|c| !c.is_empty());
            item.answered_on = Some(on);
            item.recorded_by = Some(self.actor.clone());
            recorded.push((qid, fid));
        }
        if !errors.is_empty() {
            let (ja, en): (Vec<String>, Vec<String>) = errors.into_iter().unzip();
            return Err(AppError::BadValue {
                field: name,
                message_ja: format!(
                    "回答は記録していません。次の行を直してください:\n{}",
                    ja.join("\n")
                ),
                message_en: format!("no answer was recorded; fix these rows:\n{}", en.join("\n")),
            });
        }
        if recorded.is_empty() {
            return Err(bad(
                "file",
                format!("{name}: 回答の記入された行がありません"),
                format!("{name}: no row has an answer"),
            ));
        }
        let mut completed = Vec::new();
        for q in inquiries
            .iter_mut()
            .filter(|q| recorded.iter().any(|&(qid, _)| qid == q.id))
        {
            if q.items.iter().all(|i| i.verdict.is_some()) {
                q.status = "answered".into();
                completed.push(q.id);
            }
            tx.save_inquiry_answers(q)?;
            for i in q
                .items
                .iter()
                .filter(|i| recorded.contains(&(q.id, i.finding)))
            {
                let state = tx.finding(i.finding)?.map(|f| f.state).unwrap_or_default();
                // The answer is part of the finding's history; its state is the people's next
                // decision (plan the fix, propose 代替策…).
                tx.set_finding_state(&FindingEvent {
                    finding: i.finding,
                    actor: self.actor.clone(),
                    from: state.clone(),
                    to: state,
                    reason: Some("vendor_answer".into()),
                    detail: json!({ "inquiry": q.id, "verdict": i.verdict, "conditions": i.conditions, "answer": i.answer, "answered_on": i.answered_on }),
                    planned_date: None,
                })?;
                audit(
                    tx.as_mut(),
                    &self.actor,
                    "inquiry.answer",
                    Some(&format!("inquiry:{}", q.id)),
                    json!({ "finding": i.finding, "verdict": i.verdict, "conditions": i.conditions, "answered_on": i.answered_on }),
                )?;
            }
        }
        tx.commit()?;
        Ok(AnswerReport {
            answered: recorded.len(),
            completed,
        })
    }
}
