#include "chart/text.h"

#include <doctest/doctest.h>

namespace dynoherd::chart {
namespace {

TEST_CASE("Escape makes markup, both quote kinds and ampersands inert") {
  CHECK(Escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
  CHECK(Escape(R"(a "quoted" 'value' & more)") ==
        "a &quot;quoted&quot; &#39;value&#39; &amp; more");
  // An entity the caller wrote is text, not an entity: it must show as typed.
  CHECK(Escape("&lt;") == "&amp;lt;");
}

TEST_CASE("Escape keeps valid UTF-8 and replaces what XML cannot carry") {
  CHECK(Escape("caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x9A\x80") ==
        "caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x9A\x80");
  CHECK(Escape("a\xFF"
               "b") ==
        "a\xEF\xBF\xBD"
        "b");                                                               // a stray byte
  CHECK(Escape("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // an overlong '/'
  CHECK(Escape("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(Escape("\xE2\x86") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // cut short
  CHECK(Escape(std::string("a\0b\x1b[31mc\td\ne", 13)) == "ab[31mc\td\ne");
}

TEST_CASE("CssClass keeps a class name and nothing that could leave the attribute") {
  CHECK(CssClass("c0") == "c0");
  CHECK(CssClass("p99_latency-2") == "p99_latency-2");
  CHECK(CssClass("x\" onmouseover=\"alert(1)") == "xonmouseoveralert1");
  CHECK(CssClass("") == "");
}

TEST_CASE("CountCodePoints counts characters, not bytes") {
  CHECK(CountCodePoints("web.1") == 5);
  CHECK(CountCodePoints("caf\xC3\xA9") == 4);
  CHECK(CountCodePoints("\xF0\x9F\x9A\x80\xFF") == 2);
}

TEST_CASE("TextWidth grows with the text and its letters' width") {
  CHECK(TextWidth("", 12) == 0);
  CHECK(TextWidth("web.10", 12) > TextWidth("web.1", 12));
  CHECK(TextWidth("WWWW", 12) > TextWidth("iiii", 12));
  CHECK(TextWidth("web", 24) == doctest::Approx(2 * TextWidth("web", 12)));
}

TEST_CASE("Ellipsize shortens to the width, at a character boundary") {
  CHECK(Ellipsize("web.1", 200, 12) == "web.1");
  const std::string long_name = "payments-worker-with-a-very-long-process-type-name.12";
  const std::string cut = Ellipsize(long_name, 100, 12);
  CHECK(cut.size() < long_name.size());
  CHECK(cut.ends_with("\xE2\x80\xA6"));
  CHECK(TextWidth(cut, 12) <= 100);
  CHECK(long_name.starts_with(cut.substr(0, cut.size() - 3)));

  // Multi-byte characters are kept whole: the result is valid UTF-8.
  const std::string accents = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";
  for (double width = 10; width < 80; width += 3) {
    const std::string shortened = Ellipsize(accents, width, 12);
    CHECK(Escape(shortened) == shortened);
  }
  CHECK(Ellipsize(long_name, 3, 12) == "");
  CHECK(Ellipsize("ab      cdefghijklmnop", 60, 12).find(" \xE2\x80\xA6") == std::string::npos);
}

}  // namespace
}  // namespace dynoherd::chart
