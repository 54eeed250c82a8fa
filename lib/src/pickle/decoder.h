// Streaming, code-free pickle decoder (protocols 0-5).
//
// Push-based: Feed() accepts any chunk boundary (a partial opcode is kept in
// a small carry buffer), Finish() reports truncation. Values are built in a
// NodeArena; the Consumer decides, per container, whether its children are
// stored or streamed out one by one (see value.h). Nothing is executed:
// GLOBAL/STACK_GLOBAL/REDUCE are accepted only for a short allowlist of
// code-free helpers that TorchScript's pickler emits
// (torch.jit._pickle.restore_type_tag/build_*list, collections.OrderedDict),
// interpreted here; BUILD, INST, OBJ, NEWOBJ(_EX), PERSID, BINPERSID, EXT*,
// and every other global are refused with an error naming opcode and byte.
//
// Memory: the memo is the one structure that can grow with the file. With a
// MemoRefCounts from a first pass (RefCountPass), an entry is stored only if
// it is referenced later and is dropped after its last reference, so memory
// follows what is still reachable (distinct frames, strings and stacks), not
// the number of events. Without counts every entry is kept (pipes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memtk/base/pod_vector.h"
#include "memtk/base/status.h"
#include "memtk/base/string_pool.h"
#include "pickle/memo_counts.h"
#include "pickle/value.h"

namespace memtk::pickle {

/// Receives the decoded structure. All Values passed in are borrowed.
class Consumer {
 public:
  virtual ~Consumer() = default;
  /// Role of a container about to be created. `parent` is the container it
  /// will be stored in (nullptr at top level or when unknown), `key` the
  /// dict key it will be stored under (nullptr for list items), `index` its
  /// position in the parent. With a dict `parent` it must have no effect
  /// beyond its answer: the decoder also asks it where a list fetched from
  /// the memo would land (Decoder::GetLandsKnown).
  virtual uint16_t RoleOf(const Node* parent, const Value* key, uint64_t index, Kind kind) = 0;
  /// True if children appended to a list with this role go to OnItem().
  virtual bool Streams(uint16_t role) const = 0;
  virtual Status OnItem(Node* list, uint64_t index, const Value& item) = 0;
  /// True if a list with this role is read only through its Node::cache
  /// once the consumer has set it (>= 0), never through its items. The
  /// decoder may then hand out, for every later list built from the same
  /// kept-for-good memo references, one shared node without items whose
  /// cache holds that value (Decoder: "known lists"), and for a list that is
  /// read back, one node of its own. The decoder relies on OnItem() reading
  /// (setting the cache of) every such list of an item streamed to it.
  virtual bool ReadsOnlyCache(uint16_t /*role*/) const { return false; }
  /// The top-level object, at STOP.
  virtual Status OnRoot(const Value& root) = 0;
};

struct DecoderLimits {
  uint64_t max_string = 1ull << 30;    ///< longest str/bytes argument
  /// A str/bytes argument longer than this is stepped over as it streams
  /// past, never buffered or interned: its value becomes a short
  /// placeholder ("<string of N bytes, not kept>"). Real snapshots' longest
  /// strings are a few KiB (source lines, extra JSON); this is the cap
  /// AppendJson puts on any value (kMaxJsonBytes), so nothing memtk writes
  /// changes below it.
  uint64_t max_kept_string = 64u << 10;
  /// Widest LONG1/LONG4 accepted, in bytes: at most 4300 decimal digits,
  /// Python's own limit for int <-> str (sys.get_int_max_str_digits()).
  /// Wider integers are refused rather than converted (quadratic in width).
  uint64_t max_long_bytes = 1785;
  /// OrderedDict/set REDUCE copies the items of its argument list; all such
  /// copies together may exceed the input bytes read so far by at most this.
  /// A list is copied again for each memo reference to it, so without a
  /// budget 10^4 references to a list of 10^4 pairs make 10^8 items.
  uint64_t max_copy_slack = 1u << 20;
  uint64_t max_stack = 1ull << 24;     ///< values on the VM stack
  /// A PUT index may exceed the PUT's byte offset by at most this much.
  /// Writers number memo slots 0, 1, 2, ... and each slot costs at least one
  /// byte, so real pickles stay far below; hostile ones cannot make the
  /// per-slot tables outgrow the input.
  uint64_t max_memo_gap = 1ull << 20;
};

/// The opcode machinery shared by both passes.
class DecoderBase {
 public:
  /// `name` prefixes every error ("snap.pickle").
  explicit DecoderBase(std::string name) : name_(std::move(name)) {}
  virtual ~DecoderBase() = default;
  /// Feeds the next bytes. Errors are sticky: later calls return the first.
  Status Feed(const uint8_t* data, size_t n);
  /// Reports a truncated pickle if STOP was not reached.
  Status Finish();
  bool done() const { return done_; }
  /// Bytes consumed so far (offset of the next opcode).
  uint64_t offset() const { return offset_; }
  /// Bytes fed so far: offset() plus those of an opcode cut by a chunk end.
  uint64_t fed() const { return offset_ + carry_.size(); }
  void set_limits(const DecoderLimits& limits) { limits_ = limits; }
  /// Marks the input as decompressed gzip, so offsets say "uncompressed byte".
  void set_gzip(bool g) { gzip_ = g; }
  /// Arguments stepped over because they exceeded max_kept_string.
  uint64_t skipped_values() const { return skipped_values_; }

