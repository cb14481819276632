//! SNMP v2c GET of the system group (sysDescr, sysObjectID, sysName) with the `snmp2`
//! crate. Read-only: mamori never sends a SET.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use snmp2::{AsyncSession, Oid, Value};

const SYS_DESCR: &[u64] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
const SYS_OBJECT_ID: &[u64] = &[1, 3, 6, 1, 2, 1, 1, 2, 0];
const SYS_NAME: &[u64] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];

/// The system group's values, or `None` when nothing answered in time (wrong community,
/// no agent, or a filter).
pub(crate) async fn get_system(
    target: SocketAddr,
    community: &str,
    timeout: Duration,
) -> Option<BTreeMap<String, String>> {
    let work = async {
        let mut session = AsyncSession::new_v2c(target, community.as_bytes(), 1)
            .await
            .ok()?;
        let oids: Vec<Oid<'static>> = [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME]
            .iter()
            .filter_map(|o| Oid::from(o).ok())
            .collect();
        let refs: Vec<&Oid<'_>> = oids.iter().collect();
        let pdu = session.get_many(&refs).await.ok()?;
        if pdu.error_status != 0 {
            return None;
        }
        let mut facts = BTreeMap::new();
        for (oid, value) in pdu.varbinds {
            let key = match oid.to_id_string().as_str() {
                "1.3.6.1.2.1.1.1.0" => "snmp.sys_descr",
                "1.3.6.1.2.1.1.2.0" => "snmp.sys_object_id",
                "1.3.6.1.2.1.1.5.0" => "snmp.sys_name",
                _ => continue,
            };
            let text = match value {
                Value::OctetString(b) => crate::identify::printable(b, 300),
                Value::ObjectIdentifier(o) => o.to_id_string(),
                _ => continue,
            };
            facts.insert(key.to_string(), text);
        }
        Some(facts)
    };
    tokio::time::timeout(timeout, work).await.ok().flatten()
}
