// render-png's pieces: the font, the PNG encoder (decoded back with zlib),
// the timeline layout against a brute-force model of the viewer, the step
// log's spill, and the peak against PeakTracker. (Issue #5.)
#include <zlib.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "render/chart.h"
#include "render/png.h"
#include "render/text.h"
#include "snapshot/call_site.h"
#include "memtk/snapshot/snapshot.h"
#include "timeline/layout.h"
#include "memtk/timeline/peak.h"

using namespace memtk;
using namespace memtk::timeline;
using memtk::snapshot::Action;
using memtk::snapshot::TraceEvent;

namespace {

uint32_t Be32(const std::string& s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// A minimal PNG reader for what EncodePng writes (8-bit RGB, filters 0-4).
render::Image DecodePng(const std::string& png) {
  REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  size_t at = 8;
  int w = 0, h = 0;
  std::string idat;
  while (at < png.size()) {
    uint32_t len = Be32(png, at);
    std::string type = png.substr(at + 4, 4);
    std::string data = png.substr(at + 8, len);
    uLong crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4);
    REQUIRE(crc == Be32(png, at + 8 + len));
    if (type == "IHDR") {
      w = static_cast<int>(Be32(data, 0));
      h = static_cast<int>(Be32(data, 4));
    }
    if (type == "IDAT") idat += data;
    at += 12 + len;
  }
  std::vector<uint8_t> raw(static_cast<size_t>(w * 3 + 1) * h);
  uLongf n = raw.size();
  REQUIRE(uncompress(raw.data(), &n, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) == Z_OK);
  REQUIRE(n == raw.size());
  render::Image img(w, h, {});
  std::vector<uint8_t> prev(static_cast<size_t>(w) * 3, 0), cur(prev.size());
  for (int y = 0; y < h; ++y) {
    const uint8_t* line = raw.data() + static_cast<size_t>(y) * (w * 3 + 1);
    for (size_t i = 0; i < cur.size(); ++i) {
      int a = i >= 3 ? cur[i - 3] : 0, b = prev[i], c = i >= 3 ? prev[i - 3] : 0;
      int pred = 0;
      switch (line[0]) {
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4: {
          int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
          break;
        }
      }
      cur[i] = static_cast<uint8_t>(line[1 + i] + pred);
    }
    std::copy(cur.begin(), cur.end(), img.Row(y));
    prev = cur;
  }
  return img;
}

TraceEvent Ev(uint64_t idx, Action a, uint64_t addr, int64_t size, std::optional<int64_t> t = std::nullopt,
              std::optional<uint32_t> stack = std::nullopt) {
  TraceEvent e;
  e.index = idx;
  e.id = idx;
  e.action = a;
  e.addr = addr;
  e.has_addr = true;
  e.size = size;
  e.time_us = t;
  if (stack) e.stack = StackId{*stack};
  return e;
}

// The viewer's algorithm, literally: a list of live elements in stacking order.
struct Model {
  std::vector<std::pair<uint64_t, int64_t>> live;  // (key, size) bottom to top
  int64_t Total() const {
    int64_t t = 0;
    for (const auto& [k, s] : live) t += s;
    return t;
  }
};

}  // namespace

TEST_CASE("font: widths, elision, unknown bytes drawn once per code point") {
  CHECK(render::TextWidth("") == 0);
  CHECK(render::TextWidth("a") == 5);
  CHECK(render::TextWidth("ab") == 11);
  CHECK(render::TextWidth("ab", 2) == 22);
  CHECK(render::TextWidth("\xc2\xb5s") == 11);                                            // "µs": two glyphs
  CHECK(render::ElideLeft("/very/long/path/model.py:12:f", 6 * 14) == "...del.py:12:f");  // 14 glyphs
  CHECK(render::ElideRight("loading checkpoint shard 1/2", 6 * 10) == "loading...");
  CHECK(render::ElideLeft("short", 100) == "short");
  render::Image img(20, 12, {255, 255, 255});
  render::DrawText(img, 1, 1, "I", {0, 0, 0});
  // 'I' is ".###." on its top row: of x = 1..5, only 2-4 are inked.
  CHECK(img.Get(1, 1) == render::Rgb{255, 255, 255});
  CHECK(img.Get(2, 1) == render::Rgb{0, 0, 0});
  CHECK(img.Get(4, 1) == render::Rgb{0, 0, 0});
  CHECK(img.Get(5, 1) == render::Rgb{255, 255, 255});
}

