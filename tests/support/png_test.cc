#include "tests/support/png.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace dynoherd::testing {
namespace {

void Append32(std::string& out, uint32_t v) {
  for (const int shift : {24, 16, 8, 0})
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void AppendChunk(std::string& out, const std::string& type, const std::string& body) {
  Append32(out, static_cast<uint32_t>(body.size()));
  const std::string typed = type + body;
  out += typed;
  Append32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(typed.data()),
                                            static_cast<uInt>(typed.size()))));
}

int Predict(int filter, int left, int up, int up_left) {
  switch (filter) {
    case 1:
      return left;
    case 2:
      return up;
    case 3:
      return (left + up) / 2;
    case 4: {
      const int p = left + up - up_left;
      const int a = std::abs(p - left), b = std::abs(p - up), c = std::abs(p - up_left);
      return a <= b && a <= c ? left : b <= c ? up : up_left;
    }
    default:
      return 0;
  }
}

struct PngSpec {
  int width = 0;
  int height = 0;
  int color_type = 6;
  int channels = 4;
  std::vector<uint8_t> pixels = {};  // width * height * channels
  std::vector<int> filters = {};     // one per row
  int depth = 8;
  int interlace = 0;
  int idat_chunks = 1;
};

// An encoder for the decoder's tests: every row with the filter asked for.
std::string EncodePng(const PngSpec& spec) {
  const std::size_t stride = static_cast<std::size_t>(spec.width * spec.channels);
  std::string raw;
  for (int row = 0; row < spec.height; ++row) {
    const int filter = spec.filters[static_cast<std::size_t>(row)];
    raw.push_back(static_cast<char>(filter));
    const uint8_t* line = spec.pixels.data() + row * stride;
    const uint8_t* above = row > 0 ? line - stride : nullptr;
    for (std::size_t i = 0; i < stride; ++i) {
      const std::size_t bpp = static_cast<std::size_t>(spec.channels);
      const int left = i >= bpp ? line[i - bpp] : 0;
      const int up = above != nullptr ? above[i] : 0;
      const int up_left = above != nullptr && i >= bpp ? above[i - bpp] : 0;
      raw.push_back(static_cast<char>(line[i] - Predict(filter, left, up, up_left)));
    }
  }
  uLongf size = compressBound(raw.size());
  std::string compressed(size, '\0');
  compress(reinterpret_cast<Bytef*>(compressed.data()), &size,
           reinterpret_cast<const Bytef*>(raw.data()), raw.size());
  compressed.resize(size);

  std::string png = "\x89PNG\r\n\x1a\n";
  std::string header;
  Append32(header, static_cast<uint32_t>(spec.width));
  Append32(header, static_cast<uint32_t>(spec.height));
  header += {static_cast<char>(spec.depth), static_cast<char>(spec.color_type), 0, 0,
             static_cast<char>(spec.interlace)};
  AppendChunk(png, "IHDR", header);
  const std::size_t piece = compressed.size() / spec.idat_chunks + 1;
  for (std::size_t at = 0; at < compressed.size(); at += piece) {
    AppendChunk(png, "IDAT", compressed.substr(at, piece));
  }
  AppendChunk(png, "IEND", "");
  return png;
}

// A 5x5 image with values that exercise every predictor (no two neighbours alike).
std::vector<uint8_t> Pattern(int width, int height, int channels) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < width * height * channels; ++i)
    pixels.push_back(static_cast<uint8_t>(i * 37 + i * i * 11 + 3));
  return pixels;
}

TEST_CASE("Every row filter decodes back to the pixels") {
  for (int filter = 0; filter <= 4; ++filter) {
    CAPTURE(filter);
    PngSpec spec{.width = 5,
                 .height = 5,
                 .pixels = Pattern(5, 5, 4),
                 .filters = std::vector<int>(5, filter)};
    const Result<Image> image = DecodePng(EncodePng(spec));
    REQUIRE(image.ok());
    CHECK(image->width == 5);
    CHECK(image->height == 5);
    CHECK(image->rgba == spec.pixels);
  }
  // Mixed filters, data split over several IDAT chunks.
  PngSpec mixed{.width = 7,
                .height = 5,
                .pixels = Pattern(7, 5, 4),
                .filters = {4, 0, 3, 1, 2},
                .idat_chunks = 3};
  const Result<Image> image = DecodePng(EncodePng(mixed));
  REQUIRE(image.ok());
  CHECK(image->rgba == mixed.pixels);
}

