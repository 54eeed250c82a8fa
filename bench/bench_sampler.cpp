// bench_sampler: CPU time of one memlog sample of a process tree, without the
// event loop around it (that is what memlog_bench.sh measures end to end).
//
// usage: bench_sampler PID [--children] [--detail] [--samples N] [--status-every N]
// (memlog reads status every max(1, 50 ms / interval) samples: 5 at 10 ms)
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "memlog/sampler.h"

namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_sampler PID [--children] [--detail] [--samples N]\n");
    return 2;
  }
  memtk::memlog::SamplerOptions o;
  o.target = memtk::memlog::SamplerOptions::Target::kTree;
  o.pid = std::atoi(argv[1]);
  o.children = false;
  o.gpu = false;
  int samples = 20000;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--children") == 0) o.children = true;
    if (std::strcmp(argv[i], "--detail") == 0) o.detail = true;
    if (std::strcmp(argv[i], "--samples") == 0 && i + 1 < argc) samples = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--status-every") == 0 && i + 1 < argc) o.status_every = std::atoi(argv[++i]);
  }
  std::vector<std::string> notices;
  auto sampler = memtk::memlog::Sampler::Create(o, &notices);
  if (!sampler.ok()) {
    std::fprintf(stderr, "%s\n", sampler.status().message().c_str());
    return 1;
  }
  std::vector<int64_t> values((*sampler)->columns().size());
  const double t0 = CpuSeconds();
  for (int i = 0; i < samples; ++i) {
    if (!(*sampler)->Sample(values).ok()) return 1;
  }
  const double per = (CpuSeconds() - t0) / samples;
  std::printf("%d samples: %.1f us CPU per sample (%.2f%% of a core at 10 ms)\n", samples, per * 1e6,
              per / 0.010 * 100);
  return 0;
}