 protected:
  struct Op;
  /// Executes one parsed opcode that starts at byte `at`.
  virtual Status Execute(const Op& op, uint64_t at) = 0;
  /// Executes as many of the frequent opcodes at the start of [p, end) as it
  /// can inline, without the generic ParseOp/Execute round trip; returns the
  /// bytes consumed. It stops (without error) at anything unusual — an op
  /// cut by the chunk end, a rare opcode, any condition that would be an
  /// error — and the generic path takes that op, so error texts and offsets
  /// come from one place. Where it runs the generic path's own code for an
  /// op (APPENDS/SETITEMS) it sets `*err` to that code's error, with the
  /// consumed count including the failing op.
  virtual size_t RunFast(const uint8_t* p, const uint8_t* end, Status* err) = 0;
  /// What is open at the end of input, for the truncation message.
  virtual const char* OpenContext() const { return nullptr; }
  /// Runs after each Feed's bytes are decoded (once a chunk): pass 2 checks
  /// how many values it holds there.
  virtual Status AfterFeed() { return OkStatus(); }
  Status Error(uint64_t at, std::string_view what, std::string_view why = {}) const;
  /// Numbers the next byte fed as `offset` (a pass that starts mid-input).
  void set_offset(uint64_t offset) { offset_ = offset; }
  bool MemoIndexOk(uint64_t idx, uint64_t at) const { return idx <= at + limits_.max_memo_gap; }
  size_t ParseOp(const uint8_t* p, const uint8_t* end, Op* op, size_t* need, Status* err);

  std::string name_;
  DecoderLimits limits_;
  bool done_ = false;
  bool gzip_ = false;

 private:
  /// Steps over what is left of a skipped argument at the start of [*p, end).
  void Skip(const uint8_t** p, const uint8_t* end);

  uint64_t offset_ = 0;
  uint64_t skip_ = 0;  // bytes of a skipped argument still to come
  uint64_t skipped_values_ = 0;
  std::vector<uint8_t> carry_;
  size_t need_ = 0;
  Status sticky_;
};

/// First pass: counts memo references, builds nothing.
class RefCountPass : public DecoderBase {
 public:
  using DecoderBase::DecoderBase;
  /// Makes the pass start at byte `offset`, an opcode boundary, without the
  /// memo state before it: every GET that MemoIndexOk allows is counted.
  void StartAt(uint64_t offset);
  MemoRefCounts Take() { return std::move(counts_); }

