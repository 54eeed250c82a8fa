// The frames PyTorch's memory viewer never shows (MemoryViz.js frameFilter,
// _memory_viz.py _frame_filter): one copy of its two lists for the built-in
// site rule (call_site.cpp) and the frame classification (frame_rules.cpp).
#pragma once

#include <array>
#include <string_view>

namespace memtk::snapshot {

inline constexpr std::array<std::string_view, 8> kViewerOmitFunctions = {
    "unwind::unwind",    "CapturedTraceback::gather",
    "gather_with_cpp",   "_start",
    "__libc_start_main", "PyEval_",
    "PyObject_",         "PyFunction_"};
inline constexpr std::array<std::string_view, 10> kViewerOmitFilenames = {"core/boxing",
                                                                          "/Register",
                                                                          "/Redispatch",
                                                                          "pythonrun.c",
                                                                          "Modules/main.c",
                                                                          "Objects/call.c",
                                                                          "Objects/methodobject.c",
                                                                          "pycore_ceval.h",
                                                                          "ceval.c",
                                                                          "cpython/abstract.h"};

/// True when `name` contains one of the viewer's omitted function names.
inline bool ViewerOmitsFunction(std::string_view name) {
  for (std::string_view f : kViewerOmitFunctions)
    if (name.find(f) != std::string_view::npos) return true;
  return false;
}

/// True when `filename` contains one of the viewer's omitted file names.
inline bool ViewerOmitsFile(std::string_view filename) {
  for (std::string_view f : kViewerOmitFilenames)
    if (filename.find(f) != std::string_view::npos) return true;
  return false;
}

}  // namespace memtk::snapshot