TEST_CASE("png: decodes back to the same pixels; deterministic") {
  render::Image img(37, 23, {255, 255, 255});
  std::mt19937 rng(7);
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      if (rng() % 3 == 0)
        img.Set(x, y, {static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())});
  auto a = render::EncodePng(img);
  auto b = render::EncodePng(img);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  render::Image back = DecodePng(*a);
  REQUIRE(back.width() == 37);
  REQUIRE(back.height() == 23);
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) REQUIRE(back.Get(x, y) == img.Get(x, y));
}

TEST_CASE("chart: ticks in binary units and counts") {
  auto bytes = render::ByteTicks(int64_t{3} << 30, 6);
  REQUIRE(bytes.size() >= 3);
  CHECK(bytes[0].label == "0");
  CHECK(bytes[1].label == "0.5 GiB");  // 3 GiB / 6 ticks: a 1/2/5 step of 0.5 GiB
  auto b2 = render::ByteTicks(int64_t{16} << 30, 8);
  CHECK(b2[1].label == "2 GiB");
  auto counts = render::LinearTicks(0, 2'000'000, 10, render::TickUnit::kCount);
  CHECK(counts[1].label == "200K");
  CHECK(counts[5].label == "1M");
  auto secs = render::LinearTicks(0, 3, 6, render::TickUnit::kSeconds);
  CHECK(secs[1].label == "0.5 s");
}

