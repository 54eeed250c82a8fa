// ReadSnapshot: detect the format, run the decoder(s), feed the Interpreter.
//
// Pickles get two passes when the input can be rewound: the first only
// counts memo references (2 bits per memo slot; on two threads for large
// uncompressed files), the second decodes and drops each memo entry after
// its last use. Reading and inflating run a chunk ahead on another thread,
// which in pass 2 also finds each chunk's frame lists for the decoder
// (pickle::FindListHints).
// JSON is parsed with RapidJSON's SAX reader over the same chunked input and
// builds the same values.
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <thread>

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "base/huge_pages.h"
#include "io/input_file.h"
#include "memtk/snapshot/snapshot.h"
#include "snapshot/interpreter.h"

namespace memtk::snapshot {

namespace {

using pickle::Kind;
using pickle::Value;

// A byte source the readers pull chunks from: a file or a memory span.
class Source {
 public:
  virtual ~Source() = default;
  virtual Status Read(uint8_t* buf, size_t cap, size_t* n) = 0;
  virtual bool CanRewind() const = 0;
  virtual Status Rewind() = 0;
  virtual void Progress() {}
  /// Reads to the end of a gzip stream so its trailer is checked.
  virtual Status CheckEnd() { return OkStatus(); }
  /// Random access to the bytes the decoder sees (none for gzip and pipes).
  virtual bool CanReadAt() const { return false; }
  virtual uint64_t Size() const { return 0; }
  virtual Status ReadAt(uint64_t, uint8_t*, size_t, size_t*) const { return IoError("no random access to this input"); }
};

class FileSource : public Source {
 public:
  FileSource(io::InputFile* f, const ReadOptions& o) : f_(f), o_(o) {}
  // Reports progress every 8 MiB itself, so every reader of a source (the
  // pickle passes, the read-ahead thread, the JSON stream) gets it.
  Status Read(uint8_t* buf, size_t cap, size_t* n) override {
    RETURN_IF_ERROR(f_->Read(buf, cap, n));
    if ((since_progress_ += *n) >= (8u << 20)) {
      since_progress_ = 0;
      Progress();
    }
    return OkStatus();
  }
  bool CanRewind() const override { return f_->seekable(); }
  Status Rewind() override { return f_->Rewind(); }
  Status CheckEnd() override { return f_->CheckEnd(); }
  void Progress() override {
    if (o_.progress) o_.progress(f_->raw_consumed(), f_->file_size());
  }
  bool CanReadAt() const override { return f_->random_access(); }
  uint64_t Size() const override { return f_->file_size(); }
  Status ReadAt(uint64_t offset, uint8_t* buf, size_t cap, size_t* n) const override {
    return f_->ReadAt(offset, buf, cap, n);
  }

