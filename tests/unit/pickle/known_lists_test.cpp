// Known lists (issue #20): a frame list seen before is handed out as one
// shared node. Everything must read exactly as when each list is built: the
// decoder-level test checks that sharing happens at all and what the consumer
// sees; the snapshot-level ones compare every record, counter and key list
// with the one-pass read (no counts: no sharing), including hostile pickles
// that take an event dict holding shared lists somewhere else.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "memtk/snapshot/snapshot.h"
#include "pickle/decoder.h"
#include "pickle/value.h"
#include "test_util.h"

namespace {

// Writes protocol 4 opcodes the way CPython's pickler does (strings memoized
// and fetched again with BINGET/LONG_BINGET).
class PickleWriter {
 public:
  PickleWriter() : b_{0x80, 4} {}
  void Op(uint8_t c) { b_.push_back(c); }
  uint32_t Memoize() {
    b_.push_back(0x94);
    return memo_++;
  }
  void Get(uint32_t i) {
    if (i < 256) {
      b_.insert(b_.end(), {'h', static_cast<uint8_t>(i)});
    } else {
      b_.insert(b_.end(), {'j', static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i >> 16),
                           static_cast<uint8_t>(i >> 24)});
    }
  }
  // LONG_BINGET even for a slot below 256 (CPython never does; any pickler may).
  void GetLong(uint32_t i) {
    b_.insert(b_.end(), {'j', static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i >> 16),
                         static_cast<uint8_t>(i >> 24)});
  }
  void Put(uint32_t i) {
    if (i < 256) {
      b_.insert(b_.end(), {'q', static_cast<uint8_t>(i)});
    } else {
      b_.insert(b_.end(), {'r', static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i >> 16),
                           static_cast<uint8_t>(i >> 24)});
    }
  }
  void Str(const std::string& s) {
    if (auto it = strs_.find(s); it != strs_.end()) return Get(it->second);
    b_.insert(b_.end(), {0x8c, static_cast<uint8_t>(s.size())});
    b_.insert(b_.end(), s.begin(), s.end());
    strs_[s] = Memoize();
  }
  void Int(uint8_t v) { b_.insert(b_.end(), {'K', v}); }
  // A frame dict, memoized; returns its slot.
  uint32_t Frame(const std::string& file, uint8_t line, const std::string& name) {
    Op('}');
    const uint32_t slot = Memoize();
    Op('(');
    if (!file.empty()) {
      Str("filename");
      Str(file);
    }
    Str("line");
    Int(line);
    Str("name");
    Str(name);
    Op('u');
    return slot;
  }
  // A fresh frame list of gets, as PyTorch writes one per event; returns
  // its memo slot.
  uint32_t FrameList(const std::vector<uint32_t>& frames) {
    Op(']');
    const uint32_t slot = Memoize();
    if (frames.size() == 1) {
      Get(frames[0]);
      Op('a');
      return slot;
    }
    Op('(');
    for (uint32_t f : frames) Get(f);
    Op('e');
    return slot;
  }
  // An event dict, left open (MARK pushed, keys written) when `close` is
  // false; returns its frame list's memo slot.
  uint32_t Event(const std::string& action, uint8_t size, const std::vector<uint32_t>& frames, bool close = true) {
    EventHead(action, size);
    Str("frames");
    const uint32_t slot = FrameList(frames);
    if (close) Op('u');
    return slot;
  }
  // An event dict up to its last key: `rest` writes the rest of its MARK
  // group (key/value pairs), SETITEMS follows.
  template <class Rest>
  void EventWith(const std::string& action, uint8_t size, Rest rest) {
    EventHead(action, size);
    rest();
    Op('u');
  }
  // An event that reads back the frame list at memo slot `list` (the
  // shared-list shape: an allocation's free events fetch its list).
  void EventGet(const std::string& action, uint8_t size, uint32_t list, const std::string& key = "frames") {
    EventWith(action, size, [&] {
      Str(key);
      Get(list);
    });
  }
  // An event whose `key` is the list at memo slot `list` with `frame`
  // appended (APPEND right after the get: the list changes in place).
  void EventAppend(const std::string& action, uint8_t size, uint32_t list, uint32_t frame,
                   const std::string& key = "frames") {
    EventWith(action, size, [&] {
      Str(key);
      Get(list);
      Get(frame);
      Op('a');
    });
  }
  // An event dict {"action": action, "frames": [...]} left open inside its
  // memoized frame list's MARK, for the caller's items; returns the list's
  // slot. CloseEventList() ends the list (APPENDS) and the dict.
  uint32_t OpenEventList(const std::string& action) {
    Op('}');
    Memoize();
    Op('(');
    Str("action");
    Str(action);
    Str("frames");
    Op(']');
    const uint32_t list = Memoize();
    Op('(');
    return list;
  }
  void CloseEventList() {
    Op('e');
    Op('u');
  }
  std::vector<uint8_t>& bytes() { return b_; }

  // An event dict's opening up to its first two items (action, size).
  void EventHead(const std::string& action, uint8_t size) {
    Op('}');
    Memoize();
    Op('(');
    Str("action");
    Str(action);
    Str("size");
    Int(size);
  }

 private:
  std::vector<uint8_t> b_;
  uint32_t memo_ = 0;
  std::map<std::string, uint32_t> strs_;
};

// A snapshot dict with one device trace; `events(w)` writes the batches
// (each "( events e") into the open device list; `top(w)` may add keys.
template <class Events, class Top>
std::vector<uint8_t> Snapshot(Events events, Top top) {
  PickleWriter w;
  w.Op('}');
  w.Memoize();
  w.Op('(');
  w.Str("device_traces");
  w.Op(']');
  w.Memoize();
  w.Op(']');
  w.Memoize();
  events(w);
  w.Op('a');  // the device list into device_traces
  top(w);
  w.Op('u');
  w.Op('.');
  return w.bytes();
}
template <class Events>
std::vector<uint8_t> Snapshot(Events events) {
  return Snapshot(events, [](PickleWriter&) {});
}

struct Read {
  std::string text, keys, stats;
  uint64_t events = 0, hinted = 0;
};

Read ReadAll(const std::vector<uint8_t>& bytes, bool single_pass, size_t chunk, bool list_hints = true) {
  memtk::test::TextSink sink;
  memtk::snapshot::ReadOptions o;
  o.single_pass = single_pass;
  o.chunk_size = chunk;
  o.list_hints = list_hints;
  memtk::Status st = memtk::snapshot::ReadSnapshotBytes("k.pickle", bytes, &sink, o);
  Read r;
  r.text = st.ok() ? sink.text : "ERROR " + st.message();
  r.keys = sink.summary.keys_json;
  for (size_t i = 0; i < static_cast<size_t>(memtk::Stat::kCount); ++i)
    if (static_cast<memtk::Stat>(i) != memtk::Stat::k_memo_full_retention)  // says which reading it was
      r.stats += std::to_string(sink.summary.stats.Get(static_cast<memtk::Stat>(i))) + ",";
  r.events = sink.summary.events;
  r.hinted = sink.summary.list_hints_used;
  return r;
}