 private:
  // A GET of a slot no PUT has defined is pass 2's error to report, so it
  // is not counted; a pass that started mid-input cannot tell and counts
  // it (harmless: pass 2 stops at that GET).
  void CountGet(uint64_t idx, uint64_t at) {
    if (idx < memo_next_ || (mid_input_ && MemoIndexOk(idx, at))) counts_.Bump(idx);
  }
  Status Execute(const Op& op, uint64_t at) override;
  size_t RunFast(const uint8_t* p, const uint8_t* end, Status* err) override;
  MemoRefCounts counts_;
  uint64_t memo_next_ = 0;
  bool mid_input_ = false;
};

/// Random access to the pickle's bytes: fills up to `cap` bytes from
/// `offset`, fewer only at the end of the input.
using ReadAtFn = std::function<Status(uint64_t offset, uint8_t* buf, size_t cap, size_t* n)>;

/// The first opcode boundary at or after `target` that can be found without
/// decoding: steps over protocol 4+ FRAME headers (and the long strings
/// CPython writes between frames) from the start. nullopt for protocols
/// without frames, or when the walk meets anything else.
std::optional<uint64_t> FindFrameCut(const ReadAtFn& read_at, uint64_t size, uint64_t target);

/// RefCountPass on two threads: [0, cut) on this one and [cut, size) on a
/// second, cut = FindFrameCut(target), counts merged; `target` 0 means
/// size / 2. Equal to the serial pass wherever pass 2 can use them. Returns
/// false (nothing stored) when there is no cut, the first half did not end
/// exactly on it, or a read failed: the caller then runs the serial pass.
bool CountMemoRefsSplit(const std::string& name, uint64_t size, const ReadAtFn& read_at, size_t chunk,
                        MemoRefCounts* out, uint64_t target = 0);

/// Bytes that grow without being zeroed: pages of a large buffer that are
/// never written are never resident (ListHints' keys, one per ring slot).
class GrowBytes {
 public:
  uint8_t* data() { return p_.get(); }
  const uint8_t* data() const { return p_.get(); }
  size_t size() const { return n_; }
  /// Grows to `n` bytes (never shrinks), keeping the first `keep` bytes.
  void Grow(size_t n, size_t keep) {
    if (n <= n_) return;
    std::unique_ptr<uint8_t[]> q(new uint8_t[n]);  // default-initialised: not zeroed
    if (keep != 0) std::copy(p_.get(), p_.get() + std::min(keep, n_), q.get());
    p_ = std::move(q);
    n_ = n;
  }

 private:
  std::unique_ptr<uint8_t[]> p_;
  size_t n_ = 0;
};

/// The known-list candidates of one chunk (see KnownLists in decoder.cpp),
/// found and parsed by FindListHints on the read-ahead thread, so that the
/// decoding thread neither searches for them nor parses their gets: with
/// many distinct stacks that search and parse were ~15% of its time (perf,
/// docs/BENCHMARKS.md "Fifth pass"). Only hints: the decoder takes one only
/// at a list it has reached itself, at the same byte, with its own key
/// width and below its own memo end, and parses the list itself otherwise.
struct ListHints {
  struct List {
    uint32_t at = 0;       ///< offset of its EMPTY_LIST in the chunk
    uint32_t after = 0;    ///< bytes from there to the byte after APPEND(S)
    uint32_t top = 0;      ///< the largest memo index its gets read
    uint32_t key_end = 0;  ///< its key: keys[previous list's key_end, key_end)
    uint64_t hash = 0;     ///< the key's hash, before the role is mixed in
  };
  uint64_t offset = 0;   ///< input offset of the chunk's first byte
  uint64_t scanned = 0;  ///< chunk bytes searched: all, unless a budget or cap stopped it
  uint64_t looked = 0;   ///< bytes searched or parsed to find them (bounded, tests)
  unsigned width = 3;    ///< bytes per memo index in the keys (3 or 4)
  std::vector<List> lists;
  GrowBytes keys;  ///< the lists' keys, then unused bytes
};

/// Fills *out with the known-list candidates of the chunk [data, data + n)
/// that starts at input offset `offset`, keys `width` (3 or 4) bytes per
/// index. Reads only the chunk; pure, so it may run on any thread. Bounded
/// on any input: it stops (setting out->scanned) once it has looked at 4n
/// bytes, or holds n / 16 + 16 lists, or n + 4096 key bytes (checked before
/// each candidate, so keys stay below ~3n). Chunks of 1 GiB or more get no
/// hints.
void FindListHints(const uint8_t* data, size_t n, uint64_t offset, unsigned width, ListHints* out);

/// Second (or only) pass: builds values and drives the Consumer.
class Decoder : public DecoderBase {
 public:
  Decoder(std::string name, StringPool* pool, NodeArena* arena, Consumer* consumer);
  ~Decoder() override;
  /// Counts from a RefCountPass over the same bytes; without them every
  /// memo entry is kept.
  void SetRefCounts(MemoRefCounts counts);
  /// Memo entries currently held (for tests and memory accounting).
  size_t memo_size() const;
  /// Bytes decoded so far, to the opcode that last handed items to the
  /// Consumer (offset() lags behind inside a chunk's fast loop).
  uint64_t position() const { return std::max(offset(), items_at_); }
  /// KnownList's look-ahead (tests): lists parsed ahead, and bytes it
  /// searched or parsed to find them (bounded per list on any input).
  uint64_t look_ahead_lists() const { return look_ahead_lists_; }
  uint64_t look_ahead_bytes() const { return look_ahead_bytes_; }
  /// Hints for the chunk passed to the next Feed() (FindListHints over the
  /// same bytes), or nullptr; the caller keeps them alive through that
  /// Feed() and clears them after it. Hints whose offset is not that of the
  /// chunk's first byte (every byte fed so far) are not used.
  void SetListHints(const ListHints* hints) {
    hints_ = hints != nullptr && hints->offset == fed() ? hints : nullptr;
    hint_i_ = 0;
  }
  /// Lists whose hint matched (KnownList took its key instead of parsing;
  /// the list may still go the generic way after that: tests, bench).
  uint64_t hinted_lists() const { return hinted_lists_; }
  /// One past the largest memo index defined so far (the read-ahead thread's
  /// guess of the key width of the chunks it scans).
  uint64_t memo_next() const { return memo_next_; }

