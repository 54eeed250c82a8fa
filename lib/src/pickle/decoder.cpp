// The pickle virtual machine, minus everything that could run code.
//
// Opcodes are parsed straight out of the caller's chunk; only an opcode that
// straddles two chunks is copied into carry_. Each opcode is then executed
// by the pass: RefCountPass only notes memo traffic, Decoder builds values.
#include "pickle/decoder.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "base/huge_pages.h"

namespace memtk::pickle {

namespace {

constexpr std::string_view kNoCode = "memtk never runs code from a pickle";

// Opcode bytes, named as in CPython's Lib/pickletools.py.
enum : uint8_t {
  kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2', kFloat = 'F', kInt = 'I',
  kBinInt = 'J', kBinInt1 = 'K', kLong = 'L', kBinInt2 = 'M', kNone = 'N', kPersId = 'P',
  kBinPersId = 'Q', kReduce = 'R', kString = 'S', kBinString = 'T', kShortBinString = 'U',
  kUnicode = 'V', kBinUnicode = 'X', kAppend = 'a', kBuild = 'b', kGlobal = 'c', kDict = 'd',
  kEmptyDict = '}', kAppends = 'e', kGet = 'g', kBinGet = 'h', kInst = 'i', kLongBinGet = 'j',
  kList = 'l', kEmptyList = ']', kObj = 'o', kPut = 'p', kBinPut = 'q', kLongBinPut = 'r',
  kSetItem = 's', kTuple = 't', kEmptyTuple = ')', kSetItems = 'u', kBinFloat = 'G',
  kProto = 0x80, kNewObj = 0x81, kExt1 = 0x82, kExt2 = 0x83, kExt4 = 0x84, kTuple1 = 0x85,
  kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89, kLong1 = 0x8a,
  kLong4 = 0x8b, kBinBytes = 'B', kShortBinBytes = 'C', kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d, kBinBytes8 = 0x8e, kEmptySet = 0x8f, kAddItems = 0x90,
  kFrozenSet = 0x91, kNewObjEx = 0x92, kStackGlobal = 0x93, kMemoize = 0x94, kFrame = 0x95,
  kByteArray8 = 0x96, kNextBuffer = 0x97, kReadonlyBuffer = 0x98,
};

const char* OpName(uint8_t c) {
  switch (c) {
    case kGlobal: return "GLOBAL";
    case kStackGlobal: return "STACK_GLOBAL";
    case kReduce: return "REDUCE";
    case kBuild: return "BUILD";
    case kInst: return "INST";
    case kObj: return "OBJ";
    case kNewObj: return "NEWOBJ";
    case kNewObjEx: return "NEWOBJ_EX";
    case kPersId: return "PERSID";
    case kBinPersId: return "BINPERSID";
    case kExt1: return "EXT1";
    case kExt2: return "EXT2";
    case kExt4: return "EXT4";
    case kNextBuffer: return "NEXT_BUFFER";
    case kReadonlyBuffer: return "READONLY_BUFFER";
    default: return "?";
  }
}

// Code-free globals real snapshot writers emit (TorchScript's pickler).
enum GlobalId : int64_t {
  kRestoreTypeTag = 1,
  kBuildList,     // build_intlist / build_doublelist / build_boollist: identity
  kOrderedDict,
  kMakeSet,
};

int64_t LookupGlobal(std::string_view module, std::string_view name) {
  if (module == "torch.jit._pickle") {
    if (name == "restore_type_tag") return kRestoreTypeTag;
    if (name == "build_intlist" || name == "build_doublelist" || name == "build_boollist")
      return kBuildList;
  }
  if (module == "collections" && name == "OrderedDict") return kOrderedDict;
  if ((module == "builtins" || module == "__builtin__") && (name == "set" || name == "frozenset"))
    return kMakeSet;
  return 0;
}

uint64_t LoadLe(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Fixed-width little-endian loads for the hot loops (one mov on x86).
inline uint32_t Load32(const uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  } else {
    return static_cast<uint32_t>(LoadLe(p, 4));
  }
}

// Little-endian two's complement of any length to exact decimal text.
std::string LongToDecimal(const uint8_t* p, size_t n) {
  std::vector<uint32_t> mag((n + 3) / 4 + 1, 0);  // base 2^32, little-endian
  bool neg = n > 0 && (p[n - 1] & 0x80);
  for (size_t i = 0; i < n; ++i) mag[i / 4] |= uint32_t(neg ? uint8_t(~p[i]) : p[i]) << (8 * (i % 4));
  if (neg) {  // magnitude = ~x + 1
    for (auto& w : mag)
      if (++w != 0) break;
  }
  std::string digits;
  bool zero = false;
  while (!zero) {
    uint64_t rem = 0;
    zero = true;
    for (size_t i = mag.size(); i-- > 0;) {
      uint64_t cur = (rem << 32) | mag[i];
      mag[i] = static_cast<uint32_t>(cur / 1000000000);
      rem = cur % 1000000000;
      if (mag[i]) zero = false;
    }
    for (int k = 0; k < 9; ++k) {
      digits.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
      if (zero && rem == 0) break;
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (neg) digits.push_back('-');
  return {digits.rbegin(), digits.rend()};
}

}  // namespace

// ---------------------------------------------------------------------------
// Opcode parsing and chunking.

struct DecoderBase::Op {
  uint8_t code = 0;
  int64_t i = 0;                    // fixed-width integer argument
  const uint8_t* data = nullptr;    // length-prefixed payload or first text line
  size_t len = 0;
  const uint8_t* data2 = nullptr;   // second text line (GLOBAL, INST)
  size_t len2 = 0;
  uint64_t skipped = 0;             // payload length when not kept (data is null)
};

Status DecoderBase::Error(uint64_t at, std::string_view what, std::string_view why) const {
  return InvalidInput(fmt::format("{}: {} at {}byte {}{}{}", name_, what, gzip_ ? "uncompressed " : "", at,
                                  why.empty() ? "" : ": ", why));
}

size_t DecoderBase::ParseOp(const uint8_t* p, const uint8_t* end, Op* op, size_t* need, Status* err) {
  const size_t avail = static_cast<size_t>(end - p);
  if (avail == 0) {
    *need = 1;
    return 0;
  }
  op->code = p[0];
  auto fixed = [&](size_t n) -> size_t {
    if (avail < 1 + n) {
      *need = 1 + n;
      return 0;
    }
    return 1 + n;
  };
  auto counted = [&](size_t width, bool is_signed) -> size_t {
    if (avail < 1 + width) {
      *need = 1 + width;
      return 0;
    }
    uint64_t n = LoadLe(p + 1, static_cast<int>(width));
    if (is_signed && width == 4 && (n & 0x80000000u)) {
      *err = Error(offset_, "negative length in pickle opcode");
      return 0;
    }
    if (n > limits_.max_string) {
      *err = Error(offset_, fmt::format("pickle string of {} bytes exceeds the {}-byte limit", n,
                                        limits_.max_string));
      return 0;
    }
    if (n > limits_.max_kept_string) {
      // Too long to be anything memtk uses: the opcode is its header alone
      // and Feed() steps over the payload as it arrives (Skip()), so a
      // gzip'd gigabyte costs inflate time, not memory.
      op->skipped = n;
      return 1 + width;
    }
    if (avail < 1 + width + n) {
      *need = 1 + width + n;
      return 0;
    }
    op->data = p + 1 + width;
    op->len = n;
    return 1 + width + n;
  };
  auto lines = [&](int count) -> size_t {
    const uint8_t* s = p + 1;
    const void* nl = std::memchr(s, '\n', static_cast<size_t>(end - s));
    if (nl == nullptr) goto more;
    op->data = s;
    op->len = static_cast<size_t>(static_cast<const uint8_t*>(nl) - s);
    if (count == 2) {
      const uint8_t* s2 = static_cast<const uint8_t*>(nl) + 1;
      const void* nl2 = std::memchr(s2, '\n', static_cast<size_t>(end - s2));
      if (nl2 == nullptr) goto more;
      op->data2 = s2;
      op->len2 = static_cast<size_t>(static_cast<const uint8_t*>(nl2) - s2);
      return static_cast<size_t>(static_cast<const uint8_t*>(nl2) + 1 - p);
    }
    return op->len + 2;
  more:
    if (avail > 65536) {
      *err = Error(offset_, "pickle text argument longer than 65536 bytes");
      return 0;
    }
    *need = avail + 256;  // ask for a bit more; the op may end sooner
    return 0;
  };

  switch (op->code) {
    case kBinInt1: case kBinGet: case kBinPut: case kProto: case kExt1: {
      size_t n = fixed(1);
      if (n) op->i = p[1];
      return n;
    }
    case kBinInt2: case kExt2: {
      size_t n = fixed(2);
      if (n) op->i = static_cast<int64_t>(LoadLe(p + 1, 2));
      return n;
    }
    case kBinInt: case kLongBinGet: case kLongBinPut: case kExt4: {
      size_t n = fixed(4);
      if (n) {
        uint32_t u = static_cast<uint32_t>(LoadLe(p + 1, 4));
        op->i = op->code == kBinInt ? static_cast<int32_t>(u) : static_cast<int64_t>(u);
      }
      return n;
    }
    case kBinFloat: {
      size_t n = fixed(8);
      if (n) {
        uint64_t bits = 0;
        for (int k = 1; k <= 8; ++k) bits = (bits << 8) | p[k];  // big-endian
        std::memcpy(&op->i, &bits, 8);
      }
      return n;
    }
    case kFrame: {
      size_t n = fixed(8);
      if (n) op->i = static_cast<int64_t>(LoadLe(p + 1, 8));
      return n;
    }
    case kShortBinUnicode: case kShortBinBytes: case kShortBinString: case kLong1:
      return counted(1, false);
    case kBinUnicode: case kBinBytes:
      return counted(4, false);
    case kBinString: case kLong4:
      return counted(4, true);
    case kBinUnicode8: case kBinBytes8: case kByteArray8:
      return counted(8, false);
    case kInt: case kLong: case kFloat: case kString: case kUnicode: case kGet: case kPut: case kPersId:
      return lines(1);
    case kGlobal: case kInst:
      return lines(2);
    default:
      return 1;  // no argument, or unknown (reported by Execute)
  }
}

void DecoderBase::Skip(const uint8_t** p, const uint8_t* end) {
  const uint64_t take = std::min<uint64_t>(skip_, static_cast<uint64_t>(end - *p));
  *p += take;
  offset_ += take;
  skip_ -= take;
}

Status DecoderBase::Feed(const uint8_t* data, size_t n) {
  if (!sticky_.ok()) return sticky_;
  const uint8_t* p = data;
  const uint8_t* end = data + n;
  Op op;
  size_t need = 0;
  Status err;
  if (skip_ != 0) Skip(&p, end);
  // An opcode split across chunks: top the carry up and retry.
  while (!carry_.empty() && p < end && !done_) {
    size_t want = need_ > carry_.size() ? need_ - carry_.size() : 1;
    size_t take = std::min(want, static_cast<size_t>(end - p));
    carry_.insert(carry_.end(), p, p + take);
    p += take;
    op = Op{};
    size_t used = ParseOp(carry_.data(), carry_.data() + carry_.size(), &op, &need, &err);
    if (!err.ok()) return sticky_ = err;
    if (used == 0) {
      need_ = need;
      continue;
    }
    p -= carry_.size() - used;  // bytes past the opcode belong to the next one
    uint64_t at = offset_;
    offset_ += used;
    Status s = Execute(op, at);
    carry_.clear();
    if (!s.ok()) return sticky_ = s;
    if (op.skipped != 0) {
      ++skipped_values_;
      skip_ = op.skipped;
      Skip(&p, end);
    }
  }
  while (p < end && !done_) {
    // Hot opcodes run inline; the generic path below takes one op whenever
    // the fast loop stops, then hands back to it.
    Status fast_err;
    size_t fast = RunFast(p, end, &fast_err);
    offset_ += fast;
    p += fast;
    if (!fast_err.ok()) return sticky_ = fast_err;
    if (p >= end || done_) break;
    op = Op{};
    size_t used = ParseOp(p, end, &op, &need, &err);
    if (!err.ok()) return sticky_ = err;
    if (used == 0) {
      carry_.assign(p, end);
      need_ = need;
      return sticky_ = AfterFeed();
    }
    uint64_t at = offset_;
    offset_ += used;
    p += used;
    Status s = Execute(op, at);
    if (!s.ok()) return sticky_ = s;
    if (op.skipped != 0) {
      ++skipped_values_;
      skip_ = op.skipped;
      Skip(&p, end);
    }
  }
  return sticky_ = AfterFeed();
}

Status DecoderBase::Finish() {
  if (!sticky_.ok()) return sticky_;
  if (done_) return OkStatus();
  uint64_t end = offset_ + carry_.size();  // a pending skip_ is cut short here too
  if (end == 0) return sticky_ = InvalidInput(fmt::format("{}: empty file", name_));
  const char* ctx = OpenContext();
  return sticky_ = InvalidInput(fmt::format("{}: truncated pickle at {}byte {}{}", name_, gzip_ ? "uncompressed " : "",
                                            end, ctx ? fmt::format(" (inside a {})", ctx) : ""));
}

// ---------------------------------------------------------------------------
// Pass 1: memo reference counts.

Status RefCountPass::Execute(const Op& op, uint64_t at) {
  switch (op.code) {
    case kMemoize:
      ++memo_next_;
      return OkStatus();
    case kBinPut: case kLongBinPut: case kPut: {
      uint64_t idx = static_cast<uint64_t>(op.i);
      if (op.code == kPut) idx = std::strtoull(std::string(reinterpret_cast<const char*>(op.data), op.len).c_str(), nullptr, 10);
      if (!MemoIndexOk(idx, at))
        return Error(at, fmt::format("memo index {} out of range", idx));
      memo_next_ = std::max(memo_next_, idx + 1);
      return OkStatus();
    }
    case kBinGet: case kLongBinGet:
      CountGet(static_cast<uint64_t>(op.i), at);
      return OkStatus();
    case kGet:
      CountGet(std::strtoull(std::string(reinterpret_cast<const char*>(op.data), op.len).c_str(), nullptr, 10),
               at);
      return OkStatus();
    case kStop:
      done_ = true;
      return OkStatus();
    default:
      return OkStatus();  // everything else is validated by the second pass
  }
}

namespace {
// Opcodes without an argument that pass 1 steps over (MEMOIZE aside).
constexpr bool IsArgumentFree(uint8_t op) {
  switch (op) {
    case kMark: case kEmptyDict: case kEmptyList: case kEmptyTuple: case kEmptySet:
    case kSetItems: case kSetItem: case kAppends: case kAppend: case kAddItems:
    case kTuple1: case kTuple2: case kTuple3: case kNone: case kNewTrue: case kNewFalse:
    case kDict: case kList: case kTuple: case kFrozenSet: case kPop: case kPopMark: case kDup:
      return true;
    default:
      return false;
  }
}
}  // namespace

namespace {
// Bytes pass 1 steps over for opcodes that touch no memo slot and have a
// fixed length; 0 for every other opcode.
constexpr std::array<uint8_t, 256> kFixedSkip = [] {
  std::array<uint8_t, 256> t{};
  for (int op = 0; op < 256; ++op)
    if (IsArgumentFree(static_cast<uint8_t>(op))) t[op] = 1;
  t[kBinInt1] = 2;
  t[kBinInt2] = 3;
  t[kBinInt] = 5;
  t[kBinFloat] = 9;
  t[kFrame] = 9;
  return t;
}();
}  // namespace

size_t RefCountPass::RunFast(const uint8_t* const begin, const uint8_t* end, Status*) {
  // Pass 1 only needs opcode lengths and memo traffic: a byte switch. While
  // 9 bytes remain (the longest fixed-size opcode) fixed-size opcodes skip
  // their bounds checks; the last few bytes of a chunk take the checked way.
  // Gets (two thirds of a snapshot's opcodes: frame lists, dict keys) are
  // tested before the switch's jump; the memo's end and the count table's
  // address stay in registers for the whole loop (callgrind: 25
  // instructions a get when both were reloaded after every bump).
  const uint8_t* p = begin;
  auto done = [&] { return static_cast<size_t>(p - begin); };
  if (end - p >= 9) {
    const uint8_t* const last = end - 9;
    MemoRefCounts::Bumper bump(&counts_);
    uint64_t defined = memo_next_;
    // A get of a slot no PUT has defined yet is pass 2's error; a pass that
    // started mid-input cannot tell, and counts it (see CountGet).
    auto get = [&](uint64_t idx) {
      if (idx < defined || (mid_input_ && MemoIndexOk(idx, offset() + done()))) bump.Bump(idx);
    };
    auto leave = [&] {
      memo_next_ = defined;
      return done();
    };
    while (p <= last) {
      const uint8_t op = *p;
      if (op == kLongBinGet) {
        get(Load32(p + 1));
        p += 5;
        continue;
      }
      if (op == kBinGet) {
        get(p[1]);
        p += 2;
        continue;
      }
      if (const uint8_t skip = kFixedSkip[op]; skip != 0) {
        p += skip;
        continue;
      }
      switch (op) {
        case kMemoize:
          ++defined;
          ++p;
          continue;
        case kBinPut:
        case kLongBinPut: {
          const bool wide = op == kLongBinPut;
          const uint64_t idx = wide ? Load32(p + 1) : p[1];
          if (!MemoIndexOk(idx, offset() + done())) return leave();
          defined = std::max(defined, idx + 1);
          p += wide ? 5 : 2;
          continue;
        }
        case kLong1: case kShortBinUnicode: case kShortBinBytes: case kShortBinString:
          if (static_cast<size_t>(end - p) < 2u + p[1]) return leave();
          p += 2 + p[1];
          continue;
        case kBinUnicode: case kBinBytes: {
          const uint64_t n = Load32(p + 1);
          if (n > limits_.max_kept_string || static_cast<uint64_t>(end - p) < 5 + n) return leave();
          p += 5 + n;
          continue;
        }
        default:
          // Fixed-length opcodes went by kFixedSkip above: this is STOP, a
          // text or code opcode, or a bad byte, for the generic path.
          return leave();
      }
    }
    memo_next_ = defined;
  }
  // The tail: only single-byte opcodes; the generic path (with the carry
  // buffer) takes anything longer.
  for (; p < end; ++p) {
    if (*p == kMemoize) {
      ++memo_next_;
    } else if (!IsArgumentFree(*p)) {
      return done();
    }
  }
  return done();
}

void RefCountPass::StartAt(uint64_t offset) {
  set_offset(offset);
  mid_input_ = true;
}

std::optional<uint64_t> FindFrameCut(const ReadAtFn& read_at, uint64_t size, uint64_t target) {
  // CPython's pickler (protocol 4+) opens a FRAME of ~64 KiB before each run
  // of opcodes and writes strings too long for a frame between frames, so
  // frame headers chain from byte 2 to the end: a few thousand 9-byte reads
  // find a boundary anywhere without decoding what lies between.
  uint8_t h[9];
  size_t n = 0;
  if (!read_at(0, h, 2, &n).ok() || n < 2 || h[0] != kProto || h[1] < 4) return std::nullopt;
  uint64_t pos = 2;
  while (pos < target) {
    if (!read_at(pos, h, sizeof h, &n).ok() || n < sizeof h) return std::nullopt;
    uint64_t step;
    switch (h[0]) {
      case kFrame: case kBinUnicode8: case kBinBytes8: case kByteArray8:
        step = 9 + LoadLe(h + 1, 8);
        break;
      case kBinUnicode: case kBinBytes:
        step = 5 + Load32(h + 1);
        break;
      default:
        return std::nullopt;  // an unframed opcode: no safe way on
    }
    if (step > size - pos) return std::nullopt;
    pos += step;
  }
  if (pos >= size) return std::nullopt;
  return pos;
}

namespace {
enum class PumpEnd { kReadFailed, kStopped, kReachedEnd };

// Feeds [begin, end) to `pass`. A decode error or STOP ends the pass early
// (kStopped): pass 2 reaches the same byte and reports or stops there too.
PumpEnd PumpRange(const ReadAtFn& read_at, RefCountPass* pass, uint64_t begin, uint64_t end, size_t chunk) {
  std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(chunk, end - begin)));
  for (uint64_t pos = begin; pos < end;) {
    size_t n = 0;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
    if (!read_at(pos, buf.data(), want, &n).ok() || n == 0) return PumpEnd::kReadFailed;
    if (!pass->Feed(buf.data(), n).ok() || pass->done()) return PumpEnd::kStopped;
    pos += n;
  }
  return PumpEnd::kReachedEnd;
}
}  // namespace

bool CountMemoRefsSplit(const std::string& name, uint64_t size, const ReadAtFn& read_at, size_t chunk,
                        MemoRefCounts* out, uint64_t target) {
  const std::optional<uint64_t> cut = FindFrameCut(read_at, size, target ? target : size / 2);
  if (!cut) return false;
  RefCountPass first(name), second(name);
  second.StartAt(*cut);
  PumpEnd second_end = PumpEnd::kReadFailed;
  std::thread helper;
  try {
    helper = std::thread([&] { second_end = PumpRange(read_at, &second, *cut, size, chunk); });
  } catch (...) {  // no thread to be had: the serial pass will do
    return false;
  }
  const PumpEnd first_end = PumpRange(read_at, &first, 0, *cut, chunk);
  helper.join();
  switch (first_end) {
    case PumpEnd::kReadFailed:
      return false;
    case PumpEnd::kStopped:
      // Pass 2 stops at the same byte, before the cut: the second half's
      // counts are never needed.
      *out = first.Take();
      return true;
    case PumpEnd::kReachedEnd:
      // The second half was counted from the right place only if decoding
      // from byte 0 puts an opcode boundary exactly at the cut.
      if (first.offset() != *cut || second_end == PumpEnd::kReadFailed) return false;
      *out = first.Take();
      out->Merge(second.Take());
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Pass 2: the memo, an open-addressing map that forgets an entry after its
// last reference.

struct Decoder::Memo {
  struct Entry {
    uint64_t key = 0;
    Value v;
    uint8_t remaining = 0;  // 3 = keep for good
    bool used = false;
    // A global (Push's bookkeeping) or a known list of the decoder's own
    // (GetKnown): RunFast's gets test this one byte for both.
    bool special = false;
  };
  std::vector<Entry> slots = std::vector<Entry>(1024);
  size_t size = 0;

  size_t Mask() const { return slots.size() - 1; }
  static size_t Hash(uint64_t k) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ULL) >> 20); }