// Two-pass reads at assorted chunk sizes against the one-pass read. The
// chunks of 64 KiB and more are read ahead, with list hints and without.
void CheckSameAsOnePass(const std::vector<uint8_t>& bytes) {
  const Read one = ReadAll(bytes, true, 1 << 20);
  REQUIRE(one.text.rfind("ERROR", 0) == std::string::npos);
  const std::pair<size_t, bool> reads[] = {{1 << 20, true}, {1 << 20, false}, {64 << 10, true},
                                           {4096, true},    {61, true},       {7, true}};
  for (const auto& [chunk, hints] : reads) {
    INFO("chunk " << chunk << (hints ? "" : ", no list hints"));
    const Read two = ReadAll(bytes, false, chunk, hints);
    CHECK(two.text == one.text);
    CHECK(two.keys == one.keys);
    CHECK(two.stats == one.stats);
    CHECK(two.events == one.events);
  }
}

// Three frames, then batches of events over a few stacks, each stack again
// in later batches (once the consumer has read a list, it is shared).
struct Frames {
  uint32_t a, b, c;
};
Frames FirstBatch(PickleWriter& w) {
  // The frames are defined inside the first event's list, as CPython writes.
  w.Op('(');
  w.Op('}');
  w.Memoize();
  w.Op('(');
  w.Str("action");
  w.Str("alloc");
  w.Str("size");
  w.Int(1);
  w.Str("frames");
  w.Op(']');
  w.Memoize();
  w.Op('(');
  Frames f;
  f.a = w.Frame("a.py", 1, "fa");
  f.b = w.Frame("b.py", 2, "fb");
  f.c = w.Frame("c.py", 3, "fc");
  w.Op('e');
  w.Op('u');
  w.Event("alloc", 2, {f.a, f.b});
  w.Event("free_requested", 2, {f.b});
  // Frames referenced three times or more are kept for good: only lists of
  // those are shared.
  w.Event("alloc", 3, {f.c, f.b, f.a});
  w.Event("alloc", 4, {f.a, f.b, f.c});
  w.Op('e');
  return f;
}

}  // namespace

TEST_CASE("known lists: fresh frame lists read as when each is built", "[pickle][known]") {
  CheckSameAsOnePass(Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    for (int batch = 0; batch < 4; ++batch) {
      w.Op('(');
      for (uint8_t i = 0; i < 5; ++i) {
        w.Event("alloc", i, {f.a, f.b});
        w.Event("free_completed", i, {f.b});  // one get + APPEND
        w.Event("alloc", i, {f.c, f.a, f.b, f.a});
      }
      w.Op('e');
    }
  }));
}

TEST_CASE("known lists: a holder taken anywhere else gets its items back", "[pickle][known]") {
  // Each way a dict holding shared lists could reach the consumer other than
  // through its trace: memoized and fetched into the top level, DUP'd, put in
  // a tuple, and a PUT over a frame's slot while holders are on the stack.
  SECTION("memoized, then fetched into the top level") {
    uint32_t slot = 0;
    CheckSameAsOnePass(Snapshot(
        [&](PickleWriter& w) {
          const Frames f = FirstBatch(w);
          w.Op('(');
          w.Event("alloc", 9, {f.a, f.b});
          slot = w.Memoize();  // the event dict, after its SETITEMS
          w.Event("alloc", 8, {f.b});
          w.Op('e');
        },
        [&](PickleWriter& w) {
          w.Str("escaped");
          w.Get(slot);
        }));
  }
  SECTION("DUP'd into the same trace") {
    // An event listed twice is refused (interpreter.cpp: a record for a
    // byte); every reading stops at the same byte with the same words.
    const auto bytes = Snapshot([](PickleWriter& w) {
      const Frames f = FirstBatch(w);
      w.Op('(');
      w.Event("alloc", 9, {f.a, f.b});
      w.Op('2');
      w.Op('e');
    });
    const Read one = ReadAll(bytes, true, 1 << 20);
    REQUIRE(one.text.find("is an earlier event listed again") != std::string::npos);
    for (size_t chunk : {size_t{1} << 20, size_t{64} << 10, size_t{4096}, size_t{61}, size_t{7}}) {
      INFO("chunk " << chunk);
      CHECK(ReadAll(bytes, false, chunk, true).text == one.text);
    }
  }
  SECTION("in a tuple, memoized and fetched into the top level") {
    uint32_t slot = 0;
    CheckSameAsOnePass(Snapshot(
        [&](PickleWriter& w) {
          const Frames f = FirstBatch(w);
          w.Op('(');
          w.Event("alloc", 9, {f.a, f.b});
          w.Op(0x85);  // TUPLE1
          slot = w.Memoize();
          w.Op('e');
        },
        [&](PickleWriter& w) {
          w.Str("tuple");
          w.Get(slot);
        }));
  }
  SECTION("a PUT over a frame's slot while a holder waits on the stack") {
    CheckSameAsOnePass(Snapshot([](PickleWriter& w) {
      const Frames f = FirstBatch(w);
      w.Op('(');
      w.Event("alloc", 9, {f.a, f.b});   // shared, holds the old frame a
      w.Frame("z.py", 26, "fz");         // a new frame dict ...
      w.Put(static_cast<uint8_t>(f.a));  // ... over frame a's slot
      w.Op('0');                         // POP
      w.Event("alloc", 7, {f.a, f.b});   // now reads frame z
      w.Op('e');
      w.Op('(');
      w.Event("alloc", 6, {f.a, f.b});
      w.Event("alloc", 5, {f.b});
      w.Op('e');
    }));
  }
}

TEST_CASE("known lists: a bad frame is counted once per list, as before", "[pickle][known]") {
  // A frame without a filename is skipped and counted every time a list
  // holding it is read, so such a list must never be shared.
  CheckSameAsOnePass(Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    w.Op('(');
    const uint32_t bad = w.Frame("", 4, "nofile");
    w.Op('0');
    w.Event("alloc", 1, {f.a, bad});
    w.Op('e');
    for (int batch = 0; batch < 3; ++batch) {
      w.Op('(');
      w.Event("alloc", 2, {f.a, bad});
      w.Event("alloc", 3, {f.a, f.b});
      w.Op('e');
    }
  }));
}

TEST_CASE("known lists: lists read back by later events read as when each is built", "[pickle][known]") {
  // The shared-list shape (gen_snapshot.py --shape shared): an allocation's
  // list is memoized and fetched again by its free events, by 1, 2 or 3+
  // gets, in its own batch or in a later one.
  CheckSameAsOnePass(Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    std::vector<uint32_t> later;
    for (int batch = 0; batch < 4; ++batch) {
      w.Op('(');
      for (uint32_t l : later) w.EventGet("free_completed", 9, l);
      later.clear();
      for (uint8_t i = 0; i < 4; ++i) {
        const uint32_t once = w.Event("alloc", i, {f.a, f.b});
        w.EventGet("free_completed", i, once);
        const uint32_t twice = w.Event("alloc", i, {f.c, f.a, f.b, f.a});
        w.EventGet("free_requested", i, twice);
        later.push_back(twice);
        const uint32_t many = w.Event("alloc", i, {f.b});  // one get + APPEND
        for (int k = 0; k < 4; ++k) w.EventGet("free_requested", i, many);
      }
      w.Op('e');
    }
  }));
}

