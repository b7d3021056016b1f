// Reads the PNG screenshots headless Chromium takes, so browser tests can check that a page
// painted something, there and in each chart's box.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dynoherd::testing {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgba;  // 4 bytes a pixel, rows top to bottom
};

// 8-bit, non-interlaced grey, grey+alpha, RGB or RGBA: what browsers write. Anything else, or a
// damaged file, is an error that says what is wrong.
Result<Image> DecodePng(std::string_view bytes);

struct ImageStats {
  std::size_t pixels = 0;
  std::size_t distinct_colors = 0;
  uint32_t background = 0;      // the most common colour, as 0xRRGGBBAA
  double background_share = 0;  // of the pixels measured
};

// Colours in the rectangle (clipped to the image); the whole image by default.
ImageStats MeasureImage(const Image& image, int x = 0, int y = 0, int width = -1, int height = -1);

}  // namespace dynoherd::testing
