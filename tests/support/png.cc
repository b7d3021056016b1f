#include "tests/support/png.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <unordered_map>

namespace dynoherd::testing {
namespace {

constexpr std::string_view kSignature = "\x89PNG\r\n\x1a\n";

uint32_t BigEndian32(std::string_view bytes, std::size_t at) {
  return (uint32_t{static_cast<uint8_t>(bytes[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(bytes[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(bytes[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(bytes[at + 3])};
}

uint8_t Paeth(int left, int up, int up_left) {
  const int p = left + up - up_left;
  const int to_left = std::abs(p - left);
  const int to_up = std::abs(p - up);
  const int to_up_left = std::abs(p - up_left);
  if (to_left <= to_up && to_left <= to_up_left) return static_cast<uint8_t>(left);
  if (to_up <= to_up_left) return static_cast<uint8_t>(up);
  return static_cast<uint8_t>(up_left);
}

// Undoes the per-row filters in place; `data` holds each row as filter byte + stride bytes.
Status Unfilter(std::vector<uint8_t>& data, std::size_t rows, std::size_t stride, std::size_t bpp) {
  std::vector<uint8_t> previous(stride, 0);
  for (std::size_t row = 0; row < rows; ++row) {
    uint8_t* line = data.data() + row * (stride + 1);
    const uint8_t filter = line[0];
    uint8_t* px = line + 1;
    for (std::size_t i = 0; i < stride; ++i) {
      const int left = i >= bpp ? px[i - bpp] : 0;
      const int up = previous[i];
      const int up_left = i >= bpp ? previous[i - bpp] : 0;
      switch (filter) {
        case 0:
          break;
        case 1:
          px[i] = static_cast<uint8_t>(px[i] + left);
          break;
        case 2:
          px[i] = static_cast<uint8_t>(px[i] + up);
          break;
        case 3:
          px[i] = static_cast<uint8_t>(px[i] + (left + up) / 2);
          break;
        case 4:
          px[i] = static_cast<uint8_t>(px[i] + Paeth(left, up, up_left));
          break;
        default:
          return Status::InvalidArgument("png: unknown filter " + std::to_string(filter));
      }
    }
    std::copy(px, px + stride, previous.begin());
  }
  return Status::Ok();
}

}  // namespace

Result<Image> DecodePng(std::string_view bytes) {
  if (!bytes.starts_with(kSignature)) return Status::InvalidArgument("png: no PNG signature");
  std::size_t at = kSignature.size();
  Image image;
  int color_type = -1;
  std::string compressed;
  bool ended = false;
  while (!ended) {
    if (at + 12 > bytes.size()) return Status::InvalidArgument("png: truncated before IEND");
    const uint32_t length = BigEndian32(bytes, at);
    const std::string_view type = bytes.substr(at + 4, 4);
    if (length > bytes.size() - at - 12) return Status::InvalidArgument("png: truncated chunk");
    const std::string_view body = bytes.substr(at + 8, length);
    if (type == "IHDR") {
      if (length != 13) return Status::InvalidArgument("png: bad IHDR");
      image.width = static_cast<int>(BigEndian32(body, 0));
      image.height = static_cast<int>(BigEndian32(body, 4));
      const int depth = static_cast<uint8_t>(body[8]);
      color_type = static_cast<uint8_t>(body[9]);
      const int interlace = static_cast<uint8_t>(body[12]);
      if (depth != 8 || interlace != 0 ||
          (color_type != 0 && color_type != 2 && color_type != 4 && color_type != 6)) {
        return Status::InvalidArgument("png: only 8-bit, non-interlaced grey/RGB(A) (depth " +
                                       std::to_string(depth) + ", colour type " +
                                       std::to_string(color_type) + ")");
      }
      if (image.width <= 0 || image.height <= 0 || image.width > 20000 || image.height > 50000) {
        return Status::InvalidArgument("png: implausible size");
      }
    } else if (type == "IDAT") {
      compressed.append(body);
    } else if (type == "IEND") {
      ended = true;
    }
    at += 12 + length;
  }
  if (color_type < 0) return Status::InvalidArgument("png: no IHDR");

  const std::size_t channels = color_type == 0 ? 1 : color_type == 4 ? 2 : color_type == 2 ? 3 : 4;
  const std::size_t stride = static_cast<std::size_t>(image.width) * channels;
  const std::size_t rows = static_cast<std::size_t>(image.height);
  std::vector<uint8_t> raw(rows * (stride + 1));
  uLongf raw_size = raw.size();
  const int inflated = uncompress(
      raw.data(), &raw_size, reinterpret_cast<const Bytef*>(compressed.data()), compressed.size());
  if (inflated != Z_OK || raw_size != raw.size()) {
    return Status::InvalidArgument("png: image data does not inflate to " +
                                   std::to_string(raw.size()) + " bytes");
  }
  if (Status s = Unfilter(raw, rows, stride, channels); !s.ok()) return s;

  image.rgba.resize(rows * static_cast<std::size_t>(image.width) * 4);
  for (std::size_t row = 0; row < rows; ++row) {
    const uint8_t* in = raw.data() + row * (stride + 1) + 1;
    uint8_t* out = image.rgba.data() + row * static_cast<std::size_t>(image.width) * 4;
    for (int x = 0; x < image.width; ++x, in += channels, out += 4) {
      const bool grey = channels <= 2;
      out[0] = in[0];
      out[1] = grey ? in[0] : in[1];
      out[2] = grey ? in[0] : in[2];
      out[3] = channels == 2 ? in[1] : channels == 4 ? in[3] : 255;
    }
  }
  return image;
}

ImageStats MeasureImage(const Image& image, int x, int y, int width, int height) {
  if (width < 0) width = image.width;
  if (height < 0) height = image.height;
  const int left = std::clamp(x, 0, image.width);
  const int top = std::clamp(y, 0, image.height);
  const int right = std::clamp(x + width, 0, image.width);
  const int bottom = std::clamp(y + height, 0, image.height);
  std::unordered_map<uint32_t, std::size_t> counts;
  ImageStats stats;
  for (int row = top; row < bottom; ++row) {
    const uint8_t* p = image.rgba.data() + (static_cast<std::size_t>(row) * image.width + left) * 4;
    for (int col = left; col < right; ++col, p += 4) {
      ++counts[(uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]];
      ++stats.pixels;
    }
  }
  std::size_t most = 0;
  for (const auto& [color, count] : counts) {
    if (count > most || (count == most && color < stats.background)) {
      most = count;
      stats.background = color;
    }
  }
  stats.distinct_colors = counts.size();
  stats.background_share = stats.pixels == 0 ? 1.0 : static_cast<double>(most) / stats.pixels;
  return stats;
}

}  // namespace dynoherd::testing