namespace {
// One list L = [a, b] made by an alloc event once [a, b] is a shared list,
// then `use(w, f, L)` in the same batch (L's event not read yet) or in the
// next one (read), then L read back as usual in both batches; `top(w, L)`
// writes keys of the top-level dict.
template <class Use, class Top>
std::vector<uint8_t> ReadBack(bool same_batch, Use use, Top top) {
  uint32_t l = 0;
  return Snapshot(
      [&](PickleWriter& w) {
        const Frames f = FirstBatch(w);
        w.Op('(');
        w.Event("alloc", 9, {f.a, f.b});  // the record's first list: built and read
        w.Op('e');
        w.Op('(');
        l = w.Event("alloc", 9, {f.a, f.b});
        w.Event("alloc", 3, {f.b, f.a});
        if (!same_batch) {
          w.Op('e');
          w.Op('(');
        }
        use(w, f, l);
        w.EventGet("free_requested", 9, l);
        w.Event("alloc", 4, {f.a, f.b});
        w.Op('e');
        w.Op('(');
        w.EventGet("free_completed", 9, l);
        w.Event("alloc", 5, {f.a, f.b});
        w.Op('e');
      },
      [&](PickleWriter& w) { top(w, l); });
}

template <class Use>
void CheckReadBack(Use use) {
  for (bool same_batch : {true, false}) {
    INFO("same batch " << same_batch);
    CheckSameAsOnePass(ReadBack(same_batch, use, [](PickleWriter&, uint32_t) {}));
  }
}
}  // namespace

TEST_CASE("known lists: a list read back anywhere else is read as when built", "[pickle][known]") {
  // Each place a get of a list handed out as a known node could put it
  // other than as the frames of an event streamed into its trace; each must
  // see the list's items (and a change to them), as the one-pass read does.
  SECTION("as a dict key") {
    CheckReadBack([](PickleWriter& w, const Frames&, uint32_t l) {
      w.EventWith("free_requested", 9, [&] {
        w.Get(l);
        w.Str("v");
      });
    });
  }
  SECTION("in a tuple") {
    CheckReadBack([](PickleWriter& w, const Frames&, uint32_t l) {
      w.EventWith("free_requested", 9, [&] {
        w.Str("frames");
        w.Get(l);
        w.Op(0x85);  // TUPLE1
      });
    });
  }
  SECTION("DUP'd") {
    CheckReadBack([](PickleWriter& w, const Frames&, uint32_t l) {
      w.EventWith("free_requested", 9, [&] {
        w.Str("frames");
        w.Get(l);
        w.Op('2');
        w.Op(0x86);  // TUPLE2
      });
      w.EventWith("free_requested", 8, [&] {
        w.Str("frames");
        w.Get(l);
        w.Op('2');
        w.Op('0');  // POP
      });
    });
  }
  SECTION("appended to a list") {
    CheckReadBack([](PickleWriter& w, const Frames&, uint32_t l) {
      w.EventWith("free_requested", 9, [&] {
        w.Str("frames");
        w.Op(']');
        w.Get(l);
        w.Op('a');
      });
      w.Get(l);  // an item of the trace itself (not an event)
    });
  }
  SECTION("the target of APPENDS and APPEND") {
    CheckReadBack([](PickleWriter& w, const Frames& f, uint32_t l) {
      w.EventWith("free_requested", 9, [&] {
        w.Str("frames");
        w.Get(l);
        w.Op('(');
        w.Get(f.c);
        w.Op('e');
      });
      w.EventAppend("free_requested", 8, l, f.b);
    });
  }
  SECTION("under a key with another role, or the same role") {
    CheckReadBack([](PickleWriter& w, const Frames&, uint32_t l) {
      w.EventWith("free_requested", 9, [&] {
        w.Str("user_metadata");
        w.Get(l);
      });
      w.EventWith("free_requested", 8, [&] {
        w.Str("forward_frames");
        w.Get(l);
      });
    });
  }
  SECTION("in a dict that is not streamed") {
    CheckReadBack([](PickleWriter& w, const Frames&, uint32_t l) {
      w.EventWith("free_requested", 9, [&] {
        w.Str("user_metadata");
        w.Op('}');
        w.Op('(');
        w.Str("frames");
        w.Get(l);
        w.Op('u');
      });
    });
    for (bool same_batch : {true, false}) {
      CheckSameAsOnePass(ReadBack(
          same_batch, [](PickleWriter&, const Frames&, uint32_t) {},
          [](PickleWriter& w, uint32_t l) {
            w.Str("escaped");
            w.Op('}');
            w.Op('(');
            w.Str("frames");
            w.Get(l);
            w.Op('u');
          }));
    }
  }
  SECTION("as the root") {
    // The read fails (the root must be a dict) at the same byte either way.
    uint32_t l = 0;
    auto bytes = ReadBack(
        false, [&](PickleWriter&, const Frames&, uint32_t list) { l = list; }, [](PickleWriter&, uint32_t) {});
    bytes.pop_back();  // STOP
    bytes.push_back('0');
    bytes.insert(bytes.end(), {'h', static_cast<uint8_t>(l)});
    REQUIRE(l < 256);
    bytes.push_back('.');
    const Read one = ReadAll(bytes, true, 1 << 20);
    CHECK(one.text.find("top-level object is a list") != std::string::npos);
    for (size_t chunk : {size_t{1} << 20, size_t{61}, size_t{7}}) CHECK(ReadAll(bytes, false, chunk).text == one.text);
  }
  SECTION("a memo PUT over a slot one of its frames uses") {
    CheckReadBack([](PickleWriter& w, const Frames& f, uint32_t l) {
      w.Frame("z.py", 26, "fz");
      w.Put(f.a);
      w.Op('0');
      // Its items are the frames it was made of (a, not z).
      w.EventWith("free_requested", 9, [&] {
        w.Str("user_metadata");
        w.Get(l);
      });
    });
  }
  SECTION("a memo PUT over the list's own slot") {
    CheckReadBack([](PickleWriter& w, const Frames&, uint32_t l) {
      w.Int(77);
      w.Put(l);
      w.Op('0');
    });
  }
}

