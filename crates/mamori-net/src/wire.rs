//! Byte layouts of the few handshakes mamori writes by hand because no maintained crate
//! offers just the first packet: RDP negotiation (MS-RDPBCGR 2.2.1.1/2.2.1.2), SMB1
//! negotiate (MS-CIFS 2.2.4.52) and the SMB2 negotiate reply (MS-SMB2 2.2.4), and the
//! DICOM C-ECHO command (PS3.7 9.3.5). Parsers take any bytes and never panic.

use std::collections::BTreeMap;

/// Facts from an RDP X.224 Connection Confirm, or `None` when the bytes are not one.
pub fn rdp_reply(b: &[u8]) -> Option<BTreeMap<String, String>> {
    // TPKT: version 3, reserved, length (big-endian); X.224: length, code 0xD0 (CC).
    if b.len() < 7 || b[0] != 3 || b[5] & 0xf0 != 0xd0 {
        return None;
    }
    let mut facts = BTreeMap::new();
    if b.len() >= 19 {
        let value = u32::from_le_bytes([b[15], b[16], b[17], b[18]]);
        match b[11] {
            2 => {
                let protocol = match value {
                    0 => "rdp",
                    1 => "tls",
                    2 => "credssp",
                    4 => "rdstls",
                    8 => "credssp_early_auth",
                    _ => "other",
                };
                facts.insert("rdp.protocol".into(), protocol.into());
                facts.insert("rdp.nla".into(), (value & 0x0a != 0).to_string());
            }
            3 => {
                facts.insert("rdp.negotiation_failure".into(), value.to_string());
            }
            _ => {}
        }
    } else {
        // No negotiation in the reply: only standard RDP security (pre-Vista servers).
        facts.insert("rdp.protocol".into(), "rdp".into());
        facts.insert("rdp.nla".into(), "false".into());
    }
    Some(facts)
}

/// An SMB1 NEGOTIATE offering only the `NT LM 0.12` dialect, in a NetBIOS session frame.
pub fn smb1_negotiate() -> Vec<u8> {
    let mut smb = vec![
        0xff, b'S', b'M', b'B', 0x72, // SMB_COM_NEGOTIATE
        0, 0, 0, 0,    // status
        0x18, // flags: canonical paths, case-insensitive
        0x01, 0x28, // flags2: long names, NT status, unicode
        0, 0, // PID high
        0, 0, 0, 0, 0, 0, 0, 0, // security features
        0, 0, // reserved
        0, 0, // TID
        0xff, 0xfe, // PID low
        0, 0, // UID
        0, 0, // MID
        0, // word count
    ];
    let dialect = b"\x02NT LM 0.12\x00";
    smb.extend_from_slice(&(dialect.len() as u16).to_le_bytes());
    smb.extend_from_slice(dialect);
    let mut frame = vec![0, 0, 0, 0];
    let len = smb.len() as u32;
    frame[1..4].copy_from_slice(&len.to_be_bytes()[1..4]);
    frame.extend_from_slice(&smb);
    frame
}

/// Facts from a reply to [`smb1_negotiate`]: `smb.smb1` and, for an SMB2 reply, the dialect.
pub fn smb_reply(b: &[u8]) -> Option<BTreeMap<String, String>> {
    let body = b.get(4..)?;
    let mut facts = BTreeMap::new();
    if body.starts_with(b"\xffSMB") {
        let status = body
            .get(5..9)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))?;
        facts.insert("smb.smb1".into(), (status == 0).to_string());
        return Some(facts);
    }
    if body.starts_with(b"\xfeSMB") {
        facts.insert("smb.smb1".into(), "false".into());
        if let Some(d) = body.get(68..70) {
            let dialect = u16::from_le_bytes([d[0], d[1]]);
            facts.insert("smb.dialect".into(), format!("0x{dialect:04x}"));
        }
        return Some(facts);
    }
    None
}

