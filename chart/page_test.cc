#include "chart/page.h"

#include <doctest/doctest.h>

#include <string>

#include "chart/distribution.h"
#include "chart/time_series.h"

namespace dynoherd::chart {
namespace {

using namespace std::chrono_literals;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

Page SamplePage() {
  const TimePoint start = *ParseTimestamp("2026-12-06T12:00:00Z");
  TimeSeriesChart latency{.title = "web: p99"};
  latency.series.push_back({.name = "p99", .points = {{start, 0.2}, {start + 1min, 0.4}}});
  BarChart bars{.title = "requests"};
  bars.bars.push_back({"web.1", 120.0});

  Page page("dynoherd simulate");
  page.SetSubtitle("seed 42");
  page.AddParagraph("What the run did.");
  page.AddSection("web");
  page.AddChart(RenderTimeSeries(latency));
  page.AddChartRow({RenderBarChart(bars), RenderBarChart(bars)});
  page.AddTable({.caption = "summary",
                 .columns = {{"variant"}, {"p99", true}},
                 .rows = {{{"dynoherd", "0.4s"}}, {{"without", "2.1s"}, true}}});
  page.AddSection("worker");
  page.AddFacts({{"Ready", "True", Tone::kGood, "all formations observed"},
                 {"Degraded", "True", Tone::kBad}});
  page.SetFooter("dynoherd 0.1.0");
  return page;
}

TEST_CASE("A page is one self-contained document: inline style and SVG, no script, no fetch") {
  const std::string html = SamplePage().Render();
  CHECK(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"));
  CHECK(html.ends_with("</body>\n</html>\n"));
  CHECK(Count(html, "<style>") == 1);
  CHECK(Count(html, "<svg ") == 3);
  CHECK(Count(html, "<figure class=\"chart-card\">") == 3);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find(" src=") == std::string::npos);
  CHECK(Count(html, "<link") == 1);  // the empty icon, which stops a request for /favicon.ico
  CHECK(html.find("<link rel=\"icon\" href=\"data:,\">") != std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  // The only URL is the SVG namespace, which names and never fetches.
  CHECK(Count(html, "http") == Count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(html.find("http-equiv") == std::string::npos);  // no refresh unless asked
}

TEST_CASE("Sections get ids from their headings and, with two or more, links at the top") {
  Page page("t");
  page.AddSection("Web & Worker!");
  page.AddSection("web worker");
  page.AddSection("");
  const std::string html = page.Render();
  CHECK(html.find("<section id=\"web-worker\">") != std::string::npos);
  CHECK(html.find("<section id=\"web-worker-2\">") != std::string::npos);
  CHECK(html.find("<section id=\"section\">") != std::string::npos);
  CHECK(html.find("<a href=\"#web-worker-2\">web worker</a>") != std::string::npos);

  Page single("t");
  single.AddSection("web");
  CHECK(single.Render().find("<nav") == std::string::npos);

  CHECK(Slug("web.1 (laggard)") == "web-1-laggard");
  CHECK(Slug("--") == "section");
}

TEST_CASE("Tables align numbers right, highlight rows and square up ragged rows") {
  Page page("t");
  page.AddTable({.columns = {{"dyno"}, {"requests", true}},
                 .rows = {{{"web.1"}}, {{"web.2", "10", "dropped"}, true}}});
  const std::string html = page.Render();
  CHECK(html.find("<th>dyno</th><th class=\"num\">requests</th>") != std::string::npos);
  CHECK(html.find("<tr><td>web.1</td><td class=\"num\"></td></tr>") != std::string::npos);
  CHECK(html.find("<tr class=\"highlight\"><td>web.2</td><td class=\"num\">10</td></tr>") !=
        std::string::npos);
  CHECK(html.find("dropped") == std::string::npos);
}

TEST_CASE("A live page refreshes itself without a script") {
  Page page("dynoherd");
  page.SetRefresh(30s);
  CHECK(page.Render().find("<meta http-equiv=\"refresh\" content=\"30\">") != std::string::npos);
  page.SetRefresh(0s);
  CHECK(page.Render().find("refresh") == std::string::npos);
}

TEST_CASE("Every string on the page is escaped") {
  const std::string evil = "<script>alert(1)</script>\"&'";
  const std::string escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;";
  Page page(evil);
  page.SetSubtitle(evil);
  page.SetFooter(evil);
  page.AddSection(evil);
  page.AddSection(evil);  // the contents links too
  page.AddHeading(evil);
  page.AddParagraph(evil);
  page.AddTable({.caption = evil, .columns = {{evil}}, .rows = {{{evil}}}});
  page.AddFacts({{evil, evil, Tone::kWarning, evil}});
  const std::string html = page.Render();
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("\"&'") == std::string::npos);
  CHECK(Count(html, escaped) == 16);
}

TEST_CASE("The same page twice is the same bytes") {
  CHECK(SamplePage().Render() == SamplePage().Render());
}

}  // namespace
}  // namespace dynoherd::chart