namespace {
// The head of a bare trace (a list of event dicts): its first event's frame
// list defines `n` frames, and its first batch is closed; returns their slots.
std::vector<uint32_t> BareTraceWithFrames(PickleWriter& w, int n) {
  w.Op(']');
  w.Memoize();
  w.Op('(');
  w.Op('}');
  w.Memoize();
  w.Op('(');
  w.Str("frames");
  w.Op(']');
  w.Memoize();
  w.Op('(');
  std::vector<uint32_t> frames;
  for (int i = 0; i < n; ++i) frames.push_back(w.Frame("f" + std::to_string(i) + ".py", static_cast<uint8_t>(i), "g"));
  w.Op('e');
  w.Op('u');
  w.Op('e');
  return frames;
}

// A consumer of a bare list of event dicts whose "frames" lists are read
// only through their cache: frame dicts get a dense id each, lists the id of
// their frame-id sequence.
class StackConsumer : public memtk::pickle::Consumer {
 public:
  explicit StackConsumer(memtk::StringPool* pool) : frames_key_(pool->Intern("frames").value) {}
  uint16_t RoleOf(const memtk::pickle::Node* parent, const memtk::pickle::Value* key, uint64_t,
                  memtk::pickle::Kind kind) override {
    using memtk::pickle::Kind;
    if (parent == nullptr) return kind == Kind::kList ? 1 : 0;
    if (parent->role == 1 && kind == Kind::kDict) return 2;
    if (parent->role == 2 && kind == Kind::kList && key != nullptr && key->kind == Kind::kStr &&
        key->id == frames_key_)
      return 3;
    return 0;
  }
  bool Streams(uint16_t role) const override { return role == 1; }
  bool ReadsOnlyCache(uint16_t role) const override { return role == 3; }
  memtk::Status OnItem(memtk::pickle::Node*, uint64_t, const memtk::pickle::Value& item) override {
    const auto& it = item.node->items;
    for (size_t i = 0; i + 1 < it.size(); i += 2) {
      if (it[i].id != frames_key_) continue;
      memtk::pickle::Node* list = it[i + 1].node;
      if (list->known) {
        ++shared;
        CHECK(list->items.empty());
      }
      if (list->cache < 0) {
        std::vector<int64_t> ids;
        for (const auto& f : list->items) {
          if (f.node->cache < 0) f.node->cache = next_frame_++;
          ids.push_back(f.node->cache);
        }
        list->cache = stacks_.emplace(ids, static_cast<int64_t>(stacks_.size())).first->second;
      }
      seen.push_back(list->cache);
    }
    return memtk::OkStatus();
  }
  memtk::Status OnRoot(const memtk::pickle::Value&) override { return memtk::OkStatus(); }
  std::vector<int64_t> seen;
  int shared = 0;

 private:
  uint32_t frames_key_;
  int64_t next_frame_ = 0;
  std::map<std::vector<int64_t>, int64_t> stacks_;
};

// A bare list of events read with pass-1 counts or without, and what the
// look-ahead did.
struct BareRead {
  StackConsumer c;
  uint64_t ahead_lists = 0, ahead_bytes = 0, hinted = 0;
};
BareRead DecodeBare(const std::vector<uint8_t>& bytes, bool counts, memtk::StringPool* pool) {
  memtk::pickle::NodeArena arena;
  BareRead r{StackConsumer(pool)};
  memtk::pickle::Decoder d("x", pool, &arena, &r.c);
  if (counts) {
    memtk::pickle::RefCountPass pass("x");
    REQUIRE(pass.Feed(bytes.data(), bytes.size()).ok());
    d.SetRefCounts(pass.Take());
  }
  REQUIRE(d.Feed(bytes.data(), bytes.size()).ok());
  REQUIRE(d.Finish().ok());
  r.ahead_lists = d.look_ahead_lists();
  r.ahead_bytes = d.look_ahead_bytes();
  return r;
}
StackConsumer DecodeBareList(const std::vector<uint8_t>& bytes, bool counts, memtk::StringPool* pool) {
  return DecodeBare(bytes, counts, pool).c;
}

// Reads `bytes` with counts and without: each event's stack the same, no
// node shared without counts. Returns the nodes shared with them.
int SharedAgainstBuilt(const std::vector<uint8_t>& bytes) {
  memtk::StringPool p1, p2;
  const StackConsumer built = DecodeBareList(bytes, false, &p1);
  const StackConsumer known = DecodeBareList(bytes, true, &p2);
  CHECK(built.shared == 0);
  CHECK(known.seen == built.seen);
  return known.shared;
}
}  // namespace

TEST_CASE("known lists: later lists with the same gets are one shared node", "[pickle][known]") {
  PickleWriter w;
  const std::vector<uint32_t> ab = BareTraceWithFrames(w, 2);
  const uint32_t a = ab[0], b = ab[1];
  for (int batch = 0; batch < 3; ++batch) {
    w.Op('(');
    for (int i = 0; i < 4; ++i) {
      w.Op('}');
      w.Memoize();
      w.Op('(');
      w.Str("frames");
      w.FrameList(i % 2 ? std::vector<uint32_t>{a, b} : std::vector<uint32_t>{b});
      w.Op('u');
    }
    w.Op('e');
  }
  w.Op('.');
  // The first batch builds every list; from the second on each is shared.
  CHECK(SharedAgainstBuilt(w.bytes()) == 8);
}

TEST_CASE("known lists: a key names memo slots, however the gets are spelled", "[pickle][known]") {
  // [b] as BINGET+APPEND, as LONG_BINGET+APPEND and as MARK LONG_BINGET
  // APPENDS, [a, b] with either get: the same lists, so one record each.
  PickleWriter w;
  const std::vector<uint32_t> ab = BareTraceWithFrames(w, 2);
  const uint32_t a = ab[0], b = ab[1];
  auto event = [&](int form) {
    w.Op('}');
    w.Memoize();
    w.Op('(');
    w.Str("frames");
    w.Op(']');
    w.Memoize();
    switch (form) {
      case 0: w.Get(b), w.Op('a'); break;
      case 1: w.GetLong(b), w.Op('a'); break;
      case 2: w.Op('('), w.GetLong(b), w.Op('e'); break;
      case 3: w.Op('('), w.Get(a), w.GetLong(b), w.Op('e'); break;
      default: w.Op('('), w.GetLong(a), w.Get(b), w.Op('e'); break;
    }
    w.Op('u');
  };
  // The first batch spells each list one way; later batches the others.
  w.Op('(');
  event(0);
  event(3);
  w.Op('e');
  for (int batch = 0; batch < 2; ++batch) {
    w.Op('(');
    for (int form : {1, 2, 4}) event(form);
    w.Op('e');
  }
  w.Op('.');
  // Keyed by spelling, the second batch would build its lists again (3
  // shared); keyed by slots, all 6 later lists are the first batch's.
  CHECK(SharedAgainstBuilt(w.bytes()) == 6);
}

TEST_CASE("known lists: a get of an undefined slot in a list is reported as before", "[pickle][known]") {
  // The list [a, b, 200] looks like [a, b] plus one more index: slot 200
  // was never defined, so the read must fail at that get, with or without
  // the known-list path, and never hand out a shared list for it.
  const auto bytes = Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    for (int batch = 0; batch < 2; ++batch) {
      w.Op('(');
      w.Event("alloc", 1, {f.a, f.b});
      w.Event("alloc", 2, batch == 0 ? std::vector<uint32_t>{f.a, f.b} : std::vector<uint32_t>{f.a, f.b, 200});
      w.Op('e');
    }
  });
  const Read one = ReadAll(bytes, true, 1 << 20);
  REQUIRE(one.text.rfind("ERROR", 0) == 0);
  CHECK(one.text.find("memo index 200 used before it was defined") != std::string::npos);
  for (size_t chunk : {size_t{1} << 20, size_t{61}}) {
    INFO("chunk " << chunk);
    CHECK(ReadAll(bytes, false, chunk).text == one.text);
  }
}