  Entry* Find(uint64_t key) {
    for (size_t i = Hash(key) & Mask();; i = (i + 1) & Mask()) {
      if (!slots[i].used) return nullptr;
      if (slots[i].key == key) return &slots[i];
    }
  }
  // Returns the slot for key (new or existing).
  Entry* Insert(uint64_t key) {
    if ((size + 1) * 2 > slots.size()) Grow();
    for (size_t i = Hash(key) & Mask();; i = (i + 1) & Mask()) {
      if (!slots[i].used) {
        slots[i].used = true;
        slots[i].key = key;
        ++size;
        return &slots[i];
      }
      if (slots[i].key == key) return &slots[i];
    }
  }
  // A new reference to e's value; e is forgotten after its last reference,
  // when the memo's own count moves to the caller. Entries kept for good
  // hold a borrowed value (PutMemo), copied out as is.
  Value Take(Entry* e) {
    const Value v = e->v;
    if (e->remaining == 3) return v;
    if (--e->remaining == 0) {
      Erase(e);
      return v;
    }
    NodeArena::Retain(v);
    return v;
  }
  // Out of line, as Grow: RunFast inlines Take at its gets, and GCC's
  // growth limit for that large function then left push_back calls out of
  // line instead (+1-2% instructions).
  [[gnu::noinline]] void Erase(Entry* e) {
    // Backward-shift deletion keeps probe chains intact without tombstones.
    size_t i = static_cast<size_t>(e - slots.data());
    size_t j = i;
    for (;;) {
      j = (j + 1) & Mask();
      if (!slots[j].used) break;
      size_t home = Hash(slots[j].key) & Mask();
      bool movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        slots[i] = slots[j];
        i = j;
      }
    }
    slots[i] = Entry{};
    --size;
  }
  [[gnu::noinline]] void Grow() {
    std::vector<Entry> old;
    ReserveHuge(&old, slots.size() * 2);
    old.resize(slots.size() * 2);
    old.swap(slots);
    size = 0;
    for (const Entry& e : old)
      if (e.used) *Insert(e.key) = e;
  }
};

