//! Mutation testing on stable Rust (the cargo-fuzz targets in `fuzz/` go further): real
//! replies of the services mamori identifies, and random bytes, flipped, cut and spliced,
//! through every parser of what a peer says. None may panic, and whatever they return stays
//! printable and bounded.

use mamori_net::{identify, tls, wire};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    vec![
        b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n".to_vec(),
        b"220 (vsFTPd 3.0.3)\r\n".to_vec(),
        b"220 mx.example ESMTP Exim 4.96 Tue, 1 Jan 2026\r\n".to_vec(),
        b"HTTP/1.1 401 Unauthorized\r\nServer: nginx/1.22.1\r\nWWW-Authenticate: Basic realm=\"Orthanc Secure Area\"\r\n\r\n<html><head><title>x</title></head>".to_vec(),
        b"5.5.5-10.11.19-MariaDB-0+deb12u1".to_vec(),
        b"# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n".to_vec(),
        b"OFFIS_DCMTK_367".to_vec(),
        vec![3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0],
        {
            let mut v = vec![0, 0, 0, 0x80];
            v.extend_from_slice(b"\xfeSMB");
            v.resize(80, 0);
            v
        },
        wire::c_echo_rq(1),
        wire::smb1_negotiate(),
    ]
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.truncate(i);
            }
            2 => {
                let i = rng.below(v.len() + 1);
                let b = (rng.next() & 0xff) as u8;
                v.insert(i, b);
            }
            3 => {
                let i = rng.below(v.len() + 1);
                let j = rng.below(other.len() + 1);
                v.splice(i..i, other[..j].iter().copied());
            }
            _ => {
                let i = rng.below(v.len() + 1);
                v.splice(i..i, [0xff, 0x00, 0xfe, 0xc3, 0x28, b'\n'.to_owned()]);
            }
        }
    }
    v
}

fn bounded(s: &str) {
    assert!(s.chars().count() <= 1000, "{} chars", s.chars().count());
}

#[test]
fn what_peers_say_never_panics_a_parser() {
    let seeds = seeds();
    let mut rng = Rng(0x6d61_6d6f_7269);
    for round in 0..40_000 {
        let a = &seeds[round % seeds.len()];
        let b = &seeds[rng.below(seeds.len())];
        let data = if round % 10 == 0 {
            (0..rng.below(300))
                .map(|_| (rng.next() & 0xff) as u8)
                .collect()
        } else {
            mutate(&mut rng, a, b)
        };
        let text = identify::printable(&data, 200);
        assert!(text.chars().count() <= 201);
        assert!(!text.chars().any(char::is_control));
        for p in [
            identify::ssh(&text),
            identify::ftp(&text),
            identify::smtp(&text),
            identify::http_server(&text),
            identify::dicom_implementation(&text),
            Some(identify::mysql(&text)),
        ]
        .into_iter()
        .flatten()
        {
            bounded(&p.name);
            if let Some(v) = &p.version {
                bounded(v);
            }
            let _ = identify::cpes(&p);
        }
        let _ = identify::redis_info(&String::from_utf8_lossy(&data));
        if let Some(t) = identify::html_title(&data) {
            bounded(&t);
        }
        let _ = wire::rdp_reply(&data);
        let _ = wire::smb_reply(&data);
        let _ = wire::dimse_status(&data);
        for (_, v) in tls::certificate_facts(&data) {
            bounded(&v);
        }
    }
}