/// The C-ECHO-RQ command set, implicit VR little endian (PS3.7 9.3.5, E.1).
pub fn c_echo_rq(message_id: u16) -> Vec<u8> {
    fn element(out: &mut Vec<u8>, tag: (u16, u16), value: &[u8]) {
        out.extend_from_slice(&tag.0.to_le_bytes());
        out.extend_from_slice(&tag.1.to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
    }
    let mut body = Vec::new();
    // Affected SOP Class UID: Verification, padded with NUL to even length.
    element(&mut body, (0x0000, 0x0002), b"1.2.840.10008.1.1\0");
    element(&mut body, (0x0000, 0x0100), &0x0030u16.to_le_bytes()); // C-ECHO-RQ
    element(&mut body, (0x0000, 0x0110), &message_id.to_le_bytes());
    element(&mut body, (0x0000, 0x0800), &0x0101u16.to_le_bytes()); // no data set
    let mut out = Vec::new();
    element(
        &mut out,
        (0x0000, 0x0000),
        &(body.len() as u32).to_le_bytes(),
    );
    out.extend_from_slice(&body);
    out
}

/// The Status (0000,0900) of a command set in implicit VR little endian.
pub fn dimse_status(command: &[u8]) -> Option<u16> {
    let mut at = 0usize;
    while at + 8 <= command.len() {
        let group = u16::from_le_bytes([command[at], command[at + 1]]);
        let elem = u16::from_le_bytes([command[at + 2], command[at + 3]]);
        let len = u32::from_le_bytes([
            command[at + 4],
            command[at + 5],
            command[at + 6],
            command[at + 7],
        ]) as usize;
        let value = command.get(at + 8..at.checked_add(8)?.checked_add(len)?)?;
        if (group, elem) == (0x0000, 0x0900) && value.len() == 2 {
            return Some(u16::from_le_bytes([value[0], value[1]]));
        }
        at = at + 8 + len;
    }
    None
}

/// The server properties of an AMQP 0-9-1 `Connection.Start` frame: `amqp.version`
/// (`0-9`), `amqp.product`, `amqp.version` of the product, `amqp.mechanisms`.
pub fn amqp_start(b: &[u8]) -> Option<BTreeMap<String, String>> {
    // Method frame on channel 0: type 1, channel 0, size, class 10 method 10.
    if b.len() < 13 || b[0] != 1 || b[1..3] != [0, 0] || b[7..11] != [0, 10, 0, 10] {
        return None;
    }
    let size = u32::from_be_bytes([b[3], b[4], b[5], b[6]]) as usize;
    let payload = b.get(7..7 + size)?;
    let mut facts = BTreeMap::new();
    facts.insert(
        "amqp.protocol".into(),
        format!("{}-{}", payload.get(4)?, payload.get(5)?),
    );
    let table_len = u32::from_be_bytes(payload.get(6..10)?.try_into().ok()?) as usize;
    let table = payload.get(10..10 + table_len)?;
    // Field table: shortstr name, a type octet, a value. Only long strings ('S') are read;
    // the first unknown type ends the walk (what was read so far stays).
    let mut i = 0;
    while i < table.len() {
        let n = *table.get(i)? as usize;
        let name = String::from_utf8_lossy(table.get(i + 1..i + 1 + n)?).into_owned();
        i += 1 + n;
        let kind = *table.get(i)?;
        i += 1;
        match kind {
            b'S' => {
                let len = u32::from_be_bytes(table.get(i..i + 4)?.try_into().ok()?) as usize;
                let value = table.get(i + 4..i + 4 + len)?;
                i += 4 + len;
                if matches!(name.as_str(), "product" | "version" | "platform") {
                    facts.insert(
                        format!("amqp.{name}"),
                        String::from_utf8_lossy(value).into_owned(),
                    );
                }
            }
            b'F' => {
                let len = u32::from_be_bytes(table.get(i..i + 4)?.try_into().ok()?) as usize;
                i += 4 + len;
            }
            b't' | b'b' | b'B' => i += 1,
            b'I' | b'i' | b'f' => i += 4,
            b'l' | b'L' | b'd' | b'T' => i += 8,
            _ => break,
        }
    }
    let rest = payload.get(10 + table_len..)?;
    let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    if let Some(m) = rest.get(4..4 + len) {
        facts.insert(
            "amqp.mechanisms".into(),
            String::from_utf8_lossy(m).into_owned(),
        );
    }
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdp_replies_read() {
        // CC with RDP_NEG_RSP selecting CredSSP.
        let cc = [
            3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0,
        ];
        let f = rdp_reply(&cc).unwrap();
        assert_eq!(f["rdp.protocol"], "credssp");
        assert_eq!(f["rdp.nla"], "true");
        let old = [3, 0, 0, 11, 6, 0xd0, 0, 0, 0x12, 0x34, 0];
        assert_eq!(rdp_reply(&old).unwrap()["rdp.protocol"], "rdp");
        assert!(rdp_reply(b"HTTP/1.1 400").is_none());
        for n in 0..cc.len() {
            let _ = rdp_reply(&cc[..n]);
        }
    }

    #[test]
    fn smb_frames_are_well_formed_and_replies_read() {
        let req = smb1_negotiate();
        assert_eq!(req.len(), 4 + 47);
        assert_eq!(&req[4..8], b"\xffSMB");
        let mut smb1_ok = vec![0, 0, 0, 40];
        smb1_ok.extend_from_slice(b"\xffSMB\x72\0\0\0\0");
        assert_eq!(smb_reply(&smb1_ok).unwrap()["smb.smb1"], "true");
        let mut smb2 = vec![0, 0, 0, 0x80];
        smb2.extend_from_slice(b"\xfeSMB");
        smb2.resize(4 + 70, 0);
        smb2[4 + 68] = 0x11;
        smb2[4 + 69] = 0x03;
        let f = smb_reply(&smb2).unwrap();
        assert_eq!(f["smb.smb1"], "false");
        assert_eq!(f["smb.dialect"], "0x0311");
        assert!(smb_reply(b"\0\0").is_none());
    }

    #[test]
    fn c_echo_round_trips_its_fields() {
        let rq = c_echo_rq(7);
        assert_eq!(rq.len() % 2, 0);
        assert_eq!(dimse_status(&rq), None);
        let mut rsp = rq.clone();
        rsp.extend_from_slice(&[0, 0, 0, 9, 2, 0, 0, 0, 0, 0]);
        assert_eq!(dimse_status(&rsp), Some(0));
        for n in 0..rsp.len() {
            let _ = dimse_status(&rsp[..n]);
        }
        assert_eq!(dimse_status(&[0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff]), None);
    }

    #[test]
    fn amqp_start_reads_the_product_and_never_panics() {
        // A Connection.Start as RabbitMQ sends it, shortened to the fields read.
        let mut table = Vec::new();
        for (k, v) in [("product", "RabbitMQ"), ("version", "3.10.8")] {
            table.push(k.len() as u8);
            table.extend_from_slice(k.as_bytes());
            table.push(b'S');
            table.extend_from_slice(&(v.len() as u32).to_be_bytes());
            table.extend_from_slice(v.as_bytes());
        }
        let mut payload = vec![0, 10, 0, 10, 0, 9];
        payload.extend_from_slice(&(table.len() as u32).to_be_bytes());
        payload.extend_from_slice(&table);
        payload.extend_from_slice(&5u32.to_be_bytes());
        payload.extend_from_slice(b"PLAIN");
        payload.extend_from_slice(&5u32.to_be_bytes());
        payload.extend_from_slice(b"en_US");
        let mut frame = vec![1, 0, 0];
        frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        frame.extend_from_slice(&payload);
        frame.push(0xce);
        let facts = amqp_start(&frame).unwrap();
        assert_eq!(facts["amqp.product"], "RabbitMQ");
        assert_eq!(facts["amqp.version"], "3.10.8");
        assert_eq!(facts["amqp.mechanisms"], "PLAIN");
        for cut in 0..frame.len() {
            let _ = amqp_start(&frame[..cut]);
            let mut bad = frame.clone();
            bad[cut] ^= 0xff;
            let _ = amqp_start(&bad);
        }
    }
}