TEST_CASE("RGB, grey and grey with alpha become RGBA") {
  PngSpec rgb{.width = 2,
              .height = 1,
              .color_type = 2,
              .channels = 3,
              .pixels = {10, 20, 30, 40, 50, 60},
              .filters = {1}};
  Result<Image> image = DecodePng(EncodePng(rgb));
  REQUIRE(image.ok());
  CHECK(image->rgba == std::vector<uint8_t>{10, 20, 30, 255, 40, 50, 60, 255});

  PngSpec grey{
      .width = 2, .height = 1, .color_type = 0, .channels = 1, .pixels = {7, 200}, .filters = {0}};
  image = DecodePng(EncodePng(grey));
  REQUIRE(image.ok());
  CHECK(image->rgba == std::vector<uint8_t>{7, 7, 7, 255, 200, 200, 200, 255});

  PngSpec grey_alpha{.width = 1,
                     .height = 2,
                     .color_type = 4,
                     .channels = 2,
                     .pixels = {9, 128, 90, 0},
                     .filters = {0, 2}};
  image = DecodePng(EncodePng(grey_alpha));
  REQUIRE(image.ok());
  CHECK(image->rgba == std::vector<uint8_t>{9, 9, 9, 128, 90, 90, 90, 0});
}

TEST_CASE("Damaged or unsupported files are errors that say why") {
  PngSpec good{.width = 2, .height = 2, .pixels = Pattern(2, 2, 4), .filters = {0, 0}};
  const std::string png = EncodePng(good);
  CHECK(DecodePng("GIF89a").status().message().find("signature") != std::string::npos);
  CHECK_FALSE(DecodePng(png.substr(0, png.size() - 20)).ok());

  PngSpec deep = good;
  deep.depth = 16;
  CHECK(DecodePng(EncodePng(deep)).status().message().find("8-bit") != std::string::npos);
  PngSpec interlaced = good;
  interlaced.interlace = 1;
  CHECK_FALSE(DecodePng(EncodePng(interlaced)).ok());
  PngSpec bad_filter = good;
  bad_filter.filters = {0, 7};
  CHECK(DecodePng(EncodePng(bad_filter)).status().message().find("filter 7") != std::string::npos);
  PngSpec short_data = good;
  short_data.height = 1;  // the header will claim two rows
  std::string truncated = EncodePng(short_data);
  truncated[8 + 8 + 7] = 2;  // the low byte of IHDR's height: rows the data does not have
  CHECK(DecodePng(truncated).status().message().find("inflate") != std::string::npos);
}

TEST_CASE("MeasureImage finds the background and counts colours, in a region too") {
  Image image{.width = 10, .height = 10, .rgba = {}};
  for (int y = 0; y < 10; ++y) {
    for (int x = 0; x < 10; ++x) {
      const bool red = x < 2 && y < 5;
      image.rgba.insert(image.rgba.end(), {255, static_cast<uint8_t>(red ? 0 : 255),
                                           static_cast<uint8_t>(red ? 0 : 255), 255});
    }
  }
  const ImageStats whole = MeasureImage(image);
  CHECK(whole.pixels == 100);
  CHECK(whole.distinct_colors == 2);
  CHECK(whole.background == 0xFFFFFFFF);
  CHECK(whole.background_share == doctest::Approx(0.9));

  const ImageStats corner = MeasureImage(image, 0, 0, 2, 5);
  CHECK(corner.pixels == 10);
  CHECK(corner.background == 0xFF0000FF);
  CHECK(corner.background_share == 1.0);

  CHECK(MeasureImage(image, 8, 8, 50, 50).pixels == 4);  // clipped to the image
}

}  // namespace
}  // namespace dynoherd::testing