TEST_CASE("layout: every column's height is its live bytes, against the viewer's algorithm") {
  // Random allocs and frees (some of addresses never allocated: allocated
  // before recording), one column per event, so each column's instant is
  // exactly that event. The model follows process_alloc_data literally.
  std::mt19937_64 rng(42);
  TimelineBuilder b(View::kActive, 0, /*memory_budget_bytes=*/1 << 16);  // small: force the spill
  for (uint32_t s = 0; s < 5; ++s) b.SetStackSite(StackId{s}, b.InternSite("site" + std::to_string(s)));
  std::vector<TraceEvent> events;
  std::map<uint64_t, int64_t> live;
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    bool alloc = live.size() < 50 && (live.empty() || rng() % 2 == 0);
    if (alloc) {
      uint64_t addr = (rng() % 1'000'000) * 512;
      if (live.count(addr)) addr += 1;
      int64_t size = static_cast<int64_t>(rng() % (1 << 20)) + 1;
      live[addr] = size;
      events.push_back(Ev(i, Action::kAlloc, addr, size, std::nullopt, static_cast<uint32_t>(rng() % 5)));
    } else if (rng() % 10 == 0) {
      events.push_back(Ev(i, Action::kFreeCompleted, 7'000'000'000ULL + i, 4096));  // never allocated
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      events.push_back(Ev(i, Action::kFreeCompleted, it->first, it->second));
      live.erase(it);
    }
  }
  for (const TraceEvent& e : events) REQUIRE(b.OnEvent(e).ok());
  auto t = b.Finish(0);
  REQUIRE(t.ok());
  CHECK(t->steps.spilled());

  // Model: frees without alloc are initial elements, the first on top.
  std::vector<int64_t> expected;
  {
    Model m;
    std::vector<uint64_t> pre;
    std::map<uint64_t, uint64_t> addr_key;
    for (const TraceEvent& e : events)
      if (e.action == Action::kFreeCompleted && e.addr >= 7'000'000'000ULL) pre.push_back(e.addr);
    for (auto it = pre.rbegin(); it != pre.rend(); ++it) m.live.push_back({*it, 4096});
    uint64_t key = 1ULL << 62;
    for (const TraceEvent& e : events) {
      if (e.action == Action::kAlloc) {
        m.live.push_back({key, e.size});
        addr_key[e.addr] = key++;
      } else {
        uint64_t k = e.addr >= 7'000'000'000ULL ? e.addr : addr_key.at(e.addr);
        auto it = std::find_if(m.live.begin(), m.live.end(), [&](const auto& p) { return p.first == k; });
        REQUIRE(it != m.live.end());
        m.live.erase(it);
      }
      expected.push_back(m.Total());
    }
  }
  RasterOptions o;
  o.width = n;
  o.height = 300;
  o.background = {0, 0, 0};
  auto r = Rasterize(*t, o);
  REQUIRE(r.ok());
  REQUIRE(r->column_bytes.size() == static_cast<size_t>(n));
  int64_t peak = 0;
  for (int c = 0; c < n; ++c) {
    INFO("column " << c << " action " << static_cast<int>(events[static_cast<size_t>(c)].action) << " size "
                   << events[static_cast<size_t>(c)].size);
    REQUIRE(r->column_bytes[static_cast<size_t>(c)] == expected[static_cast<size_t>(c)]);
    peak = std::max(peak, expected[static_cast<size_t>(c)]);
    // Inked rows (not background) = live bytes in pixel rows, rounded up, ±1.
    int inked = 0;
    for (int y = 0; y < o.height; ++y) inked += !(r->plot.Get(c, y) == render::Rgb{0, 0, 0});
    double rows = static_cast<double>(expected[static_cast<size_t>(c)]) * o.height / static_cast<double>(r->y_max);
    REQUIRE(std::abs(inked - rows) <= 1.0 + 1e-9);
  }
  CHECK(r->peak_bytes == peak);
}

TEST_CASE("layout: a pixel is the bytes-weighted blend of the bands crossing it") {
  // Two sites, red and blue by construction of the test (not SiteColor):
  // 1,000 thin allocations alternate between them inside one pixel row.
  TimelineBuilder b(View::kActive, 0);
  uint32_t s1 = b.InternSite("a.py:1:f"), s2 = b.InternSite("b.py:2:g");
  b.SetStackSite(StackId{0}, s1);
  b.SetStackSite(StackId{1}, s2);
  for (uint32_t i = 0; i < 1000; ++i)
    REQUIRE(b.OnEvent(Ev(i, Action::kAlloc, 4096 * (i + 1), 3 + (i % 2), 0, i % 2)).ok());
  auto t = b.Finish(0);
  REQUIRE(t.ok());
  RasterOptions o;
  o.width = 1;
  o.height = 1;  // one pixel holds everything: 500*3 bytes of s1, 500*4 of s2
  auto r = Rasterize(*t, o);
  REQUIRE(r.ok());
  const render::Rgb c1 = t->sites[s1].color, c2 = t->sites[s2].color;
  const int64_t total = 3500, pixel = r->y_max;  // y_max = max(height, peak * 1.05) = 3675
  auto expect = [&](uint8_t a, uint8_t bb) {
    return static_cast<uint8_t>((1500 * a + 2000 * bb + (pixel - total) * 255 + pixel / 2) / pixel);
  };
  render::Rgb got = r->plot.Get(0, 0);
  CHECK(static_cast<int>(got.r) == expect(c1.r, c2.r));
  CHECK(static_cast<int>(got.g) == expect(c1.g, c2.g));
  CHECK(static_cast<int>(got.b) == expect(c1.b, c2.b));
}

TEST_CASE("layout: initial stack order, segments view, time axis, errors") {
  TimelineBuilder b(View::kActive, std::nullopt);
  uint32_t site_block = b.InternSite("block.py:1:b"), site_pre = b.InternSite("pre.py:1:p");
  b.SetStackSite(StackId{0}, site_block);
  b.SetStackSite(StackId{1}, site_pre);
  snapshot::Block blk;
  blk.device = 1;
  blk.address = 100;
  blk.requested_size = 1000;
  blk.state = snapshot::BlockState::kActiveAllocated;
  blk.stack = StackId{0};
  b.OnBlock(blk);
  REQUIRE(b.OnEvent([] {
             TraceEvent e = Ev(0, Action::kFreeCompleted, 200, 500, 10, 1);
             e.device = 1;
             return e;
           }())
              .ok());
  auto none = TimelineBuilder(View::kActive).Finish(std::nullopt);
  CHECK(none.status().message() == "no trace events or segments to draw");
  auto t = b.Finish(1);
  REQUIRE(t.ok());
  REQUIRE(t->initial.size() == 2);
  CHECK(t->initial[0].site == site_block);  // untraced block at the bottom
  CHECK(t->initial[1].site == site_pre);    // freed-before-recorded on top
  RasterOptions o;
  o.width = 4;
  o.height = 100;
  o.x = XAxis::kTime;
  o.from = -1;  // seconds before the first event: the initial stack alone
  o.to = 1;
  auto r = Rasterize(*t, o);
  REQUIRE(r.ok());
  CHECK(r->column_bytes == std::vector<int64_t>{1500, 1500, 1000, 1000});  // the free is at the left edge of column 2
  o.from.reset();
  o.to.reset();

  TimelineBuilder untimed(View::kSegments, 0);
  REQUIRE(untimed.OnEvent(Ev(0, Action::kSegmentAlloc, 1, 2 << 20)).ok());
  auto u = untimed.Finish(std::nullopt);
  REQUIRE(u.ok());
  auto bad = Rasterize(*u, o);
  CHECK(bad.status().message() == "device 0: 1 of 1 allocations and frees have no time_us; use --x event");
  o.x = XAxis::kEvent;
  auto seg = Rasterize(*u, o);
  REQUIRE(seg.ok());
  CHECK(seg->peak_bytes == 2 << 20);

  TimelineBuilder other(View::kActive, std::nullopt);
  REQUIRE(other.OnEvent(Ev(0, Action::kAlloc, 1, 1)).ok());
  CHECK(other.Finish(3).status().message() == "device 3 has no trace events or segments (devices: 0)");
}

TEST_CASE("layout: peak equals PeakTracker's on the sample snapshot") {
  struct Both : snapshot::SnapshotSink {
    explicit Both(TimelineBuilder* builder) : b(builder) {}
    Status OnEvent(const TraceEvent& e) override {
      peaks.OnEvent(e);
      return b->OnEvent(e);
    }
    Status OnBlock(const snapshot::Block& k) override {
      peaks.OnBlock(k);
      b->OnBlock(k);
      return OkStatus();
    }
    TimelineBuilder* b;
    PeakTracker peaks;
  };
  TimelineBuilder b(View::kActive);
  Both sink(&b);
  REQUIRE(snapshot::ReadSnapshot(MEMTK_DATA_DIR "/sample.pickle", &sink, {}).ok());
  auto peaks = sink.peaks.Finish();
  auto t = b.Finish(0);
  REQUIRE(t.ok());
  RasterOptions o;
  o.width = static_cast<int>(t->events);  // one column per event: the exact peak
  auto r = Rasterize(*t, o);
  REQUIRE(r.ok());
  CHECK(r->peak_bytes == peaks[0].peak.bytes);
  REQUIRE(r->peak_idx);
  CHECK(*r->peak_idx == *peaks[0].peak.event_idx);
  // Any width keeps the peak: the peak column is drawn at its most-live instant.
  o.width = 97;
  auto narrow = Rasterize(*t, o);
  REQUIRE(narrow.ok());
  CHECK(narrow->peak_bytes == peaks[0].peak.bytes);
}

namespace {

// Feeds the same stream to a TimelineBuilder and a PeakTracker, annotations
// included (as render-png's own sink does).
struct TimelineAndPeaks : snapshot::SnapshotSink {
  explicit TimelineAndPeaks(TimelineBuilder* builder) : b(builder) {}
  Status OnBegin(const snapshot::Tables& t) override {
    tables = &t;
    return OkStatus();
  }
  Status OnStack(StackId id, std::span<const FrameId> frames) override {
    if (auto site = snapshot::CallSiteFrame(*tables, frames))
      b->SetStackSite(id, b->InternSite(snapshot::FormatFrame(*tables, *site)));
    return OkStatus();
  }
  Status OnEvent(const TraceEvent& e) override {
    peaks.OnEvent(e);
    return b->OnEvent(e);
  }
  Status OnSegment(const snapshot::Segment& s) override {
    b->OnSegment(s);
    return OkStatus();
  }
  Status OnBlock(const snapshot::Block& k) override {
    peaks.OnBlock(k);
    b->OnBlock(k);
    return OkStatus();
  }
  Status OnAnnotation(const snapshot::Annotation& a) override {
    b->OnAnnotation(a, tables->String(a.stage), tables->String(a.name));
    return OkStatus();
  }
  TimelineBuilder* b;
  const snapshot::Tables* tables = nullptr;
  PeakTracker peaks;
};

}  // namespace

// Issue #16: the memory held at the start is an instant of the picture like
// any other; a trace that opens with frees peaks there, in column 0.
TEST_CASE("layout: a trace that opens with frees peaks at the start, as PeakTracker says") {
  for (View view : {View::kActive, View::kSegments}) {
    TimelineBuilder b(view);
    TimelineAndPeaks sink(&b);
    REQUIRE(snapshot::ReadSnapshot(MEMTK_DATA_DIR "/starts_with_frees.pickle", &sink, {}).ok());
    auto peaks = sink.peaks.Finish();
    auto t = b.Finish(0);
    REQUIRE(t.ok());
    for (int width : {static_cast<int>(t->events), 3, 700}) {
      INFO("view " << static_cast<int>(view) << " width " << width);
      RasterOptions o;
      o.width = width;
      auto r = Rasterize(*t, o);
      REQUIRE(r.ok());
      // gen_fixtures.py: 2,000,000 + 1,000,000 + 6 MiB live; 8 + 20 + 14 MiB reserved.
      CHECK(r->peak_bytes == (view == View::kActive ? 9'291'456 : 42 << 20));
      if (view == View::kActive) CHECK(r->peak_bytes == peaks[0].peak.bytes);
      CHECK(r->peak_column == 0);
      CHECK(!r->peak_idx);  // "at the start"
      CHECK(r->peak_time_us == kNoTime);
    }
  }
}

TEST_CASE("layout: the picture's peak is PeakTracker's on random traces that open with frees") {
  std::mt19937_64 rng(16);
  for (int round = 0; round < 100; ++round) {
    TimelineBuilder b(View::kActive, 0);
    PeakTracker peaks;
    std::map<uint64_t, int64_t> live;
    const int n = 1 + static_cast<int>(rng() % 40);
    const int opening_frees = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      TraceEvent e;
      if (i < opening_frees) {
        e = Ev(i, Action::kFreeCompleted, 9'000'000 + 512 * i, 1 + static_cast<int64_t>(rng() % 5000));
      } else if (live.empty() || rng() % 2 == 0) {
        uint64_t addr = 512 * (rng() % 64);
        int64_t size = 1 + static_cast<int64_t>(rng() % 3000);
        live[addr] = size;
        e = Ev(i, Action::kAlloc, addr, size);
      } else {
        auto it = live.begin();
        std::advance(it, static_cast<long>(rng() % live.size()));
        e = Ev(i, Action::kFreeCompleted, it->first, it->second);
        live.erase(it);
      }
      peaks.OnEvent(e);
      REQUIRE(b.OnEvent(e).ok());
    }
    auto p = peaks.Finish();
    auto t = b.Finish(0);
    REQUIRE(t.ok());
    RasterOptions o;
    o.width = static_cast<int>(t->events);
    auto r = Rasterize(*t, o);
    REQUIRE(r.ok());
    INFO("round " << round);
    CHECK(r->peak_bytes == p[0].peak.bytes);
    CHECK(r->peak_idx == p[0].peak.event_idx);
  }
}

// Issue #16: an annotation after the trace's last event was dropped.
TEST_CASE("layout: annotations after the last event sit at the right edge") {
  for (XAxis x : {XAxis::kEvent, XAxis::kTime}) {
    TimelineBuilder b(View::kActive);
    TimelineAndPeaks sink(&b);
    REQUIRE(snapshot::ReadSnapshot(MEMTK_DATA_DIR "/starts_with_frees.pickle", &sink, {}).ok());
    auto t = b.Finish(0);
    REQUIRE(t.ok());
    RasterOptions o;
    o.width = 400;
    o.x = x;
    auto r = Rasterize(*t, o);
    REQUIRE(r.ok());
    INFO("x axis " << static_cast<int>(x));
    REQUIRE(r->markers.size() == 3);  // epoch START, epoch END, eval START
    CHECK(r->markers.back().second->label == "eval");
    CHECK(r->markers.back().first == o.width - 1);
    CHECK(r->markers.front().first < o.width - 1);
    // A window that ends before the trace does leaves it out.
    o.to = x == XAxis::kEvent ? 5.0 : 0.000045;
    auto cut = Rasterize(*t, o);
    REQUIRE(cut.ok());
    for (const auto& [col, m] : cut->markers) CHECK(m->label != "eval");
  }
}

// Issue #16: with expandable segments there is no segment_alloc at all; the
// segments view drew the end state as one flat block "peaking at the start".
TEST_CASE("layout: --view segments follows segment_map and segment_unmap") {
  TimelineBuilder b(View::kSegments);
  TimelineAndPeaks sink(&b);
  REQUIRE(snapshot::ReadSnapshot(MEMTK_DATA_DIR "/expandable.pickle", &sink, {}).ok());
  auto t = b.Finish(0);
  REQUIRE(t.ok());
  CHECK(t->allocs == 3);  // the maps
  CHECK(t->frees == 2);   // the unmaps
  REQUIRE(t->initial.size() == 1);
  CHECK(t->initial[0].size == 4 << 20);  // unmapped at event 8, never mapped in the trace
  RasterOptions o;
  o.width = static_cast<int>(t->events);  // one column per event
  o.background = {0, 0, 0};
  auto r = Rasterize(*t, o);
  REQUIRE(r.ok());
  // Reserved MiB after each event (gen_fixtures.py, expandable()).
  const std::vector<int64_t> mib = {24, 24, 24, 64, 64, 64, 34, 34, 30, 30, 40};
  REQUIRE(r->column_bytes.size() == mib.size());
  for (size_t c = 0; c < mib.size(); ++c) {
    INFO("event " << c);
    CHECK(r->column_bytes[c] == mib[c] << 20);
    int inked = 0;
    for (int y = 0; y < o.height; ++y) inked += !(r->plot.Get(static_cast<int>(c), y) == render::Rgb{0, 0, 0});
    CHECK(std::abs(inked - static_cast<double>(mib[c] << 20) * o.height / static_cast<double>(r->y_max)) <= 1.0);
  }
  CHECK(r->peak_bytes == 64 << 20);
  REQUIRE(r->peak_idx);
  CHECK(*r->peak_idx == 3);
  // At the peak: the first map (20 MiB), the second (40), the 4 from before.
  std::map<std::string, int64_t> at_peak;
  for (const auto& [site, bytes] : r->peak_sites) at_peak[t->sites[site].label] = bytes;
  CHECK(at_peak == std::map<std::string, int64_t>{
                       {"train.py:50:build", 20 << 20}, {"train.py:53:activations", 40 << 20}, {"<no frames>", 4 << 20}});
  // The last column: 10 MiB left of the first map, 20 of the second, 10 new.
  o.width = 1;
  o.from = 10;
  auto last = Rasterize(*t, o);
  REQUIRE(last.ok());
  std::map<std::string, int64_t> at_end;
  for (const auto& [site, bytes] : last->peak_sites) at_end[t->sites[site].label] = bytes;
  CHECK(at_end == std::map<std::string, int64_t>{
                      {"train.py:50:build", 10 << 20}, {"train.py:53:activations", 20 << 20}, {"train.py:55:grow", 10 << 20}});
}
