#include "store/snapshot_db.h"

#include <fmt/format.h>

#include "memtk/snapshot/frame_rules.h"
#include "store/sqlite.h"
#include "memtk/timeline/peak.h"
#include "memtk/version.h"
#include "store/row_pipe.h"

namespace memtk::store {

using namespace memtk::snapshot;  // NOLINT: record types only

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE frames(id INTEGER PRIMARY KEY, filename TEXT, line INTEGER, name TEXT, extra TEXT);
CREATE TABLE stacks(id INTEGER PRIMARY KEY, depth INTEGER, top_frame_id INTEGER, site_frame_id INTEGER);
CREATE TABLE stack_frames(stack_id INTEGER, position INTEGER, frame_id INTEGER,
                          PRIMARY KEY(stack_id, position)) WITHOUT ROWID;
CREATE TABLE events(id INTEGER PRIMARY KEY, device INTEGER, idx INTEGER, host INTEGER, action TEXT,
                    addr INTEGER, size INTEGER, stream INTEGER, time_us INTEGER, stack_id INTEGER,
                    forward_stack_id INTEGER, device_free INTEGER, compile_context TEXT,
                    user_metadata TEXT, pool_id TEXT, extra TEXT);
CREATE TABLE allocations(id INTEGER PRIMARY KEY, device INTEGER, host INTEGER, addr INTEGER,
                         size INTEGER, stream INTEGER, alloc_event INTEGER,
                         free_requested_event INTEGER, free_event INTEGER, alloc_time_us INTEGER,
                         free_requested_time_us INTEGER, free_time_us INTEGER, stack_id INTEGER);
CREATE TABLE segments(id INTEGER PRIMARY KEY, device INTEGER, host INTEGER, address INTEGER,
                      total_size INTEGER, allocated_size INTEGER, active_size INTEGER,
                      requested_size INTEGER, stream INTEGER, segment_type TEXT, pool_id TEXT,
                      is_expandable INTEGER, stack_id INTEGER, num_blocks INTEGER, extra TEXT);
CREATE TABLE blocks(id INTEGER PRIMARY KEY, segment_id INTEGER, device INTEGER, address INTEGER,
                    size INTEGER, requested_size INTEGER, state TEXT, address_derived INTEGER,
                    stack_id INTEGER, extra TEXT);
CREATE TABLE annotations(id INTEGER PRIMARY KEY, device INTEGER, stage TEXT, name TEXT,
                         time_us INTEGER, extra TEXT);
CREATE TABLE stats(name TEXT PRIMARY KEY, severity TEXT, value INTEGER, description TEXT);
CREATE TABLE peaks(device INTEGER PRIMARY KEY, peak_bytes INTEGER, peak_event INTEGER, peak_idx INTEGER,
                   peak_time_us INTEGER, trace_peak_bytes INTEGER, trace_peak_event INTEGER,
                   trace_peak_idx INTEGER, trace_peak_time_us INTEGER, end_bytes INTEGER,
                   before_recording_bytes INTEGER, segment_block_bytes INTEGER, actions INTEGER,
                   live_at_peak INTEGER);
CREATE TABLE traces(device INTEGER, host INTEGER, first_event INTEGER, events INTEGER,
                    PRIMARY KEY(device, host));
CREATE TABLE peak_allocations(device INTEGER, kind TEXT, id INTEGER, addr INTEGER, size INTEGER,
                              stack_id INTEGER);
)sql";

// Built after the bulk load: what the canned queries (stats, query,
// render-png) look up by.
constexpr std::string_view kIndexes = R"sql(
CREATE INDEX blocks_segment ON blocks(segment_id);
)sql";

template <class Tag>
std::optional<int64_t> OptId(const std::optional<Id<Tag>>& id) {
  if (!id) return std::nullopt;
  return static_cast<int64_t>(id->value);
}

}  // namespace

// Tables written through the pipe, in PipeTable order.
enum Table : int {
  kFrames,
  kStacks,
  kStackFrames,
  kEvents,
  kAllocations,
  kSegments,
  kBlocks,
  kAnnotations,
  kMeta,
  kStats,
  kPeaks,
  kPeakAllocations,
  kTraces
};