TEST_CASE("known lists: the look-ahead over many distinct stacks reads as the one-pass read", "[pickle][known]") {
  // Past ~8K distinct lists KnownList parses the next lists of the chunk
  // ahead (Decoder::LookAhead). Its guesses are hints only: bytes that look
  // like a list (a ']' in an int, a string holding "]\x94(j"), a list that is
  // not stored at once and lists cut by chunk ends must all read as the
  // one-pass read does. (Frames defined between a guess and its use, and
  // hostile runs of ']': the decoder-level test further down.)
  CheckSameAsOnePass(Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    std::vector<uint32_t> frames = {f.a, f.b, f.c};
    uint32_t state = 12345;
    auto next = [&] { return state = state * 1103515245u + 12345u; };
    w.Op('(');
    for (int i = 0; i < 40; ++i) {  // frames 4..43, each defined inside a list and used often
      w.OpenEventList("alloc");
      frames.push_back(w.Frame("f" + std::to_string(i) + ".py", static_cast<uint8_t>(i), "g"));
      w.CloseEventList();
    }
    w.Op('e');
    // 9,000 distinct stacks of 2-6 frames, each used three times, in
    // batches of 500 events.
    std::vector<std::vector<uint32_t>> stacks;
    for (int s = 0; s < 9000; ++s) {
      std::vector<uint32_t> st;
      const size_t depth = 2 + next() % 5;
      for (size_t d = 0; d < depth; ++d) st.push_back(frames[(next() >> 8) % frames.size()]);
      st.push_back(frames[s % frames.size()]);
      st.push_back(frames[(s / frames.size()) % frames.size()]);
      stacks.push_back(st);
    }
    for (int round = 0; round < 3; ++round) {
      for (size_t s = 0; s < stacks.size(); ++s) {
        if (s % 500 == 0) w.Op('(');
        const uint8_t size = static_cast<uint8_t>(next() >> 24);  // 0x5d now and then
        if (s % 97 == 0) {
          // A string that looks like a known list's start, before the list.
          w.Op('}');
          w.Memoize();
          w.Op('(');
          w.Str("action");
          w.Str("alloc");
          w.Str("note");
          // (slot 5 is a defined frame's: the guess parses, and is wrong.)
          const std::string bait = std::string("]\x94(j\x05", 5) + std::string(3, '\0') + "e";
          w.Op(0x8c);
          w.Op(static_cast<uint8_t>(bait.size()));
          for (char c : bait) w.Op(static_cast<uint8_t>(c));
          w.Str("frames");
          w.FrameList(stacks[s]);
          w.Op('u');
        } else if (s % 89 == 0) {
          // A list followed by another key: not stored at once.
          w.Event("alloc", size, stacks[s], false);
          w.Str("tail");
          w.Int(1);
          w.Op('u');
        } else {
          w.Event(s % 2 ? "alloc" : "free_completed", size, stacks[s]);
        }
        if (s % 500 == 499 || s + 1 == stacks.size()) w.Op('e');
      }
    }
  }));
}

TEST_CASE("known lists: a memoized global inside frame lists reads as the one-pass read", "[pickle][known]") {
  // A global is not a frame: the first list's reading counts it, so its
  // record must never be shared (KnownList checks memo entries' kinds once a
  // global has been memoized; the counts alone cannot tell).
  CheckSameAsOnePass(Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    w.Op('(');
    // The global, memoized, inside the first list that uses it.
    w.OpenEventList("alloc");
    for (const char* s : {"c", "collections\n", "OrderedDict\n"})
      for (const char* c = s; *c != 0; ++c) w.Op(static_cast<uint8_t>(*c));
    const uint32_t g = w.Memoize();
    w.CloseEventList();
    w.Op('e');
    for (int batch = 0; batch < 3; ++batch) {
      w.Op('(');
      for (uint8_t i = 0; i < 4; ++i) {
        w.Event("alloc", i, {f.a, g, f.b});
        w.Event("alloc", i, {f.a, f.b});
      }
      w.Op('e');
    }
  }));
}

namespace {
// Events over `stacks` distinct lists of the given frames; `extra(w, i)` may
// add keys to event i before its frames.
template <class Extra>
std::vector<uint8_t> ManyStacks(int stacks, int rounds, Extra extra) {
  PickleWriter w;
  std::vector<uint32_t> frames = BareTraceWithFrames(w, 60);
  int event = 0;
  for (int round = 0; round < rounds; ++round) {
    for (int s = 0; s < stacks; ++s, ++event) {
      if (s % 500 == 0) w.Op('(');
      w.Op('}');
      w.Memoize();
      w.Op('(');
      extra(w, event, &frames);
      w.Str("frames");
      w.FrameList({frames[s % 60], frames[(s / 60) % 60], frames[(s / 3600) % 60], frames[7]});
      w.Op('u');
      if (s % 500 == 499 || s + 1 == stacks) w.Op('e');
    }
  }
  w.Op('.');
  return w.bytes();
}

}  // namespace

TEST_CASE("known lists: the look-ahead runs, is exact, and stays bounded on hostile bytes", "[pickle][known]") {
  SECTION("many stacks, with frames defined between a guess and its use") {
    // Every 50th event of the first 4,500 defines a new frame (kept for
    // good: used by later lists), so the lists just after it were guessed
    // before it existed; the second round repeats the stacks after that.
    const auto bytes = ManyStacks(9000, 2, [](PickleWriter& w, int event, std::vector<uint32_t>* frames) {
      if (event % 50 != 0 || event >= 4500) return;
      w.Str("defines");
      (*frames)[static_cast<size_t>(event / 50) % 60] = w.Frame("new" + std::to_string(event) + ".py", 1, "n");
    });
    memtk::StringPool p1, p2;
    const StackConsumer built = DecodeBareList(bytes, false, &p1);
    const BareRead ahead = DecodeBare(bytes, true, &p2);
    CHECK(ahead.c.seen == built.seen);
    CHECK(ahead.c.shared > 0);
    CHECK(ahead.ahead_lists > 1000);  // the look-ahead did run
    CHECK(ahead.ahead_bytes < 4 * bytes.size());
  }
  SECTION("runs of ']' and gets that parse as lists to the end of the chunk") {
    // The review's case: `j ] q j j` repeated, so every ']' is a candidate
    // whose gets run on. Without the per-call bounds this scanned ~10^4 times
    // the input.
    const auto bytes = ManyStacks(9000, 2, [](PickleWriter& w, int event, std::vector<uint32_t>*) {
      if (event < 9000 || event % 1000 != 0) return;
      w.Str("payload");
      std::string run;
      for (int i = 0; i < 12000; ++i) run += "j]qjj";
      w.Op('B');
      const uint32_t n = static_cast<uint32_t>(run.size());
      for (int b = 0; b < 4; ++b) w.Op(static_cast<uint8_t>(n >> (8 * b)));
      for (char c : run) w.Op(static_cast<uint8_t>(c));
    });
    memtk::StringPool p1, p2;
    const StackConsumer built = DecodeBareList(bytes, false, &p1);
    const BareRead ahead = DecodeBare(bytes, true, &p2);
    CHECK(ahead.c.seen == built.seen);
    CHECK(ahead.ahead_bytes < 4 * bytes.size());
  }
}

