// Image: an 8-bit RGB raster and the few drawing primitives charts need.
//
// Everything is clipped to the image, so callers draw in plot coordinates
// without bounds checks. Pixels are stored row-major, top row first, three
// bytes per pixel: the layout PNG scanlines use, so encoding copies rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace memtk::render {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(Rgb a, Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
};

/// Largest width or height memtk draws (a 16384² RGB image is 768 MiB).
inline constexpr int kMaxImageSide = 16384;

class Image {
 public:
  /// `width` and `height` in [1, kMaxImageSide]; every pixel set to `fill`.
  Image(int width, int height, Rgb fill);

  int width() const { return width_; }
  int height() const { return height_; }
  uint8_t* Row(int y) { return pixels_.data() + static_cast<size_t>(y) * width_ * 3; }
  const uint8_t* Row(int y) const { return pixels_.data() + static_cast<size_t>(y) * width_ * 3; }

  /// The pixel at (x, y); (x, y) must be inside.
  Rgb Get(int x, int y) const {
    const uint8_t* p = Row(y) + x * 3;
    return {p[0], p[1], p[2]};
  }
  /// Sets one pixel; outside the image: nothing.
  void Set(int x, int y, Rgb c);
  /// Mixes `c` over the pixel with weight alpha/256 (alpha in [0, 256]).
  void Blend(int x, int y, Rgb c, int alpha);
  /// Fills [x, x+w) × [y, y+h), clipped.
  void FillRect(int x, int y, int w, int h, Rgb c);
  /// Blends `c` with weight alpha/256 over [x, x+w) × [y, y+h), clipped.
  void BlendRect(int x, int y, int w, int h, Rgb c, int alpha);
  /// Horizontal line from x0 to x1 inclusive; dash > 0 draws dash pixels on, dash off.
  void HLine(int x0, int x1, int y, Rgb c, int dash = 0);
  /// Vertical line from y0 to y1 inclusive; dash as for HLine.
  void VLine(int x, int y0, int y1, Rgb c, int dash = 0);

 private:
  int width_, height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace memtk::render