namespace {
// A known list's key hash (KnownLists::Hash mixes the role in after it).
uint64_t ListKeyHash(const uint8_t* p, size_t n) {
  // Two independent multiply chains (keys are 3-400 bytes of indices).
  uint64_t a = 0x9E3779B97F4A7C15ULL ^ n, b = 0xC2B2AE3D27D4EB4FULL;
  for (; n >= 16; p += 16, n -= 16) {
    uint64_t x, y;
    std::memcpy(&x, p, 8);
    std::memcpy(&y, p + 8, 8);
    a = (a ^ x) * 0xff51afd7ed558ccdULL;
    b = (b ^ y) * 0xc4ceb9fe1a85ec53ULL;
    a ^= a >> 32;
    b ^= b >> 29;
  }
  uint64_t t = 0;
  if (n >= 8) {
    std::memcpy(&t, p, 8);
    a = (a ^ t) * 0xff51afd7ed558ccdULL;
    p += 8;
    n -= 8;
    t = 0;
  }
  if (n > 0) std::memcpy(&t, p, n);
  uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ t) * 0xff51afd7ed558ccdULL;
  return h ^ (h >> 31);
}
}  // namespace

// ---------------------------------------------------------------------------
// Known lists. PyTorch gives every trace event a list of its own for its
// frames, made of references to frame dicts that are shared, so a snapshot
// holds millions of lists over a few hundred to 10^5 distinct stacks. Built
// one by one, each costs a memo lookup, a push and a copy per frame and the
// consumer a hash of its frame ids; that was most of the decode.
//
// A list the consumer reads only through Node::cache
// (Consumer::ReadsOnlyCache), written as
//   EMPTY_LIST, MEMOIZE | BINPUT | LONG_BINPUT, MARK, (BINGET | LONG_BINGET)+, APPENDS
// (or a single get and APPEND) and stored at once by the SETITEMS that
// follows, is named exactly by the memo indices its gets read, provided that every
// slot they read is kept for good (count 3): such a slot changes only by a
// PUT over it, which bumps memo_epoch_ and forgets every entry. The first
// list with given bytes is built as usual and remembered; once the consumer
// has set its cache (and each item's: then reading it again has no effect),
// every later one is the entry's shared item-less node: no memo lookups, no
// node, no items, nothing for the consumer to hash.
//
// Exactness: a list never read back (its slot's count is 0) gets the shared
// node; its dict goes straight to the consumer through the streaming list it
// was made in (Node::streams_into). Anything else that could show the dict to
// the consumer (a memo PUT, DUP, any container or the root) first gives its
// known lists their items back from the record's key (FillKnown), and a
// PUT over a live slot does that for every holder on the stack first.
//
// A list whose slot is read back (the shared-list shape: an allocation's
// list fetched again by its free events) gets a node of its own instead
// (NewOwn: no items, the record's cache), held by the memo and by every dict
// it lands in, so a change to the list is seen by all of them, as in the
// one-pass read. A GET of it keeps it item-less only where KnownList itself
// would put a list: a str key's value, stored at once by SETITEMS (RunFast
// looks at the next byte, so nothing else can take it from the stack), into
// a dict streamed into its trace under a key of the list's role
// (GetLandsKnown); that dict becomes a holder. Anywhere else, at a GET the
// generic path executes, when a holder is filled and before a PUT over a
// live slot, the node gets its items in place (FillOwn), with cache -1 unless
// a holder of it has been streamed (the one-pass read sets a list's cache
// when the consumer first reads it: a list appended to before that is read
// with the new item, after it by its cache).
struct Decoder::KnownLists {
  // One probe and one key compare per list: a hit reads one slot, then the
  // record, whose header sits right before its key bytes (one line), and
  // touches neither the shared node (lent out borrowed, like a frame from
  // the memo) nor anything else. callgrind/perf on 2M events over 20,000
  // stacks: the StringPool this replaced spent most of its time in cache
  // misses on its separate hash, view and entry arrays.
  //
  // Memory per distinct list (10^5 stacks in a long run): a 16-byte slot
  // at load <= 1/2, a 16-byte header and the key (3 or 4 bytes per frame)
  // (a 40-byte slot and a 32-byte entry before: ~10 MB per 10^5 lists).
  struct Rec {
    Node* shared = nullptr;  // set once the consumer has read the list
    uint32_t cache = 0;      // shared->cache, when it fits (`cached`)
    uint16_t len = 0;
    uint8_t role = 0;
    uint8_t flags = 0;
    const uint8_t* key() const { return reinterpret_cast<const uint8_t*>(this + 1); }
  };
  static_assert(sizeof(Rec) == 16);
  static constexpr uint16_t kWide = 0x80;  // in `role`: 4-byte indices
  enum : uint8_t {
    kCached = 1,
    kRefused = 2,  // a get of a slot not kept for good, or a bad read
    kBuilt = 4,    // its first list is built and awaits its reading (pending)
  };
  struct Slot {
    uint64_t hash = 0;
    Rec* rec = nullptr;  // nullptr: empty slot
  };
  std::vector<Slot> slots = std::vector<Slot>(1024);
  size_t size = 0;
  // Look-ahead (Decoder::LookAhead, or PrefetchHinted with hints), once the
  // table has this many slots (a table that fits the caches gains nothing
  // from it): the next lists of the chunk, parsed and hashed early, first =
  // nearer.
  static constexpr size_t kLookAheadSlots = 16384;
  static constexpr size_t kLookAheadWindow = 4096;     // bytes searched per call
  static constexpr size_t kLookAheadListBytes = 2048;  // longest list parsed ahead (~400 frames)
  static constexpr int kLookAheadTries = 4;            // candidates parsed per call
  struct Ahead {
    uint64_t at = 0;     // offset of its EMPTY_LIST
    uint32_t after = 0;  // bytes from there to the byte after APPENDS
    uint16_t role = 0;   // as hashed (with kWide)
    bool rec_asked = false;
    size_t len = 0;      // key bytes
    uint64_t hash = 0;
    std::vector<uint8_t> key;  // sized by ScanListGets on first use
  };
  std::array<Ahead, 2> ahead;
  size_t ahead_first = 0, ahead_n = 0;
  // Records whose first list is built and awaits its reading, with that
  // list (a shared node's Node::index holds its record's address).
  std::vector<std::pair<Rec*, Node*>> pending;
  size_t streamed = 0;  // items streamed since the last harvest
  std::vector<RawBlock<uint64_t>> blocks;  // records; never move
  size_t block_used = 0, block_size = 0, key_bytes = 0;
  uint64_t epoch = 0;
  // Distinct stacks are a few MB of gets; past this much, new lists are
  // built as usual (hostile or odd input stays bounded).
  static constexpr size_t kMaxKeyBytes = 64u << 20;

  static uint64_t Hash(const uint8_t* p, size_t n, uint16_t role) { return WithRole(ListKeyHash(p, n), role); }
  // The role is mixed in last, so that FindListHints, which cannot know it,
  // can hash the key on the read-ahead thread.
  static uint64_t WithRole(uint64_t key_hash, uint16_t role) {
    const uint64_t h = (key_hash ^ (uint64_t{role} * 0x9E3779B97F4A7C15ULL)) * 0xff51afd7ed558ccdULL;
    return h ^ (h >> 31);
  }
  // The look-ahead's two fetches (LookAhead, PrefetchHinted). Forced inline:
  // GCC counts a prefetch as no side effect, so a call to an out-of-line
  // function that only prefetches looks pure and is dropped.
  // The slot a list with hash `h` probes first.
  [[gnu::always_inline]] void FetchSlot(uint64_t h) const { __builtin_prefetch(&slots[(h >> 7) & (slots.size() - 1)]); }
  // The record of a list with hash `h` and a `len`-byte key, if its slot
  // (fetched a list ago) names one: the header and the key's first lines
  // (addresses as integers: a record found by hash alone may end sooner; a
  // prefetch never faults).
  [[gnu::always_inline]] void FetchRecord(uint64_t h, size_t len) const {
    const size_t mask = slots.size() - 1;
    for (size_t i = (h >> 7) & mask; slots[i].rec != nullptr; i = (i + 1) & mask) {
      if (slots[i].hash != h) continue;
      const uintptr_t r = reinterpret_cast<uintptr_t>(slots[i].rec);
      const size_t bytes = std::min<size_t>(sizeof(Rec) + len, 3 * 64);
      for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(reinterpret_cast<const void*>(r + off));
      return;
    }
  }
  Slot* Find(uint64_t h, const uint8_t* key, size_t len, uint16_t role) {
    const size_t mask = slots.size() - 1;
    for (size_t i = (h >> 7) & mask;; i = (i + 1) & mask) {
      Slot& s = slots[i];
      if (s.rec == nullptr) return &s;
      if (s.hash == h && s.rec->len == len && s.rec->role == role && std::memcmp(s.rec->key(), key, len) == 0)
        return &s;
    }
  }
  // Fills the empty slot `s` (from Find) with a record holding a copy of the key.
  Rec* Insert(Slot* s, uint64_t h, const uint8_t* key, uint16_t len, uint16_t role, bool refused) {
    const size_t words = (sizeof(Rec) + len + 7) / 8;
    if (blocks.empty() || block_size - block_used < words) {
      // Past the first 2 MiB of records (a few thousand stacks), blocks of
      // huge pages: one fault per 2 MiB of keys instead of 512.
      const size_t bytes = blocks.size() < 8 ? (256u << 10) : kHugePage;
      block_size = std::max<size_t>(bytes / 8, words);
      blocks.push_back(AllocBlock<uint64_t>(block_size * 8, block_size * 8 % kHugePage == 0));
      if (blocks.back() == nullptr) throw std::bad_alloc();  // as new[] did
      block_used = 0;
    }
    Rec* r = new (blocks.back().get() + block_used) Rec;
    block_used += words;
    std::memcpy(r + 1, key, len);
    key_bytes += len;
    r->len = len;
    r->role = static_cast<uint8_t>(role);
    r->flags = refused ? kRefused : 0;
    s->hash = h;
    s->rec = r;
    if (++size * 2 > slots.size()) Grow();
    return r;
  }
  void Grow() {
    std::vector<Slot> old;
    ReserveHuge(&old, slots.size() * 2);
    old.resize(slots.size() * 2);
    old.swap(slots);
    const size_t mask = slots.size() - 1;
    for (const Slot& s : old) {
      if (s.rec == nullptr) continue;
      size_t i = (s.hash >> 7) & mask;
      while (slots[i].rec != nullptr) i = (i + 1) & mask;
      slots[i] = s;
    }
  }
  void Release(NodeArena* arena) {
    auto drop = [&](Node* n) {
      if (n == nullptr) return;
      Value v;
      v.kind = Kind::kList;
      v.node = n;
      arena->Release(v);
    };
    for (auto& [rec, built] : pending) drop(built);
    pending.clear();
    for (Slot& s : slots)
      if (s.rec != nullptr) drop(s.rec->shared);
    slots.clear();
  }
};

