#include "nvml.h"

#include <dlfcn.h>

#include <cstring>

namespace memtk::memlog {

namespace {

// NVML's ABI (nvml.h): return codes and the structs filled by the calls used.
constexpr int kNvmlSuccess = 0;
constexpr int kNvmlInsufficientSize = 7;
constexpr unsigned long long kNvmlValueNotAvailable = ~0ULL;
using NvmlDevice = void*;
struct NvmlMemory {
  unsigned long long total, free, used;
};
struct NvmlProcessInfoV1 {  // nvmlDeviceGetComputeRunningProcesses (no suffix)
  unsigned int pid;
  unsigned long long used_gpu_memory;
};
struct NvmlProcessInfoV2 {  // the _v2 and _v3 entry points
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};
constexpr uint32_t kMaxDevices = 64;

}  // namespace

struct Nvml::Api {
  int (*init)() = nullptr;
  int (*shutdown)() = nullptr;
  int (*device_count)(unsigned int*) = nullptr;
  int (*device_by_index)(unsigned int, NvmlDevice*) = nullptr;
  int (*memory_info)(NvmlDevice, NvmlMemory*) = nullptr;
  int (*processes)(NvmlDevice, unsigned int*, void*) = nullptr;
  bool processes_v1 = false;  // which struct layout `processes` fills
  NvmlDevice devices[kMaxDevices] = {};
  // Large enough for either layout.
  NvmlProcessInfoV2 infos[Nvml::kMaxProcesses] = {};
};

std::unique_ptr<Nvml> Nvml::Load(std::string* notice) {
  void* lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    *notice = "no GPU columns: libnvidia-ml.so.1 (NVIDIA driver) not found";
    return nullptr;
  }
  std::unique_ptr<Nvml> nvml(new Nvml());
  nvml->lib_ = lib;
  nvml->api_ = std::make_unique<Api>();
  Api& a = *nvml->api_;
  auto sym = [&](const char* name) { return ::dlsym(lib, name); };
  // Newer symbol first; each older one has the same signature.
  a.init = reinterpret_cast<int (*)()>(sym("nvmlInit_v2") ? sym("nvmlInit_v2") : sym("nvmlInit"));
  a.shutdown = reinterpret_cast<int (*)()>(sym("nvmlShutdown"));
  void* count = sym("nvmlDeviceGetCount_v2") ? sym("nvmlDeviceGetCount_v2") : sym("nvmlDeviceGetCount");
  a.device_count = reinterpret_cast<int (*)(unsigned int*)>(count);
  void* by_index =
      sym("nvmlDeviceGetHandleByIndex_v2") ? sym("nvmlDeviceGetHandleByIndex_v2") : sym("nvmlDeviceGetHandleByIndex");
  a.device_by_index = reinterpret_cast<int (*)(unsigned int, NvmlDevice*)>(by_index);
  a.memory_info = reinterpret_cast<int (*)(NvmlDevice, NvmlMemory*)>(sym("nvmlDeviceGetMemoryInfo"));
  void* procs = sym("nvmlDeviceGetComputeRunningProcesses_v3");
  if (procs == nullptr) procs = sym("nvmlDeviceGetComputeRunningProcesses_v2");
  if (procs == nullptr) {
    procs = sym("nvmlDeviceGetComputeRunningProcesses");
    a.processes_v1 = true;
  }
  a.processes = reinterpret_cast<int (*)(NvmlDevice, unsigned int*, void*)>(procs);
  if (!a.init || !a.shutdown || !a.device_count || !a.device_by_index || !a.memory_info || !a.processes) {
    *notice = "no GPU columns: libnvidia-ml.so.1 lacks the functions memtk needs";
    return nullptr;
  }
  if (a.init() != kNvmlSuccess) {
    a.shutdown = nullptr;  // nothing to shut down
    *notice = "no GPU columns: NVML failed to initialise (no GPU or driver not loaded)";
    return nullptr;
  }
  unsigned int n = 0;
  if (a.device_count(&n) != kNvmlSuccess || n == 0) {
    *notice = "no GPU columns: NVML sees no GPU";
    return nullptr;
  }
  nvml->devices_ = n < kMaxDevices ? n : kMaxDevices;
  for (uint32_t i = 0; i < nvml->devices_; ++i) {
    if (a.device_by_index(i, &a.devices[i]) != kNvmlSuccess) {
      *notice = "no GPU columns: NVML could not open device " + std::to_string(i);
      return nullptr;
    }
  }
  return nvml;
}

Nvml::~Nvml() {
  if (api_ && api_->shutdown) api_->shutdown();
  if (lib_) ::dlclose(lib_);
}

bool Nvml::DeviceUsedBytes(int64_t* out) {
  int64_t sum = 0;
  for (uint32_t i = 0; i < devices_; ++i) {
    NvmlMemory m{};
    if (api_->memory_info(api_->devices[i], &m) != kNvmlSuccess) return false;
    sum += static_cast<int64_t>(m.used);
  }
  *out = sum;
  return true;
}

bool Nvml::ListProcesses(uint32_t* n) {
  uint32_t total = 0;
  for (uint32_t d = 0; d < devices_ && total < kMaxProcesses; ++d) {
    unsigned int count = kMaxProcesses - total;
    int rc = api_->processes(api_->devices[d], &count, api_->infos);
    // INSUFFICIENT_SIZE: more processes than room; the first `count` are kept.
    if (rc != kNvmlSuccess && rc != kNvmlInsufficientSize) return false;
    if (count > kMaxProcesses - total) count = kMaxProcesses - total;
    for (unsigned int i = 0; i < count; ++i) {
      unsigned int pid;
      unsigned long long used;
      if (api_->processes_v1) {
        const auto* v1 = reinterpret_cast<const NvmlProcessInfoV1*>(api_->infos);
        pid = v1[i].pid;
        used = v1[i].used_gpu_memory;
      } else {
        pid = api_->infos[i].pid;
        used = api_->infos[i].used_gpu_memory;
      }
      // Not available (e.g. under some virtualisation): count nothing for it.
      pids_[total] = pid;
      used_[total] = used == kNvmlValueNotAvailable ? 0 : static_cast<int64_t>(used);
      ++total;
    }
  }
  *n = total;
  return true;
}

}  // namespace memtk::memlog