 private:
  struct Memo;
  Status Execute(const Op& op, uint64_t at) override;
  size_t RunFast(const uint8_t* p, const uint8_t* end, Status* err) override;
  Status AddItems(uint8_t code, uint64_t at);
  /// The Consumer's errors name no position: an InvalidInput from it that
  /// does not start with the input's name gets " at byte N" here.
  Status Located(Status s, uint64_t at) const;
  /// Where the open MARK group starts on the stack (0 with no MARK).
  size_t MarkBase() const { return marks_.empty() ? 0 : marks_.back(); }
  const char* OpenContext() const override;
  Status AfterFeed() override;
  uint16_t RoleForNew(Kind kind, uint64_t* index);
  Status Push(const Value& v, uint64_t at);
  Status AddToList(Node* list, const Value& v);
  Status PopMark(uint64_t at, size_t* mark);
  Status DoReduce(uint64_t at);
  Status DoGlobal(std::string_view module, std::string_view name, const char* opname, uint64_t at);
  /// Memoizes the top of the stack at `idx` (advancing the next MEMOIZE
  /// index past it), unless the counts say it is never referenced again.
  void PutMemo(uint64_t idx);
  /// At the EMPTY_LIST `p` (byte `at`) of a list with role `role`: if the
  /// list is one seen before (see KnownLists in decoder.cpp), pushes its
  /// shared node (or, for a list read back later, a node of the decoder's
  /// own: NewOwn) and returns the bytes of the whole list; else returns 0 and
  /// sets *watch to the record that should remember the node about to be
  /// built (0: none).
  size_t KnownList(const uint8_t* p, const uint8_t* end, uint64_t at, uint16_t role, uintptr_t* watch);
  /// Before `v` goes anywhere but the list its known lists were made for:
  /// gives them their items back. A holder's stack entry is flagged
  /// `cached` (KnownList), so any other value costs no load of its node.
  void Settle(const Value& v, const Node* into = nullptr) {
    if (v.kind == Kind::kDict && v.cached && v.node->streams_into != nullptr && v.node->streams_into != into)
      FillKnown(v.node);
  }
  /// Settle() for stack_[from...]: a tight loop (callgrind: the per-item
  /// test otherwise cost 8% more instructions on snapshots without any).
  void SettleRange(size_t from, const Node* into = nullptr) {
    // A dict's SETITEMS (its own entry, the holder, is below `from`) costs
    // no loop while the holders sit in the trace's batch below it.
    if (holders_ == 0 || from > holder_bound_) return;
    const Value* v = stack_.data();
    for (size_t i = from, n = stack_.size(); i < n; ++i)
      if (v[i].cached && v[i].kind == Kind::kDict) Settle(v[i], into);
  }
  void FillKnown(Node* holder);
  /// `v` goes to the consumer streamed into `into`: a holder made for it
  /// stops being one (its node is released right after).
  void Streamed(const Value& v, const Node* into) {
    if (v.cached && v.kind == Kind::kDict && v.node->streams_into == into) {
      v.node->streams_into = nullptr;
      --holders_;
      if (v.id != 0) MarkConsumed(v);
    }
  }
  /// Where a known list may be stored (KnownList, GetLandsKnown): the open
  /// MARK's index when the dict below it is this decoder's own (not
  /// borrowed, one reference) and itself sits in the MARK of a streaming
  /// list (and holds known lists for no other); else 0.
  size_t HolderMark() const;
  /// Makes the dict below MARK `m` (from HolderMark) a holder of known lists
  /// that may reach the consumer only streamed into that list (Settle).
  void MakeHolder(size_t m);
  /// KnownList's look-ahead: parses the lists after the one at `p` (byte
  /// `at`, ending before `q`) in [q, end) and fetches their table entries
  /// into the cache. Changes nothing but the look-ahead ring.
  void LookAhead(const uint8_t* p, const uint8_t* q, const uint8_t* end, uint64_t at, uint16_t role, unsigned width,
                 uint64_t defined);
  /// LookAhead's work with hints: fetches the table entries of the next two
  /// hinted lists (role `role`) into the cache.
  void PrefetchHinted(uint16_t role);
  /// A holder goes to the consumer: its lists of the decoder's own have been
  /// read (FillOwn keeps their cache).
  void MarkConsumed(const Value& holder);
  /// A list of the decoder's own is about to be pushed into the dict whose
  /// stack entry is `dict` (MARK at `m`): notes where, in the entry's `id`
  /// (unused on a dict otherwise), for MarkConsumed.
  void NoteOwn(Value* dict, size_t m);
  /// KnownList's hit for a list whose own memo slot is read back: a node of
  /// the decoder's own for record `rec`, going into the dict at stack_[m-1].
  Value NewOwn(const void* rec, size_t m);
  /// A GET fetches the known list `list`: GetLandsKnown, else FillOwn.
  void GetKnown(const uint8_t* next, const uint8_t* end, Node* list);
  /// Gives a known list of the decoder's own (read back through the memo)
  /// its items in place, so every dict and memo slot holding it sees them.
  void FillOwn(Node* list);
  /// At a GET of the known list `list`, `next` the byte after the GET: true
  /// if the list lands where KnownList would put it (a dict value stored at
  /// once into a dict streamed into its trace, under a key of the list's
  /// role); that dict then becomes a holder.
  bool GetLandsKnown(const uint8_t* next, const uint8_t* end, const Node* list);
  /// Remembers `list`, about to be built, as record `rec`'s first list.
  void Watch(uintptr_t rec, Node* list);
  /// After `streamed` items went to the consumer: turns the watched lists
  /// it has read into shared nodes.
  void HarvestKnown(size_t streamed);
  /// Fills in every holder on the stack and every known list of the
  /// decoder's own in the memo (before the memo changes under them).
  void SettleStack();

