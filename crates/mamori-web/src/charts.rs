//! Charts drawn on the server as inline SVG: no script, no library, no CDN — they work on a
//! closed network and print as they show. Every chart also says its figures in text (a
//! `<title>` per point or cell, and a caption), for screen readers and for the inspector.

use chrono::NaiveDate;
use maud::{html, Markup};

const W: f64 = 720.0;
const H: f64 = 200.0;
const PAD_L: f64 = 48.0;
const PAD_B: f64 = 22.0;

/// A line chart of counts per day: each series is (label, CSS class, values per day).
pub fn lines(title: &str, days: &[NaiveDate], series: &[(&str, &str, Vec<usize>)]) -> Markup {
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let n = days.len().max(2);
    let x = |i: usize| PAD_L + (W - PAD_L - 8.0) * i as f64 / (n - 1) as f64;
    let y = |v: usize| 8.0 + (H - PAD_B - 8.0) * (1.0 - v as f64 / max as f64);
    let ticks = [0, max / 2, max];
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
                title { (title) }
                @for t in ticks {
                    line.grid x1=(PAD_L) x2=(W - 8.0) y1=(y(t)) y2=(y(t)) {}
                    text.axis x=(PAD_L - 6.0) y=(y(t) + 4.0) text-anchor="end" { (t) }
                }
                @if let (Some(first), Some(last)) = (days.first(), days.last()) {
                    text.axis x=(PAD_L) y=(H - 4.0) { (first.format("%m/%d")) }
                    text.axis x=(W - 8.0) y=(H - 4.0) text-anchor="end" { (last.format("%m/%d")) }
                }
                @for (label, class, values) in series {
                    polyline class=(class) fill="none" points=(values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect::<Vec<_>>().join(" ")) {}
                    @if let (Some(v), Some(d)) = (values.last(), days.last()) {
                        circle class=(class) cx=(x(values.len() - 1)) cy=(y(*v)) r="3" { title { (label) " " (d) ": " (v) } }
                    }
                }
            }
            figcaption {
                @for (label, class, values) in series {
                    span class={ "key " (class) } { (label) ": " (values.first().copied().unwrap_or(0)) " → " (values.last().copied().unwrap_or(0)) } " "
                }
            }
        }
    }
}

/// One heat-map cell: the title shown on hover, and its shade (0: none … 4: most).
pub struct Cell {
    /// Said on hover and to screen readers.
    pub title: String,
    /// `ok`, `warn`, or `idle`.
    pub class: &'static str,
    /// 0 … 4.
    pub level: u8,
}

/// A heat map: one row per label, one column per day.
pub fn heatmap(title: &str, days: &[NaiveDate], rows: &[(String, Vec<Cell>)]) -> Markup {
    let label_w = 220.0;
    let cell = 22.0;
    let width = label_w + cell * days.len() as f64 + 8.0;
    let height = 24.0 + cell * rows.len() as f64;
    html! {
        figure.chart.heatmap {
            svg viewBox={ "0 0 " (width) " " (height) } width=(width) role="img" aria-label=(title) {
                title { (title) }
                @for (i, d) in days.iter().enumerate() {
                    text.axis x=(label_w + cell * i as f64 + cell / 2.0) y="14" text-anchor="middle" { (d.format("%d")) }
                }
                @for (r, (label, cells)) in rows.iter().enumerate() {
                    text.label x=(label_w - 6.0) y=(24.0 + cell * r as f64 + 15.0) text-anchor="end" { (crate::pages::short(label, 26)) }
                    @for (i, c) in cells.iter().enumerate() {
                        rect class={ "cell " (c.class) " l" (c.level) } x=(label_w + cell * i as f64 + 1.0) y=(24.0 + cell * r as f64 + 1.0) width=(cell - 2.0) height=(cell - 2.0) {
                            title { (c.title) }
                        }
                    }
                }
            }
        }
    }
}