namespace {
// Steps over one BINGET/LONG_BINGET at p; nullptr if there is none.
inline const uint8_t* SkipGet(const uint8_t* p, const uint8_t* end, uint64_t* idx) {
  if (p < end && *p == kBinGet && end - p >= 2) {
    *idx = p[1];
    return p + 2;
  }
  if (p < end && *p == kLongBinGet && end - p >= 5) {
    *idx = Load32(p + 1);
    return p + 5;
  }
  return nullptr;
}

// The body of a known-list candidate at q (after its put): MARK, then
// (BINGET | LONG_BINGET)+, APPENDS; or one get and APPEND. Writes each memo
// index's low `width` bytes to *key (grown as needed; little-endian) and
// returns the byte after APPENDS/APPEND, with the key's bytes in *len and
// the gets in *n; nullptr if the body has another form, is cut by `end`, or
// reads a slot at or past `defined`. Reads at most the bytes of the body.
// *top (if given) gets the largest index read. The key is written from
// key->data() + key_at (Bytes: std::vector<uint8_t> or GrowBytes). On
// failure *reached (if given) gets a bound on the bytes read: a byte past
// every one the parse looked at.
constexpr size_t kBatchGets = 64;       // gets between capacity and bound checks
constexpr size_t kMaxGetBytes = 5;      // LONG_BINGET
constexpr size_t kKeySlack = 8 * kBatchGets;  // key bytes kept free before a batch
inline void GrowKey(std::vector<uint8_t>* key, size_t n, size_t) { key->resize(n); }
inline void GrowKey(GrowBytes* key, size_t n, size_t used) { key->Grow(n, used); }

template <class Bytes>
const uint8_t* ScanListGets(const uint8_t* q, const uint8_t* end, uint64_t defined, unsigned width, Bytes* key,
                            size_t* len, size_t* n, uint32_t* top_out = nullptr, size_t key_at = 0,
                            const uint8_t** reached = nullptr) {
  // One tight loop per frame (callgrind: ~22 instructions a get before, when
  // each get went through SkipGet and a capacity check): the capacity and
  // the indices' bound are checked once per batch of gets.
  const uint8_t* const from = q;
  // A failure at q: the bytes read were at most those up to the op at q.
  auto fail = [&](const uint8_t* at) -> const uint8_t* {
    if (reached != nullptr) *reached = std::min(end, at + kMaxGetBytes);
    return nullptr;
  };
  if (q >= end) return fail(q);
  const bool marked = *q == kMark;
  q += marked;
  if (key->size() < key_at + 2 * kKeySlack) GrowKey(key, std::max(key_at + 2 * kKeySlack, key->size() * 2), key_at);
  uint8_t* w = key->data() + key_at;
  uint8_t* w_end = key->data() + key->size() - kKeySlack;
  uint32_t top = 0;  // the largest index read
  size_t gets = 0;
  if (!marked) {  // one get, then APPEND
    uint64_t i;
    q = SkipGet(q, end, &i);
    if (q == nullptr || i >= defined) return fail(from + 1);
    const uint32_t v = static_cast<uint32_t>(i);
    std::memcpy(w, &v, 4);
    w += width;
    gets = 1;
    top = v;
  } else {
    for (;;) {
      if (w > w_end) {
        const size_t used = static_cast<size_t>(w - key->data());
        GrowKey(key, key->size() * 2, used);
        w = key->data() + used;
        w_end = key->data() + key->size() - kKeySlack;
      }
      size_t k = 0;
      bool more;  // the batch ended on a get: there may be more
      if (static_cast<size_t>(end - q) > kBatchGets * kMaxGetBytes + kMaxGetBytes) {
        // At most a batch of gets, every one whole inside the chunk.
        for (; k < kBatchGets; ++k) {
          uint32_t i;
          if (*q == kLongBinGet) {
            i = Load32(q + 1);
            q += 5;
          } else if (*q == kBinGet) {
            i = q[1];
            q += 2;
          } else {
            break;
          }
          std::memcpy(w, &i, 4);  // little-endian: the low `width` bytes stay
          w += width;
          top = std::max(top, i);
        }
        more = k == kBatchGets;
      } else {
        uint64_t i;
        if (const uint8_t* next = SkipGet(q, end, &i)) {
          q = next;
          const uint32_t v = static_cast<uint32_t>(i);
          std::memcpy(w, &v, 4);
          w += width;
          top = std::max(top, v);
          k = 1;
        }
        more = k == 1;
      }
      gets += k;
      if (top >= defined) return fail(q);  // an undefined slot: the generic path reports it
      if (!more) break;
    }
    if (gets == 0) return fail(q);
  }
  if (q >= end || *q != (marked ? kAppends : kAppend)) return fail(q);
  *len = static_cast<size_t>(w - key->data()) - key_at;
  *n = gets;
  if (top_out != nullptr) *top_out = top;
  return q + 1;
}

// The put after a list's EMPTY_LIST at x: the byte after it, or nullptr.
inline const uint8_t* SkipListPut(const uint8_t* x, const uint8_t* end) {
  const uint8_t* b = x + 1;
  if (end - b >= 1 && *b == kMemoize) return b + 1;
  if (end - b >= 2 && *b == kBinPut) return b + 2;
  if (end - b >= 5 && *b == kLongBinPut) return b + 5;
  return nullptr;
}
}  // namespace

void FindListHints(const uint8_t* data, size_t n, uint64_t offset, unsigned width, ListHints* out) {
  // LookAhead's search and parse, over the whole chunk: no window, no cap
  // on a list's bytes, and no memo end (the decoder checks `top` against its
  // own). A byte that merely looks like a list (an index or string byte
  // 0x5d) may parse as one: its hint names an offset where the decoder
  // meets no list (or a list that starts inside it goes unhinted), which
  // costs only the hint. Bytes looked at are capped at kBudget times the
  // chunk: a hostile run of candidates that each parse far (gets whose
  // index bytes spell "]q.(") would otherwise be quadratic in the chunk.
  // Lists and key bytes are capped too (a run of "]\x94h\x00a" is a list
  // every 5 bytes): real chunks hold a list per 200-300 bytes and at most
  // about half their bytes in keys.
  constexpr uint64_t kBudget = 4;
  out->offset = offset;
  out->scanned = 0;
  out->looked = 0;
  out->width = width;
  out->lists.clear();  // (keys keeps its size: no zero-fill per chunk)
  // Keys may reach ~3x the chunk (a 2-byte BINGET is 4 key bytes at width
  // 4, and the key cap is checked before each list): key_end must not wrap.
  if (n > UINT32_MAX / 4 || (width != 3 && width != 4)) return;
  const uint8_t* const end = data + n;
  const uint8_t* from = data;
  uint64_t looked = 0;
  size_t key_used = 0;
  while (from < end) {
    if (looked > kBudget * n || out->lists.size() >= n / 16 + 16 || key_used >= n + 4096) {
      out->scanned = static_cast<uint64_t>(from - data);
      out->looked = looked;
      return;
    }
    const auto* x = static_cast<const uint8_t*>(std::memchr(from, kEmptyList, static_cast<size_t>(end - from)));
    if (x == nullptr) break;
    looked += static_cast<uint64_t>(x - from) + 1;
    from = x + 1;
    const uint8_t* b = SkipListPut(x, end);
    if (b == nullptr) continue;
    size_t len = 0, gets = 0;
    uint32_t top = 0;
    const uint8_t* reached = b;
    const uint8_t* after = ScanListGets(b, end, UINT64_MAX, width, &out->keys, &len, &gets, &top, key_used, &reached);
    looked += static_cast<uint64_t>((after == nullptr ? reached : after) - b);
    if (after == nullptr) continue;
    ListHints::List l;
    l.at = static_cast<uint32_t>(x - data);
    l.after = static_cast<uint32_t>(after - x);
    l.top = top;
    l.hash = ListKeyHash(out->keys.data() + key_used, len);
    key_used += len;
    l.key_end = static_cast<uint32_t>(key_used);
    out->lists.push_back(l);
    from = after;
  }
  out->scanned = n;
  out->looked = looked;
}

void Decoder::LookAhead(const uint8_t* p, const uint8_t* q, const uint8_t* end, uint64_t at, uint16_t role,
                        unsigned width, uint64_t defined) {
  // With 10^4-10^5 distinct stacks the table and its records are tens of MB:
  // a hit's two dependent loads (slot, then record and key) missed the
  // caches on most lists (perf: ~60% of KnownList's samples on those two
  // instructions). Lists come one per event, a few hundred bytes apart, so
  // the next two are parsed here, one event ahead: the nearer one's record is
  // fetched (its slot was fetched a list ago), the farther one's slot.
  KnownLists& k = *lists_;
  if (k.ahead_n > 0) {
    KnownLists::Ahead& a = k.ahead[k.ahead_first];
    if (!a.rec_asked) {
      a.rec_asked = true;
      k.FetchRecord(a.hash, a.len);
    }
  }
  if (k.ahead_n == 2) return;
  // Where the next list may start: after the last one parsed ahead, or
  // after this one.
  const uint8_t* from = q;
  if (k.ahead_n == 1) {
    const KnownLists::Ahead& last = k.ahead[k.ahead_first];
    const uint64_t off = last.at - at + last.after;
    if (last.at <= at || off >= static_cast<uint64_t>(end - p)) return;
    from = p + off;
  }
  // Events are a few hundred bytes and lists a few hundred more: each call
  // looks at most a window for candidates, parses at most kLookAheadTries of
  // them, each within kLookAheadListBytes, so any input costs a bounded scan
  // per list (a hostile run of ']' bytes included; the unit test counts it).
  const uint8_t* const stop = from + std::min<size_t>(static_cast<size_t>(end - from), KnownLists::kLookAheadWindow);
  for (int tries = 0; k.ahead_n < 2 && from < stop && tries < KnownLists::kLookAheadTries;) {
    const auto* x = static_cast<const uint8_t*>(std::memchr(from, kEmptyList, static_cast<size_t>(stop - from)));
    look_ahead_bytes_ += static_cast<uint64_t>((x == nullptr ? stop : x) - from);
    if (x == nullptr || end - x < 8) return;
    from = x + 1;
    // A hint only: bytes that merely look like a list (an index that is 0x5d)
    // cost a wasted fetch, and KnownList checks the offset before use.
    const uint8_t* b = SkipListPut(x, end);
    if (b == nullptr) continue;
    KnownLists::Ahead& a = k.ahead[(k.ahead_first + k.ahead_n) & 1];
    size_t gets = 0;
    ++tries;
    const uint8_t* const list_end = x + std::min<size_t>(static_cast<size_t>(end - x), KnownLists::kLookAheadListBytes);
    const uint8_t* after = ScanListGets(b, list_end, defined, width, &a.key, &a.len, &gets);
    look_ahead_bytes_ += static_cast<uint64_t>((after == nullptr ? list_end : after) - b);
    if (after == nullptr) continue;
    a.at = at + static_cast<uint64_t>(x - p);
    a.after = static_cast<uint32_t>(after - x);
    a.role = role;
    a.rec_asked = false;
    a.hash = KnownLists::Hash(a.key.data(), a.len, role);
    k.FetchSlot(a.hash);
    ++k.ahead_n;
    ++look_ahead_lists_;
    from = after;
  }
}