  StringPool* pool_;
  NodeArena* arena_;
  Consumer* consumer_;
  PodVector<Value> stack_;  // inline push (see PodVector::push_back)
  std::vector<size_t> marks_;
  std::vector<uint32_t> globals_;  // globals on the stack per mark level
  std::unique_ptr<Memo> memo_;
  struct KnownLists;
  std::unique_ptr<KnownLists> lists_;
  std::vector<uint8_t> known_key_;  // KnownList's scratch: the list's key
  uint64_t memo_epoch_ = 0;  // bumped by a PUT over a live memo slot
  uint64_t memo_globals_ = 0;  // globals memoized (KnownList's record check)
  bool known_off_ = false;     // a PUT over a live slot: no known lists from then on
  uint64_t look_ahead_lists_ = 0, look_ahead_bytes_ = 0;
  const ListHints* hints_ = nullptr;  // this chunk's (SetListHints)
  size_t hint_i_ = 0;                 // the first hint not passed yet
  uint64_t hinted_lists_ = 0;
  // Dicts with streams_into set, give or take holders dropped unstreamed
  // (then it stays high: only SettleRange's shortcut is lost).
  size_t holders_ = 0;
  // No holder's stack entry lies above this index (raised where a dict
  // becomes a holder, lowered where a streamed batch leaves the stack).
  size_t holder_bound_ = 0;
  bool own_lists_ = false;  // KnownList has handed out a node of its own
  MemoRefCounts counts_;
  bool have_counts_ = false;
  uint64_t memo_next_ = 0;
  uint64_t copied_ = 0;  // items REDUCE copied (DecoderLimits::max_copy_slack)
  uint64_t items_at_ = 0;  // offset of the last APPEND(S)/SETITEMS/ADDITEMS
};

}  // namespace memtk::pickle
