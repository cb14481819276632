//! Generators of hostile input files: each is small on disk and would cost a careless reader
//! gigabytes or minutes. Used by the CLI and web tests, and by `examples/hostile.rs`, which
//! writes them to a folder for the peak-memory figures in docs/BENCHMARKS.md.
#![allow(dead_code)]

use std::io::Write;

use zip::write::SimpleFileOptions;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="台帳" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// A minimal .xlsx whose sheet body and shared strings are written by the callers, as
/// streams (nothing of the unpacked size is held in memory).
pub fn xlsx(
    sheet_data: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    shared_strings: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    let mut part = |name: &str, body: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>| {
        zip.start_file(name, opts).unwrap();
        body(&mut zip).unwrap();
    };
    part("[Content_Types].xml", &mut |w| {
        w.write_all(CONTENT_TYPES.as_bytes())
    });
    part("_rels/.rels", &mut |w| w.write_all(RELS.as_bytes()));
    part("xl/workbook.xml", &mut |w| w.write_all(WORKBOOK.as_bytes()));
    part("xl/_rels/workbook.xml.rels", &mut |w| {
        w.write_all(WORKBOOK_RELS.as_bytes())
    });
    let mut sheet_data = Some(sheet_data);
    part("xl/worksheets/sheet1.xml", &mut |w| {
        w.write_all(SHEET_HEAD.as_bytes())?;
        (sheet_data.take().unwrap())(w)?;
        w.write_all(SHEET_TAIL.as_bytes())
    });
    let mut shared_strings = Some(shared_strings);
    part("xl/sharedStrings.xml", &mut |w| {
        w.write_all(
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
        )?;
        (shared_strings.take().unwrap())(w)?;
        w.write_all(b"</sst>")
    });
    zip.finish().unwrap().into_inner()
}

fn header_row(w: &mut dyn Write) -> std::io::Result<()> {
    w.write_all(
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>管理番号</t></is></c><c r="B1" t="inlineStr"><is><t>機器名</t></is></c></row>"#
            .as_bytes(),
    )
}

/// A ledger with one device, and one value far away at `cell` (e.g. `XFD1048576`): 2 KB
/// on disk, a 550 GB rectangle to a reader that fills the area between.
pub fn sparse_cell(cell: &str) -> Vec<u8> {
    let row: String = cell
        .chars()
        .skip_while(|c| c.is_ascii_alphabetic())
        .collect();
    let cell = cell.to_string();
    xlsx(
        move |w| {
            header_row(w)?;
            w.write_all(
                r#"<row r="2"><c r="A2" t="inlineStr"><is><t>PC-1</t></is></c><c r="B2" t="inlineStr"><is><t>受付</t></is></c></row>"#
                    .as_bytes(),
            )?;
            write!(w, r#"<row r="{row}"><c r="{cell}"><v>1</v></c></row>"#)
        },
        |_| Ok(()),
    )
}

/// A ledger whose shared-strings part unpacks to `unpacked` bytes of strings (deflate packs
/// it about a thousand to one).
pub fn shared_strings_bomb(unpacked: usize) -> Vec<u8> {
    xlsx(header_row, move |w| {
        let item = format!("<si><t>{}</t></si>", "A".repeat(1000));
        let chunk = item.repeat(64);
        let mut written = 0;
        while written < unpacked {
            w.write_all(chunk.as_bytes())?;
            written += chunk.len();
        }
        Ok(())
    })
}

/// A ledger with `rows` rows of `cols` number cells each: a few megabytes on disk.
pub fn many_cells(rows: usize, cols: usize) -> Vec<u8> {
    xlsx(
        move |w| {
            header_row(w)?;
            // Rows and cells without their optional `r`: each follows the one before.
            let row = format!("<row>{}</row>", "<c><v>7</v></c>".repeat(cols));
            for _ in 0..rows {
                w.write_all(row.as_bytes())?;
            }
            Ok(())
        },
        |_| Ok(()),
    )
}

/// A CSV ledger whose second line has `cols` cells.
pub fn wide_csv(cols: usize) -> Vec<u8> {
    let mut out = "管理番号,機器名\nPC-1,受付".as_bytes().to_vec();
    out.extend(std::iter::repeat_n(b',', cols));
    out.push(b'\n');
    out
}

/// An NVD API 2.0 page with one record whose English description holds `len` bytes,
/// gzip-compressed (a 1.5 GiB description packs to about 1.5 MB).
pub fn nvd_long_description(len: usize) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(
        br#"{"resultsPerPage":1,"startIndex":0,"totalResults":1,"format":"NVD_CVE","version":"2.0","timestamp":"2026-01-01T00:00:00.000","vulnerabilities":[{"cve":{"id":"CVE-2099-0001","sourceIdentifier":"x","published":"2026-01-01T00:00:00.000","lastModified":"2026-01-01T00:00:00.000","vulnStatus":"Analyzed","descriptions":[{"lang":"en","value":""#,
    )
    .unwrap();
    let chunk = "A".repeat(1 << 20);
    let mut written = 0;
    while written < len {
        let n = (len - written).min(chunk.len());
        gz.write_all(&chunk.as_bytes()[..n]).unwrap();
        written += n;
    }
    gz.write_all(br#""}],"references":[]}}]}"#).unwrap();
    gz.finish().unwrap()
}

/// A JVN VULDEF document whose one element carries `n` attributes.
pub fn jvn_many_attributes(n: usize) -> Vec<u8> {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><VULDEF-Document xmlns="http://jvn.jp/vuldef/" version="3.2"><Vulinfo "#,
    );
    for i in 0..n {
        out.push_str(&format!("a{i}=\"x\" "));
    }
    out.push_str("><VulinfoID>JVNDB-2099-000001</VulinfoID></Vulinfo></VULDEF-Document>");
    out.into_bytes()
}
