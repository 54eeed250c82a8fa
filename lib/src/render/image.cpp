#include "memtk/render/image.h"

#include <algorithm>
#include <cassert>

namespace memtk::render {

Image::Image(int width, int height, Rgb fill) : width_(width), height_(height) {
  assert(width >= 1 && height >= 1 && width <= kMaxImageSide && height <= kMaxImageSide);
  pixels_.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = fill.r;
    pixels_[i + 1] = fill.g;
    pixels_[i + 2] = fill.b;
  }
}

void Image::Set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = Row(y) + x * 3;
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

void Image::Blend(int x, int y, Rgb c, int alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = Row(y) + x * 3;
  // Integer mix, rounded, so output bytes do not depend on the compiler's
  // floating-point choices (PNG output is compared by hash in tests).
  auto mix = [alpha](int under, int over) {
    return static_cast<uint8_t>((under * (256 - alpha) + over * alpha + 128) >> 8);
  };
  p[0] = mix(p[0], c.r);
  p[1] = mix(p[1], c.g);
  p[2] = mix(p[2], c.b);
}

void Image::FillRect(int x, int y, int w, int h, Rgb c) {
  int x0 = std::max(x, 0), x1 = std::min(x + w, width_);
  int y0 = std::max(y, 0), y1 = std::min(y + h, height_);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) Set(xx, yy, c);
}

void Image::BlendRect(int x, int y, int w, int h, Rgb c, int alpha) {
  int x0 = std::max(x, 0), x1 = std::min(x + w, width_);
  int y0 = std::max(y, 0), y1 = std::min(y + h, height_);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) Blend(xx, yy, c, alpha);
}

void Image::HLine(int x0, int x1, int y, Rgb c, int dash) {
  if (x0 > x1) std::swap(x0, x1);
  for (int x = x0; x <= x1; ++x)
    if (dash <= 0 || ((x - x0) / dash) % 2 == 0) Set(x, y, c);
}

void Image::VLine(int x, int y0, int y1, Rgb c, int dash) {
  if (y0 > y1) std::swap(y0, y1);
  for (int y = y0; y <= y1; ++y)
    if (dash <= 0 || ((y - y0) / dash) % 2 == 0) Set(x, y, c);
}

}  // namespace memtk::render
