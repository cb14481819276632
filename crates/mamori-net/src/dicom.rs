//! DICOM identification: an A-ASSOCIATE-RQ for the Verification SOP class with calling and
//! called AE titles the node cannot know, then a C-ECHO and a release. The PDUs are written
//! and read with `dicom-ul`; reads are bounded like every other probe.
//!
//! A node that accepts the association has no AE-title access control (`dicom.any_ae`).
//! One that rejects it says why (calling or called AE title not recognised).

use std::time::Duration;

use dicom_ul::pdu::{
    AssociationRJServiceUserReason, AssociationRJSource, PDataValue, PDataValueType,
    PresentationContextProposed, PresentationContextResultReason, UserVariableItem,
};
use dicom_ul::{read_pdu, write_pdu, Pdu};
use mamori_core::scan::PortResult;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::identify;

/// The AE titles mamori calls with: no real node is configured for them.
pub const CALLING_AE: &str = "MAMORI-PROBE";
/// The called AE title: deliberately not the node's.
pub const CALLED_AE: &str = "MAMORI-ANY-AE";

const VERIFICATION: &str = "1.2.840.10008.1.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
const MAX_PDU: u32 = 16_384;

async fn send(stream: &mut TcpStream, pdu: &Pdu) -> Option<()> {
    let mut bytes = Vec::new();
    write_pdu(&mut bytes, pdu).ok()?;
    stream.write_all(&bytes).await.ok()
}

async fn receive(stream: &mut TcpStream, wait: Duration) -> Option<Pdu> {
    let bytes = crate::probe::read_until(stream, 64 * 1024, wait, |b| {
        b.len() >= 6 && b.len() >= 6 + u32::from_be_bytes([b[2], b[3], b[4], b[5]]) as usize
    })
    .await;
    read_pdu(
        &bytes[..],
        MAX_PDU.max(bytes.len() as u32).min(131_072),
        false,
    )
    .ok()
    .flatten()
}

/// Runs the association and records `dicom.*` facts.
pub(crate) async fn identify(stream: &mut TcpStream, result: &mut PortResult, wait: Duration) {
    let rq = Pdu::AssociationRQ(dicom_ul::pdu::AssociationRQ {
        protocol_version: 1,
        calling_ae_title: CALLING_AE.into(),
        called_ae_title: CALLED_AE.into(),
        application_context_name: "1.2.840.10008.3.1.1.1".into(),
        presentation_contexts: vec![PresentationContextProposed {
            id: 1,
            abstract_syntax: VERIFICATION.into(),
            transfer_syntaxes: vec![IMPLICIT_LE.into()],
        }],
        user_variables: vec![
            UserVariableItem::MaxLength(MAX_PDU),
            UserVariableItem::ImplementationClassUID("1.2.826.0.1.3680043.10.1437.1".into()),
            UserVariableItem::ImplementationVersionName("MAMORI".into()),
        ],
    });
    if send(stream, &rq).await.is_none() {
        return;
    }
    let Some(reply) = receive(stream, wait).await else {
        return;
    };
    match reply {
        Pdu::AssociationAC(ac) => {
            result.service = Some("dicom".into());
            result.by_port = false;
            result
                .facts
                .insert("dicom.association".into(), "accepted".into());
            result.facts.insert("dicom.any_ae".into(), "true".into());
            for item in &ac.user_variables {
                match item {
                    UserVariableItem::ImplementationClassUID(uid) => {
                        result.facts.insert(
                            "dicom.impl_uid".into(),
                            identify::printable(uid.as_bytes(), 64),
                        );
                    }
                    UserVariableItem::ImplementationVersionName(name) => {
                        let name = identify::printable(name.as_bytes(), 16);
                        if let Some(p) = identify::dicom_implementation(&name) {
                            result.cpe = identify::cpe(&p);
                            result.product = Some(p.name);
                            result.version = p.version;
                        }
                        result.facts.insert("dicom.impl_version".into(), name);
                    }
                    _ => {}
                }
            }
            let accepted = ac
                .presentation_contexts
                .iter()
                .any(|pc| pc.id == 1 && pc.reason == PresentationContextResultReason::Acceptance);
            if accepted {
                let echo = Pdu::PData {
                    data: vec![PDataValue {
                        presentation_context_id: 1,
                        value_type: PDataValueType::Command,
                        is_last: true,
                        data: crate::wire::c_echo_rq(1),
                    }],
                };
                if send(stream, &echo).await.is_some() {
                    if let Some(Pdu::PData { data }) = receive(stream, wait).await {
                        let status = data
                            .iter()
                            .find(|v| v.value_type == PDataValueType::Command)
                            .and_then(|v| crate::wire::dimse_status(&v.data));
                        if let Some(s) = status {
                            result
                                .facts
                                .insert("dicom.echo".into(), format!("0x{s:04x}"));
                        }
                    }
                }
            } else {
                result
                    .facts
                    .insert("dicom.echo".into(), "verification not accepted".into());
            }
            if send(stream, &Pdu::ReleaseRQ).await.is_some() {
                let _ = receive(stream, wait).await;
            }
        }
        Pdu::AssociationRJ(rj) => {
            result.service = Some("dicom".into());
            result.by_port = false;
            result
                .facts
                .insert("dicom.association".into(), "rejected".into());
            result.facts.insert("dicom.any_ae".into(), "false".into());
            let reason = match &rj.source {
                AssociationRJSource::ServiceUser(
                    AssociationRJServiceUserReason::CalledAETitleNotRecognized,
                ) => "called_ae_not_recognized".to_string(),
                AssociationRJSource::ServiceUser(
                    AssociationRJServiceUserReason::CallingAETitleNotRecognized,
                ) => "calling_ae_not_recognized".to_string(),
                other => identify::printable(format!("{other:?}").as_bytes(), 80),
            };
            result.facts.insert("dicom.reject_reason".into(), reason);
        }
        Pdu::AbortRQ { .. } => {
            result.service = Some("dicom".into());
            result.by_port = false;
            result
                .facts
                .insert("dicom.association".into(), "aborted".into());
            result.facts.insert("dicom.any_ae".into(), "false".into());
        }
        _ => {}
    }
}
