// `convert --to pprof`: the exporter (MakePprofExporter in exporter.h) and
// the mapping from a FlameProfile to perftools.profiles.Profile, exposed for
// tests. See pprof.cpp for what the samples hold.
#pragma once

#include <google/protobuf/io/zero_copy_stream.h>

#include "analysis/flame.h"
#include "export/exporter.h"
#include "profile.pb.h"

namespace memtk::exports {

namespace pb = perftools::profiles;

struct PprofCounts {
  uint64_t samples = 0, locations = 0;
};

/// Encodes `flame` (built with FlameOptions::with_allocs at the peak) as one
/// serialized Profile on `out`, not gzip'd: sample types inuse_space,
/// inuse_objects, alloc_space, alloc_objects (default inuse_space); one
/// sample per FlameStack with a nonzero value, leaf first, labelled
/// device=cuda:N; one Location per frame, one Function per (name, file); a
/// comment per device. Written as a head message (strings, functions,
/// locations) followed by one message per sample, which protobuf parses as
/// their merge, so only one sample is ever held. False on a write error.
bool WritePprof(const analysis::FlameProfile& flame, google::protobuf::io::ZeroCopyOutputStream* out,
                PprofCounts* counts);

/// The same profile in memory (tests).
void FlameToPprof(const analysis::FlameProfile& flame, pb::Profile* profile);

}  // namespace memtk::exports