[[gnu::always_inline]] inline void Decoder::PrefetchHinted(uint16_t role) {
  // LookAhead's two fetches, from the hints: the next list's record (its
  // slot was fetched a list ago) and the slot of the one after it. Inline:
  // GCC counts a prefetch as no side effect, and so dropped every call to
  // an out-of-line PrefetchHinted (a void function without any).
  const KnownLists& k = *lists_;
  const auto& hs = hints_->lists;
  if (hint_i_ < hs.size()) {
    const uint32_t key_begin = hint_i_ > 0 ? hs[hint_i_ - 1].key_end : 0;
    k.FetchRecord(KnownLists::WithRole(hs[hint_i_].hash, role), hs[hint_i_].key_end - key_begin);
  }
  if (hint_i_ + 1 < hs.size()) k.FetchSlot(KnownLists::WithRole(hs[hint_i_ + 1].hash, role));
}

inline size_t Decoder::HolderMark() const {
  // The dict a known list goes into (at the open MARK), and the streaming
  // list that dict goes into (at the MARK below).
  if (marks_.size() < 2) return 0;
  const size_t m = marks_.back(), m2 = marks_[marks_.size() - 2];
  if (m == 0 || m2 == 0 || m - 1 < m2) return 0;
  const Value& dict = stack_[m - 1];
  const Value& into = stack_[m2 - 1];
  if (dict.kind != Kind::kDict || dict.borrowed || dict.node->refs != 1 || into.kind != Kind::kList ||
      !consumer_->Streams(into.node->role) ||
      (dict.node->streams_into != nullptr && dict.node->streams_into != into.node))
    return 0;
  return m;
}

inline void Decoder::MakeHolder(size_t m) {
  Value& dict = stack_[m - 1];
  if (dict.node->streams_into == nullptr) ++holders_;
  dict.node->streams_into = stack_[marks_[marks_.size() - 2] - 1].node;
  dict.cached = true;  // Settle's cheap test
  holder_bound_ = std::max(holder_bound_, m - 1);
}

size_t Decoder::KnownList(const uint8_t* const p, const uint8_t* end, uint64_t at, uint16_t role, uintptr_t* watch) {
  *watch = 0;
  // Without counts the list's own slot could be read back and changed.
  if (!have_counts_ || known_off_ || globals_.back() != 0 || marks_.size() < 2) return 0;
  const uint8_t* q = p + 1;
  uint64_t put;
  if (q < end && *q == kMemoize) {
    put = memo_next_;
    q += 1;
  } else if (end - q >= 2 && *q == kBinPut) {
    put = q[1];
    q += 2;
  } else if (end - q >= 5 && *q == kLongBinPut) {
    put = Load32(q + 1);
    q += 5;
    if (!MemoIndexOk(put, at + 1)) return 0;
  } else {
    return 0;
  }
  // A list read back by later gets (count 1-3: in the shared-list shape an
  // allocation's list is fetched by its free events) gets a node of its own
  // on a hit (below); a PUT over a live slot is left to the generic path.
  const uint8_t read_back = counts_.Get(put);
  if (read_back != 0 && memo_->Find(put) != nullptr) [[unlikely]]
    return 0;
  const uint8_t* const body = q;
  // The key is the memo indices the gets read, 3 bytes each (4 once the
  // memo has passed 2^24 slots; the width is part of the key's role): a
  // LONG_BINGET spends 5, so 10^5 stacks of depth 50 are 10 MB less, and
  // the hash and compare on every list read fewer bytes. Every index is
  // below memo_next_ (a get of an undefined slot is the generic path's
  // error to report), so none is cut short.
  const uint64_t defined = memo_next_;
  const unsigned width = defined <= (uint64_t{1} << 24) ? 3 : 4;
  const uint16_t krole = width == 4 ? role | KnownLists::kWide : role;
  size_t len = 0, n = 0;
  uint64_t h = 0;
  bool hashed = false;
  const uint8_t* key = nullptr;
  KnownLists::Ahead* ahead = nullptr;
  // With hints for this byte (the read-ahead thread searched the chunk),
  // LookAhead's search is done; only the hint's checks are left.
  const bool hinted = hints_ != nullptr && at >= hints_->offset && at - hints_->offset < hints_->scanned;
  if (hinted) {
    const ListHints& hs = *hints_;
    const uint64_t rel = at - hs.offset;
    while (hint_i_ < hs.lists.size() && hs.lists[hint_i_].at < rel) ++hint_i_;
    const ListHints::List* l = hint_i_ < hs.lists.size() && hs.lists[hint_i_].at == rel ? &hs.lists[hint_i_] : nullptr;
    // The hint parsed these very bytes; what it could not know is the key
    // width and the memo's end here.
    if (l != nullptr && hs.width == width && l->top < defined && l->after <= static_cast<size_t>(end - p)) {
      ++hint_i_;
      ++hinted_lists_;
      const uint32_t key_begin = hint_i_ > 1 ? hs.lists[hint_i_ - 2].key_end : 0;
      key = hs.keys.data() + key_begin;
      len = l->key_end - key_begin;
      n = len / width;
      h = KnownLists::WithRole(l->hash, krole);
      hashed = true;
      q = p + l->after;
    }
  } else if (lists_ != nullptr && lists_->ahead_n > 0) {
    ahead = &lists_->ahead[lists_->ahead_first];
    lists_->ahead_first ^= 1;
    --lists_->ahead_n;
    // Parsed from these very bytes when the list before was read: its gets
    // were below the memo's end then, so they are now.
    if (ahead->at != at || ahead->role != krole || ahead->after > static_cast<size_t>(end - p)) {
      ahead = nullptr;
      lists_->ahead_n = 0;  // out of step: start again from here
    }
  }
  if (ahead != nullptr) {
    known_key_.swap(ahead->key);
    len = ahead->len;
    n = len / width;
    h = ahead->hash;
    hashed = true;
    q = p + ahead->after;
  }
  if (!hashed) {  // neither a hint nor the look-ahead had it: parse it here
    q = ScanListGets(body, end, defined, width, &known_key_, &len, &n);
    if (q == nullptr) return 0;
  }
  if (key == nullptr) key = known_key_.data();
  if (q >= end || *q != kSetItems) return 0;
  const size_t m = HolderMark();
  if (m == 0) return 0;
  // The generic path's limits on the way (its MARK, the items on the stack).
  if (stack_.size() + n + 2 >= limits_.max_stack || marks_.size() >= limits_.max_stack) return 0;

  if (lists_ != nullptr && lists_->epoch != memo_epoch_) lists_->Release(arena_), lists_.reset();
  if (lists_ == nullptr) {
    lists_ = std::make_unique<KnownLists>();
    lists_->epoch = memo_epoch_;
  }
  KnownLists& k = *lists_;
  if (len > 0xFFFF || role >= KnownLists::kWide) return 0;
  role = krole;
  if (!hashed) h = KnownLists::Hash(key, len, role);
  if (k.slots.size() >= KnownLists::kLookAheadSlots) {
    if (hinted) {
      PrefetchHinted(role);
    } else {
      LookAhead(p, q, end, at, role, width, defined);
    }
  }
  KnownLists::Slot* slot = k.Find(h, key, len, role);
  if (slot->rec != nullptr && slot->rec->shared != nullptr) {  // the hit, nearly every list
    const KnownLists::Rec& r = *slot->rec;
    Value v;
    v.kind = Kind::kList;
    v.borrowed = true;  // the table keeps the node until the decoder ends
    v.cached = (r.flags & KnownLists::kCached) != 0;
    v.id = r.cache;
    v.node = r.shared;
    if (read_back != 0) [[unlikely]]  // (out of line: the fresh shape's hit stays as it was)
      v = NewOwn(slot->rec, m);
    MakeHolder(m);
    stack_.push_back(v);
    PutMemo(put);  // count 0: only advances the MEMOIZE index; else keeps the own node
    return static_cast<size_t>(q - p);
  }
  if (slot->rec == nullptr) {
    if (k.key_bytes > KnownLists::kMaxKeyBytes) return 0;
    // Every slot read must be kept for good. The counts say so from a few
    // bitmaps; the memo's own entries (32 bytes each, hashed) missed the
    // caches on nearly every frame of every new stack (perf, 10^5 stacks:
    // ~2/3 of KnownList). A slot counted 3 is in the memo unless no PUT
    // defined it, and then the first list's build reports it. Globals need
    // the entries' kinds: only once one was memoized.
    bool refused = false;
    const unsigned w = (role & KnownLists::kWide) ? 4 : 3;
    for (const uint8_t* g = key; g < key + len && !refused; g += w) {
      const uint64_t idx = LoadLe(g, static_cast<int>(w));
      if (memo_globals_ == 0) {
        refused = counts_.Get(idx) != 3;
      } else {
        Memo::Entry* me = memo_->Find(idx);
        refused = me == nullptr || me->remaining != 3 || me->v.kind == Kind::kGlobal;
      }
    }
    KnownLists::Rec* r = k.Insert(slot, h, key, static_cast<uint16_t>(len), role, refused);
    if (!refused) *watch = reinterpret_cast<uintptr_t>(r);
    return 0;
  }
  // Refused, or the first list is not read yet (its event's batch is still
  // open): build this one as usual. Else the first was dropped unread:
  // watch this one instead.
  if (slot->rec->flags & (KnownLists::kRefused | KnownLists::kBuilt)) return 0;
  *watch = reinterpret_cast<uintptr_t>(slot->rec);
  return 0;
}

void Decoder::Watch(uintptr_t rec, Node* list) {
  auto* r = reinterpret_cast<KnownLists::Rec*>(rec);
  r->flags |= KnownLists::kBuilt;
  ++list->refs;
  lists_->pending.emplace_back(r, list);
}

void Decoder::HarvestKnown(size_t streamed) {
  // After a streamed batch, the lists in it have been read: the consumer's
  // cache becomes the record's shared node, and the built list goes, so at
  // most about one batch of built lists is held. Walked once per as many
  // streamed items as there are pending records: linear however the items
  // come (one APPEND each, or lists held on the stack for long).
  KnownLists& k = *lists_;
  k.streamed += streamed;
  if (k.streamed < k.pending.size()) return;
  k.streamed = 0;
  for (auto& [r, built] : k.pending) {
    if (built->cache < 0 && built->refs > 1) continue;  // not read yet: its batch is still open
    Node* const list = built;
    built = nullptr;
    r->flags &= ~KnownLists::kBuilt;
    if (list->cache >= 0) {
      // Reading it again must have no effect: every item interpreted for
      // good (a frame the consumer skipped is counted on each reading).
      // A list that is read back may have been appended to before it was
      // read: then its cache is not the key's.
      const size_t width = (r->role & KnownLists::kWide) ? 4 : 3;
      bool pure = list->items.size() * width == r->len;
      for (const Value& item : list->items) pure = pure && item.kind == Kind::kDict && item.node->cache >= 0;
      if (pure && r->shared == nullptr) {
        Node* shared = arena_->NewBare(Kind::kList, r->role & ~KnownLists::kWide, reinterpret_cast<uintptr_t>(r));
        shared->known = true;
        shared->cache = list->cache;
        r->shared = shared;
        if (list->cache <= UINT32_MAX) r->flags |= KnownLists::kCached;
        r->cache = static_cast<uint32_t>(list->cache);
      } else {
        r->flags |= KnownLists::kRefused;
      }
    }
    // Else dropped unread: the next such list is watched instead.
    Value b;
    b.kind = Kind::kList;
    b.node = list;
    arena_->Release(b);
  }
  // Records still waiting stay listed (rare: a batch split by a chunk end
  // is read on its next APPENDS).
  k.pending.erase(std::remove_if(k.pending.begin(), k.pending.end(), [](const auto& e) { return e.second == nullptr; }),
                  k.pending.end());
}

