#include "memtk/store/snapshot_db.h"

#include <fmt/format.h>

#include "memtk/store/sqlite.h"
#include "memtk/version.h"

namespace memtk::store {

using namespace memtk::snapshot;  // NOLINT: record types only

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE frames(id INTEGER PRIMARY KEY, filename TEXT, line INTEGER, name TEXT, extra TEXT);
CREATE TABLE stacks(id INTEGER PRIMARY KEY, depth INTEGER, top_frame_id INTEGER);
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
)sql";

// Built after the bulk load: what the canned queries (stats, query,
// render-png) look up by.
constexpr std::string_view kIndexes = R"sql(
CREATE INDEX allocations_alloc_event ON allocations(alloc_event);
CREATE INDEX allocations_stack ON allocations(stack_id);
CREATE INDEX blocks_segment ON blocks(segment_id);
)sql";

std::optional<int64_t> OptStack(const std::optional<StackId>& s) {
  if (!s) return std::nullopt;
  return static_cast<int64_t>(s->value);
}

}  // namespace

struct SnapshotDbWriter::Impl {
  ScopedDb db;
  ScopedStmt frame, stack, stack_frame, event, alloc, segment, block, annotation, meta;
  const Tables* tables = nullptr;
  std::string source;
  std::unique_ptr<AllocationTracker> tracker;
  Stats tracker_stats;
};

SnapshotDbWriter::SnapshotDbWriter() : impl_(new Impl) {}
SnapshotDbWriter::~SnapshotDbWriter() = default;

