//! Human-readable output: aligned tables that count East Asian wide characters twice.

use unicode_width::UnicodeWidthStr;

/// Pads or cuts `text` to `width` terminal columns.
pub fn fit(text: &str, width: usize) -> String {
    let w = text.width();
    if w <= width {
        return format!("{text}{}", " ".repeat(width - w));
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > width {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    used += 1;
    format!("{out}{}", " ".repeat(width.saturating_sub(used)))
}

/// Prints rows as a table with a header line; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>], max: &[usize]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.width()).min(max[i]);
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len() - 1;
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.clone()
                } else {
                    fit(c, widths[i])
                }
            })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|w| "─".repeat(*w)).collect());
    for row in rows {
        line(row.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_wide_characters() {
        assert_eq!(fit("サーバ", 8), "サーバ  ");
        assert_eq!(fit("電子カルテサーバ", 8).width(), 8);
        assert!(fit("電子カルテサーバ", 8).starts_with("電子カ…"));
    }
}