struct SnapshotDbWriter::Impl {
  ScopedDb db;
  RowPipe pipe;
  const Tables* tables = nullptr;
  // stacks.site_frame_id: the built-in rule, user sites (what `query` and
  // render-png show unless told otherwise).
  snapshot::FrameClassifier frames;
  std::string source;
  std::unique_ptr<AllocationTracker> tracker;
  Stats tracker_stats;
  // The viewer's peak per device and what is live at it: `query --at-peak`
  // then reads a few rows instead of replaying the trace.
  timeline::PeakTracker peaks;
  // One device's trace is one run of consecutive event ids: (device, host)
  // -> first id and count, so an index in a trace maps to an id.
  struct Trace {
    uint32_t device;
    bool host;
    uint64_t first, count;
  };
  std::vector<Trace> traces;
};

SnapshotDbWriter::SnapshotDbWriter() : impl_(new Impl) {}
SnapshotDbWriter::~SnapshotDbWriter() = default;

StatusOr<std::unique_ptr<SnapshotDbWriter>> SnapshotDbWriter::Create(const std::string& db_path,
                                                                     const std::string& source) {
  std::unique_ptr<SnapshotDbWriter> w(new SnapshotDbWriter());
  Impl& im = *w->impl_;
  // create=false: the caller's AtomicOutput made the (empty) file under the
  // cleanup lock. Letting SQLite create it would re-create a file that an
  // interrupt's cleanup had just removed, and leave it behind.
  ASSIGN_OR_RETURN(im.db, OpenDb(db_path, /*create=*/false, /*read_only=*/false));
  sqlite3* db = im.db.get();
  // The file is private until renamed into place: durability is the
  // rename's job, so journaling and fsync would only cost time.
  RETURN_IF_ERROR(Exec(db,
                       "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                       "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY;"));
  RETURN_IF_ERROR(Exec(db, kSchema));
  RETURN_IF_ERROR(Exec(db, "BEGIN"));
  // Events: the columns after stack_id are NULL in nearly every row.
  RETURN_IF_ERROR(im.pipe.Start(db, {{.name = "frames", .dense_ids = true},
                                     {.name = "stacks", .dense_ids = true},
                                     {.name = "stack_frames"},
                                     {.name = "events", .short_columns = 10, .dense_ids = true},
                                     {.name = "allocations"},
                                     {.name = "segments", .dense_ids = true},
                                     {.name = "blocks", .dense_ids = true},
                                     {.name = "annotations", .dense_ids = true},
                                     {.name = "meta", .verb = "INSERT OR REPLACE"},
                                     {.name = "stats"},
                                     {.name = "peaks"},
                                     {.name = "peak_allocations"},
                                     {.name = "traces"}}));
  im.source = source;
  SnapshotDbWriter* self = w.get();
  im.tracker = std::make_unique<AllocationTracker>(
      [self](const Allocation& a) {
        ++self->allocations_;
        // An allocation is named after its first event (the alloc, or for
        // one allocated before recording began, its first free): unique,
        // and a lookup by alloc event is a primary-key lookup, no index.
        const uint64_t id = a.alloc_event            ? *a.alloc_event
                            : a.free_requested_event ? *a.free_requested_event
                                                     : a.free_event.value_or(0);
        return self->impl_->pipe.Begin(kAllocations)
            .Int(static_cast<int64_t>(id))
            .Int(a.device)
            .Int(a.host)
            .Int(static_cast<int64_t>(a.addr))
            .Int(a.size)
            .Int(a.stream)
            .UInt(a.alloc_event)
            .UInt(a.free_requested_event)
            .UInt(a.free_event)
            .Int(a.alloc_time_us)
            .Int(a.free_requested_time_us)
            .Int(a.free_time_us)
            .Int(OptId(a.stack))
            .End();
      },
      &im.tracker_stats);
  return w;
}

Status SnapshotDbWriter::OnBegin(const Tables& t) {
  impl_->tables = &t;
  impl_->frames.Reset(&t);
  return OkStatus();
}

Status SnapshotDbWriter::OnFrame(FrameId id, const Frame& f) {
  const Tables& t = *impl_->tables;
  return impl_->pipe.Begin(kFrames)
      .Int(id.value)
      .Text(t.String(f.filename), false)
      .Int(f.line)
      .Text(t.String(f.name), false)
      .Text(t.String(f.extra))
      .End();
}

Status SnapshotDbWriter::OnStack(StackId id, std::span<const FrameId> frames) {
  RowPipe& p = impl_->pipe;
  RETURN_IF_ERROR(p.Begin(kStacks)
                      .Int(id.value)
                      .Int(static_cast<int64_t>(frames.size()))
                      .Int(frames.empty() ? std::nullopt : std::optional<int64_t>(frames[0].value))
                      .Int(OptId(impl_->frames.SiteOf(frames).frame))
                      .End());
  for (size_t i = 0; i < frames.size(); ++i)
    RETURN_IF_ERROR(p.Begin(kStackFrames).Int(id.value).Int(static_cast<int64_t>(i)).Int(frames[i].value).End());
  return OkStatus();
}

Status SnapshotDbWriter::OnSegment(const Segment& s) {
  const Tables& t = *impl_->tables;
  return impl_->pipe.Begin(kSegments)
      .Int(static_cast<int64_t>(s.id))
      .Int(s.device)
      .Int(s.host)
      .Int(static_cast<int64_t>(s.address))
      .Int(s.total_size)
      .Int(s.allocated_size)
      .Int(s.active_size)
      .Int(s.requested_size)
      .Int(s.stream)
      .Text(t.String(s.segment_type))
      .Text(s.pool_id)
      .Int(s.is_expandable ? std::optional<int64_t>(*s.is_expandable) : std::nullopt)
      .Int(OptId(s.stack))
      .Int(s.num_blocks)
      .Text(s.extra)
      .End();
}

Status SnapshotDbWriter::OnBlock(const Block& b) {
  const Tables& t = *impl_->tables;
  impl_->peaks.OnBlock(b);
  return impl_->pipe.Begin(kBlocks)
      .Int(static_cast<int64_t>(b.id))
      .Int(static_cast<int64_t>(b.segment_id))
      .Int(b.device)
      .Int(static_cast<int64_t>(b.address))
      .Int(b.size)
      .Int(b.requested_size)
      .Text(t.String(b.state_name))
      .Int(b.address_derived)
      .Int(OptId(b.stack))
      .Text(b.extra)
      .End();
}

Status SnapshotDbWriter::OnEvent(const TraceEvent& e) {
  Impl& m = *impl_;
  const Tables& t = *m.tables;
  RETURN_IF_ERROR(m.pipe.Begin(kEvents)
                      .Int(static_cast<int64_t>(e.id))
                      .Int(e.device)
                      .Int(static_cast<int64_t>(e.index))
                      .Int(e.host)
                      .Text(t.String(e.action_name))
                      .Int(e.has_addr ? std::optional<int64_t>(static_cast<int64_t>(e.addr)) : std::nullopt)
                      .Int(e.size)
                      .Int(e.stream)
                      .Int(e.time_us)
                      .Int(OptId(e.stack))
                      .Int(OptId(e.forward_stack))
                      .Int(e.device_free)
                      .Text(t.String(e.compile_context))
                      .Text(e.user_metadata)
                      .Text(e.pool_id)
                      .Text(e.extra)
                      .End());
  m.peaks.OnEvent(e);
  if (m.traces.empty() || m.traces.back().device != e.device || m.traces.back().host != e.host)
    m.traces.push_back({e.device, e.host, e.id, 0});
  ++m.traces.back().count;
  return m.tracker->OnEvent(e);
}

Status SnapshotDbWriter::OnAnnotation(const Annotation& a) {
  const Tables& t = *impl_->tables;
  return impl_->pipe.Begin(kAnnotations)
      .Int(static_cast<int64_t>(a.id))
      .Int(a.device)
      .Text(t.String(a.stage))
      .Text(t.String(a.name))
      .Int(a.time_us)
      .Text(a.extra)
      .End();
}

Status SnapshotDbWriter::OnTopLevel(std::string_view key, std::string_view json) {
  // allocator_settings and any key PyTorch adds later: kept verbatim as JSON.
  return impl_->pipe.Begin(kMeta).Text(fmt::format("snapshot.{}", key)).Text(json, false).End();
}

Status SnapshotDbWriter::OnEnd(const ReadSummary& summary) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(m.tracker->Finish());
  summary_ = summary;
  stats_ = summary.stats;
  stats_.Add(m.tracker_stats);
  auto meta = [&](std::string_view k, std::string_view v) { return m.pipe.Begin(kMeta).Text(k).Text(v, false).End(); };
  RETURN_IF_ERROR(meta("memtk_version", kMemtkVersion));
  RETURN_IF_ERROR(meta("schema_version", fmt::format("{}", kSchemaVersion)));
  RETURN_IF_ERROR(meta("site_rule", snapshot::kBuiltinSiteRule));
  RETURN_IF_ERROR(meta("source", m.source));
  RETURN_IF_ERROR(meta("format", summary.format));
  RETURN_IF_ERROR(meta("bytes_decoded", fmt::format("{}", summary.bytes)));
  RETURN_IF_ERROR(meta("bare_segment_list", summary.bare_segment_list ? "1" : "0"));
  RETURN_IF_ERROR(meta("keys_seen", summary.keys_json));
  RETURN_IF_ERROR(meta("events", fmt::format("{}", summary.events)));
  RETURN_IF_ERROR(meta("segments", fmt::format("{}", summary.segments)));
  RETURN_IF_ERROR(meta("blocks", fmt::format("{}", summary.blocks)));
  RETURN_IF_ERROR(meta("annotations", fmt::format("{}", summary.annotations)));
  RETURN_IF_ERROR(meta("allocations", fmt::format("{}", allocations_)));
  RETURN_IF_ERROR(meta("frames", fmt::format("{}", m.tables->num_frames())));
  RETURN_IF_ERROR(meta("stacks", fmt::format("{}", m.tables->num_stacks())));
  for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i) {
    const StatInfo& info = GetStatInfo(static_cast<Stat>(i));
    RETURN_IF_ERROR(m.pipe.Begin(kStats)
                        .Text(info.name)
                        .Text(SeverityName(info.severity))
                        .Int(static_cast<int64_t>(stats_.Get(static_cast<Stat>(i))))
                        .Text(info.description)
                        .End());
  }
  RETURN_IF_ERROR(WriteTimelineTables());
  // The writer thread drains the last rows and gives the connection back.
  RETURN_IF_ERROR(m.pipe.Finish());
  RETURN_IF_ERROR(Exec(m.db.get(), kIndexes));
  return Exec(m.db.get(), "COMMIT");
}