namespace {
// DecodeBare with pass-1 counts and list hints, as ReadSnapshot's read-ahead
// gives them: the bytes fed in `chunk`-byte pieces, each with
// FindListHints over it (width 3), then `spoil`ed; or the same pieces
// without hints.
template <class Spoil>
BareRead DecodeHinted(const std::vector<uint8_t>& bytes, size_t chunk, memtk::StringPool* pool, Spoil spoil,
                      bool use_hints = true) {
  memtk::pickle::NodeArena arena;
  BareRead r{StackConsumer(pool)};
  memtk::pickle::Decoder d("x", pool, &arena, &r.c);
  memtk::pickle::RefCountPass pass("x");
  REQUIRE(pass.Feed(bytes.data(), bytes.size()).ok());
  d.SetRefCounts(pass.Take());
  memtk::pickle::ListHints hints;
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    const size_t n = std::min(chunk, bytes.size() - at);
    memtk::pickle::FindListHints(bytes.data() + at, n, at, 3, &hints);
    spoil(&hints);
    d.SetListHints(use_hints ? &hints : nullptr);
    REQUIRE(d.Feed(bytes.data() + at, n).ok());
    d.SetListHints(nullptr);
  }
  REQUIRE(d.Finish().ok());
  r.ahead_lists = d.look_ahead_lists();
  r.hinted = d.hinted_lists();
  return r;
}
BareRead DecodeHinted(const std::vector<uint8_t>& bytes, size_t chunk, memtk::StringPool* pool) {
  return DecodeHinted(bytes, chunk, pool, [](memtk::pickle::ListHints*) {});
}
// `run` as a BINBYTES value under "payload" of every 1000th event from 9000.
std::vector<uint8_t> ManyStacksWithPayload(const std::string& run) {
  return ManyStacks(9000, 2, [&](PickleWriter& w, int event, std::vector<uint32_t>*) {
    if (event < 9000 || event % 1000 != 0) return;
    w.Str("payload");
    w.Op('B');
    const uint32_t n = static_cast<uint32_t>(run.size());
    for (int b = 0; b < 4; ++b) w.Op(static_cast<uint8_t>(n >> (8 * b)));
    for (char c : run) w.Op(static_cast<uint8_t>(c));
  });
}
}  // namespace

TEST_CASE("known lists: hints found ahead are used where they fit, and read as the one-pass read", "[pickle][known]") {
  // Frames defined between the hint's search and its use (the hint's gets
  // then read a slot past the memo's end at its search, not at its use).
  const auto bytes = ManyStacks(9000, 2, [](PickleWriter& w, int event, std::vector<uint32_t>* frames) {
    if (event % 50 != 0 || event >= 4500) return;
    w.Str("defines");
    (*frames)[static_cast<size_t>(event / 50) % 60] = w.Frame("new" + std::to_string(event) + ".py", 1, "n");
  });
  memtk::StringPool p0;
  const StackConsumer built = DecodeBareList(bytes, false, &p0);
  SECTION("whole chunks, cut chunks") {
    for (size_t chunk : {size_t{64} << 10, size_t{4096}, size_t{61}}) {
      INFO("chunk " << chunk);
      memtk::StringPool p, p1;
      const BareRead r = DecodeHinted(bytes, chunk, &p);
      const BareRead unhinted = DecodeHinted(
          bytes, chunk, &p1, [](memtk::pickle::ListHints*) {}, false);
      CHECK(r.c.seen == built.seen);
      CHECK(unhinted.hinted == 0);
      // A hinted list shares as the decoder's own parse does: a hint with
      // the wrong key bytes would turn hits into built lists.
      CHECK(r.c.shared == unhinted.c.shared);
      CHECK(r.ahead_lists == 0);  // the hints replaced the decoder's own look-ahead
      // 18,000 lists; only those cut by a chunk end go unhinted.
      INFO("hinted " << r.hinted);
      if (chunk > 4096) CHECK(r.hinted > 17000);
      if (chunk == 4096) CHECK(r.hinted > 14000);
      if (chunk == 61) CHECK((r.hinted > 1000 && r.hinted < 17000));
    }
  }
  SECTION("one hash for every hint: the key bytes tell the lists apart") {
    const auto few = ManyStacks(600, 3, [](PickleWriter&, int, std::vector<uint32_t>*) {});
    memtk::StringPool q0, q1;
    const StackConsumer few_built = DecodeBareList(few, false, &q0);
    const BareRead r = DecodeHinted(few, 64 << 10, &q1, [](memtk::pickle::ListHints* h) {
      for (auto& l : h->lists) l.hash = 42;
    });
    CHECK(r.c.seen == few_built.seen);
    CHECK(r.hinted > 1500);
    CHECK(r.c.shared > 1000);
  }
  SECTION("hints that do not fit are not used") {
    using memtk::pickle::ListHints;
    for (int spoil = 0; spoil < 4; ++spoil) {
      INFO("spoil " << spoil);
      memtk::StringPool p;
      const BareRead r = DecodeHinted(bytes, 64 << 10, &p, [spoil](ListHints* h) {
        if (spoil == 0) h->width = 4;    // the decoder's keys are 3 bytes an index here
        if (spoil == 1) h->offset += 1;  // every hint one byte off
        if (spoil == 2)
          for (ListHints::List& l : h->lists) l.top = 1u << 30;  // gets of slots not defined yet
        // Shifted by one event (the events are nearly all the same length):
        // many a list would meet the next list's hint, were the offset not
        // checked against the bytes fed (SetListHints).
        if (spoil == 3 && h->lists.size() > 1) h->offset -= h->lists[1].at - h->lists[0].at;
      });
      CHECK(r.c.seen == built.seen);
      CHECK(r.hinted == 0);
    }
  }
}

