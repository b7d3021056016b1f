// The browser helper catches what it exists to catch: console errors, uncaught exceptions,
// failed loads, requests off the machine, blank pages; and reads pages from disk and 127.0.0.1.
#include <doctest/doctest.h>
#include <httplib.h>

#include <future>
#include <string>
#include <thread>

#include "tests/support/browser.h"
#include "tests/support/png.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

bool AnyContains(const std::vector<std::string>& lines, const std::string& what) {
  for (const std::string& line : lines) {
    if (line.find(what) != std::string::npos) return true;
  }
  return false;
}

// A page server on 127.0.0.1 for the length of a test.
class LocalServer {
 public:
  explicit LocalServer(std::function<void(httplib::Response&)> handler) {
    server_.Get("/", [handler](const httplib::Request&, httplib::Response& res) { handler(res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LocalServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_CASE("Console errors, uncaught exceptions and failed loads are reported; logs are not") {
  TempDir dir;
  const std::string path = dir.Write("errors.html", R"(<!DOCTYPE html><html><head><title>t</title>
<meta charset="utf-8"></head><body><p>text</p>
<script>console.log("just a log"); console.warn("a warning"); console.error("boom", 42);</script>
<script>undefinedFunction();</script>
<img src="missing.png" alt="">
</body></html>)");
  const Result<BrowserPage> page = LoadInBrowser(FileUrl(path));
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  CHECK(page->console_errors.size() == 3);
  CHECK(AnyContains(page->console_errors, "console.error: boom 42"));
  CHECK(AnyContains(page->console_errors, "undefinedFunction is not defined"));
  CHECK(AnyContains(page->console_errors, "missing.png"));
  CHECK_FALSE(AnyContains(page->console_errors, "just a log"));
  CHECK_FALSE(AnyContains(page->console_errors, "a warning"));
}

TEST_CASE("A blank page decodes to one flat colour; a painted one does not") {
  TempDir dir;
  const std::string blank = dir.Write("blank.html", "<!DOCTYPE html><html><body></body></html>");
  Result<BrowserPage> page =
      LoadInBrowser(FileUrl(blank), {.viewport_width = 400, .viewport_height = 300});
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  Result<Image> image = DecodePng(page->png);
  REQUIRE(image.ok());
  CHECK(image->width == 400);
  CHECK(MeasureImage(*image).distinct_colors == 1);

  const std::string painted = dir.Write(
      "painted.html",
      "<!DOCTYPE html><html><body style=\"margin:0\">"
      "<div id=\"a\" style=\"position:absolute;left:40px;top:1200px;width:100px;height:50px;"
      "background:#ff0000\"></div><div id=\"b\" style=\"position:absolute;left:200px;top:20px;"
      "width:30px;height:30px;background:#0000ff\"></div></body></html>");
  page = LoadInBrowser(FileUrl(painted),
                       {.viewport_width = 400, .viewport_height = 300, .boxes_of = "div"});
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  image = DecodePng(page->png);
  REQUIRE(image.ok());
  CHECK(image->height >= 1250);  // the whole page, not the viewport
  REQUIRE(page->boxes.size() == 2);
  const ElementBox red = page->boxes[0];
  CHECK(red.x == 40);
  CHECK(red.y == 1200);
  CHECK(red.width == 100);
  // The box's pixels in the screenshot are the element's colour: positions line up.
  const ImageStats inside = MeasureImage(*image, red.x, red.y, red.width, red.height);
  CHECK(inside.background == 0xFF0000FF);
  CHECK(inside.background_share == 1.0);
  CHECK(MeasureImage(*image, page->boxes[1].x, page->boxes[1].y, 30, 30).background == 0x0000FFFF);
}

TEST_CASE("Requests off the machine are reported and go nowhere") {
  TempDir dir;
  const std::string path =
      dir.Write("outside.html",
                "<!DOCTYPE html><html><body><img src=\"http://example.com/pixel.png\" "
                "alt=\"\"></body></html>");
  const Result<BrowserPage> page = LoadInBrowser(FileUrl(path));
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  CHECK(page->outside_requests == std::vector<std::string>{"http://example.com/pixel.png"});
  CHECK(AnyContains(page->console_errors, "ERR_NAME_NOT_RESOLVED"));
}

TEST_CASE("A page served on 127.0.0.1 loads, and its elements are counted") {
  LocalServer server([](httplib::Response& res) {
    res.set_content(
        // The empty icon keeps the browser from asking for /favicon.ico, a 404 here.
        "<!DOCTYPE html><html><head><title>live &amp; well</title><link rel=\"icon\" "
        "href=\"data:,\">"
        "<meta http-equiv=\"refresh\" content=\"30\"></head><body>"
        "<svg class=\"chart\" viewBox=\"0 0 10 10\"><g class=\"marker\"></g><g "
        "class=\"marker\"></g>"
        "</svg></body></html>",
        "text/html; charset=utf-8");
  });
  const Result<BrowserPage> page =
      LoadInBrowser(server.url(), {.count = {"svg.chart", "g.marker", "table"}});
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  CHECK(page->title == "live & well");
  CHECK(page->counts.at("svg.chart") == 1);
  CHECK(page->counts.at("g.marker") == 2);
  CHECK(page->counts.at("table") == 0);
  CHECK(page->dom.find("<g class=\"marker\"></g>") != std::string::npos);
  CHECK(page->outside_requests.empty());
  CHECK(page->console_errors.empty());
}

TEST_CASE("A page that cannot load is an error, and so is one that never finishes") {
  TempDir dir;
  const Result<BrowserPage> missing = LoadInBrowser(FileUrl(dir.path() / "nowhere.html"));
  CHECK_FALSE(missing.ok());
  CHECK(missing.status().message().find("ERR_FILE_NOT_FOUND") != std::string::npos);

  // The server holds the response until the browser has given up: the deadline, not the page,
  // ends the visit.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  {
    LocalServer server([released](httplib::Response& res) {
      released.wait();
      res.set_content("late", "text/plain");
    });
    const Result<BrowserPage> hung =
        LoadInBrowser(server.url(), {.timeout = std::chrono::milliseconds(2500)});
    release.set_value();
    CHECK_FALSE(hung.ok());
    CHECK(hung.status().message().find("in time") != std::string::npos);
  }
}

}  // namespace
}  // namespace dynoherd::testing
