//! The SBOM reader never panics on input (a deterministic mutation fuzzer over SBOMs we
//! wrote, in every format; the coverage-guided target is `fuzz/fuzz_targets/sbom.rs`), and a
//! 100 MB SBOM with 100,000 components is read whole.

use mamori_feeds::sbom::parse_sbom;

/// xorshift64*: a fixed-seed generator, so a failure reproduces.
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

const CYCLONEDX_JSON: &str = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,
 "metadata":{"component":{"type":"device","name":"Infusion pump","version":"2.1"}},
 "components":[
  {"type":"operating-system","name":"FreeRTOS","version":"10.0.1","bom-ref":"os",
   "cpe":"cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:*:*:*:*","supplier":{"name":"Amazon"}},
  {"type":"library","group":"org.openssl","name":"openssl","version":"1.1.1k",
   "purl":"pkg:generic/openssl@1.1.1k","components":[{"name":"zlib","version":"1.2.11"}]}]}"#;

const CYCLONEDX_XML: &str = r#"<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">
 <components>
  <component type="library" bom-ref="a"><name>busybox</name><version>1.31.1</version>
   <cpe>cpe:2.3:a:busybox:busybox:1.31.1:*:*:*:*:*:*:*</cpe><purl>pkg:deb/debian/busybox@1.31.1</purl></component>
  <component type="library"><group>g</group><name>n&amp;m</name></component>
 </components>
</bom>"#;

const SPDX_JSON: &str = r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x",
 "packages":[{"SPDXID":"SPDXRef-1","name":"nginx","versionInfo":"1.18.0","supplier":"Organization: F5",
  "externalRefs":[{"referenceCategory":"SECURITY","referenceType":"cpe23Type",
   "referenceLocator":"cpe:2.3:a:f5:nginx:1.18.0:*:*:*:*:*:*:*"},
   {"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/nginx@1.18.0"}]}]}"#;

const SPDX_TAG_VALUE: &str =
    "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n\
DocumentName: x\n\nPackageName: openssh\nSPDXID: SPDXRef-2\nPackageVersion: 8.4p1\n\
ExternalRef: SECURITY cpe23Type cpe:2.3:a:openbsd:openssh:8.4:p1:*:*:*:*:*:*\n\
PackageSupplier: Organization: OpenBSD\n";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(8) {
        match rng.below(5) {
            0 if !out.is_empty() => {
                let at = rng.below(out.len());
                out[at] = rng.next() as u8;
            }
            1 if !out.is_empty() => out.truncate(rng.below(out.len())),
            2 => {
                let at = rng.below(out.len() + 1);
                let junk: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                out.splice(at..at, junk);
            }
            3 if out.len() > 2 => {
                // Repeat a slice: deep nesting, duplicated keys.
                let a = rng.below(out.len());
                let b = (a + rng.below(64)).min(out.len());
                let piece = out[a..b].to_vec();
                out.splice(a..a, piece);
            }
            _ => {
                let at = rng.below(out.len() + 1);
                let piece = [
                    b"{".as_slice(),
                    b"}",
                    b"[",
                    b"\"",
                    b"<component>",
                    b"</",
                    b"&#x0;",
                    b"\\u0000",
                    b"\n",
                    b"\xff\xfe",
                    b"PackageName: ",
                ][rng.below(11)];
                out.splice(at..at, piece.iter().copied());
            }
        }
    }
    out
}

#[test]
fn the_sbom_reader_never_panics_on_mutated_input() {
    let seeds = [CYCLONEDX_JSON, CYCLONEDX_XML, SPDX_JSON, SPDX_TAG_VALUE];
    // The seeds themselves are valid: the mutations start from real structure.
    for s in seeds {
        let sbom = parse_sbom(s.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{s}"));
        assert!(!sbom.components.is_empty(), "{s}");
    }
    let mut rng = Rng(0x5b0_3f22);
    let (mut ok, mut failed) = (0, 0);
    for round in 0..20_000 {
        let seed = seeds[round % seeds.len()].as_bytes();
        let input = mutate(&mut rng, seed);
        match std::panic::catch_unwind(|| parse_sbom(&input)) {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(e)) => {
                // Errors say what is wrong, never nothing.
                assert!(!e.to_string().trim().is_empty());
                failed += 1;
            }
            Err(_) => panic!(
                "panic on round {round}: {:?}",
                String::from_utf8_lossy(&input)
            ),
        }
    }
    println!("20,000 mutated SBOMs: {ok} read, {failed} rejected with an error");
    assert!(ok > 0 && failed > 0);
}

#[test]
fn a_100_mb_sbom_with_100_000_components_is_read_whole() {
    let mut json =
        String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":["#);
    let padding = "x".repeat(1_000);
    for i in 0..100_000 {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#"{{"type":"library","name":"lib{i}","version":"1.{i}","cpe":"cpe:2.3:a:vendor{v}:lib{i}:1.{i}:*:*:*:*:*:*:*","purl":"pkg:generic/lib{i}@1.{i}","description":"{padding}"}}"#,
            v = i % 100
        ));
    }
    json.push_str("]}");
    assert!(json.len() > 100_000_000, "{} bytes", json.len());
    let sbom = parse_sbom(json.as_bytes()).expect("reads");
    assert_eq!(sbom.components.len(), 100_000);
    assert_eq!(sbom.components[99_999].name, "lib99999");
    assert_eq!(
        sbom.components[42].cpe.as_deref(),
        Some("cpe:2.3:a:vendor42:lib42:1.42:*:*:*:*:*:*:*")
    );
    // Cut anywhere, it fails with a position instead of importing half.
    let cut = &json.as_bytes()[..json.len() / 2];
    let e = parse_sbom(cut).unwrap_err().to_string();
    assert!(
        e.contains("line") || e.contains("column") || e.contains("EOF"),
        "{e}"
    );
}
