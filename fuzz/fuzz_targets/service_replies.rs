//! What a scanned service says never panics mamori: banners, HTTP titles, RDP and SMB
//! replies, DICOM command sets, TLS certificates, AMQP Connection.Start, HTTP Digest
//! challenges.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori_net::{identify, login, tls, wire};

fuzz_target!(|data: &[u8]| {
    let text = identify::printable(data, 200);
    let _ = identify::ssh(&text);
    let _ = identify::ftp(&text);
    let _ = identify::smtp(&text);
    let _ = identify::http_server(&text);
    let _ = identify::mysql(&text);
    let _ = identify::redis_info(&String::from_utf8_lossy(data));
    let _ = identify::dicom_implementation(&text);
    let _ = identify::html_title(data);
    let _ = wire::rdp_reply(data);
    let _ = wire::smb_reply(data);
    let _ = wire::dimse_status(data);
    let _ = tls::certificate_facts(data);
    let _ = wire::amqp_start(data);
    let _ = login::digest_challenge(&String::from_utf8_lossy(data));
});
