// The CSV reader: one buffer, string_views into it, no per-row allocation.
#include "csv/reader.h"

#include <fmt/core.h>

#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "io/input_file.h"

namespace memtk::csv {

namespace {

constexpr size_t kInitialBuffer = 1 << 20;

// Bytes that end an unquoted field (or make it malformed).
constexpr std::array<bool, 256> MakeSpecial() {
  std::array<bool, 256> t{};
  t[static_cast<uint8_t>(',')] = t[static_cast<uint8_t>('\n')] = t[static_cast<uint8_t>('\r')] = true;
  t[static_cast<uint8_t>('"')] = true;
  return t;
}
constexpr std::array<bool, 256> kSpecial = MakeSpecial();

// Line and 1-based byte column of `at`, counting from `from` which starts
// line `line`. Only ever called to report an error.
std::string Position(const std::string& name, const char* from, const char* at, uint64_t line) {
  const char* line_start = from;
  for (const char* p = from; p < at; ++p) {
    if (*p == '\n') {
      ++line;
      line_start = p + 1;
    }
  }
  return fmt::format("{}:{}:{}", name, line, at - line_start + 1);
}

}  // namespace

std::string Row::Where(size_t i) const { return Position(*name_, raw_, raw_ + starts_[i], line_); }

Reader::Reader(std::string name, RowSink* sink, size_t max_row_bytes)
    : name_(std::move(name)), sink_(sink), max_row_bytes_(max_row_bytes), buf_(kInitialBuffer), scratch_() {
  scratch_.resize(buf_.size());
}

Status Reader::Error(const char* at, std::string_view what) const {
  return InvalidInput(fmt::format("{}: {}", Position(name_, buf_.data() + begin_, at, line_), what));
}

bool Reader::ParsePlainRow(size_t* row_len) {
  // The common row has no quotes and ends in '\n' (or "\r\n") inside the
  // buffer: find its commas and its end 16 bytes at a time. Anything else
  // (a quote, a lone CR, a row cut by the buffer end) returns false and the
  // general parser below starts the row again.
  const char* const start = buf_.data() + begin_;
  const char* const end = buf_.data() + end_;
  const char* field = start;
  const char* q = start;
  nfields_ = 0;
  auto emit = [&](const char* field_end) { AddField({field, static_cast<size_t>(field_end - field)}, field - start); };
  auto finish = [&](const char* at) {  // `at` is the '\n' or the '\r' of "\r\n"
    if (*at == '\r' && (at + 1 == end || at[1] != '\n')) return false;
    emit(at);
    *row_len = at + (*at == '\r' ? 2 : 1) - start;
    return true;
  };
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                quote = _mm_set1_epi8('"');
  for (; q + 16 <= end; q += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    uint32_t commas = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)));
    const uint32_t special = static_cast<uint32_t>(_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)), _mm_cmpeq_epi8(v, quote))));
    if (special != 0) commas &= (1u << __builtin_ctz(special)) - 1;
    for (; commas != 0; commas &= commas - 1) {
      const char* c = q + __builtin_ctz(commas);
      emit(c);
      field = c + 1;
    }
    if (special != 0) {
      const char* s = q + __builtin_ctz(special);
      return *s != '"' && finish(s);
    }
  }
#endif
  for (; q < end; ++q) {
    if (*q == ',') {
      emit(q);
      field = q + 1;
    } else if (*q == '\n' || *q == '\r') {
      return finish(q);
    } else if (*q == '"') {
      return false;
    }
  }
  return false;
}

