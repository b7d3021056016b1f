#include "chart/page.h"

#include <algorithm>
#include <set>

#include "chart/text.h"

namespace dynoherd::chart {
namespace {

// Light and quiet: white cards on a grey page, thin gridlines, colour kept for the data. The
// palette is distinguishable with the common colour-vision deficiencies (blue, orange, green,
// purple, ...) and every text colour has at least 4.5:1 contrast on white.
constexpr std::string_view kStylesheet = R"css(
:root {
  --page: #f4f5f7; --card: #ffffff; --border: #e2e5e9; --text: #1c2430; --muted: #5f6b7a;
  --grid: #edf0f3; --axis: #a3acb8;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--page); color: var(--text);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans",
    "DejaVu Sans", Arial, sans-serif;
}
header.page-header { background: var(--card); border-bottom: 1px solid var(--border); }
header.page-header > div, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 28px; }
header.page-header > div { padding-top: 20px; padding-bottom: 16px; }
h1 { font-size: 21px; font-weight: 650; margin: 0; letter-spacing: -0.01em; }
.subtitle { color: var(--muted); margin: 2px 0 0; }
nav.contents { margin-top: 10px; display: flex; flex-wrap: wrap; gap: 6px; }
nav.contents a {
  color: #1d4ed8; text-decoration: none; font-size: 13px; padding: 2px 10px;
  border: 1px solid #d6def0; border-radius: 999px; background: #f5f8ff;
}
nav.contents a:hover { background: #e8efff; }
main { padding-top: 22px; padding-bottom: 8px; }
section { margin: 0 0 30px; }
h2 { font-size: 17px; font-weight: 650; margin: 0 0 12px; }
h3 { font-size: 14px; font-weight: 600; margin: 18px 0 8px; color: #343e4c; }
p { margin: 0 0 12px; max-width: 80ch; }
figure.chart-card {
  margin: 0 0 16px; padding: 6px 8px 2px; background: var(--card);
  border: 1px solid var(--border); border-radius: 8px; box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04);
}
.chart-row {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(min(460px, 100%), 1fr));
  gap: 0 16px;
}
footer { color: var(--muted); font-size: 12px; padding-top: 8px; padding-bottom: 28px; }

.table-wrap {
  overflow-x: auto; margin: 0 0 16px; background: var(--card);
  border: 1px solid var(--border); border-radius: 8px;
}
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 10px 12px 4px; }
th {
  text-align: left; font-weight: 600; color: #3b4554; background: #f8f9fb;
  padding: 7px 12px; border-bottom: 1px solid var(--border); white-space: nowrap;
}
td { padding: 6px 12px; border-bottom: 1px solid #eff1f4; vertical-align: top; }
tr:last-child td { border-bottom: none; }
th.num, td.num { text-align: right; }
tr.highlight td { background: #fff1f1; }
tr.highlight td:first-child { box-shadow: inset 3px 0 0 #d92d20; }

dl.facts { display: flex; flex-wrap: wrap; gap: 10px; margin: 0 0 16px; }
dl.facts div {
  background: var(--card); border: 1px solid var(--border); border-radius: 8px;
  padding: 6px 12px; min-width: 110px;
}
dl.facts dt { font-size: 12px; color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; }
dl.facts .good dd { color: #067647; }
dl.facts .warning dd { color: #b54708; }
dl.facts .bad dd { color: #c01048; }
dl.facts .good { border-left: 3px solid #17b26a; }
dl.facts .warning { border-left: 3px solid #f79009; }
dl.facts .bad { border-left: 3px solid #f04438; }

svg.chart { display: block; width: 100%; height: auto; font-family: inherit; overflow: visible; }
svg.chart text { fill: #4a5565; font-size: 11px; }
svg.chart .title { font-size: 15px; font-weight: 600; fill: #1c2430; }
svg.chart .legend text { font-size: 12px; fill: #3b4554; }
svg.chart .legend-more, svg.chart .axis-caption { fill: #7a8593; }
svg.chart .axis-label { fill: #5f6b7a; }
svg.chart .axis-caption { font-size: 10.5px; }
svg.chart .grid { stroke: var(--grid); stroke-width: 1; }
svg.chart .grid.zero { stroke: #c5ccd6; }
svg.chart .grid.vertical { stroke: #f2f4f6; }
svg.chart .grid.vertical.day { stroke: #b8c0cc; stroke-dasharray: 3 3; }
svg.chart .axis-line { stroke: var(--axis); stroke-width: 1; }
svg.chart .tick-label.day, svg.chart .tick-label.emphasis { font-weight: 600; fill: #1c2430; }
svg.chart .tick-label.emphasis { fill: #b42318; }
svg.chart .tick-sublabel { font-size: 10px; fill: #7a8593; }

.c0 { --c: #2463eb; } .c1 { --c: #e8710a; } .c2 { --c: #0f9d58; } .c3 { --c: #8e44cc; }
.c4 { --c: #d6336c; } .c5 { --c: #0e8fa8; } .c6 { --c: #7c8c1a; } .c7 { --c: #5b6575; }
.good { --c: #12a150; } .bad { --c: #d92d20; } .muted { --c: #98a2b3; } .accent { --c: #6941c6; }
svg.chart .series .line {
  fill: none; stroke: var(--c, #2463eb); stroke-width: 1.8; stroke-linejoin: round;
  stroke-linecap: round;
}
svg.chart .series.dashed .line { stroke-dasharray: 7 4; stroke-linecap: butt; }
svg.chart .series.dotted .line { stroke-dasharray: 0.5 4; stroke-width: 2.2; }
svg.chart .series .dot { fill: var(--c, #2463eb); }
svg.chart .swatch-line { stroke: var(--c, #2463eb); stroke-width: 2.5; stroke-linecap: round; }
svg.chart .swatch-line.dashed { stroke-dasharray: 7 4; stroke-linecap: butt; }
svg.chart .swatch-line.dotted { stroke-dasharray: 0.5 4; stroke-width: 2.8; }

.a0 { --a: #f04438; } .a1 { --a: #f79009; } .a2 { --a: #667085; }
svg.chart .span-area { fill: var(--a, #f04438); fill-opacity: 0.1; }
svg.chart .span:hover .span-area { fill-opacity: 0.16; }
svg.chart .span-label {
  fill: #b42318; font-size: 10.5px; paint-order: stroke; stroke: #fff; stroke-width: 3px;
  stroke-opacity: 0.85;
}
svg.chart .span-label.a1 { fill: #93370d; }
svg.chart .span-label.a2 { fill: #475467; }
svg.chart .swatch-area { fill: var(--a, #f04438); fill-opacity: 0.22; stroke: var(--a); stroke-opacity: 0.5; }

.m0 { --m: #6941c6; } .m1 { --m: #0e7490; } .m2 { --m: #8a5a12; } .m3 { --m: #344054; }
svg.chart .marker-line { stroke: var(--m, #6941c6); stroke-width: 1.2; stroke-opacity: 0.75; }
svg.chart .marker-head { fill: var(--m, #6941c6); stroke: none; }
svg.chart .marker-hit { stroke: transparent; stroke-width: 12; }
svg.chart .marker:hover .marker-line { stroke-width: 2; stroke-opacity: 1; }
svg.chart .marker-count { font-size: 10px; fill: var(--m, #6941c6); font-weight: 600; }

svg.chart .threshold-line { stroke: #d92d20; stroke-width: 1.3; stroke-dasharray: 5 4; }
svg.chart .threshold-label {
  fill: #b42318; font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 3px;
}

svg.chart .box-body { fill: #dbe7fe; stroke: #2463eb; stroke-width: 1.2; }
svg.chart .median { stroke: #1a3c9c; stroke-width: 2.2; }
svg.chart .whisker { stroke: #6b7a90; stroke-width: 1.2; }
svg.chart .box.highlight .box-body { fill: #fee4e2; stroke: #d92d20; }
svg.chart .box.highlight .median { stroke: #912018; }
svg.chart .box.highlight .whisker { stroke: #d92d20; }
svg.chart .box-missing { fill: #fafbfc; stroke: #d0d5dd; stroke-dasharray: 3 3; }
svg.chart .missing-label { fill: #7a8593; font-size: 10px; }
svg.chart .bar-body { fill: #5b8def; }
svg.chart .bar.highlight .bar-body { fill: #e5484d; }
svg.chart .bar:hover .bar-body, svg.chart .box:hover .box-body { filter: brightness(0.93); }
svg.chart .bar-value { font-size: 10.5px; fill: #4a5565; }
svg.chart .legend-item.plain .swatch-box { fill: #dbe7fe; stroke: #2463eb; }
svg.chart .bars .legend-item.plain .swatch-box, svg.chart.bars .legend-item.plain .swatch-box {
  fill: #5b8def; stroke: none;
}
svg.chart .legend-item.highlight .swatch-box { fill: #fee4e2; stroke: #d92d20; }
svg.chart.bars .legend-item.highlight .swatch-box { fill: #e5484d; stroke: none; }

svg.chart .no-data-area { fill: #fafbfc; stroke: #e2e5e9; stroke-dasharray: 4 4; }
svg.chart .no-data text { fill: #7a8593; font-size: 14px; }
)css";

std::string ToneClass(Tone tone) {
  switch (tone) {
    case Tone::kGood:
      return "good";
    case Tone::kWarning:
      return "warning";
    case Tone::kBad:
      return "bad";
    case Tone::kNeutral:
      break;
  }
  return "neutral";
}

std::string Figure(const Svg& chart) {
  return "<figure class=\"chart-card\">\n" + chart.markup() + "</figure>\n";
}

}  // namespace

const std::string& Stylesheet() {
  static const std::string stylesheet(kStylesheet.substr(1));  // without the leading newline
  return stylesheet;
}

std::string Slug(std::string_view heading) {
  std::string slug;
  bool dash = false;
  for (const char c : heading) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    if (!alnum) {
      dash = !slug.empty();
      continue;
    }
    if (dash) slug += '-';
    dash = false;
    slug += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return slug.empty() ? "section" : slug;
}

Page::Page(std::string title) : title_(std::move(title)) {
  sections_.push_back({});
}

void Page::SetSubtitle(std::string text) {
  subtitle_ = std::move(text);
}
void Page::SetFooter(std::string text) {
  footer_ = std::move(text);
}
void Page::SetRefresh(std::chrono::seconds interval) {
  refresh_ = interval;
}

Page::Section& Page::Current() {
  return sections_.back();
}

void Page::AddSection(std::string heading) {
  std::string id = Slug(heading);
  const auto taken = [&](const std::string& candidate) {
    return std::any_of(sections_.begin(), sections_.end(),
                       [&](const Section& s) { return s.id == candidate; });
  };
  if (taken(id)) {
    int n = 2;
    while (taken(id + "-" + std::to_string(n)))
      ++n;
    id += '-' + std::to_string(n);  // '-', not "-": GCC 12 -O3 reports a false -Wrestrict
  }
  sections_.push_back({std::move(id), std::move(heading), ""});
}

void Page::AddHeading(std::string text) {
  Current().body += "<h3>" + Escape(text) + "</h3>\n";
}

void Page::AddParagraph(std::string text) {
  Current().body += "<p>" + Escape(text) + "</p>\n";
}

void Page::AddChart(const Svg& chart) {
  Current().body += Figure(chart);
}

void Page::AddChartRow(const std::vector<Svg>& charts) {
  std::string& body = Current().body;
  body += "<div class=\"chart-row\">\n";
  for (const Svg& chart : charts)
    body += Figure(chart);
  body += "</div>\n";
}

void Page::AddTable(const Table& table) {
  std::string& body = Current().body;
  body += "<div class=\"table-wrap\"><table>\n";
  if (!table.caption.empty()) body += "<caption>" + Escape(table.caption) + "</caption>\n";
  body += "<thead><tr>";
  for (const Table::Column& column : table.columns) {
    body += column.numeric ? "<th class=\"num\">" : "<th>";
    body += Escape(column.header) + "</th>";
  }
  body += "</tr></thead>\n<tbody>\n";
  for (const Table::Row& row : table.rows) {
    body += row.highlighted ? "<tr class=\"highlight\">" : "<tr>";
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      body += table.columns[i].numeric ? "<td class=\"num\">" : "<td>";
      if (i < row.cells.size()) body += Escape(row.cells[i]);
      body += "</td>";
    }
    body += "</tr>\n";
  }
  body += "</tbody>\n</table></div>\n";
}

void Page::AddFacts(const std::vector<Fact>& facts) {
  std::string& body = Current().body;
  body += "<dl class=\"facts\">\n";
  for (const Fact& fact : facts) {
    body += "<div class=\"" + ToneClass(fact.tone) + "\"";
    if (!fact.detail.empty()) body += " title=\"" + Escape(fact.detail) + "\"";
    body += "><dt>" + Escape(fact.label) + "</dt><dd>" + Escape(fact.value) + "</dd></div>\n";
  }
  body += "</dl>\n";
}

std::string Page::Render() const {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  if (refresh_.count() > 0) {
    html += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(refresh_.count()) + "\">\n";
  }
  // An empty icon: served over HTTP (the daemon's page), the browser would otherwise ask for
  // /favicon.ico and log the 404 as an error.
  html += "<link rel=\"icon\" href=\"data:,\">\n";
  html += "<title>" + Escape(title_) + "</title>\n<style>\n" + Stylesheet() + "</style>\n";
  html += "</head>\n<body>\n<header class=\"page-header\"><div>\n<h1>" + Escape(title_) + "</h1>\n";
  if (!subtitle_.empty()) html += "<p class=\"subtitle\">" + Escape(subtitle_) + "</p>\n";
  if (sections_.size() > 2) {
    html += "<nav class=\"contents\">";
    for (std::size_t i = 1; i < sections_.size(); ++i) {
      html += "<a href=\"#" + sections_[i].id + "\">" + Escape(sections_[i].heading) + "</a>";
    }
    html += "</nav>\n";
  }
  html += "</div></header>\n<main>\n";
  html += sections_.front().body;
  for (std::size_t i = 1; i < sections_.size(); ++i) {
    const Section& section = sections_[i];
    html += "<section id=\"" + section.id + "\">\n<h2>" + Escape(section.heading) + "</h2>\n" +
            section.body + "</section>\n";
  }
  html += "</main>\n";
  if (!footer_.empty()) html += "<footer>" + Escape(footer_) + "</footer>\n";
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace dynoherd::chart
