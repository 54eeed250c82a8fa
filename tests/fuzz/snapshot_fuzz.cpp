// libFuzzer target for the snapshot readers (pickle and JSON) and everything
// `memtk stats` does with what they read (peak tracking, grouping, text and
// JSON rendering), plus the SnapViewer layout of `convert --to snapviewer`
// (written to /dev/null with a tiny budget, so ranges and the one-element
// path are both taken). Built with -DMEMTK_FUZZ=ON and clang; without it,
// fuzz_replay.cpp supplies a main() that replays the committed corpus under
// ctest. The second read takes the two-thread memo pre-pass, so a split
// that miscounts shows up as a read that fails where the first succeeded;
// two more compare reads with and without list hints record by record.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "memtk/analysis/snapshot_stats.h"
#include "memtk/io/output_stream.h"
#include "memtk/present/snapshot_stats.h"
#include "memtk/snapshot/snapshot.h"
#include "memtk/timeline/snapviewer.h"
#include "record_text.h"

namespace {

class LayoutSink : public memtk::snapshot::SnapshotSink {
 public:
  memtk::Status OnEvent(const memtk::snapshot::TraceEvent& e) override {
    using memtk::snapshot::Action;
    if (e.host || e.device != 0) return memtk::OkStatus();
    uint32_t stack = e.stack ? e.stack->value : memtk::timeline::SnapViewerLayout::kNoStack;
    if (e.action == Action::kAlloc) layout.Alloc(e.addr, e.size, stack);
    if (e.action == Action::kFreeCompleted || e.action == Action::kFree) layout.Free(e.addr, e.size, stack);
    return memtk::OkStatus();
  }
  memtk::timeline::SnapViewerLayout layout;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    // List hints, found on the read-ahead thread, are hints only: reads with
    // and without them give the same records, or the same error.
    memtk::fuzz::RecordText with, without;
    memtk::snapshot::ReadOptions hinted, plain;
    hinted.chunk_size = plain.chunk_size = 64u << 10;  // the smallest chunk read ahead
    plain.list_hints = false;
    const memtk::Status a = memtk::snapshot::ReadSnapshotBytes("fuzz", {data, size}, &with, hinted);
    const memtk::Status b = memtk::snapshot::ReadSnapshotBytes("fuzz", {data, size}, &without, plain);
    if (a.ok() != b.ok() || a.message() != b.message() || with.text != without.text) __builtin_trap();
  }
  auto report = memtk::analysis::BuildSnapshotReportBytes("fuzz", {data, size}, {});
  if (report.ok()) {
    (void)memtk::present::FormatSnapshotReport(*report);
    (void)memtk::present::SnapshotReportJson(*report);
    // This read splits the memo pre-pass at a FRAME however small the input
    // (the report above did not): it must succeed wherever that one did.
    LayoutSink sink;
    memtk::snapshot::ReadOptions split;
    split.split_prepass_bytes = 0;
    const memtk::Status read = memtk::snapshot::ReadSnapshotBytes("fuzz", {data, size}, &sink, split);
    if (!read.ok()) __builtin_trap();
    if (sink.layout.Finish().ok()) {
      static int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      auto out = memtk::io::OutputStream::Open(null_fd, "/dev/null", false);
      if (out.ok()) {
        (void)sink.layout.WriteJson(&*out, 64);
        (void)out->Finish();
      }
    }
  }
  return 0;
}