namespace {
// The items of a known list: the memo values its record's key names. The
// slots are those the key was checked against: only a PUT over one could
// change them, and SettleStack runs before any does.
template <class Memo, class Rec>
void PutKeyItems(Memo* memo, const Rec* r, unsigned width, Node* list) {
  const uint8_t* g = r->key();
  const uint8_t* const end = g + r->len;
  for (; g < end; g += width) list->items.push_back(memo->Find(LoadLe(g, static_cast<int>(width)))->v);
}
}  // namespace

[[gnu::cold]] void Decoder::FillKnown(Node* holder) {
  holder->streams_into = nullptr;
  --holders_;
  for (Value& v : holder->items) {
    if (v.kind != Kind::kList || !v.node->known) continue;
    Node* s = v.node;
    const auto* r = reinterpret_cast<const KnownLists::Rec*>(static_cast<uintptr_t>(s->index));
    if (r->shared != s) {  // a node of its own: the memo may hold it too
      FillOwn(s);
      continue;
    }
    Node* full = arena_->New(Kind::kList, s->role, 0);  // the record's role less kWide
    PutKeyItems(memo_.get(), r, (r->role & KnownLists::kWide) ? 4 : 3, full);
    arena_->Release(v);  // borrowed: the table keeps it
    v.borrowed = false;
    v.cached = false;
    v.id = 0;
    v.node = full;
  }
}

[[gnu::cold]] void Decoder::FillOwn(Node* list) {
  const auto* r = reinterpret_cast<const KnownLists::Rec*>(static_cast<uintptr_t>(list->index));
  PutKeyItems(memo_.get(), r, (r->role & KnownLists::kWide) ? 4 : 3, list);
  list->known = false;
  list->index = 0;  // as a list FillKnown builds
  // The one-pass read sets a list's cache when the consumer first reads it;
  // until then a change (APPEND to it) must still be seen by the reading.
  if (!list->consumed) list->cache = -1;
  list->consumed = false;
}

[[gnu::noinline]] Value Decoder::NewOwn(const void* rec, size_t m) {
  // The memo, the dict and every dict a later get puts it in must hold one
  // node, as they would hold one list: a node of its own, still without
  // items, that FillOwn fills in place if it is ever taken anywhere its
  // items could be read or changed. Its cache is the consumer's value for
  // the record (what reading the list gives); the Value is not `cached`, so
  // a fill is seen through every reference.
  const auto& r = *static_cast<const KnownLists::Rec*>(rec);
  Node* own = arena_->New(Kind::kList, r.role & ~KnownLists::kWide, reinterpret_cast<uintptr_t>(&r));
  own->known = true;
  own->cache = (r.flags & KnownLists::kCached) ? int64_t{r.cache} : r.shared->cache;
  own_lists_ = true;
  NoteOwn(&stack_[m - 1], m);
  Value v;
  v.kind = Kind::kList;
  v.node = own;
  return v;
}

void Decoder::NoteOwn(Value* dict, size_t m) {
  // Where the list will sit in the dict's items once its SETITEMS has run
  // (it is pushed next, at stack_.size()).
  const uint64_t pos = dict->node->items.size() + (stack_.size() - m);
  dict->id = dict->id == 0 && pos < UINT32_MAX - 1 ? static_cast<uint32_t>(pos + 1) : UINT32_MAX;
}

void Decoder::MarkConsumed(const Value& holder) {
  // Every known list of the decoder's own in a streamed holder has been
  // read. `id` names the one such item (or says to look at all).
  auto mark = [](const Value& v) {
    if (v.kind == Kind::kList && !v.cached && v.node->known) v.node->consumed = true;
  };
  const auto& items = holder.node->items;
  if (holder.id != UINT32_MAX && holder.id - 1u < items.size()) {
    mark(items[holder.id - 1u]);
    return;
  }
  for (const Value& v : items) mark(v);
}

[[gnu::noinline]] void Decoder::GetKnown(const uint8_t* next, const uint8_t* end, Node* list) {
  if (!GetLandsKnown(next, end, list)) FillOwn(list);
}

bool Decoder::GetLandsKnown(const uint8_t* next, const uint8_t* end, const Node* list) {
  // The same place KnownList accepts for its own lists: the value of a str
  // key, stored at once by SETITEMS (so nothing else can take it from the
  // stack first) into a dict of this decoder's own that sits in the MARK of
  // a streaming list, under a key that gives a new list the known list's
  // role. Then the dict becomes a holder, as in KnownList's hit path.
  if (next >= end || *next != kSetItems || globals_.back() != 0) return false;
  const size_t m = HolderMark();
  if (m == 0) return false;
  const size_t n = stack_.size() - m;
  if (n % 2 == 0 || stack_.back().kind != Kind::kStr) return false;
  Value& dict = stack_[m - 1];
  const uint64_t index = dict.node->items.size() / 2 + n / 2;
  const uint16_t role = consumer_->RoleOf(dict.node, &stack_.back(), index, Kind::kList);
  if (role != list->role || !consumer_->ReadsOnlyCache(role)) return false;
  MakeHolder(m);
  NoteOwn(&dict, m);
  return true;
}

[[gnu::cold]] void Decoder::SettleStack() {
  for (const Value& v : stack_) Settle(v);
  // Known lists of the decoder's own in the memo (read back later).
  if (own_lists_)
    for (const auto& e : memo_->slots)
      if (e.used && e.v.kind == Kind::kList && e.v.node->known) FillOwn(e.v.node);
}

Decoder::Decoder(std::string name, StringPool* pool, NodeArena* arena, Consumer* consumer)
    : DecoderBase(std::move(name)), pool_(pool), arena_(arena), consumer_(consumer), memo_(new Memo),
      known_key_(4096) {
  globals_.push_back(0);
}

Decoder::~Decoder() {
  for (const Value& v : stack_) arena_->Release(v);
  if (lists_ != nullptr) lists_->Release(arena_);
  for (const auto& e : memo_->slots)
    if (e.used) arena_->Release(e.v);
}

void Decoder::SetRefCounts(MemoRefCounts counts) {
  counts_ = std::move(counts);
  have_counts_ = true;
}

size_t Decoder::memo_size() const { return memo_->size; }

const char* Decoder::OpenContext() const {
  for (size_t i = stack_.size(); i-- > 0;)
    if (stack_[i].is_node()) return KindName(stack_[i].kind);
  return marks_.empty() ? nullptr : "MARK group";
}

uint16_t Decoder::RoleForNew(Kind kind, uint64_t* index) {
  *index = 0;
  auto last_data = [&](size_t lo) -> const Value* {
    for (size_t i = stack_.size(); i-- > lo;)
      if (stack_[i].kind != Kind::kGlobal) return &stack_[i];
    return nullptr;
  };
  if (!marks_.empty()) {
    size_t m = marks_.back();
    if (m == 0) return 0;
    size_t n = stack_.size() - m - globals_.back();
    const Value& below = stack_[m - 1];
    if (below.kind == Kind::kDict) {
      if (n % 2 == 0) {
        // Lists cannot be dict keys, so a list on top here is waiting for
        // its single item (EMPTY_LIST ... item APPEND): that is the parent.
        const Value* top = last_data(m);
        if (top != nullptr && top->kind == Kind::kList) {
          *index = top->node->items.size() + top->node->streamed;
          return consumer_->RoleOf(top->node, nullptr, *index, kind);
        }
        return 0;
      }
      *index = below.node->items.size() / 2 + n / 2;
      return consumer_->RoleOf(below.node, last_data(m), *index, kind);
    }
    if (below.kind == Kind::kList || below.kind == Kind::kSet) {
      *index = below.node->items.size() + below.node->streamed + n;
      return consumer_->RoleOf(below.node, nullptr, *index, kind);
    }
    return 0;
  }
  if (stack_.size() == globals_[0]) return consumer_->RoleOf(nullptr, nullptr, 0, kind);
  size_t t = stack_.size();
  while (t-- > 0 && stack_[t].kind == Kind::kGlobal) {
  }
  const Value& top = stack_[t];
  if (top.kind == Kind::kList) {
    *index = top.node->items.size() + top.node->streamed;
    return consumer_->RoleOf(top.node, nullptr, *index, kind);
  }
  if (!top.is_node() && t >= 1 && stack_[t - 1].kind == Kind::kDict) {
    *index = stack_[t - 1].node->items.size() / 2;
    return consumer_->RoleOf(stack_[t - 1].node, &top, *index, kind);
  }
  return 0;
}

Status Decoder::Push(const Value& v, uint64_t at) {
  if (stack_.size() >= limits_.max_stack) {
    arena_->Release(v);
    return Error(at, "pickle stack deeper than the limit");
  }
  if (v.kind == Kind::kGlobal) ++globals_.back();
  stack_.push_back(v);
  return OkStatus();
}

Status Decoder::AddToList(Node* list, const Value& v) {
  if (consumer_->Streams(list->role)) {
    Settle(v, list);
    Streamed(v, list);
    Status s = consumer_->OnItem(list, list->streamed++, v);
    arena_->Release(v);
    if (lists_ != nullptr && !lists_->pending.empty()) HarvestKnown(1);
    return s;
  }
  Settle(v);
  list->items.push_back(v);
  return OkStatus();
}

Status Decoder::PopMark(uint64_t at, size_t* mark) {
  if (marks_.empty()) return Error(at, "pickle opcode needs a MARK but none is open");
  *mark = marks_.back();
  marks_.pop_back();
  globals_.pop_back();
  return OkStatus();
}

void Decoder::PutMemo(uint64_t idx) {
  memo_next_ = std::max(memo_next_, idx + 1);
  uint8_t c = have_counts_ ? counts_.Get(idx) : 3;
  if (c == 0) return;  // never referenced again: do not keep it alive
  const Value& v = stack_.back();
  if (v.kind == Kind::kGlobal) ++memo_globals_;
  Settle(v);
  NodeArena::Retain(v);
  const size_t before = memo_->size;
  if (lists_ != nullptr && memo_->Find(idx) != nullptr) {
    // Known lists read the old slot. CPython never writes a PUT over a live
    // slot: fill every known list in, then read the rest of the file
    // without them, so that such PUTs cost one settling in all (a file of
    // them would otherwise walk the stack and the memo at each).
    SettleStack();
    lists_->Release(arena_);
    lists_.reset();
    known_off_ = true;
  }
  Memo::Entry* e = memo_->Insert(idx);
  if (memo_->size == before) ++memo_epoch_;
  // A kept-for-good entry may have lent its node out: a PUT over it (which
  // CPython never writes) leaves the node to the arena's end.
  if (e->remaining != 0 && e->remaining != 3) arena_->Release(e->v);
  e->v = v;
  e->remaining = c;
  e->special = v.kind == Kind::kGlobal || (v.kind == Kind::kList && v.node->known);
  // Frames and keys are referenced again and again (count 3): their gets
  // hand out borrowed references, so neither a get nor the release of the
  // list holding the copy touches the node (one L1 miss each, three per
  // frame of every new stack). The count retained above is never dropped.
  if (c == 3) e->v.borrowed = e->v.is_node();
}

