// The main of the browser tests. Without Chromium they are skipped (exit 77, the tests'
// SKIP_RETURN_CODE), not failed: a machine without a browser cannot say anything about pages.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "tests/support/browser.h"

int main(int argc, char** argv) {
  if (!dynoherd::testing::FindChromium()) {
    std::fputs(
        "browser tests skipped: no chromium (apt-get install chromium, or set "
        "DYNOHERD_CHROMIUM)\n",
        stderr);
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
