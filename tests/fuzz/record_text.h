// A sink for the fuzz targets that renders every record as text, so two
// reads of the same content (other chunk sizes, gzip'd or not) can be
// compared exactly.
#pragma once

#include <string>

#include <fmt/format.h>

#include "memtk/snapshot/snapshot.h"

namespace memtk::fuzz {

class RecordText : public snapshot::SnapshotSink {
 public:
  Status OnEvent(const snapshot::TraceEvent& e) override {
    fmt::format_to(std::back_inserter(text), "E {} {} {} {} {} {}|{}|{}|{}\n", e.device, e.index,
                   static_cast<int>(e.action), e.addr, e.size, e.stack ? static_cast<int64_t>(e.stack->value) : -1,
                   e.user_metadata, e.pool_id, e.extra);
    return OkStatus();
  }
  Status OnSegment(const snapshot::Segment& s) override {
    fmt::format_to(std::back_inserter(text), "S {} {} {} {}|{}\n", s.device, s.address, s.total_size, s.pool_id,
                   s.extra);
    return OkStatus();
  }
  Status OnBlock(const snapshot::Block& b) override {
    fmt::format_to(std::back_inserter(text), "B {} {} {}|{}\n", b.segment_id, b.address, b.size, b.extra);
    return OkStatus();
  }
  Status OnTopLevel(std::string_view k, std::string_view json) override {
    fmt::format_to(std::back_inserter(text), "T {} {}\n", k, json);
    return OkStatus();
  }
  Status OnEnd(const snapshot::ReadSummary& s) override {
    fmt::format_to(std::back_inserter(text), "end {} {} {}\n", s.events, s.segments, s.blocks);
    return OkStatus();
  }
  std::string text;
};

}  // namespace memtk::fuzz