Status Decoder::DoGlobal(std::string_view module, std::string_view name, const char* opname, uint64_t at) {
  int64_t id = LookupGlobal(module, name);
  if (id == 0)
    return Error(at, fmt::format("refused pickle opcode {} ({}.{})", opname, module, name), kNoCode);
  Value v;
  v.kind = Kind::kGlobal;
  v.i = id;
  return Push(v, at);
}

Status Decoder::DoReduce(uint64_t at) {
  if (stack_.size() < 2 || stack_[stack_.size() - 2].kind != Kind::kGlobal)
    return Error(at, "refused pickle opcode REDUCE", kNoCode);
  Value args = stack_.back();
  Value fn = stack_[stack_.size() - 2];
  stack_.resize(stack_.size() - 2);
  --globals_.back();
  if (args.kind != Kind::kTuple) {
    arena_->Release(args);
    return Error(at, "REDUCE arguments are not a tuple");
  }
  const auto& a = args.node->items;
  Value result;
  switch (fn.i) {
    case kRestoreTypeTag:
    case kBuildList:
      if (a.empty()) {
        arena_->Release(args);
        return Error(at, "type-tag helper called without arguments");
      }
      result = a[0];
      NodeArena::Retain(result);
      break;
    case kOrderedDict:
    case kMakeSet: {
      Kind k = fn.i == kOrderedDict ? Kind::kDict : Kind::kSet;
      uint64_t index;
      uint16_t role = RoleForNew(k, &index);
      Node* n = arena_->New(k, role, index);
      result.kind = k;
      result.node = n;
      if (!a.empty() && (a[0].kind == Kind::kList || a[0].kind == Kind::kTuple)) {
        copied_ += a[0].node->items.size();
        if (copied_ > at + limits_.max_copy_slack) {
          arena_->Release(result);
          arena_->Release(args);
          return Error(at, fmt::format("OrderedDict/set arguments copied {} items from {} bytes of input", copied_, at),
                       "one list referenced again and again (a memo bomb); refused");
        }
        for (const Value& item : a[0].node->items) {
          if (k == Kind::kSet) {
            NodeArena::Retain(item);
            n->items.push_back(item);
          } else if (item.kind == Kind::kTuple && item.node->items.size() == 2) {
            for (const Value& kv : item.node->items) {
              NodeArena::Retain(kv);
              n->items.push_back(kv);
            }
          }
        }
      }
      break;
    }
    default:
      arena_->Release(args);
      return Error(at, "unknown global in REDUCE");
  }
  arena_->Release(args);
  return Push(result, at);
}

Status Decoder::AddItems(uint8_t code, uint64_t at) {
  items_at_ = at;
  size_t m = 0;
  RETURN_IF_ERROR(PopMark(at, &m));
  if (m == 0) return Error(at, "pickle stack underflow in APPENDS/SETITEMS/ADDITEMS");
  const Value& target = stack_[m - 1];
  Kind want = code == kAppends ? Kind::kList : code == kSetItems ? Kind::kDict : Kind::kSet;
  if (target.kind != want) return Error(at, fmt::format("cannot add items to a {}", KindName(target.kind)));
  size_t count = stack_.size() - m;
  if (want == Kind::kDict && count % 2) return Error(at, "odd number of items for SETITEMS");
  Status s;
  if (want == Kind::kList && consumer_->Streams(target.node->role)) {
    SettleRange(m, target.node);
    const size_t n = stack_.size();
    for (size_t i = m; i < n; ++i) {
      // A batch holds up to 1,000 events, built as long ago: their nodes and
      // items have left the caches by now (perf: most of MarkConsumed and
      // much of Interpreter::Event were loads of them). Fetch each node 8
      // items ahead and, once it is here, the first lines of its items 4
      // ahead.
      if (i + 8 < n && stack_[i + 8].is_node()) __builtin_prefetch(stack_[i + 8].node);
      if (i + 4 < n && stack_[i + 4].is_node()) {
        const auto& ahead = stack_[i + 4].node->items;
        const char* d = reinterpret_cast<const char*>(ahead.data());
        const size_t bytes = std::min<size_t>(ahead.size() * sizeof(Value), 256);
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(d + off);
      }
      Streamed(stack_[i], target.node);
      if (s.ok()) s = consumer_->OnItem(target.node, target.node->streamed++, stack_[i]);
      arena_->Release(stack_[i]);
    }
    if (lists_ != nullptr && !lists_->pending.empty()) HarvestKnown(stack_.size() - m);
    holder_bound_ = std::min(holder_bound_, m - 1);  // the holders above are gone (resize below)
  } else {
    SettleRange(m);
    auto& items = target.node->items;
    items.insert(items.end(), stack_.begin() + static_cast<ptrdiff_t>(m), stack_.end());
  }
  stack_.resize(m);
  return s.ok() ? s : Located(std::move(s), at);
}

Status Decoder::Located(Status s, uint64_t at) const {
  if (s.ok() || s.code() != StatusCode::kInvalidInput || s.message().rfind(name_ + ":", 0) == 0) return s;
  return Error(at, s.message());
}

size_t Decoder::RunFast(const uint8_t* const begin, const uint8_t* end, Status* err) {
  // The opcodes that make up nearly all of a snapshot (memo gets, small
  // ints, dict/list building), executed without the Op round trip. Anything
  // that would fail goes back to the generic path, which reports it.
  const uint8_t* p = begin;
  auto consumed = [&] { return static_cast<size_t>(p - begin); };
  auto push = [&](const Value& v) { stack_.push_back(v); };
  auto push_int = [&](int64_t x, size_t op_len) {
    Value i;
    i.kind = Kind::kInt;
    i.i = x;
    stack_.push_back(i);
    p += op_len;
  };
  // Every opcode here is at least one byte and pushes at most one value, so
  // when the chunk cannot reach the stack limit no opcode needs to check it.
  const bool bounded = stack_.size() + static_cast<size_t>(end - p) < limits_.max_stack;
  while (p < end) {
    const size_t avail = static_cast<size_t>(end - p);
    if (!bounded && stack_.size() >= limits_.max_stack) return consumed();
    Value v;
    uint64_t idx;
    size_t len;
    switch (*p) {
      case kBinGet:
        if (avail < 2) return consumed();
        idx = p[1];
        len = 2;
        goto get;
      case kLongBinGet:
        if (avail < 5) return consumed();
        idx = Load32(p + 1);
        len = 5;
      get : {
        Memo::Entry* e = memo_->Find(idx);
        if (e == nullptr) return consumed();
        if (e->special) [[unlikely]] {
          // A memoized global needs Push()'s bookkeeping: the generic path.
          if (e->v.kind == Kind::kGlobal) return consumed();
          // A known list read back lands where only its cache is read, or
          // it gets its items first (in place: every holder shares the node).
          if (e->v.kind == Kind::kList && e->v.node->known) {
            GetKnown(p + len, end, e->v.node);
          } else {
            e->special = false;  // filled in since: a plain list, no node load per get
          }
        }
        push(memo_->Take(e));
        p += len;
        continue;
      }
      case kBinInt1:
        if (avail < 2) return consumed();
        push_int(p[1], 2);
        continue;
      case kBinInt2:
        if (avail < 3) return consumed();
        push_int(static_cast<int64_t>(LoadLe(p + 1, 2)), 3);
        continue;
      case kBinInt:
        if (avail < 5) return consumed();
        push_int(static_cast<int32_t>(Load32(p + 1)), 5);
        continue;
      case kLong1: {
        if (avail < 2) return consumed();
        const size_t n = p[1];
        if (n > 8 || avail < 2 + n) return consumed();
        uint64_t u;
        if (n > 0 && avail >= 10 && std::endian::native == std::endian::little) {
          // Addresses and times are 6-7 bytes: one load and a shift instead
          // of a byte loop (the bytes past the number are in the chunk).
          std::memcpy(&u, p + 2, 8);
          const unsigned drop = 64 - 8 * static_cast<unsigned>(n);
          u = static_cast<uint64_t>(static_cast<int64_t>(u << drop) >> drop);  // sign-extends
        } else {
          u = LoadLe(p + 2, static_cast<int>(n));
          if (n > 0 && n < 8 && (p[1 + n] & 0x80)) u |= ~uint64_t{0} << (8 * n);
        }
        push_int(static_cast<int64_t>(u), 2 + n);
        continue;
      }
      case kNewTrue:
      case kNewFalse:
        v.kind = Kind::kBool;
        v.i = *p == kNewTrue;
        push(v);
        ++p;
        continue;
      case kNone:
        push(v);
        ++p;
        continue;
      case kShortBinUnicode: {
        if (avail < 2 || avail < 2u + p[1]) return consumed();
        v.kind = Kind::kStr;
        v.id = pool_->Intern(std::string_view(reinterpret_cast<const char*>(p + 2), p[1])).value;
        push(v);
        p += 2 + p[1];
        continue;
      }
      case kBinUnicode: {
        if (avail < 5) return consumed();
        const uint64_t n = Load32(p + 1);
        if (n > limits_.max_kept_string || avail < 5 + n) return consumed();
        v.kind = Kind::kStr;
        v.id = pool_->Intern(std::string_view(reinterpret_cast<const char*>(p + 5), n)).value;
        push(v);
        p += 5 + n;
        continue;
      }
      case kMemoize:
        if (stack_.size() <= MarkBase()) return consumed();
        PutMemo(memo_next_);
        ++p;
        continue;
      case kBinPut:
      case kLongBinPut: {
        const size_t w = *p == kBinPut ? 1 : 4;
        if (avail < 1 + w || stack_.size() <= MarkBase()) return consumed();
        idx = w == 1 ? p[1] : Load32(p + 1);
        if (!MemoIndexOk(idx, offset() + consumed())) return consumed();
        PutMemo(idx);
        p += 1 + w;
        continue;
      }
      case kMark:
        if (marks_.size() >= limits_.max_stack) return consumed();
        marks_.push_back(stack_.size());
        globals_.push_back(0);
        ++p;
        continue;
      case kEmptyDict:
      case kEmptyList: {
        v.kind = *p == kEmptyDict ? Kind::kDict : Kind::kList;
        uint64_t index;
        uint16_t role = RoleForNew(v.kind, &index);
        uintptr_t watch = 0;
        if (v.kind == Kind::kList && consumer_->ReadsOnlyCache(role)) {
          if (const size_t used = KnownList(p, end, offset() + consumed(), role, &watch)) {
            p += used;
            continue;
          }
        }
        v.node = arena_->New(v.kind, role, index);
        if (watch != 0) Watch(watch, v.node);
        push(v);
        ++p;
        continue;
      }
      case kFrame:
        if (avail < 9) return consumed();
        p += 9;
        continue;
      case kSetItems:
      case kAppends: {
        // The same call the generic path makes: it checks and words errors.
        const uint64_t at = offset() + consumed();
        const uint8_t code = *p++;
        if (Status s = AddItems(code, at); !s.ok()) {
          *err = std::move(s);
          return consumed();
        }
        continue;
      }
      default:
        return consumed();
    }
  }
  return consumed();
}

Status Decoder::AfterFeed() {
  // Streaming holds a few thousand values at once (an event, its frames,
  // the memo's shared strings), plus a stand-in per distinct stack: at most
  // ~10^5 on every real and generated snapshot measured (fresh lists, 10^5
  // stacks, 2M events: 626 MB). A tuple nested 10^7 deep (one TUPLE1 byte a
  // level) or a structure that is never streamed holds one node per byte or
  // two, ~115 bytes each with its items: 2.3 GB from 20 MB. Checked once a
  // chunk, so the bound overshoots by one chunk's nodes at most; one node
  // per 2 bytes still fits a fully retained memo (stdin: no pass 1), whose
  // every entry cost at least an opcode and a MEMOIZE.
  constexpr uint64_t kBaseNodes = uint64_t{1} << 18;
  const uint64_t allowed = kBaseNodes + offset() / 2;
  if (arena_->live_nodes() <= allowed) return OkStatus();
  return Error(offset(), fmt::format("{} values held at once, over the limit of 2^18 + 1 per 2 input bytes",
                                     arena_->live_nodes()),
               "nested too deep, or never streamed");
}

