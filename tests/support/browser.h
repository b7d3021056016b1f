// Opens a page in headless Chromium and reports what a person would have got: the screenshot, the
// rendered DOM, how many elements match some selectors and where they are, the console errors,
// and any request that left the machine.
//
//   Result<BrowserPage> page = LoadInBrowser(FileUrl(html_path), {.count = {"svg.chart"}});
//   REQUIRE(page.ok());
//   CHECK(page->counts["svg.chart"] == 4);
//   CHECK(page->console_errors.empty());
//
// Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: fd 3 in,
// fd 4 out, NUL-terminated JSON): no port, no WebSocket library, and the messages carry what the
// command-line switches cannot (the level of a console message, uncaught exceptions, failed
// loads, every request). One browser per call, with a fresh profile that is removed afterwards;
// every wait has the call's deadline, and the browser's whole process group is killed at the end.
// Host names other than 127.0.0.1 do not resolve, so a page cannot reach the network.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace dynoherd::testing {

struct BrowserOptions {
  int viewport_width = 1280;
  int viewport_height = 900;
  int max_screenshot_height = 12000;          // the screenshot is the whole page, down to this
  std::chrono::milliseconds timeout{45'000};  // the whole visit: start, load, capture, close
  std::vector<std::string> count = {};        // CSS selectors to count in the rendered page
  std::string boxes_of = {};                  // a CSS selector whose elements' boxes to report
};

struct ElementBox {
  int x = 0;  // in page pixels, which are screenshot pixels (device scale 1)
  int y = 0;
  int width = 0;
  int height = 0;
};

struct BrowserPage {
  std::string title;
  std::string dom;                    // document.documentElement.outerHTML once loaded
  std::map<std::string, int> counts;  // per selector of BrowserOptions::count
  std::vector<ElementBox> boxes;      // of BrowserOptions::boxes_of, in document order
  std::vector<std::string>
      console_errors;  // console.error/assert, uncaught exceptions, failed loads
  std::vector<std::string> outside_requests;  // URLs not file:, data:, about: or 127.0.0.1
  std::string png;                            // the full-page screenshot
};

// $DYNOHERD_CHROMIUM, else chromium (or chromium-browser, google-chrome) on PATH; nullopt if none.
std::optional<std::string> FindChromium();

// "file:///abs/path", percent-encoding what a URL cannot carry.
std::string FileUrl(const std::filesystem::path& path);

// Loads `url` (a file: URL, or http://127.0.0.1:...) and waits until it has loaded and painted.
// Errors: no Chromium, the browser failed or timed out (with the end of its log), the page did
// not load (the network error).
Result<BrowserPage> LoadInBrowser(const std::string& url, const BrowserOptions& options = {});

// Writes `bytes` to $DYNOHERD_SCREENSHOT_DIR/<name> when that is set, so a person can look at what
// the browser tests saw (and the docs' screenshots can be made); nothing otherwise.
void KeepForPeople(const std::string& name, const std::string& bytes);

}  // namespace dynoherd::testing
