// Nvml: GPU memory from NVIDIA's management library, loaded at run time.
//
// memtk must run where there is no GPU and no driver, so libnvidia-ml.so.1 is
// dlopen'ed, never linked: absent library = no GPU columns, one notice. Only
// the handful of entry points used here are looked up, with the struct layouts
// of NVML's stable ABI.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace memtk::memlog {

class Nvml {
 public:
  /// nullptr (and a one-line reason in *notice) when NVML cannot be used.
  static std::unique_ptr<Nvml> Load(std::string* notice);
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  /// Bytes used on all devices together; false if NVML failed.
  bool DeviceUsedBytes(int64_t* out);
  /// Bytes used by processes for which in_tree(pid) is true, all devices
  /// together; false if NVML failed.
  template <class Pred>
  bool ProcessBytes(Pred&& in_tree, int64_t* out) {
    uint32_t n = 0;
    if (!ListProcesses(&n)) return false;
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; ++i)
      if (in_tree(static_cast<pid_t>(pids_[i]))) sum += used_[i];
    *out = sum;
    return true;
  }

 private:
  struct Api;
  Nvml() = default;
  bool ListProcesses(uint32_t* n);

  static constexpr uint32_t kMaxProcesses = 1024;
  std::unique_ptr<Api> api_;
  void* lib_ = nullptr;
  uint32_t devices_ = 0;
  uint32_t pids_[kMaxProcesses] = {};
  int64_t used_[kMaxProcesses] = {};
};

}  // namespace memtk::memlog