Status SnapshotDbWriter::WriteTimelineTables() {
  RowPipe& p = impl_->pipe;
  for (const Impl::Trace& t : impl_->traces)
    RETURN_IF_ERROR(p.Begin(kTraces)
                        .Int(t.device)
                        .Int(t.host)
                        .Int(static_cast<int64_t>(t.first))
                        .Int(static_cast<int64_t>(t.count))
                        .End());
  for (const timeline::DevicePeak& d : impl_->peaks.Finish()) {
    RETURN_IF_ERROR(p.Begin(kPeaks)
                        .Int(d.device)
                        .Int(d.peak.bytes)
                        .UInt(d.peak.event_id)
                        .UInt(d.peak.event_idx)
                        .Int(d.peak.time_us)
                        .Int(d.trace_peak.bytes)
                        .UInt(d.trace_peak.event_id)
                        .UInt(d.trace_peak.event_idx)
                        .Int(d.trace_peak.time_us)
                        .Int(d.end_bytes)
                        .Int(d.before_recording_bytes)
                        .Int(d.segment_block_bytes)
                        .Int(static_cast<int64_t>(d.actions))
                        .Int(static_cast<int64_t>(d.live_at_peak.size()))
                        .End());
    static constexpr std::string_view kKinds[] = {"alloc", "before_recording", "block"};
    for (const timeline::LiveElement& e : d.live_at_peak)
      RETURN_IF_ERROR(p.Begin(kPeakAllocations)
                          .Int(d.device)
                          .Text(kKinds[static_cast<int>(e.kind)])
                          .Int(static_cast<int64_t>(e.id))
                          .Int(static_cast<int64_t>(e.addr))
                          .Int(e.size)
                          .Int(OptId(e.stack))
                          .End());
  }
  return OkStatus();
}

Status SnapshotDbWriter::Close() {
  Impl& m = *impl_;
  RETURN_IF_ERROR(m.pipe.Finish());
  m.pipe.Release();
  sqlite3* db = m.db.release();
  if (db && sqlite3_close(db) != SQLITE_OK) return IoError("SQLite: cannot close the database");
  return OkStatus();
}

}  // namespace memtk::store
