//! Reports drawn for a browser: grouped bar charts as inline SVG, for the gateway's dashboard
//! and `juhe ledger report --format html`. No script and nothing fetched, so a page works
//! offline and from a file; every bar carries its exact value (`data-value`) and a tooltip, so
//! a test (or a screen reader) reads the numbers the picture shows.

use std::fmt::Write;

/// The bars' colours, one per series, in order (the first is the dashboard's blue).
const PALETTE: [&str; 5] = ["#3b7dd8", "#e0913a", "#6aa84f", "#a64d79", "#888888"];

/// One series: a value per category, drawn as one bar each.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name, in the legend and on each bar.
    pub name: String,
    /// Per category: the height (any unit) and the value as shown (`12`, `3.75`).
    pub values: Vec<(f64, String)>,
}

/// A grouped bar chart: for each category (a day, a product), a bar per series.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// The `id` of the `<svg>` element.
    pub id: String,
    /// What the chart shows, for its heading and screen readers.
    pub title: String,
    /// The categories, left to right.
    pub categories: Vec<String>,
    /// The series.
    pub series: Vec<Series>,
}

impl BarChart {
    /// The chart as HTML: a heading, the `<svg>` and its legend. Every text is escaped.
    pub fn html(&self) -> String {
        let mut page = String::with_capacity(4096);
        let _ = writeln!(page, "<h2>{}</h2>", escape(&self.title));
        let (width, height, left, bottom) = (720.0, 240.0, 48.0, 30.0);
        let max = self.series.iter().flat_map(|s| s.values.iter().map(|v| v.0)).fold(0.0, f64::max);
        let max = if max > 0.0 { max } else { 1.0 };
        let slot = (width - left) / self.categories.len().max(1) as f64;
        // Bars no wider than 48 px: one day alone is still a bar, not a wall.
        let bar = ((slot - 8.0) / self.series.len().max(1) as f64).clamp(1.0, 48.0);
        let _ = write!(
            page,
            "<svg id=\"{}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
            escape(&self.id),
            escape(&self.title)
        );
        for (i, category) in self.categories.iter().enumerate() {
            let x0 = left + slot * i as f64 + 4.0;
            for (j, series) in self.series.iter().enumerate() {
                let (value, shown) = series.values.get(i).map_or((0.0, "0"), |(v, s)| (*v, s.as_str()));
                let h = (height - bottom - 10.0) * value.max(0.0) / max;
                let _ = write!(
                    page,
                    "<rect class=\"bar\" data-series=\"{s}\" data-category=\"{c}\" data-value=\"{v}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"><title>{s}, {c}: {v}</title></rect>",
                    s = escape(&series.name),
                    c = escape(category),
                    v = escape(shown),
                    x = x0 + bar * j as f64,
                    y = height - bottom - h,
                    w = (bar - 2.0).max(1.0),
                    fill = PALETTE[j % PALETTE.len()],
                );
            }
            let _ = write!(
                page,
                "<text class=\"axis\" x=\"{x0:.1}\" y=\"{:.1}\">{}</text>",
                height - 10.0,
                escape(short(category))
            );
        }
        let top = self.series.iter().flat_map(|s| s.values.iter()).find(|v| v.0 == max).map(|v| v.1.as_str());
        let _ = writeln!(
            page,
            "<text class=\"axis\" x=\"0\" y=\"12\">{}</text></svg>",
            escape(top.unwrap_or(""))
        );
        page.push_str("<p class=\"legend\">");
        for (j, series) in self.series.iter().enumerate() {
            let _ = write!(
                page,
                "<svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"{}\"/></svg> {} &nbsp; ",
                PALETTE[j % PALETTE.len()],
                escape(&series.name)
            );
        }
        page.push_str("</p>\n");
        page
    }
}

/// A day's label without its year (`12-06`); other categories as they are.
fn short(category: &str) -> &str {
    match category.as_bytes() {
        [_, _, _, _, b'-', _, _, b'-', _, _] => &category[5..],
        _ => category,
    }
}

/// Text for HTML, in an element or an attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bar_carries_its_value_and_every_text_is_escaped() {
        let chart = BarChart {
            id: "spend".into(),
            title: "spend <per> day".into(),
            categories: vec!["2026-12-05".into(), "2026-12-06".into()],
            series: vec![
                Series { name: "paid".into(), values: vec![(2.0, "2".into()), (4.0, "4".into())] },
                Series { name: "re\"used".into(), values: vec![(1.0, "1".into())] },
            ],
        };
        let html = chart.html();
        assert_eq!(html.matches("<rect class=\"bar\"").count(), 4, "two series × two days");
        assert!(html.contains("data-series=\"paid\" data-category=\"2026-12-06\" data-value=\"4\""));
        assert!(html.contains("data-series=\"re&quot;used\" data-category=\"2026-12-06\" data-value=\"0\""));
        assert!(html.contains("<h2>spend &lt;per&gt; day</h2>") && !html.contains("<per>"));
        assert!(html.contains(">12-06</text>"));
    }

    #[test]
    fn an_empty_chart_draws_nothing_and_does_not_divide_by_zero() {
        let chart =
            BarChart { id: "x".into(), title: "t".into(), categories: Vec::new(), series: Vec::new() };
        let html = chart.html();
        assert!(!html.contains("NaN") && !html.contains("inf") && !html.contains("<rect class=\"bar\""));
    }
}
