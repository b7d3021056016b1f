// A self-contained HTML page of charts and tables: inline CSS and SVG, no script, no network, so a
// report can be mailed, archived or opened from disk years later. The same calls give the same
// bytes (no clock, no locale, ids from the headings).
//
//   Page page("dynoherd simulate: shop");
//   page.SetSubtitle("seed 42, 2h simulated");
//   page.AddSection("web");
//   page.AddChart(RenderTimeSeries(latency));
//   page.AddChartRow({RenderBoxPlot(per_dyno), RenderBarChart(requests)});
//   page.AddTable(summary);
//   std::string html = page.Render();
//
// Every text argument is escaped. Charts are Svg values, which only the renderers make.
// Colour classes the stylesheet defines, for Series::css_class: c0..c7 (the palette, used in
// order by default), and by meaning: good, bad, muted, accent.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chart/svg.h"

namespace dynoherd::chart {

struct Table {
  struct Column {
    std::string header = {};
    bool numeric = false;  // right-aligned, tabular digits
  };
  struct Row {
    std::vector<std::string> cells = {};  // missing cells are empty, extra ones dropped
    bool highlighted = false;             // e.g. the laggard's row
  };
  std::string caption = {};  // above the table; "" for none
  std::vector<Column> columns = {};
  std::vector<Row> rows = {};
};

// How a fact reads at a glance: a condition that is fine, worth a look, or wrong.
enum class Tone { kNeutral, kGood, kWarning, kBad };

struct Fact {
  std::string label = {};  // "Ready"
  std::string value = {};  // "True"
  Tone tone = Tone::kNeutral;
  std::string detail = {};  // on hover: the condition's message
};

class Page {
 public:
  explicit Page(std::string title);

  void SetSubtitle(std::string text);  // under the title: what, when, which seed
  void SetFooter(std::string text);    // at the bottom: version, how it was made
  // Reload the page every `interval` with <meta http-equiv="refresh">: the daemon's live page,
  // without a script. Zero or less: no reload (the default).
  void SetRefresh(std::chrono::seconds interval);

  // Starts a section (<section id=...><h2>); what is added next belongs to it. With two sections
  // or more the page opens with links to them. Ids come from the headings, made unique in order.
  void AddSection(std::string heading);
  void AddHeading(std::string text);  // a sub-heading inside the section
  void AddParagraph(std::string text);
  void AddChart(const Svg& chart);  // the full width
  // Side by side where the window allows, one above the other where not; charts made with
  // Size kHalfWidth keep the text size of full-width ones.
  void AddChartRow(const std::vector<Svg>& charts);
  void AddTable(const Table& table);
  void AddFacts(const std::vector<Fact>& facts);  // a row of labelled values: conditions

  std::string Render() const;

 private:
  struct Section {
    std::string id;
    std::string heading;
    std::string body;  // HTML, everything in it escaped or made by SvgWriter
  };
  Section& Current();

  std::string title_;
  std::string subtitle_;
  std::string footer_;
  std::chrono::seconds refresh_{0};
  std::vector<Section> sections_;  // the first has no heading: what comes before any section
};

// The page's CSS, chart classes included; for embedding charts in another page.
const std::string& Stylesheet();

// A fragment id from a heading: lowercase ASCII letters and digits, runs of anything else as one
// '-'; "section" when nothing is left.
std::string Slug(std::string_view heading);

}  // namespace dynoherd::chart