StatusOr<std::unique_ptr<SnapshotDbWriter>> SnapshotDbWriter::Create(const std::string& db_path,
                                                                      const std::string& source) {
  std::unique_ptr<SnapshotDbWriter> w(new SnapshotDbWriter());
  Impl& im = *w->impl_;
  ASSIGN_OR_RETURN(im.db, OpenDb(db_path, true, false));
  sqlite3* db = im.db.get();
  // The file is private until renamed into place: durability is the
  // rename's job, so journaling and fsync would only cost time.
  RETURN_IF_ERROR(Exec(db,
                       "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                       "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;"));
  RETURN_IF_ERROR(Exec(db, kSchema));
  RETURN_IF_ERROR(Exec(db, "BEGIN"));
  ASSIGN_OR_RETURN(im.frame, Prepare(db, "INSERT INTO frames VALUES(?,?,?,?,?)"));
  ASSIGN_OR_RETURN(im.stack, Prepare(db, "INSERT INTO stacks VALUES(?,?,?)"));
  ASSIGN_OR_RETURN(im.stack_frame, Prepare(db, "INSERT INTO stack_frames VALUES(?,?,?)"));
  ASSIGN_OR_RETURN(im.event, Prepare(db, "INSERT INTO events VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  ASSIGN_OR_RETURN(im.alloc, Prepare(db, "INSERT INTO allocations VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  ASSIGN_OR_RETURN(im.segment, Prepare(db, "INSERT INTO segments VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  ASSIGN_OR_RETURN(im.block, Prepare(db, "INSERT INTO blocks VALUES(?,?,?,?,?,?,?,?,?,?)"));
  ASSIGN_OR_RETURN(im.annotation, Prepare(db, "INSERT INTO annotations VALUES(?,?,?,?,?,?)"));
  ASSIGN_OR_RETURN(im.meta, Prepare(db, "INSERT OR REPLACE INTO meta VALUES(?,?)"));
  im.source = source;
  SnapshotDbWriter* self = w.get();
  im.tracker = std::make_unique<AllocationTracker>(
      [self](const Allocation& a) {
        Impl& m = *self->impl_;
        return Row(m.db.get(), m.alloc.get())
            .Int(1, static_cast<int64_t>(self->allocations_++))
            .Int(2, a.device)
            .Int(3, a.host)
            .Int(4, static_cast<int64_t>(a.addr))
            .Int(5, a.size)
            .Int(6, a.stream)
            .UInt(7, a.alloc_event)
            .UInt(8, a.free_requested_event)
            .UInt(9, a.free_event)
            .Int(10, a.alloc_time_us)
            .Int(11, a.free_requested_time_us)
            .Int(12, a.free_time_us)
            .Int(13, OptStack(a.stack))
            .Step();
      },
      &im.tracker_stats);
  return w;
}

Status SnapshotDbWriter::OnBegin(const Tables& t) {
  impl_->tables = &t;
  return OkStatus();
}

Status SnapshotDbWriter::OnFrame(FrameId id, const Frame& f) {
  const Tables& t = *impl_->tables;
  return Row(impl_->db.get(), impl_->frame.get())
      .Int(1, id.value)
      .Text(2, t.String(f.filename), false)
      .Int(3, f.line)
      .Text(4, t.String(f.name), false)
      .Text(5, t.String(f.extra))
      .Step();
}

Status SnapshotDbWriter::OnStack(StackId id, std::span<const FrameId> frames) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(Row(m.db.get(), m.stack.get())
                      .Int(1, id.value)
                      .Int(2, static_cast<int64_t>(frames.size()))
                      .Int(3, frames.empty() ? std::nullopt : std::optional<int64_t>(frames[0].value))
                      .Step());
  for (size_t i = 0; i < frames.size(); ++i)
    RETURN_IF_ERROR(Row(m.db.get(), m.stack_frame.get())
                        .Int(1, id.value)
                        .Int(2, static_cast<int64_t>(i))
                        .Int(3, frames[i].value)
                        .Step());
  return OkStatus();
}

Status SnapshotDbWriter::OnSegment(const Segment& s) {
  const Tables& t = *impl_->tables;
  return Row(impl_->db.get(), impl_->segment.get())
      .Int(1, static_cast<int64_t>(s.id))
      .Int(2, s.device)
      .Int(3, s.host)
      .Int(4, static_cast<int64_t>(s.address))
      .Int(5, s.total_size)
      .Int(6, s.allocated_size)
      .Int(7, s.active_size)
      .Int(8, s.requested_size)
      .Int(9, s.stream)
      .Text(10, t.String(s.segment_type))
      .Text(11, s.pool_id)
      .Int(12, s.is_expandable ? std::optional<int64_t>(*s.is_expandable) : std::nullopt)
      .Int(13, OptStack(s.stack))
      .Int(14, s.num_blocks)
      .Text(15, s.extra)
      .Step();
}

Status SnapshotDbWriter::OnBlock(const Block& b) {
  const Tables& t = *impl_->tables;
  return Row(impl_->db.get(), impl_->block.get())
      .Int(1, static_cast<int64_t>(b.id))
      .Int(2, static_cast<int64_t>(b.segment_id))
      .Int(3, b.device)
      .Int(4, static_cast<int64_t>(b.address))
      .Int(5, b.size)
      .Int(6, b.requested_size)
      .Text(7, t.String(b.state_name))
      .Int(8, b.address_derived)
      .Int(9, OptStack(b.stack))
      .Text(10, b.extra)
      .Step();
}

Status SnapshotDbWriter::OnEvent(const TraceEvent& e) {
  Impl& m = *impl_;
  const Tables& t = *m.tables;
  RETURN_IF_ERROR(Row(m.db.get(), m.event.get())
                      .Int(1, static_cast<int64_t>(e.id))
                      .Int(2, e.device)
                      .Int(3, static_cast<int64_t>(e.index))
                      .Int(4, e.host)
                      .Text(5, t.String(e.action_name))
                      .Int(6, e.has_addr ? std::optional<int64_t>(static_cast<int64_t>(e.addr)) : std::nullopt)
                      .Int(7, e.size)
                      .Int(8, e.stream)
                      .Int(9, e.time_us)
                      .Int(10, OptStack(e.stack))
                      .Int(11, OptStack(e.forward_stack))
                      .Int(12, e.device_free)
                      .Text(13, t.String(e.compile_context))
                      .Text(14, e.user_metadata)
                      .Text(15, e.pool_id)
                      .Text(16, e.extra)
                      .Step());
  return m.tracker->OnEvent(e);
}

Status SnapshotDbWriter::OnAnnotation(const Annotation& a) {
  const Tables& t = *impl_->tables;
  return Row(impl_->db.get(), impl_->annotation.get())
      .Int(1, static_cast<int64_t>(a.id))
      .Int(2, a.device)
      .Text(3, t.String(a.stage))
      .Text(4, t.String(a.name))
      .Int(5, a.time_us)
      .Text(6, a.extra)
      .Step();
}

Status SnapshotDbWriter::OnTopLevel(std::string_view key, std::string_view json) {
  // allocator_settings and any key PyTorch adds later: kept verbatim as JSON.
  std::string k = fmt::format("snapshot.{}", key);
  return Row(impl_->db.get(), impl_->meta.get()).Text(1, k).Text(2, json, false).Step();
}

Status SnapshotDbWriter::OnEnd(const ReadSummary& summary) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(m.tracker->Finish());
  summary_ = summary;
  stats_ = summary.stats;
  stats_.Add(m.tracker_stats);
  auto meta = [&](std::string_view k, std::string_view v) {
    return Row(m.db.get(), m.meta.get()).Text(1, k).Text(2, v, false).Step();
  };
  RETURN_IF_ERROR(meta("memtk_version", kMemtkVersion));
  RETURN_IF_ERROR(meta("schema_version", fmt::format("{}", kSchemaVersion)));
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
  ASSIGN_OR_RETURN(ScopedStmt st, Prepare(m.db.get(), "INSERT INTO stats VALUES(?,?,?,?)"));
  for (size_t i = 0; i < static_cast<size_t>(Stat::kCount); ++i) {
    const StatInfo& info = GetStatInfo(static_cast<Stat>(i));
    RETURN_IF_ERROR(Row(m.db.get(), st.get())
                        .Text(1, info.name)
                        .Text(2, SeverityName(info.severity))
                        .Int(3, static_cast<int64_t>(stats_.Get(static_cast<Stat>(i))))
                        .Text(4, info.description)
                        .Step());
  }
  RETURN_IF_ERROR(Exec(m.db.get(), kIndexes));
  return Exec(m.db.get(), "COMMIT");
}

Status SnapshotDbWriter::Close() {
  Impl& m = *impl_;
  for (ScopedStmt* s : {&m.frame, &m.stack, &m.stack_frame, &m.event, &m.alloc, &m.segment, &m.block,
                        &m.annotation, &m.meta})
    s->reset();
  sqlite3* db = m.db.release();
  if (db && sqlite3_close(db) != SQLITE_OK) return IoError("SQLite: cannot close the database");
  return OkStatus();
}

}  // namespace memtk::store