TEST_CASE("known lists: FindListHints finds each list form with its offsets, top and key", "[pickle][known]") {
  using memtk::pickle::ListHints;
  // Lists in every form a pickler may write, with bytes between them that
  // look like a list's start but are not one (inside a BINBYTES value).
  std::vector<uint8_t> b = {'N'};
  auto list = [&](std::vector<uint8_t> body) {
    const size_t at = b.size();
    b.push_back(']');
    b.insert(b.end(), body.begin(), body.end());
    return at;
  };
  const size_t a0 = list({0x94, '(', 'h', 5, 'j', 0x34, 0x12, 0, 0, 'h', 7, 'e'});   // MEMOIZE, MARK, gets, APPENDS
  b.insert(b.end(), {'C', 6, ']', 0x94, '(', 'h', 1, 'e'});                          // a BINBYTES that looks like one
  const size_t a1 = list({'q', 9, 'h', 3, 'a'});                                     // BINPUT, one get, APPEND
  const size_t a2 = list({'r', 1, 2, 0, 0, '(', 'j', 0xff, 0xff, 0xff, 0x01, 'e'});  // LONG_BINPUT, index >= 2^24
  b.insert(b.end(), {']', 0x94, '(', 'h', 1, 'u'});                                  // not a list of gets: SETITEMS
  const size_t a3 = list({0x94, '(', 'h', 2, 'h', 4});                               // cut by the chunk end
  ListHints h;
  memtk::pickle::FindListHints(b.data(), b.size(), 1000, 3, &h);
  CHECK(h.offset == 1000);
  CHECK(h.scanned == b.size());
  REQUIRE(h.lists.size() == 4);  // the three lists, and the bytes inside BINBYTES
  CHECK(h.lists[0].at == a0);
  CHECK(h.lists[0].after == 13);
  CHECK(h.lists[0].top == 0x1234);
  const std::vector<uint8_t> k0(h.keys.data(), h.keys.data() + h.lists[0].key_end);
  CHECK(k0 == std::vector<uint8_t>{5, 0, 0, 0x34, 0x12, 0, 7, 0, 0});
  CHECK(h.lists[1].at == a0 + 15);  // the BINBYTES value's bytes: a hint the decoder never meets
  CHECK(h.lists[2].at == a1);
  CHECK(h.lists[2].after == 6);
  CHECK(h.lists[2].top == 3);
  CHECK(h.lists[2].key_end - h.lists[1].key_end == 3);
  CHECK(h.lists[3].at == a2);
  CHECK(h.lists[3].top == 0x01ffffff);  // the decoder refuses it below 2^24 slots (top >= its memo end)
  (void)a3;                             // cut by the chunk end: no hint (four in all)
  // Width 4: four bytes an index.
  memtk::pickle::FindListHints(b.data(), b.size(), 0, 4, &h);
  REQUIRE(h.lists.size() == 4);
  CHECK(h.lists[0].key_end == 12);
  const std::vector<uint8_t> k3(h.keys.data() + h.lists[2].key_end, h.keys.data() + h.lists[3].key_end);
  CHECK(k3 == std::vector<uint8_t>{0xff, 0xff, 0xff, 0x01});
  // The same key hashes the same wherever it is found.
  std::vector<uint8_t> again = {']', 0x94, '(', 'h', 5, 'j', 0x34, 0x12, 0, 0, 'h', 7, 'e'};
  ListHints h2;
  memtk::pickle::FindListHints(again.data(), again.size(), 0, 4, &h2);
  REQUIRE(h2.lists.size() == 1);
  CHECK(h2.lists[0].hash == h.lists[0].hash);
}

TEST_CASE("known lists: a snapshot of many chunks reads the same with and without list hints", "[pickle][known]") {
  // ~0.9 MB: 14 chunks of 64 KiB read ahead, lists cut by chunk ends,
  // frames defined in later chunks than the lists that first use them.
  const auto bytes = Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    std::vector<uint32_t> frames = {f.a, f.b, f.c};
    uint32_t state = 7;
    auto next = [&] { return state = state * 1103515245u + 12345u; };
    for (int batch = 0; batch < 40; ++batch) {
      w.Op('(');
      if (batch % 4 == 0) {
        w.OpenEventList("alloc");
        frames.push_back(w.Frame("g" + std::to_string(batch) + ".py", static_cast<uint8_t>(batch), "h"));
        w.CloseEventList();
      }
      for (int i = 0; i < 500; ++i) {
        std::vector<uint32_t> st;
        const size_t depth = 1 + next() % 12;
        for (size_t d = 0; d < depth; ++d) st.push_back(frames[(next() >> 8) % frames.size()]);
        const uint32_t list = w.Event("alloc", static_cast<uint8_t>(next() >> 24), st);
        if (i % 3 == 0) w.EventGet("free_requested", 1, list);
      }
      w.Op('e');
    }
  });
  REQUIRE(bytes.size() > (12u << 16));
  CheckSameAsOnePass(bytes);
  // The read-ahead ring hands the hints over chunk by chunk: the 20,000
  // allocations' lists take theirs, but for the few cut by a chunk end.
  const Read hinted = ReadAll(bytes, false, 64 << 10);
  CHECK(hinted.hinted > 19000);
  CHECK(ReadAll(bytes, false, 64 << 10, false).hinted == 0);  // list_hints off
  CHECK(ReadAll(bytes, false, 4096).hinted == 0);             // not read ahead
}

TEST_CASE("known lists: the hint search is bounded on hostile bytes and exact around them", "[pickle][known]") {
  // `j ] q X (` repeated: every ']' starts a candidate (put, MARK) whose
  // LONG_BINGETs run to the end of the run, and each get's index bytes are
  // the next candidate: quadratic in the chunk without FindListHints' budget.
  std::string run;
  for (int i = 0; i < 50000; ++i) run += "j]qX(";
  memtk::pickle::ListHints h;
  const auto* raw = reinterpret_cast<const uint8_t*>(run.data());
  memtk::pickle::FindListHints(raw, run.size(), 0, 3, &h);
  CHECK(h.scanned < run.size());
  CHECK(h.looked <= 5 * run.size());
  // A list every 5 bytes (`] MEMOIZE BINGET 0 APPEND`): the list and key
  // caps stop the search, so a slot's hints stay a few times the chunk.
  std::string tiny;
  for (int i = 0; i < 50000; ++i)
    tiny += std::string(
        "]\x94h\x00"
        "a",
        5);
  memtk::pickle::FindListHints(reinterpret_cast<const uint8_t*>(tiny.data()), tiny.size(), 0, 3, &h);
  CHECK(h.scanned < tiny.size());
  CHECK(h.lists.size() <= tiny.size() / 16 + 16);
  CHECK(h.lists.back().key_end <= tiny.size() + 4096);
  CHECK(h.keys.size() <= 4 * tiny.size());
  // Plain events: all of it searched, each byte about once.
  const auto plain = ManyStacks(9000, 2, [](PickleWriter&, int, std::vector<uint32_t>*) {});
  memtk::pickle::FindListHints(plain.data(), plain.size(), 0, 3, &h);
  CHECK(h.scanned == plain.size());
  CHECK(h.looked <= 2 * plain.size());
  CHECK(h.lists.size() >= 18000);

  const auto bytes = ManyStacksWithPayload(run.substr(0, 60000));
  memtk::StringPool p1, p2;
  const StackConsumer built = DecodeBareList(bytes, false, &p1);
  const BareRead r = DecodeHinted(bytes, 256 << 10, &p2);
  CHECK(r.c.seen == built.seen);
  // The first round has no payload; in the second a chunk's search stops in
  // a payload, and the lists after it are parsed by the decoder itself.
  CHECK(r.hinted > 8500);
  CHECK(r.hinted < 17000);
}

TEST_CASE("known lists: a list read back by its free events is one node without items", "[pickle][known]") {
  // The shared-list shape at the decoder: an allocation's list (memoized)
  // is fetched again by the free events; once its stack is known, neither
  // the alloc nor the frees build or fill it.
  PickleWriter w;
  const std::vector<uint32_t> ab = BareTraceWithFrames(w, 2);
  const uint32_t a = ab[0], b = ab[1];
  auto event = [&](bool alloc, uint32_t list, const std::vector<uint32_t>& frames) {
    w.Op('}');
    w.Memoize();
    w.Op('(');
    w.Str("frames");
    uint32_t slot = list;
    if (alloc) {
      slot = w.FrameList(frames);
    } else {
      w.Get(list);
    }
    w.Op('u');
    return slot;
  };
  for (int batch = 0; batch < 3; ++batch) {
    w.Op('(');
    for (int i = 0; i < 2; ++i) {
      const uint32_t l = event(true, 0, i ? std::vector<uint32_t>{a, b} : std::vector<uint32_t>{b});
      event(false, l, {});
      event(false, l, {});
    }
    w.Op('e');
  }
  w.Op('.');
  // The first batch builds its lists; in the next two every list and both
  // of its reads are known nodes: 2 batches x 2 lists x 3 events.
  CHECK(SharedAgainstBuilt(w.bytes()) == 12);
}