Reader::Parse Reader::ParseRow(bool at_eof, size_t* row_len, uint64_t* newlines) {
  *newlines = 0;
  if (ParsePlainRow(row_len)) return Parse::kRow;
  const char* const start = buf_.data() + begin_;
  const char* const end = buf_.data() + end_;
  const char* p = start;
  char* scratch = scratch_.data();  // sized to the buffer: never reallocates mid-row
  nfields_ = 0;
  for (;;) {
    const size_t field_start = p - start;
    if (p < end && *p == '"') {
      // Quoted: runs between doubled quotes are copied into scratch only when
      // there is a doubled quote at all; the common case is a plain view.
      const char* seg = p + 1;
      char* out = nullptr;
      for (const char* q = seg;;) {
        const char* quote = static_cast<const char*>(std::memchr(q, '"', end - q));
        if (quote == nullptr) {
          if (!at_eof) return Parse::kNeedMore;
          error_ = Error(p, "unterminated quoted field");
          return Parse::kError;
        }
        if (quote + 1 == end && !at_eof) return Parse::kNeedMore;  // `"` or `""`? not known yet
        if (quote + 1 < end && quote[1] == '"') {
          if (out == nullptr) out = scratch;
          std::memcpy(out, seg, quote + 1 - seg);
          out += quote + 1 - seg;
          q = seg = quote + 2;
          continue;
        }
        for (const char* c = p; c < quote; ++c) *newlines += *c == '\n';
        if (out == nullptr) {
          AddField({p + 1, static_cast<size_t>(quote - p - 1)}, field_start);
        } else {
          std::memcpy(out, seg, quote - seg);
          out += quote - seg;
          AddField({scratch, static_cast<size_t>(out - scratch)}, field_start);
          scratch = out;
        }
        p = quote + 1;
        break;
      }
      if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
        error_ = Error(p, "expected ',' or end of line after a closing quote");
        return Parse::kError;
      }
    } else {
      const char* q = p;
      while (q < end && !kSpecial[static_cast<uint8_t>(*q)]) ++q;
      if (q < end && *q == '"') {
        error_ = Error(q, "quote inside an unquoted field");
        return Parse::kError;
      }
      AddField({p, static_cast<size_t>(q - p)}, field_start);
      p = q;
    }
    if (p == end) {
      if (!at_eof) return Parse::kNeedMore;
      *row_len = p - start;
      return Parse::kRow;
    }
    if (*p == ',') {
      ++p;
      continue;
    }
    if (*p == '\n') {
      *row_len = p + 1 - start;
      return Parse::kRow;
    }
    // '\r': only as the first half of CRLF (or at the very end of input).
    if (p + 1 == end) {
      if (!at_eof) return Parse::kNeedMore;
      *row_len = p + 1 - start;
      return Parse::kRow;
    }
    if (p[1] != '\n') {
      error_ = Error(p, "carriage return not followed by a line feed");
      return Parse::kError;
    }
    *row_len = p + 2 - start;
    return Parse::kRow;
  }
}

Status Reader::ParseAvailable(bool at_eof) {
  while (begin_ < end_) {
    size_t len = 0;
    uint64_t newlines = 0;
    Parse r = ParseRow(at_eof, &len, &newlines);
    if (r == Parse::kNeedMore) break;
    if (r == Parse::kError) return error_;
    const char* raw = buf_.data() + begin_;
    const bool terminated = raw[len - 1] == '\n' || raw[len - 1] == '\r';
    const bool blank = nfields_ == 1 && fields_[0].empty() && raw[0] != '"';
    if (!blank) {
      Row row;
      row.fields_ = fields_.data();
      row.starts_ = starts_.data();
      row.size_ = nfields_;
      row.raw_ = raw;
      row.name_ = &name_;
      row.line_ = line_;
      row.terminated_ = terminated;
      ++rows_;
      Status s = sink_->OnRow(row);
      if (!s.ok()) {
        error_ = s;
        return s;
      }
    }
    line_ += newlines + (terminated ? 1 : 0);
    begin_ += len;
  }
  if (begin_ == end_) {
    consumed_ += begin_;
    begin_ = end_ = 0;
  }
  return OkStatus();
}

std::span<char> Reader::Space() {
  if (end_ == buf_.size()) {
    if (begin_ > 0) {
      // Move the incomplete row to the front; rows are short, so this is a
      // small copy once per buffer-full.
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      consumed_ += begin_;
      end_ -= begin_;
      begin_ = 0;
    } else if (buf_.size() <= max_row_bytes_) {
      // One row fills the whole buffer: the only case that allocates.
      buf_.resize(buf_.size() * 2);
      scratch_.resize(buf_.size());
    }
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

Status Reader::Commit(size_t n) {
  if (!error_.ok()) return error_;
  end_ += n;
  RETURN_IF_ERROR(ParseAvailable(false));
  if (end_ == buf_.size() && begin_ == 0 && buf_.size() > max_row_bytes_) {
    error_ = InvalidInput(fmt::format("{}:{}:1: row longer than {} bytes", name_, line_, max_row_bytes_));
    return error_;
  }
  return OkStatus();
}

Status Reader::Feed(std::span<const char> chunk) {
  while (!chunk.empty()) {
    std::span<char> space = Space();
    const size_t n = std::min(space.size(), chunk.size());
    std::memcpy(space.data(), chunk.data(), n);
    chunk = chunk.subspan(n);
    RETURN_IF_ERROR(Commit(n));
  }
  return OkStatus();
}

Status Reader::Finish() {
  if (!error_.ok()) return error_;
  return ParseAvailable(true);
}

Status ReadFile(const std::string& path, Reader& reader) {
  // io::InputFile does the opening, the read loop and gzip.
  ASSIGN_OR_RETURN(std::unique_ptr<io::InputFile> in, io::InputFile::Open(path));
  for (;;) {
    std::span<char> space = reader.Space();
    size_t n = 0;
    RETURN_IF_ERROR(in->Read(reinterpret_cast<uint8_t*>(space.data()), space.size(), &n));
    if (n == 0) break;
    RETURN_IF_ERROR(reader.Commit(n));
  }
  return reader.Finish();
}

}  // namespace memtk::csv
