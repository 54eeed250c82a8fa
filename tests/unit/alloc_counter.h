// Counts heap allocations made through operator new in this test binary, so
// tests can assert that a loop allocates nothing per row (DESIGN.md:
// "no per-row heap allocation in steady state").
#pragma once

#include <cstdint>

namespace memtk::testing {

/// Allocations (operator new, any form) since the program started.
uint64_t AllocationCount();

}  // namespace memtk::testing