 private:
  io::InputFile* f_;
  const ReadOptions& o_;
  uint64_t since_progress_ = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::span<const uint8_t> b) : b_(b) {}
  Status Read(uint8_t* buf, size_t cap, size_t* n) override {
    RETURN_IF_ERROR(ReadAt(pos_, buf, cap, n));
    pos_ += *n;
    return OkStatus();
  }
  bool CanRewind() const override { return true; }
  Status Rewind() override {
    pos_ = 0;
    return OkStatus();
  }
  bool CanReadAt() const override { return true; }
  uint64_t Size() const override { return b_.size(); }
  Status ReadAt(uint64_t offset, uint8_t* buf, size_t cap, size_t* n) const override {
    *n = offset < b_.size() ? std::min<size_t>(cap, b_.size() - offset) : 0;
    if (*n) std::memcpy(buf, b_.data() + offset, *n);
    return OkStatus();
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

// Reads (and inflates) the next chunks on a second thread while the decoder
// works on the current one: read(2)'s copy is ~5% of a plain decode, and
// inflating is most of a gzip'd one. A ring of buffers (one being decoded,
// the others ready or being filled); each side sleeps only when the ring is
// full or empty, and the reader is woken only once half the ring is free,
// so the hand-over costs a futex call every few chunks, not every one.
class ReadAhead {
 public:
  /// `large`: an input of many chunks, worth eight buffers on huge pages
  /// (one page fault for the ring instead of 512 a pass; costly in a VM);
  /// else three plain ones.
  ///
  /// `lists`: also find each chunk's known-list candidates, on the reading
  /// thread, for the Decoder that decodes it (pickle::FindListHints).
  ReadAhead(Source* src, size_t chunk, bool large, bool lists)
      : src_(src), slots_n_(large ? kMaxSlots : 3), lists_(lists) {
    if (chunk == 0 || chunk > (SIZE_MAX / 2) / kMaxSlots) return;
    block_ = AllocBlock<uint8_t>(chunk * slots_n_, large);
    if (block_ == nullptr) return;
    for (size_t i = 0; i < slots_n_; ++i) slots_[i].buf = {block_.get() + i * chunk, chunk};
  }
  ~ReadAhead() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  /// False if no buffers or no thread could be had (the caller reads itself).
  bool Start() {
    if (block_ == nullptr) return false;
    try {
      thread_ = std::thread([this] { Produce(); });
    } catch (...) {
      return false;
    }
    return true;
  }

  /// The decoder has decoded up to input byte `offset` and defined memo
  /// slots below `memo_next`: how the reading thread picks the key width of
  /// the chunks it scans (a wrong guess costs only those chunks' hints).
  void Decoded(uint64_t offset, uint64_t memo_next) {
    decoded_.store(offset, std::memory_order_relaxed);
    memo_next_.store(memo_next, std::memory_order_relaxed);
  }

  /// The next chunk in order, valid until the next call; *n == 0 at the end.
  /// *hints: its list hints, or nullptr.
  Status Next(const uint8_t** data, size_t* n, const pickle::ListHints** hints = nullptr) {
    std::unique_lock<std::mutex> lk(mu_);
    if (holding_) {  // hand the previous chunk's buffer back
      tail_ = (tail_ + 1) % slots_n_;
      --filled_;
      // Wake a waiting reader only once half the slots are free: a wake-up
      // is a futex call and, on a VM, an interrupt to the other core (4% of
      // the decoding thread when it was sent for every chunk).
      if (producer_waiting_ && filled_ <= slots_n_ / 2) cv_.notify_all();
    }
    if (filled_ == 0) {
      consumer_waiting_ = true;
      cv_.wait(lk, [&] { return filled_ > 0; });
      consumer_waiting_ = false;
    }
    holding_ = true;
    const Slot& s = slots_[tail_];
    *data = s.buf.data();
    *n = s.n;
    if (hints != nullptr) *hints = s.hinted ? &s.hints : nullptr;
    return s.status;
  }

 private:
  static constexpr size_t kMaxSlots = 8;
  struct Slot {
    std::span<uint8_t> buf;
    size_t n = 0;
    Status status;
    bool hinted = false;
    pickle::ListHints hints;
  };

  void Produce() {
    for (;;) {
      std::unique_lock<std::mutex> lk(mu_);
      if (!stop_ && filled_ == slots_n_) {
        producer_waiting_ = true;
        cv_.wait(lk, [&] { return stop_ || filled_ <= slots_n_ / 2; });
        producer_waiting_ = false;
      }
      if (stop_) return;
      // filled_ < slots_n_: slot head_ is neither ready nor held by Next().
      Slot& s = slots_[head_];
      lk.unlock();
      s.n = 0;
      s.status = src_->Read(s.buf.data(), s.buf.size(), &s.n);
      const bool last = !s.status.ok() || s.n == 0;
      s.hinted = lists_ && !last;
      if (s.hinted) {
        // Memo slots are defined at most one per byte (MEMOIZE): a bound on
        // the decoder's memo end anywhere in this chunk, hence on its key
        // width there. A hostile PUT far ahead only makes the guess wrong.
        const uint64_t end = read_ + s.n;
        const uint64_t decoded = std::min(decoded_.load(std::memory_order_relaxed), end);
        const uint64_t bound = memo_next_.load(std::memory_order_relaxed) + (end - decoded);
        try {
          pickle::FindListHints(s.buf.data(), s.n, read_, bound <= (uint64_t{1} << 24) ? 3 : 4, &s.hints);
        } catch (const std::bad_alloc&) {  // (hints are an optimisation: decode without)
          s.hinted = false;
        }
      }
      read_ += s.n;
      lk.lock();
      head_ = (head_ + 1) % slots_n_;
      ++filled_;
      if (consumer_waiting_ || stop_) cv_.notify_all();
      if (last) return;
    }
  }

  Source* src_;
  const size_t slots_n_;
  const bool lists_;
  uint64_t read_ = 0;  // input offset of the next chunk (reading thread)
  std::atomic<uint64_t> decoded_{0}, memo_next_{0};
  RawBlock<uint8_t> block_;
  std::array<Slot, kMaxSlots> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t head_ = 0, tail_ = 0, filled_ = 0;
  bool holding_ = false, stop_ = false;
  bool producer_waiting_ = false, consumer_waiting_ = false;
  std::thread thread_;
};

// Feeds the whole of `src` to `dec`. With `lists` (pass 2's decoder), the
// read-ahead thread also finds each chunk's known lists for it.
Status Pump(Source* src, pickle::DecoderBase* dec, size_t chunk, pickle::Decoder* lists = nullptr) {
  // Files only: a pipe's reader could sit in read(2) long after an error
  // here, and tiny test chunks would be all hand-over.
  if (src->CanRewind() && chunk >= (64u << 10)) {
    ReadAhead ahead(src, chunk, src->Size() >= (32u << 20), lists != nullptr);
    if (ahead.Start()) {
      for (;;) {
        const uint8_t* data = nullptr;
        size_t n = 0;
        const pickle::ListHints* hints = nullptr;
        RETURN_IF_ERROR(ahead.Next(&data, &n, &hints));
        if (n == 0) break;
        if (lists != nullptr) lists->SetListHints(hints);
        Status st = dec->Feed(data, n);
        if (lists != nullptr) {
          lists->SetListHints(nullptr);  // the slot is refilled after the next Next()
          ahead.Decoded(lists->offset(), lists->memo_next());
        }
        RETURN_IF_ERROR(st);
        if (dec->done()) break;
      }
      return dec->Finish();
    }
  }
  std::vector<uint8_t> buf(chunk);
  for (;;) {
    size_t n = 0;
    RETURN_IF_ERROR(src->Read(buf.data(), buf.size(), &n));
    if (n == 0) break;
    RETURN_IF_ERROR(dec->Feed(buf.data(), n));
    if (dec->done()) break;
  }
  return dec->Finish();
}

Status ReadPickle(const std::string& name, Source* src, bool gzip, SnapshotSink* sink, const ReadOptions& o,
                  std::string format) {
  Tables tables;
  pickle::NodeArena arena;
  Interpreter interp(name, &tables, sink);
  RETURN_IF_ERROR(sink->OnBegin(tables));
  const size_t chunk = std::max<size_t>(1, o.chunk_size);
  pickle::MemoRefCounts counts;
  bool have_counts = false;
  pickle::DecoderLimits limits;
  limits.max_kept_string = o.max_kept_string;
  if (!o.single_pass && src->CanReadAt() && src->Size() >= o.split_prepass_bytes) {
    // Pass 1 is a quarter of the decode and needs no state but its counts:
    // on a second core the two halves take half the time.
    have_counts = pickle::CountMemoRefsSplit(
        name, src->Size(),
        [src](uint64_t off, uint8_t* buf, size_t cap, size_t* n) { return src->ReadAt(off, buf, cap, n); }, chunk,
        &counts);
  }
  if (!have_counts && !o.single_pass && src->CanRewind()) {
    pickle::RefCountPass pass1(name);
    pass1.set_gzip(gzip);
    pass1.set_limits(limits);
    // Pass 1 builds nothing, so it cannot say what a bad byte was inside;
    // pass 2 stops at the same byte (every reference before it was counted)
    // and reports it with context.
    (void)Pump(src, &pass1, chunk);
    counts = pass1.Take();
    have_counts = true;
    RETURN_IF_ERROR(src->Rewind());
  }
  pickle::Decoder dec(name, &tables.strings, &arena, &interp);
  dec.set_gzip(gzip);
  dec.set_limits(limits);
  interp.set_position([&dec] { return dec.position(); });
  if (have_counts) {
    dec.SetRefCounts(std::move(counts));
  } else {
    interp.summary().stats.Increment(Stat::k_memo_full_retention);
  }
  // Hints use the read-ahead thread's idle time between reads; inflating a
  // gzip'd input leaves it none (shared lists / 20K stacks, .gz: 1.37 s
  // with hints against 1.31 s without, 5 rounds each).
  RETURN_IF_ERROR(Pump(src, &dec, chunk, o.list_hints && !gzip ? &dec : nullptr));
  RETURN_IF_ERROR(src->CheckEnd());
  src->Progress();
  ReadSummary& sum = interp.summary();
  sum.stats.Increment(Stat::k_value_not_kept, dec.skipped_values());
  sum.list_hints_used = dec.hinted_lists();
  sum.format = std::move(format);
  sum.bytes = dec.offset();
  return sink->OnEnd(sum);
}

// RapidJSON input stream over a Source, refilled in chunks.
//
// RapidJSON copies every string (and, with kParseNumbersAsStringsFlag, every
// number) whole onto its own stack before the handler sees it, so a gzip'd
// gigabyte string would be a gigabyte of memory. Each refilled chunk is
// therefore filtered first: a small lexer follows strings and escapes, keeps
// the first max_kept_string bytes of a string and drops the rest up to its
// closing quote (cutting only where a character or escape begins, never
// inside an escape or a surrogate pair). The builder is told which strings
// were cut (TakeCut) and stores a placeholder. Tell() counts the bytes
// RapidJSON saw; InputOffset() maps that back to the input for messages. Anything else that grows without a
// handler call (a number or whitespace run) is refused past kMaxGap.
class ChunkStream {
 public:
  using Ch = char;
  static constexpr uint64_t kMaxGap = 1u << 20;
  /// Strings longer than `kept` bytes are cut (ReadOptions::max_kept_string).
  ChunkStream(Source* src, size_t chunk, uint64_t kept) : src_(src), buf_(chunk), kept_(kept) {}
  Ch Peek() {
    if (pos_ == len_ && !Refill()) return '\0';
    return static_cast<Ch>(buf_[pos_]);
  }
  Ch Take() {
    if (pos_ == len_ && !Refill()) return '\0';
    ++tell_;
    return static_cast<Ch>(buf_[pos_++]);
  }
  size_t Tell() const { return tell_; }
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  size_t PutEnd(Ch*) { return 0; }
  const Status& status() const { return status_; }

  /// The handler made progress (a value, key or bracket): resets kMaxGap.
  void Mark() { mark_ = tell_; }
  /// Offset of the last Mark() when the gap limit stopped the parse.
  std::optional<uint64_t> gap_exceeded() const { return gap_at_; }
  /// True if the string RapidJSON just finished was cut; *len is its length
  /// in the input (between the quotes).
  bool TakeCut(uint64_t* len) {
    if (cuts_done_ == cuts_.size() || cuts_[cuts_done_].end != tell_) return false;
    *len = cuts_[cuts_done_].length;
    ++cuts_done_;
    return true;
  }
  uint64_t cut_strings() const { return cuts_.size(); }
  /// The input offset of what RapidJSON saw at offset `seen`.
  uint64_t InputOffset(uint64_t seen) const {
    uint64_t off = seen;
    for (const Cut& c : cuts_)
      if (c.at <= seen) off += c.dropped;
    return off;
  }

 private:
  struct Cut {
    uint64_t at = 0;       // Tell() of the first dropped byte
    uint64_t end = 0;      // Tell() just past the closing quote (0: not yet)
    uint64_t dropped = 0;  // input bytes dropped
    uint64_t length = 0;   // the string's whole length in the input
  };

  bool Refill() {
    if (!status_.ok() || eof_) return false;
    if (tell_ - mark_ > kMaxGap) {
      gap_at_ = mark_;
      return false;  // RapidJSON reports an unexpected end; ReadJson says why
    }
    size_t n = 0;
    for (;;) {
      status_ = src_->Read(buf_.data(), buf_.size(), &n);
      if (!status_.ok() || n == 0) {
        eof_ = true;
        return false;
      }
      n = Filter(n);
      if (n > 0) break;  // a chunk wholly inside a dropped string: read on
    }
    pos_ = 0;
    len_ = n;
    return true;
  }

  // Compacts buf_[0, n) in place, dropping string bytes past kept_;
  // returns the bytes kept. Lexer state carries across chunks. A cut starts
  // only where a new character or escape begins (never inside an escape, nor
  // between the two halves of a surrogate pair), so what RapidJSON sees is
  // still a valid string, and runs to the closing quote.
  size_t Filter(size_t n) {
    uint8_t* b = buf_.data();
    size_t w = 0;
    for (size_t r = 0; r < n; ++r) {
      if (dropping_ && esc_ == 0) {
        // The bulk of a dropped string: plain bytes, counted in one go.
        size_t q = r;
        while (q < n && b[q] != '"' && b[q] != '\\' && b[q] >= 0x20) ++q;
        if (q != r) {
          cuts_.back().dropped += q - r;
          after_high_ = false;
          r = q;
          if (r == n) break;
        }
      }
      const uint8_t c = b[r];
      if (!in_string_) {
        b[w++] = c;
        if (c == '"') {
          in_string_ = true;
          str_len_ = 0;
          esc_ = 0;
          after_high_ = false;
        }
        continue;
      }
      if (esc_ == 0 && (c == '"' || c < 0x20)) {
        // The closing quote; or a control character, which RapidJSON
        // rejects: it must see that, so it is never dropped.
        if (dropping_) {
          dropping_ = false;
          Cut& cut = cuts_.back();
          cut.end = tell_ + w + 1;
          cut.length = str_len_ + cut.dropped;
        }
        in_string_ = c != '"';
        b[w++] = c;
        continue;
      }
      if (esc_ > 0) {
        StepEscape(c);
      } else {
        if (!dropping_ && str_len_ >= kept_ && !after_high_) {
          dropping_ = true;
          Cut cut;
          cut.at = tell_ + w;
          cuts_.push_back(cut);
        }
        if (c == '\\') {
          esc_ = 1;
        } else {
          after_high_ = false;
        }
      }
      if (dropping_) {
        ++cuts_.back().dropped;
      } else {
        b[w++] = c;
        ++str_len_;
      }
    }
    return w;
  }
  // One byte of an escape: the letter after '\', then \u's 4 hex digits.
  void StepEscape(uint8_t c) {
    if (esc_ == 1) {
      esc_ = c == 'u' ? 5 : 0;  // 5: four hex digits to come
      code_unit_ = 0;
      after_high_ = false;
      return;
    }
    const unsigned digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    code_unit_ = (code_unit_ << 4) | (digit & 0xF);
    if (--esc_ == 1) {
      esc_ = 0;
      after_high_ = code_unit_ >= 0xD800 && code_unit_ <= 0xDBFF;
    }
  }

  Source* src_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0, len_ = 0, tell_ = 0;
  bool eof_ = false;
  Status status_;
  // Filter state.
  uint64_t kept_;
  bool in_string_ = false, dropping_ = false;
  bool after_high_ = false;  // the last escape was a high surrogate
  int esc_ = 0;              // in an escape: 1 after the backslash, 5..2 in \u's digits
  unsigned code_unit_ = 0;
  uint64_t str_len_ = 0;
  std::vector<Cut> cuts_;
  size_t cuts_done_ = 0;
  uint64_t mark_ = 0;
  std::optional<uint64_t> gap_at_;
};

// Builds values from SAX events with the same streaming roles as the pickle
// decoder, so the Interpreter cannot tell the two apart.
class JsonBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JsonBuilder> {
 public:
  JsonBuilder(Tables* t, pickle::NodeArena* arena, Interpreter* interp, ChunkStream* stream)
      : t_(t), arena_(arena), interp_(interp), stream_(stream) {}
  ~JsonBuilder() {
    for (const Value& v : open_) arena_->Release(v);
    for (const Value& k : keys_) arena_->Release(k);
  }

  bool Null() { return Add(Value{}); }
  bool Bool(bool b) {
    Value v;
    v.kind = Kind::kBool;
    v.i = b;
    return Add(v);
  }
  bool Int(int i) { return Int64(i); }
  bool Uint(unsigned u) { return Int64(u); }
  bool Int64(int64_t i) {
    Value v;
    v.kind = Kind::kInt;
    v.i = i;
    return Add(v);
  }
  bool Uint64(uint64_t u) {
    if (u <= static_cast<uint64_t>(INT64_MAX)) return Int64(static_cast<int64_t>(u));
    Value v;
    v.kind = Kind::kBigInt;
    v.id = t_->strings.Intern(fmt::format("{}", u)).value;
    return Add(v);
  }
  bool Double(double d) {
    Value v;
    v.kind = Kind::kFloat;
    v.d = d;
    return Add(v);
  }
  // Numbers arrive as text (kParseNumbersAsStringsFlag) so that integers
  // beyond 64 bits stay exact, as they do from a pickle's LONG opcodes.
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    std::string_view text(s, n);
    if (text.find_first_of(".eEIN") == std::string_view::npos) {
      int64_t i = 0;
      auto [end, ec] = std::from_chars(s, s + n, i);
      if (ec == std::errc() && end == s + n) return Int64(i);
      Value v;
      v.kind = Kind::kBigInt;
      v.id = t_->strings.Intern(text).value;
      return Add(v);
    }
    if (text == "NaN") return Double(std::numeric_limits<double>::quiet_NaN());
    if (text == "Infinity" || text == "-Infinity")
      return Double(text[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
    double d = 0;
    std::from_chars(s, s + n, d);
    return Double(d);
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    Value v;
    v.kind = Kind::kStr;
    v.id = StringOrPlaceholder(s, n);
    return Add(v);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    stream_->Mark();
    Value v;
    v.kind = Kind::kStr;
    v.id = StringOrPlaceholder(s, n);
    keys_.back() = v;
    return true;
  }
  bool StartObject() { return Open(Kind::kDict); }
  bool StartArray() { return Open(Kind::kList); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  /// The builder's own error (nesting), without a place: the caller adds it.
  const Status& status() const { return status_; }
  /// The interpreter's error for a record; it names the file and place.
  const Status& record_status() const { return record_status_; }
  bool done() const { return done_; }

 private:
  // The string, or (when ChunkStream cut it) the pickle reader's placeholder.
  uint32_t StringOrPlaceholder(const char* s, rapidjson::SizeType n) {
    uint64_t len = 0;
    if (stream_->TakeCut(&len)) return t_->strings.Intern(fmt::format("<string of {} bytes, not kept>", len)).value;
    return t_->strings.Intern({s, n}).value;
  }
  bool Open(Kind k) {
    stream_->Mark();
    if (open_.size() > 10000) {
      status_ = InvalidInput("JSON nested deeper than 10000 levels");
      return false;
    }
    const pickle::Node* parent = open_.empty() ? nullptr : open_.back().node;
    uint64_t index = 0;
    const Value* key = nullptr;
    if (parent) {
      if (parent->kind == Kind::kDict) {
        key = &keys_.back();
        index = parent->items.size() / 2;
      } else {
        index = parent->items.size() + parent->streamed;
      }
    }
    uint16_t role = interp_->RoleOf(parent, key, index, k);
    Value v;
    v.kind = k;
    v.node = arena_->New(k, role, index);
    open_.push_back(v);
    keys_.emplace_back();
    return true;
  }
  bool Close() {
    Value v = open_.back();
    open_.pop_back();
    keys_.pop_back();
    return Add(v);
  }
  bool Add(const Value& v) {
    stream_->Mark();
    if (open_.empty()) {
      record_status_ = interp_->OnRoot(v);
      arena_->Release(v);
      done_ = true;
      return record_status_.ok();
    }
    pickle::Node* top = open_.back().node;
    if (top->kind == Kind::kDict) {
      top->items.push_back(keys_.back());
      top->items.push_back(v);
      return true;
    }
    if (interp_->Streams(top->role)) {
      record_status_ = interp_->OnItem(top, top->streamed++, v);
      arena_->Release(v);
      return record_status_.ok();
    }
    top->items.push_back(v);
    return true;
  }

  Tables* t_;
  pickle::NodeArena* arena_;
  Interpreter* interp_;
  ChunkStream* stream_;
  std::vector<Value> open_;
  std::vector<Value> keys_;
  Status status_, record_status_;
  bool done_ = false;
};

// Line and column of a byte offset, found by reading the input again: only
// ever done when reporting an error.
std::string JsonLocation(Source* src, size_t offset) {
  if (!src->CanRewind() || !src->Rewind().ok()) return fmt::format("byte {}", offset);
  std::vector<uint8_t> buf(64 * 1024);
  size_t line = 1, col = 1, seen = 0;
  while (seen < offset) {
    size_t n = 0;
    if (!src->Read(buf.data(), std::min(buf.size(), offset - seen), &n).ok() || n == 0) break;
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        ++line;
        col = 1;
      } else if ((buf[i] & 0xC0) != 0x80) {
        ++col;  // count characters, not UTF-8 continuation bytes
      }
    }
    seen += n;
  }
  return fmt::format("{}:{}", line, col);
}

Status ReadJson(const std::string& name, Source* src, bool gzip, SnapshotSink* sink, const ReadOptions& o) {
  Tables tables;
  pickle::NodeArena arena;
  Interpreter interp(name, &tables, sink);
  RETURN_IF_ERROR(sink->OnBegin(tables));
  ChunkStream stream(src, std::max<size_t>(1, o.chunk_size), o.max_kept_string);
  interp.set_position([&stream] { return stream.InputOffset(stream.Tell()); });
  Status result;
  {
    JsonBuilder builder(&tables, &arena, &interp, &stream);
    rapidjson::Reader reader;
    // Iterative: nesting costs heap (RapidJSON's own stack), not the call
    // stack, so the 10000-level cap in JsonBuilder decides, not ulimit -s.
    rapidjson::ParseResult ok =
        reader.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseNanAndInfFlag |
                     rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag>(stream, builder);
    RETURN_IF_ERROR(stream.status());
    if (const auto gap = stream.gap_exceeded()) {
      return InvalidInput(fmt::format("{}:{}: no JSON value ends within {} bytes (a number or whitespace run "
                                      "that long is refused)",
                                      name, JsonLocation(src, stream.InputOffset(*gap)), ChunkStream::kMaxGap));
    }
    // Only when there is an error: JsonLocation reads the input again.
    auto where = [&] { return fmt::format("{}:{}", name, JsonLocation(src, stream.InputOffset(ok.Offset()))); };
    if (const Status& rec = builder.record_status(); !rec.ok()) {
      // The interpreter's refusals of memo-bomb shapes name no place; sink
      // errors and messages that start with the name pass as they are.
      if (rec.code() != StatusCode::kInvalidInput || rec.message().rfind(name + ":", 0) == 0) return rec;
      return rec.WithContext(where());
    }
    if (!builder.status().ok()) return builder.status().WithContext(where());
    if (!ok) {
      return InvalidInput(fmt::format("{}:{}: {}", name, JsonLocation(src, stream.InputOffset(ok.Offset())),
                                      rapidjson::GetParseError_En(ok.Code())));
    }
    if (!builder.done()) return InvalidInput(fmt::format("{}: truncated JSON", name));
    RETURN_IF_ERROR(src->CheckEnd());
  }
  ReadSummary& sum = interp.summary();
  sum.format = gzip ? "json, gzip" : "json";
  sum.bytes = stream.InputOffset(stream.Tell());
  sum.stats.Increment(Stat::k_value_not_kept, stream.cut_strings());
  return sink->OnEnd(sum);
}

std::string DisplayName(const std::string& path) { return path == "-" ? "<stdin>" : path; }

// "pickle protocol N" from the first bytes. Protocols 2-5 say so (PROTO);
// 0 and 1 have no such opcode, but tell themselves apart by their first
// value: protocol 1 pushes it with an opcode protocol 1 introduced
// (CPython opens a dict with EMPTY_DICT '}', protocol 0 with MARK DICT
// "(d"). MARKs come first in both and are skipped.
std::string PickleFormat(std::span<const uint8_t> head) {
  if (head.size() >= 2 && head[0] == 0x80) return fmt::format("pickle protocol {}", head[1]);
  size_t i = 0;
  while (i < head.size() && head[i] == '(') ++i;
  static constexpr std::string_view kProtocol1 = "}])JKMTUXGqrhjeuoQ";
  const bool binary = i < head.size() && kProtocol1.find(static_cast<char>(head[i])) != std::string_view::npos;
  return binary ? "pickle protocol 1" : "pickle protocol 0";
}

}  // namespace

Status ReadSnapshot(const std::string& path, SnapshotSink* sink, const ReadOptions& options) {
  ASSIGN_OR_RETURN(auto in, io::InputFile::Open(path));
  std::string name = DisplayName(path);
  FileSource src(in.get(), options);
  switch (in->format()) {
    case io::ContentFormat::kEmpty:
      return InvalidInput(fmt::format("{}: empty file", name));
    case io::ContentFormat::kJson:
      return ReadJson(name, &src, in->gzipped(), sink, options);
    case io::ContentFormat::kPickle: {
      // Enough bytes for PickleFormat (a few MARKs, then the first value).
      uint8_t head[16] = {};
      size_t n = 0, got = 0;
      do {
        RETURN_IF_ERROR(in->Read(head + n, sizeof head - n, &got));
        n += got;
      } while (got > 0 && n < sizeof head);
      // Put the bytes back by starting over (cheap: nothing decoded yet).
      std::string format = PickleFormat({head, n});
      if (in->gzipped()) format += ", gzip";
      if (in->seekable()) {
        RETURN_IF_ERROR(in->Rewind());
        return ReadPickle(name, &src, in->gzipped(), sink, options, format);
      }
      // A pipe cannot be rewound: feed those bytes, then the rest.
      class Prefixed : public Source {
       public:
        Prefixed(Source* s, const uint8_t* h, size_t n) : s_(s), h_(h, h + n) {}
        Status Read(uint8_t* buf, size_t cap, size_t* got) override {
          if (pos_ < h_.size()) {
            *got = std::min(cap, h_.size() - pos_);
            std::memcpy(buf, h_.data() + pos_, *got);
            pos_ += *got;
            return OkStatus();
          }
          return s_->Read(buf, cap, got);
        }
        bool CanRewind() const override { return false; }
        Status Rewind() override { return IoError("cannot rewind"); }
        Status CheckEnd() override { return s_->CheckEnd(); }

       private:
        Source* s_;
        std::vector<uint8_t> h_;
        size_t pos_ = 0;
      } prefixed(&src, head, n);
      return ReadPickle(name, &prefixed, in->gzipped(), sink, options, format);
    }
    case io::ContentFormat::kUnknown:
      break;
  }
  uint8_t b = 0;
  size_t n = 0;
  (void)in->Read(&b, 1, &n);
  return InvalidInput(fmt::format("{}: not a PyTorch memory snapshot: neither a pickle, gzip nor JSON "
                                  "(first byte 0x{:02x})",
                                  name, b));
}

Status ReadSnapshotBytes(std::string_view name, std::span<const uint8_t> bytes, SnapshotSink* sink,
                         const ReadOptions& options) {
  std::string n(name);
  auto fmt_kind = io::DetectContent(bytes.data(), std::min<size_t>(bytes.size(), io::kDetectBytes));
  MemorySource src(bytes);
  switch (fmt_kind) {
    case io::ContentFormat::kEmpty:
      return InvalidInput(fmt::format("{}: empty file", n));
    case io::ContentFormat::kJson:
      return ReadJson(n, &src, false, sink, options);
    case io::ContentFormat::kPickle:
      return ReadPickle(n, &src, false, sink, options, PickleFormat(bytes.first(std::min<size_t>(bytes.size(), 16))));
    case io::ContentFormat::kUnknown:
      break;
  }
  return InvalidInput(fmt::format(
      "{}: not a PyTorch memory snapshot: neither a pickle, gzip nor JSON (first byte 0x{:02x})", n, bytes[0]));
}

}  // namespace memtk::snapshot