Status Decoder::Execute(const Op& op, uint64_t at) {
  Value v;
  auto new_node = [&](Kind k) {
    Value c;
    c.kind = k;
    uint64_t index;
    uint16_t role = RoleForNew(k, &index);
    c.node = arena_->New(k, role, index);
    return c;
  };
  auto text = [&](const uint8_t* d, size_t n) { return std::string_view(reinterpret_cast<const char*>(d), n); };
  // A str/bytes payload, or the placeholder of one too long to keep.
  auto payload_id = [&](const char* what) {
    if (op.skipped == 0) return pool_->Intern(text(op.data, op.len)).value;
    return pool_->Intern(fmt::format("<{} of {} bytes, not kept>", what, op.skipped)).value;
  };
  auto need = [&](size_t n, const char* what) -> Status {
    if (stack_.size() - MarkBase() < n) return Error(at, fmt::format("pickle stack underflow in {}", what));
    return OkStatus();
  };
  // Pops the MARK group into a new container of kind k.
  auto from_mark = [&](Kind k) -> Status {
    size_t m = 0;
    RETURN_IF_ERROR(PopMark(at, &m));
    if (k == Kind::kDict && (stack_.size() - m) % 2) return Error(at, "odd number of items for DICT");
    Value c;
    c.kind = k;
    SettleRange(m);
    std::vector<Value> items(stack_.begin() + static_cast<ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    uint64_t index = 0;
    uint16_t role = k == Kind::kTuple ? 0 : RoleForNew(k, &index);
    c.node = arena_->New(k, role, index);
    c.node->items = std::move(items);
    return Push(c, at);
  };

  switch (op.code) {
    case kProto:
      if (op.i > 5) return Error(at, fmt::format("unsupported pickle protocol {}", op.i));
      return OkStatus();
    case kFrame:
      return OkStatus();  // a read-ahead hint; we stream anyway
    case kStop: {
      if (stack_.empty()) return Error(at, "STOP with an empty pickle stack");
      Value root = stack_.back();
      stack_.pop_back();
      Settle(root);
      Status s = Located(consumer_->OnRoot(root), at);
      arena_->Release(root);
      done_ = true;
      return s;
    }
    case kMark:
      if (marks_.size() >= limits_.max_stack) return Error(at, "too many open MARKs");
      marks_.push_back(stack_.size());
      globals_.push_back(0);
      return OkStatus();
    case kPop:
      if (stack_.size() > MarkBase()) {
        if (stack_.back().kind == Kind::kGlobal) --globals_.back();
        arena_->Release(stack_.back());
        stack_.pop_back();
        return OkStatus();
      }
      [[fallthrough]];
    case kPopMark: {
      size_t m = 0;
      RETURN_IF_ERROR(PopMark(at, &m));
      for (size_t i = m; i < stack_.size(); ++i) arena_->Release(stack_[i]);
      stack_.resize(m);
      return OkStatus();
    }
    case kDup:
      RETURN_IF_ERROR(need(1, "DUP"));
      Settle(stack_.back());
      v = stack_.back();
      NodeArena::Retain(v);
      return Push(v, at);
    case kNone:
      return Push(v, at);
    case kNewTrue:
    case kNewFalse:
      v.kind = Kind::kBool;
      v.i = op.code == kNewTrue;
      return Push(v, at);
    case kBinInt: case kBinInt1: case kBinInt2:
      v.kind = Kind::kInt;
      v.i = op.i;
      return Push(v, at);
    case kLong1:
    case kLong4: {
      if (const uint64_t n = op.skipped ? op.skipped : op.len; n > limits_.max_long_bytes)
        return Error(at, fmt::format("integer of {} bytes exceeds the {}-byte limit", n, limits_.max_long_bytes),
                     "more than 4300 decimal digits, Python's own limit for int to str");
      if (op.len <= 8) {
        uint64_t u = LoadLe(op.data, static_cast<int>(op.len));
        if (op.len > 0 && op.len < 8 && (op.data[op.len - 1] & 0x80)) u |= ~uint64_t{0} << (8 * op.len);
        v.kind = Kind::kInt;
        v.i = static_cast<int64_t>(u);
        return Push(v, at);
      }
      // Wider than 8 bytes: keep the exact value as decimal text.
      v.kind = Kind::kBigInt;
      v.id = pool_->Intern(LongToDecimal(op.data, op.len)).value;
      return Push(v, at);
    }
    case kInt:
    case kLong: {
      std::string s(text(op.data, op.len));
      if (!s.empty() && s.back() == 'L') s.pop_back();
      if (op.code == kInt && (s == "00" || s == "01")) {
        v.kind = Kind::kBool;
        v.i = s == "01";
        return Push(v, at);
      }
      errno = 0;
      char* endp = nullptr;
      long long x = std::strtoll(s.c_str(), &endp, 10);
      if (s.empty() || *endp != '\0') return Error(at, "malformed INT/LONG text");
      if (errno == ERANGE) {
        if (s.size() > 4301)  // sign and 4300 digits: the same limit as LONG1/LONG4
          return Error(at, fmt::format("integer of {} digits exceeds the 4300-digit limit", s.size()),
                       "Python's own limit for int to str");
        v.kind = Kind::kBigInt;
        v.id = pool_->Intern(s[0] == '+' ? s.substr(1) : s).value;
      } else {
        v.kind = Kind::kInt;
        v.i = x;
      }
      return Push(v, at);
    }
    case kBinFloat:
      v.kind = Kind::kFloat;
      std::memcpy(&v.d, &op.i, 8);
      return Push(v, at);
    case kFloat: {
      std::string s(text(op.data, op.len));
      char* endp = nullptr;
      v.kind = Kind::kFloat;
      v.d = std::strtod(s.c_str(), &endp);
      if (s.empty() || *endp != '\0') return Error(at, "malformed FLOAT text");
      return Push(v, at);
    }
    case kShortBinUnicode: case kBinUnicode: case kBinUnicode8: case kUnicode:
      v.kind = Kind::kStr;
      v.id = payload_id("string");
      return Push(v, at);
    case kString: {
      // Protocol 0 repr: strip the quotes, keep escapes as written.
      std::string_view s = text(op.data, op.len);
      if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
        s = s.substr(1, s.size() - 2);
      v.kind = Kind::kStr;
      v.id = pool_->Intern(s).value;
      return Push(v, at);
    }
    case kShortBinString: case kBinString:
      v.kind = Kind::kStr;
      v.id = payload_id("string");
      return Push(v, at);
    case kShortBinBytes: case kBinBytes: case kBinBytes8: case kByteArray8:
      v.kind = Kind::kBytes;
      v.id = payload_id("bytes");
      return Push(v, at);
    case kEmptyDict:
      return Push(new_node(Kind::kDict), at);
    case kEmptyList:
      return Push(new_node(Kind::kList), at);
    case kEmptySet:
      return Push(new_node(Kind::kSet), at);
    case kEmptyTuple:
      v.kind = Kind::kTuple;
      v.node = arena_->New(Kind::kTuple, 0, 0);
      return Push(v, at);
    case kTuple1: case kTuple2: case kTuple3: {
      size_t n = op.code - kTuple1 + 1u;
      RETURN_IF_ERROR(need(n, "TUPLE1/2/3"));
      v.kind = Kind::kTuple;
      v.node = arena_->New(Kind::kTuple, 0, 0);
      v.node->items.assign(stack_.end() - static_cast<ptrdiff_t>(n), stack_.end());
      for (const Value& x : v.node->items) {
        Settle(x);
        if (x.kind == Kind::kGlobal) --globals_.back();
      }
      stack_.resize(stack_.size() - n);
      return Push(v, at);
    }
    case kTuple:
      return from_mark(Kind::kTuple);
    case kList:
      return from_mark(Kind::kList);
    case kDict:
      return from_mark(Kind::kDict);
    case kFrozenSet:
      return from_mark(Kind::kSet);
    case kAppend: {
      RETURN_IF_ERROR(need(2, "APPEND"));
      v = stack_.back();
      stack_.pop_back();
      const Value& list = stack_.back();
      if (list.kind != Kind::kList) {
        arena_->Release(v);
        return Error(at, fmt::format("APPEND to a {}", KindName(list.kind)));
      }
      items_at_ = at;
      return Located(AddToList(list.node, v), at);
    }
    case kAppends:
    case kSetItems:
    case kAddItems:
      return AddItems(op.code, at);
    case kSetItem: {
      RETURN_IF_ERROR(need(3, "SETITEM"));
      const Value& target = stack_[stack_.size() - 3];
      if (target.kind != Kind::kDict) return Error(at, fmt::format("SETITEM on a {}", KindName(target.kind)));
      Settle(stack_[stack_.size() - 2]);
      Settle(stack_.back());
      target.node->items.push_back(stack_[stack_.size() - 2]);
      target.node->items.push_back(stack_.back());
      stack_.resize(stack_.size() - 2);
      return OkStatus();
    }
    case kMemoize:
      RETURN_IF_ERROR(need(1, "MEMOIZE"));
      PutMemo(memo_next_);
      return OkStatus();
    case kBinPut: case kLongBinPut: case kPut: {
      RETURN_IF_ERROR(need(1, "PUT"));
      uint64_t idx = static_cast<uint64_t>(op.i);
      if (op.code == kPut) idx = std::strtoull(std::string(text(op.data, op.len)).c_str(), nullptr, 10);
      if (!MemoIndexOk(idx, at)) return Error(at, fmt::format("memo index {} out of range", idx));
      PutMemo(idx);
      return OkStatus();
    }
    case kBinGet: case kLongBinGet: case kGet: {
      uint64_t idx = static_cast<uint64_t>(op.i);
      if (op.code == kGet) idx = std::strtoull(std::string(text(op.data, op.len)).c_str(), nullptr, 10);
      Memo::Entry* e = memo_->Find(idx);
      if (e == nullptr) return Error(at, fmt::format("memo index {} used before it was defined", idx));
      // No look-ahead here (RunFast's GetLandsKnown): a known list gets its items.
      if (e->v.kind == Kind::kList && e->v.node->known) FillOwn(e->v.node);
      return Push(memo_->Take(e), at);
    }
    case kGlobal:
      return DoGlobal(text(op.data, op.len), text(op.data2, op.len2), "GLOBAL", at);
    case kStackGlobal: {
      RETURN_IF_ERROR(need(2, "STACK_GLOBAL"));
      const Value& mod = stack_[stack_.size() - 2];
      const Value& name = stack_.back();
      if (mod.kind != Kind::kStr || name.kind != Kind::kStr)
        return Error(at, "refused pickle opcode STACK_GLOBAL", kNoCode);
      std::string m(pool_->Get(StringId{mod.id})), n(pool_->Get(StringId{name.id}));
      stack_.resize(stack_.size() - 2);
      return DoGlobal(m, n, "STACK_GLOBAL", at);
    }
    case kReduce:
      return DoReduce(at);
    case kBuild: case kInst: case kObj: case kNewObj: case kNewObjEx: case kPersId:
    case kBinPersId: case kExt1: case kExt2: case kExt4: case kNextBuffer: case kReadonlyBuffer:
      return Error(at, fmt::format("refused pickle opcode {} (0x{:02x})", OpName(op.code), op.code), kNoCode);
    default:
      return Error(at, fmt::format("unknown pickle opcode 0x{:02x}", op.code));
  }
}

}  // namespace memtk::pickle
