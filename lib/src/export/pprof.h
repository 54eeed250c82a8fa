// `convert --to pprof`: the exporter (MakePprofExporter in exporter.h) and
// the mapping from a FlameProfile to perftools.profiles.Profile, exposed for
// tests. See pprof.cpp for what the samples hold.
#pragma once

#include "analysis/flame.h"
#include "export/exporter.h"
#include "profile.pb.h"

namespace memtk::exports {

namespace pb = perftools::profiles;

/// Fills `profile` (empty) from `flame` built with FlameOptions::with_allocs
/// at the peak: sample types inuse_space, inuse_objects, alloc_space,
/// alloc_objects (default inuse_space); one sample per FlameStack with a
/// nonzero value, leaf first, labelled device=cuda:N; one Location per
/// frame, one Function per (name, file); a comment per device.
void FlameToPprof(const analysis::FlameProfile& flame, pb::Profile* profile);

}  // namespace memtk::exports
