// Text on an Image with memtk's own 5×7 bitmap font (printable ASCII; two
// descender rows for g, j, p, q, y and friends).
//
// The font is drawn for this project and embedded, so rendering needs no
// font files, no FreeType and no fontconfig: the same bytes on every machine.
// Any other byte (a UTF-8 sequence, a control character) is drawn as '?',
// one per code point.
//
// Example:
//   DrawText(image, 10, 10, "peak 1.5 GiB", {0, 0, 0});      // top-left at (10, 10)
//   DrawText(image, 10, 30, "title", {0, 0, 0}, /*scale=*/2);
#pragma once

#include <string>
#include <string_view>

#include "memtk/render/image.h"

namespace memtk::render {

inline constexpr int kGlyphWidth = 5;    ///< pixels, at scale 1
inline constexpr int kGlyphAdvance = 6;  ///< glyph plus one pixel of spacing
inline constexpr int kCapHeight = 7;     ///< rows above the baseline
inline constexpr int kLineHeight = 11;   ///< cap height + descenders + leading

/// Width in pixels of `text` at `scale` (no trailing spacing).
int TextWidth(std::string_view text, int scale = 1);
/// Draws `text` with its top-left corner at (x, y); clipped to the image.
/// Returns the x just after the last glyph.
int DrawText(Image& image, int x, int y, std::string_view text, Rgb color, int scale = 1);
/// `text` shortened to at most `max_width` pixels by replacing its start with
/// "..." (file paths keep their informative end); unchanged if it fits.
std::string ElideLeft(std::string_view text, int max_width, int scale = 1);
/// Same, cutting the end instead ("..." last): for log lines and messages.
std::string ElideRight(std::string_view text, int max_width, int scale = 1);

}  // namespace memtk::render