namespace {
// Decoder::MarkConsumed's "look at all items" case: one streamed event dict
// that holds two known lists of the decoder's own (read back later), so its
// `id` says UINT32_MAX. A known list must be stored at once by the SETITEMS
// right after it, so such a dict gets its items in two SETITEMS (as CPython
// writes a dict of over 1,000 items). Each of its lists is read back in a
// later batch by an event that appends a frame to it (L = [a, b] + b) before
// its SETITEMS: the one-pass read read L with its event and reads it again
// by its cache ([a, b]); a holder that marked only one of its lists (or
// none) would leave the other unmarked, FillOwn would clear its cache and
// the event would read [a, b, b]. `first_by_get`: the dict's first list is
// an earlier event's, fetched by a get (GetLandsKnown), not a fresh list
// (KnownList's NewOwn). "frames", `second`: the two keys (both of the
// frame-list role).
void TwoOwnListsEvent(PickleWriter& w, uint32_t a, uint32_t b, uint32_t c, bool first_by_get, const std::string& second,
                      uint32_t* first_list, uint32_t* l) {
  w.EventHead("alloc", 7);
  w.Str("frames");
  if (first_by_get) {
    w.Get(*first_list);
  } else {
    *first_list = w.FrameList({c, a});
  }
  w.Op('u');
  w.Op('(');
  w.Str(second);
  *l = w.FrameList({a, b});
  w.Op('u');
}
}  // namespace

TEST_CASE("known lists: a holder of two read-back lists marks both as read", "[pickle][known]") {
  for (bool first_by_get : {false, true}) {
    INFO("first list by a get " << first_by_get);
    PickleWriter w;
    const std::vector<uint32_t> abc = BareTraceWithFrames(w, 3);
    const uint32_t a = abc[0], b = abc[1], c = abc[2];
    auto event = [&](auto items) {
      w.Op('}');
      w.Memoize();
      w.Op('(');
      items();
      w.Op('u');
    };
    // Batch 1: the first [a, b] and [c, a] are built and read; their records
    // get shared nodes. (Every frame is read three times or more: kept.)
    w.Op('(');
    event([&] { w.Str("frames"), w.FrameList({a, b}); });
    event([&] { w.Str("frames"), w.FrameList({c, a}); });
    event([&] { w.Str("frames"), w.FrameList({a, b, c}); });
    w.Op('e');
    // Batch 2: the holder of two lists of the decoder's own (after, with a
    // get, an event whose own list is marked through its single `id`). In
    // the get variant that earlier event has marked the first list already,
    // so only the second list rests on the holder's look-at-all branch: the
    // variant without the get is the one that fails when MarkConsumed or
    // NoteOwn keep one position only.
    uint32_t first = 0, l = 0;
    w.Op('(');
    if (first_by_get) event([&] { w.Str("frames"), first = w.FrameList({c, a}); });
    TwoOwnListsEvent(w, a, b, c, first_by_get, "frames", &first, &l);
    w.Op('e');
    // Batch 3: each list appended to (filled in at its get) and read again.
    w.Op('(');
    event([&] { w.Str("frames"), w.Get(l), w.Get(b), w.Op('a'); });
    event([&] { w.Str("frames"), w.Get(l); });
    event([&] { w.Str("frames"), w.Get(first), w.Get(c), w.Op('a'); });
    event([&] { w.Str("frames"), w.Get(first); });
    w.Op('e');
    w.Op('.');
    // Item-less nodes handed to the consumer: both lists of the holder (and
    // the earlier event's own list): the known path did run.
    CHECK(SharedAgainstBuilt(w.bytes()) == (first_by_get ? 3 : 2));
  }
}

TEST_CASE("known lists: frames and forward_frames read back from one event read as the one-pass read",
          "[pickle][known]") {
  // The same at the snapshot level: the event's second list under
  // forward_frames (a frame list too), compared with every record, counter
  // and key of the one-pass read. (That the known-list path runs for this
  // shape is asserted at the decoder level, in the test above.)
  for (bool first_by_get : {false, true}) {
    INFO("first list by a get " << first_by_get);
    CheckSameAsOnePass(Snapshot([&](PickleWriter& w) {
      const Frames f = FirstBatch(w);
      uint32_t first = 0, l = 0;
      w.Op('(');
      w.Event("alloc", 5, {f.c, f.a});  // [c, a]'s first list: built and read
      w.Op('e');
      w.Op('(');
      if (first_by_get) first = w.Event("alloc", 6, {f.c, f.a});
      TwoOwnListsEvent(w, f.a, f.b, f.c, first_by_get, "forward_frames", &first, &l);
      w.Op('e');
      w.Op('(');
      w.EventAppend("free_requested", 9, l, f.b, "forward_frames");
      w.EventGet("free_completed", 9, l, "forward_frames");
      w.EventAppend("free_requested", 8, first, f.c);
      w.EventGet("free_completed", 8, first);
      w.Op('e');
    }));
  }
}

TEST_CASE("known lists: a list of read lists is counted on every reading, as before", "[pickle][known]") {
  // The review's case: frames = [L], L a frame list already read (its cache
  // set) and kept for good. The consumer counts L as a bad frame on each
  // reading (only dicts are frames), so no such list may be shared.
  CheckSameAsOnePass(Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    w.Op('(');
    const uint32_t l = w.OpenEventList("alloc");
    w.Get(f.a);
    w.Get(f.b);
    w.CloseEventList();
    w.Op('e');
    for (int batch = 0; batch < 3; ++batch) {
      w.Op('(');
      for (uint8_t i = 0; i < 4; ++i) w.Event("alloc", i, {l});
      w.Op('e');
    }
  }));
}

TEST_CASE("known lists: many PUTs over live slots read as the one-pass read", "[pickle][known]") {
  // After the first PUT over a live slot the decoder reads without known
  // lists (each such PUT would otherwise walk the stack and the memo).
  CheckSameAsOnePass(Snapshot([](PickleWriter& w) {
    const Frames f = FirstBatch(w);
    for (int batch = 0; batch < 4; ++batch) {
      w.Op('(');
      for (uint8_t i = 0; i < 5; ++i) {
        w.Event("alloc", i, {f.a, f.b});
        w.Event("alloc", i, {f.c, f.a});
      }
      w.Op('e');
      // A string PUT over frame c's slot (live, kept for good), again and
      // again: later lists that read it hold a string, a bad frame.
      if (batch == 2) {
        for (int k = 0; k < 50; ++k) {
          w.Op(0x8c);
          w.Op(1);
          w.Op('x');
          w.Put(f.c);
          w.Op('0');  // POP
        }
      }
    }
  }));
}
