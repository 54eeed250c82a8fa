// PNG encoding of an Image: 8-bit RGB, no interlace, deflate via zlib.
//
// Output is deterministic: the same pixels give the same bytes (no time
// chunk, a fixed per-row filter choice and compression level), so tests
// can compare hashes and CI can diff images by checksum.
#pragma once

#include <string>

#include "memtk/base/status.h"
#include "memtk/render/image.h"

namespace memtk::render {

/// The PNG file bytes for `image`.
StatusOr<std::string> EncodePng(const Image& image);
/// Encodes and writes `image` to `path` through a temp file renamed on
/// success ("-" writes to stdout).
Status WritePng(const Image& image, const std::string& path);

}  // namespace memtk::render
