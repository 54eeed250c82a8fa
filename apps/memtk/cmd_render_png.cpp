// memtk render-png: flags in, commands::RenderPng, one summary line out.
#include "cmd_render_png.h"

#include <fmt/core.h>

#include <algorithm>
#include <memory>

#include "cli_common.h"
#include "frame_flags.h"
#include "memtk/base/format.h"
#include "memtk/commands/render.h"
#include "memtk/io/output_file.h"

namespace memtk::cli {

namespace {

struct RenderFlags {
  commands::RenderOptions o;
  int64_t device = -1;
  std::string x = "event", view = "timeline";
  double from = 0, to = 0;
  bool quiet = false;
  std::string columns;
  std::vector<std::string> inputs;
};

int Run(RenderFlags& f, const CLI::App& sub) {
  io::InstallInterruptCleanup();
  IgnoreSigpipe();  // -o - | head ends quietly
  commands::RenderOptions& o = f.o;
  if (f.device >= 0) o.device = static_cast<uint32_t>(f.device);
  o.x = f.x == "time" ? timeline::XAxis::kTime : timeline::XAxis::kEvent;
  o.view = f.view == "segments" ? timeline::View::kSegments : timeline::View::kActive;
  o.flame = f.view == "flame"            ? commands::FlameView::kLive
            : f.view == "flame-segments" ? commands::FlameView::kSegments
                                         : commands::FlameView::kNone;
  if (sub.count("--from")) o.from = f.from;
  if (sub.count("--to")) o.to = f.to;
  o.columns.clear();
  for (size_t start = 0; start < f.columns.size();) {
    size_t comma = std::min(f.columns.find(',', start), f.columns.size());
    if (comma > start) o.columns.push_back(f.columns.substr(start, comma - start));
    start = comma + 1;
  }
  if (Status s = commands::CheckRenderOutputs(f.inputs, o); !s.ok()) return Fail("render-png", s);
  if (o.output == "-" && StderrIsTty()) f.quiet = true;
  int rc = 0;
  for (const std::string& input : f.inputs) {
    o.input = input;
    commands::RenderSummary summary;
    Status s = commands::RenderPng(o, &summary);
    if (!s.ok()) {
      rc = std::max(rc, Fail("render-png", s));
      if (ExitCode(s) == 2) break;  // a usage error is the same for every input
      continue;
    }
    const std::string out = EscapeControl(io::OutputPathFor(input, o.output, ".png"));
    if (f.quiet || out == "-") continue;
    if (summary.kind == "empty")
      fmt::print(stderr, "memtk render-png: {}: empty snapshot (no trace events or segments)\n", out);
    else if (summary.kind.starts_with("flame"))
      fmt::print(stderr, "memtk render-png: {}: {} of device {} at {}, {} stacks, {} ({} bytes)\n", out, summary.kind,
                 summary.device, summary.at, summary.steps, FormatBytes(summary.peak_bytes), summary.peak_bytes);
    else if (summary.kind == "memlog")
      fmt::print(stderr, "memtk render-png: {}: {} sample{}, peak {}\n", out, summary.steps,
                 summary.steps == 1 ? "" : "s", summary.peak_label);
    else
      fmt::print(stderr, "memtk render-png: {}: {} of device {}, {} steps, peak {} ({} bytes)\n", out, summary.kind,
                 summary.device, summary.steps, FormatBytes(summary.peak_bytes), summary.peak_bytes);
  }
  return rc;
}

}  // namespace

void RegisterRenderPng(CLI::App& app) {
  auto flags = std::make_shared<RenderFlags>();
  commands::RenderOptions& o = flags->o;
  CLI::App* sub = app.add_subcommand("render-png", "Draw the allocation timeline, segments or a memlog CSV as a PNG");
  sub->add_option("input", flags->inputs,
                  "Snapshot (pickle or JSON, gzip'd or not; '-' = stdin), memtk database, or memlog CSV; several: "
                  "one PNG each")
      ->required();
  sub->add_option("-o,--output", o.output,
                  "PNG to write ('-' = stdout; DIR/ = DIR/INPUT.png, DIR created with its parents; default: "
                  "INPUT.png beside the input); never an input, nor two inputs' PNGs in one file");
  sub->add_option("--device", flags->device, "CUDA device (default: the lowest with trace events)")
      ->check(CLI::Range(0, 1 << 20));
  sub->add_option("--width", o.width, "Image width in pixels")->check(CLI::Range(200, 16384));
  sub->add_option("--height", o.height, "Image height in pixels")->check(CLI::Range(150, 16384));
  sub->add_option("--x", flags->x, "x axis: event (trace event index) or time (seconds)")
      ->check(CLI::IsMember({"event", "time"}));
  sub->add_option("--view", flags->view,
                  "timeline (live allocations), segments (reserved memory per segment), flame (call stacks of the "
                  "bytes live at --at) or flame-segments (reserved memory by segment and block)")
      ->check(CLI::IsMember({"timeline", "segments", "flame", "flame-segments"}));
  sub->add_option("--at", o.at, "--view flame: peak (default), end, event:N (after event N) or us:T (time_us T)");
  sub->add_flag("--all-frames", o.frames.all_frames, "--view flame/flame-segments: keep the frames PyTorch's viewer hides");
  sub->add_option("--from", flags->from, "Window start, in x-axis units (event index or seconds)");
  sub->add_option("--to", flags->to, "Window end, in x-axis units");
  sub->add_option("--title", o.title, "First title line (default: file, device and peak)");
  sub->add_option("--legend", o.legend, "Call sites listed at the peak (memlog: jumps labelled)")
      ->check(CLI::Range(0, 40));
  AddFrameFlags(sub, &o.frames);
  // One comma-separated string, split here: with CLI11's vector options the
  // input file after --columns would be taken as another column.
  sub->add_option("--column", flags->columns,
                  "memlog CSV: columns to draw, comma-separated (default rss_bytes or used_bytes; cpu_percent gets "
                  "its own axis)");
  sub->add_option("--columns", flags->columns)->group("");  // the old name (before 0.2), still accepted
  sub->add_option("--log", o.log_path, "memlog CSV: its log CSV (default OUT.log.csv beside it, if present)");
  sub->add_flag("-q,--quiet", flags->quiet, "No summary line on stderr");
  sub->footer(R"(Draws PyTorch's "Active Memory Timeline" headless: every allocation is a band
stacked on the ones allocated before it, coloured by its call site (by default the
innermost frame of your code, see --site; the same site gets the same colour in
every picture), and when one is freed the bands above slide down. Nothing is summarised or capped: each pixel
column is drawn at the instant with the most live bytes in its span (so no spike
falls between pixels and the peak column shows the peak), and each pixel's colour
is the bytes-weighted blend of every band crossing it, so allocations thinner than
a pixel still count and a column's height is its live bytes to within a pixel.
Memory from before recording began and untraced active blocks are included, as
the viewer does. Marked: the peak (value, event and time in the title), OOMs
(red), snapshot events (grey) and annotations (purple). The legend lists the
--legend call sites holding the most bytes at the peak.

--view segments draws reserved memory instead: one band per cudaMalloc'd segment.
--x time puts seconds since the first event on the x axis; --from/--to zoom in
(a window with none of the trace in it is a usage error naming the trace's extent).

--view flame draws the bytes live at one instant as an icicle graph: the whole on
top, then each call stack's frames, outermost first, box widths proportional to
bytes, coloured like the same site in the timeline. --at peak (default: each
device's peak, the total `memtk stats` reports), end, event:N (after event N of the
device's trace) or us:T (just before the first event later than time_us T).
--view flame-segments is the headless `_memory_viz.py segments`: reserved memory
by stream, segment, block state and the block's frames, free space hatched.

A memlog CSV (from `memtk memlog`) is drawn as memory over time, one line per
--column entry through the samples; where several samples share a pixel column it
spans their min..max, so no spike is lost. cpu_percent is drawn against a
percent axis on the right.
Log lines of the recording are ticks along the bottom; marks and the largest
jumps are labelled with the log line written just before them.

Output is a PNG written through a temp file (nothing is left on failure); the
same input and options give the same bytes. Several inputs give one PNG each,
beside each input or in -o DIR/.

Examples:
  memtk render-png snapshot.pickle                     # writes snapshot.png beside it
  memtk render-png snapshot.pickle -o timeline.png
  memtk render-png rank*.pickle -o pngs/               # pngs/rank0.png, pngs/rank1.png, ...
  memtk render-png snapshot.db -o t.png --device 1 --width 1920 --height 1080
  memtk render-png snapshot.pickle -o seg.png --view segments --x time
  memtk render-png snapshot.pickle -o zoom.png --from 500 --to 1000 --legend 20   # events 500 to 1000
  memtk render-png snapshot.pickle -o flame.png --view flame --device 1
  memtk render-png snapshot.pickle -o f.png --view flame --at event:1000 --device 0
  memtk render-png snapshot.pickle -o segs.png --view flame-segments
  memtk render-png train.csv -o memory.png --column rss_bytes,pss_bytes,cpu_percent
  memtk render-png snapshot.pickle.gz -o - | display -    # to stdout

Exit status: 0 ok, 1 unreadable input or nothing to draw (any input), 2 usage error
(also an -o that is an input or a memlog CSV's log CSV, or two inputs that would
be drawn into one PNG, refused before any is read).)");
  sub->callback([flags, sub] { throw CLI::RuntimeError(Run(*flags, *sub)); });
}

}  // namespace memtk::cli
