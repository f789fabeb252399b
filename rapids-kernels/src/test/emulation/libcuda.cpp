// An emulated CUDA driver: the part of libcuda.so.1's driver API that org.efcp.cuda calls through JCuda (and
// nothing else), on the CPU. build-libcuda.sh links it with every rapids-kernels module compiled for the emulation
// (cuda_emulation.h); a JVM started with its directory on LD_LIBRARY_PATH then runs the gpu-tagged tests with
// JCuda's own natives loading this library instead of NVIDIA's, so the Java launch layer, the pipelines' launch
// sequences and the kernels are tested together without a GPU.
//
// EFCP_EMULATED_GPUS devices (environment, 1 to 8, default 1), all the same ("EFCP emulated GPU", compute
// capability 9.0, EMU_MULTIPROCESSORS multiprocessors), each with EFCP_EMULATED_MEMORY_MB MiB of device memory
// (environment, default 16384): cuMemAlloc fails with CUDA_ERROR_OUT_OF_MEMORY when the current context's device
// would hold more (allocations counted in 256-byte units), and cuMemGetInfo reports what is left.
//
// Work is asynchronous as on a device, and as late as CUDA allows: kernels, memsets, device-to-device copies, event
// records and copies between the device and pinned host memory wait in their stream's queue and run, on the thread
// that waits for them, only when the host synchronises with them (cuStreamSynchronize, cuEventSynchronize or an
// event query that finds it done, a synchronous copy, cuMemFree, cuCtxSynchronize) or when the legacy
// default stream orders them before its own work. So a host that reads a pinned buffer before synchronising reads
// stale data, and one that overwrites pinned staging before the copy ran sends the new data; a kernel's arguments
// are copied at launch, as the driver does. Copies from or to pageable memory are synchronous, as they are on a
// device. Everything runs under one lock. Where a device would fail, or silently read garbage, this fails loudly:
// calls before cuInit, memory calls without a current context, copies, memsets and kernel pointer arguments outside
// a live allocation, freeing an unknown pointer, unknown or destroyed handles, invalid launch shapes. Fresh device
// memory is filled with 0xFF bytes (NaN as float or double, -1 as int), as a device's is not zeroed. Every error
// is also printed on stderr with what was wrong. Not emulated: dynamic shared memory, 2-D/3-D blocks, per-module
// kernel lookup (a kernel is found by name in any loaded module), separate address spaces per device.
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>
#include <mutex>
#include <set>
#include <string>

#include "emulated_kernels.h"

#ifndef EMU_MULTIPROCESSORS
#define EMU_MULTIPROCESSORS 8
#endif

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void* CUcontext;
typedef void* CUmodule;
typedef const EmuKernel* CUfunction;
typedef void* CUstream;
typedef void* CUevent;

namespace {

enum : CUresult {
  SUCCESS = 0,
  INVALID_VALUE = 1,
  OUT_OF_MEMORY = 2,
  NOT_INITIALIZED = 3,
  INVALID_DEVICE = 101,
  INVALID_IMAGE = 200,
  INVALID_CONTEXT = 201,
  INVALID_HANDLE = 400,
  NOT_FOUND = 500,
  NOT_READY = 600,
  NOT_SUPPORTED = 801,
};

// Attributes (CUdevice_attribute) that the launch layer may ask for.
enum { ATTR_MAX_THREADS_PER_BLOCK = 1, ATTR_WARP_SIZE = 10, ATTR_MULTIPROCESSOR_COUNT = 16,
       ATTR_COMPUTE_CAPABILITY_MAJOR = 75, ATTR_COMPUTE_CAPABILITY_MINOR = 76 };
constexpr unsigned int EVENT_DISABLE_TIMING = 0x2;
constexpr uint32_t FATBIN_MAGIC = 0xBA55ED50u;
constexpr int MAX_DEVICES = 8;

struct Event {
  bool timing;
  bool recorded = false;   // cuEventRecord was called
  bool completed = false;  // and its stream reached the record
  double seconds = 0;
  CUstream stream = nullptr;
};

using Op = std::function<void()>;

std::recursive_mutex lock;
bool initialised = false;
int devices = 1;
int primaryContexts[MAX_DEVICES];  // their addresses are the devices' primary contexts
thread_local CUcontext current = nullptr;
std::map<uintptr_t, size_t> deviceAllocations;  // base → bytes
std::map<uintptr_t, int> allocationDevice;      // base → the device whose memory it counts against
size_t deviceCapacity = size_t(16384) << 20;    // bytes per device
size_t deviceUsed[MAX_DEVICES];                 // bytes, in 256-byte units
std::map<uintptr_t, size_t> hostAllocations;    // pinned: base → bytes
std::set<void*> streams;
std::map<CUstream, std::deque<Op>> queues;      // per stream; nullptr = the legacy default stream
std::map<void*, Event> events;
std::set<void*> modules;

CUresult fail(CUresult code, const char* call, const char* format, ...) __attribute__((format(printf, 3, 4)));
CUresult fail(CUresult code, const char* call, const char* format, ...) {
  std::fprintf(stderr, "emulated libcuda: %s: ", call);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  return code;
}

CUresult checkDevice(const char* call, CUdevice device) {
  if (device >= 0 && device < devices) return SUCCESS;
  return fail(INVALID_DEVICE, call, "no device %d (the emulation has %d)", device, devices);
}

CUresult needInit(const char* call) {
  return initialised ? SUCCESS : fail(NOT_INITIALIZED, call, "called before cuInit");
}

CUresult needContext(const char* call) {
  if (!initialised) return fail(NOT_INITIALIZED, call, "called before cuInit");
  return current != nullptr ? SUCCESS : fail(INVALID_CONTEXT, call, "no current context on this thread");
}

// Whether [p, p + bytes) lies in one of `allocations` (base → bytes).
bool within(const std::map<uintptr_t, size_t>& allocations, uintptr_t p, size_t bytes) {
  auto it = allocations.upper_bound(p);
  if (it == allocations.begin()) return false;
  --it;
  return bytes <= it->second && p - it->first <= it->second - bytes;
}

CUresult checkRange(const char* call, const char* what, CUdeviceptr p, size_t bytes) {
  if (within(deviceAllocations, p, bytes)) return SUCCESS;
  return fail(INVALID_VALUE, call, "%s [0x%llx, +%zu bytes) is not inside a live device allocation", what, p, bytes);
}

// The queue key of a stream: the default streams (0, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD) are the legacy one.
CUstream queueOf(CUstream s) {
  return (uintptr_t)s <= 2 ? nullptr : s;
}

// Runs a stream's queued work in order.
void flush(CUstream s) {
  auto it = queues.find(queueOf(s));
  if (it == queues.end()) return;
  while (!it->second.empty()) {
    Op op = std::move(it->second.front());
    it->second.pop_front();
    op();
  }
}

void flushAll() {
  for (auto& q : queues) flush(q.first);
}

// Queues op on s. The legacy default stream waits for all earlier work of the (blocking) streams and they wait for
// its earlier work, so that work runs first.
void enqueue(CUstream s, Op op) {
  CUstream k = queueOf(s);
  if (k == nullptr) {
    for (auto& q : queues) {
      if (q.first != nullptr) flush(q.first);
    }
  } else {
    flush(nullptr);
  }
  queues[k].push_back(std::move(op));
}

CUresult checkStream(const char* call, CUstream s) {
  // 0, CU_STREAM_LEGACY (1) and CU_STREAM_PER_THREAD (2) are the default streams.
  if ((uintptr_t)s <= 2 || streams.count(s)) return SUCCESS;
  return fail(INVALID_HANDLE, call, "unknown or destroyed stream %p", s);
}

// Name → kernel; filled by the modules' static initialisers, hence a function-local static.
std::map<std::string, const EmuKernel*>& kernels() {
  static std::map<std::string, const EmuKernel*> table;
  return table;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void emu_register_module(const char* module, const EmuKernel* table, int count) {
  for (int i = 0; i < count; i++) {
    if (!kernels().emplace(table[i].name, &table[i]).second) {
      std::fprintf(stderr, "emulated libcuda: kernel %s of %s is defined twice\n", table[i].name, module);
      std::abort();
    }
  }
}

extern "C" {

CUresult cuInit(unsigned int flags) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (flags != 0) return fail(INVALID_VALUE, "cuInit", "flags must be 0, not %u", flags);
  if (const char* n = std::getenv("EFCP_EMULATED_GPUS")) {
    devices = std::atoi(n);
    if (devices < 1 || devices > MAX_DEVICES) {
      return fail(INVALID_VALUE, "cuInit", "EFCP_EMULATED_GPUS=%s: 1 to %d devices", n, MAX_DEVICES);
    }
  }
  if (const char* mb = std::getenv("EFCP_EMULATED_MEMORY_MB")) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(mb, &end, 10);
    if (end == mb || *end != '\0' || v == 0) {
      return fail(INVALID_VALUE, "cuInit", "EFCP_EMULATED_MEMORY_MB=%s: a positive number of MiB", mb);
    }
    deviceCapacity = size_t(v) << 20;
  }
  initialised = true;
  return SUCCESS;
}

CUresult cuDriverGetVersion(int* version) {
  if (version == nullptr) return fail(INVALID_VALUE, "cuDriverGetVersion", "null pointer");
  *version = 13000;
  return SUCCESS;
}

CUresult cuDeviceGetCount(int* count) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuDeviceGetCount")) return r;
  *count = devices;
  return SUCCESS;
}

CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuDeviceGet")) return r;
  if (CUresult r = checkDevice("cuDeviceGet", ordinal)) return r;
  *device = ordinal;
  return SUCCESS;
}

CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuDeviceGetName")) return r;
  if (CUresult r = checkDevice("cuDeviceGetName", device)) return r;
  if (length <= 0) return fail(INVALID_VALUE, "cuDeviceGetName", "length %d", length);
  std::snprintf(name, (size_t)length, "%s", "EFCP emulated GPU");
  return SUCCESS;
}

CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuDeviceGetAttribute")) return r;
  if (CUresult r = checkDevice("cuDeviceGetAttribute", device)) return r;
  switch (attribute) {
    case ATTR_MAX_THREADS_PER_BLOCK: *value = 1024; return SUCCESS;
    case ATTR_WARP_SIZE: *value = 32; return SUCCESS;
    case ATTR_MULTIPROCESSOR_COUNT: *value = EMU_MULTIPROCESSORS; return SUCCESS;
    case ATTR_COMPUTE_CAPABILITY_MAJOR: *value = 9; return SUCCESS;
    case ATTR_COMPUTE_CAPABILITY_MINOR: *value = 0; return SUCCESS;
    default: return fail(INVALID_VALUE, "cuDeviceGetAttribute", "attribute %d is not emulated", attribute);
  }
}

CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuDevicePrimaryCtxRetain")) return r;
  if (CUresult r = checkDevice("cuDevicePrimaryCtxRetain", device)) return r;
  *context = &primaryContexts[device];
  return SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext context) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuCtxSetCurrent")) return r;
  bool known = false;
  for (int d = 0; d < devices; d++) known |= context == &primaryContexts[d];
  if (context != nullptr && !known) {
    return fail(INVALID_CONTEXT, "cuCtxSetCurrent", "unknown context %p", context);
  }
  current = context;
  return SUCCESS;
}

CUresult cuCtxSynchronize() {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuCtxSynchronize")) return r;
  flushAll();
  return SUCCESS;
}

CUresult cuStreamCreate(CUstream* stream, unsigned int flags) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuStreamCreate")) return r;
  if (flags > 1) return fail(INVALID_VALUE, "cuStreamCreate", "flags %u", flags);
  *stream = new char;
  streams.insert(*stream);
  return SUCCESS;
}

CUresult cuStreamDestroy_v2(CUstream stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuStreamDestroy")) return r;
  if (!streams.count(stream)) return fail(INVALID_HANDLE, "cuStreamDestroy", "unknown stream %p", stream);
  flush(stream);  // the driver lets queued work finish
  queues.erase(stream);
  streams.erase(stream);
  delete (char*)stream;
  return SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuStreamSynchronize")) return r;
  if (CUresult r = checkStream("cuStreamSynchronize", stream)) return r;
  if (queueOf(stream) == nullptr) {
    flushAll();
  } else {
    flush(stream);
  }
  return SUCCESS;
}

CUresult cuEventCreate(CUevent* event, unsigned int flags) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuEventCreate")) return r;
  if (flags > 7) return fail(INVALID_VALUE, "cuEventCreate", "flags %u", flags);
  *event = new char;
  events[*event] = Event{(flags & EVENT_DISABLE_TIMING) == 0};
  return SUCCESS;
}

CUresult cuEventRecord(CUevent event, CUstream stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuEventRecord")) return r;
  auto it = events.find(event);
  if (it == events.end()) return fail(INVALID_HANDLE, "cuEventRecord", "unknown event %p", event);
  if (CUresult r = checkStream("cuEventRecord", stream)) return r;
  it->second.recorded = true;
  it->second.completed = false;
  it->second.stream = queueOf(stream);
  enqueue(stream, [event] {
    // The event may have been destroyed meanwhile (allowed: its resources go when the work is done).
    auto e = events.find(event);
    if (e != events.end()) {
      e->second.completed = true;
      e->second.seconds = now();
    }
  });
  return SUCCESS;
}

// Not ready while the record waits in its stream (this is what a slow device shows).
CUresult cuEventQuery(CUevent event) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuEventQuery")) return r;
  auto e = events.find(event);
  if (e == events.end()) return fail(INVALID_HANDLE, "cuEventQuery", "unknown event %p", event);
  return !e->second.recorded || e->second.completed ? SUCCESS : NOT_READY;
}

CUresult cuEventSynchronize(CUevent event) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuEventSynchronize")) return r;
  auto e = events.find(event);
  if (e == events.end()) return fail(INVALID_HANDLE, "cuEventSynchronize", "unknown event %p", event);
  if (e->second.recorded && !e->second.completed) flush(e->second.stream);
  return SUCCESS;
}

CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuEventElapsedTime")) return r;
  auto s = events.find(start), e = events.find(end);
  if (s == events.end() || e == events.end()) return fail(INVALID_HANDLE, "cuEventElapsedTime", "unknown event");
  if (!s->second.timing || !e->second.timing) {
    return fail(INVALID_HANDLE, "cuEventElapsedTime", "an event was created with CU_EVENT_DISABLE_TIMING");
  }
  if (!s->second.recorded || !e->second.recorded) {
    return fail(INVALID_HANDLE, "cuEventElapsedTime", "an event was never recorded");
  }
  if (!s->second.completed || !e->second.completed) return NOT_READY;
  *ms = (float)((e->second.seconds - s->second.seconds) * 1e3);
  return SUCCESS;
}

CUresult cuEventDestroy_v2(CUevent event) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuEventDestroy")) return r;
  if (!events.erase(event)) return fail(INVALID_HANDLE, "cuEventDestroy", "unknown event %p", event);
  delete (char*)event;
  return SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemAlloc")) return r;
  if (bytes == 0) return fail(INVALID_VALUE, "cuMemAlloc", "0 bytes");
  // 256-byte aligned, as the driver's allocations are.
  size_t rounded = (bytes + 255) / 256 * 256;
  int device = (int)((int*)current - primaryContexts);
  if (rounded > deviceCapacity - deviceUsed[device]) {
    return fail(OUT_OF_MEMORY, "cuMemAlloc", "%zu bytes: device %d has %zu of its %zu bytes free", bytes, device,
                deviceCapacity - deviceUsed[device], deviceCapacity);
  }
  void* mem = std::aligned_alloc(256, rounded);
  if (mem == nullptr) return fail(OUT_OF_MEMORY, "cuMemAlloc", "%zu bytes", bytes);
  std::memset(mem, 0xFF, bytes);
  deviceAllocations[(uintptr_t)mem] = bytes;
  allocationDevice[(uintptr_t)mem] = device;
  deviceUsed[device] += rounded;
  *p = (CUdeviceptr)(uintptr_t)mem;
  return SUCCESS;
}

CUresult cuMemGetInfo_v2(size_t* free, size_t* total) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemGetInfo")) return r;
  if (free == nullptr || total == nullptr) return fail(INVALID_VALUE, "cuMemGetInfo", "null pointer");
  int device = (int)((int*)current - primaryContexts);
  *free = deviceCapacity - deviceUsed[device];
  *total = deviceCapacity;
  return SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemFree")) return r;
  if (!deviceAllocations.count((uintptr_t)p)) {
    return fail(INVALID_VALUE, "cuMemFree", "0x%llx is not the start of a live device allocation", p);
  }
  flushAll();  // cuMemFree waits for the device
  deviceUsed[allocationDevice[(uintptr_t)p]] -= (deviceAllocations[(uintptr_t)p] + 255) / 256 * 256;
  allocationDevice.erase((uintptr_t)p);
  deviceAllocations.erase((uintptr_t)p);
  std::free((void*)(uintptr_t)p);
  return SUCCESS;
}

CUresult cuMemAllocHost_v2(void** p, size_t bytes) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemAllocHost")) return r;
  if (bytes == 0) return fail(INVALID_VALUE, "cuMemAllocHost", "0 bytes");
  *p = std::malloc(bytes);
  if (*p == nullptr) return fail(OUT_OF_MEMORY, "cuMemAllocHost", "%zu bytes", bytes);
  hostAllocations[(uintptr_t)*p] = bytes;
  return SUCCESS;
}

CUresult cuMemFreeHost(void* p) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemFreeHost")) return r;
  if (!hostAllocations.count((uintptr_t)p)) {
    return fail(INVALID_VALUE, "cuMemFreeHost", "%p is not a live pinned allocation", p);
  }
  flushAll();
  hostAllocations.erase((uintptr_t)p);
  std::free(p);
  return SUCCESS;
}

CUresult cuMemsetD8Async(CUdeviceptr p, unsigned char value, size_t n, CUstream stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemsetD8Async")) return r;
  if (CUresult r = checkStream("cuMemsetD8Async", stream)) return r;
  if (CUresult r = checkRange("cuMemsetD8Async", "destination", p, n)) return r;
  enqueue(stream, [p, value, n] { std::memset((void*)(uintptr_t)p, value, n); });
  return SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemcpyHtoD")) return r;
  if (CUresult r = checkRange("cuMemcpyHtoD", "destination", dst, n)) return r;
  if (n > 0 && src == nullptr) return fail(INVALID_VALUE, "cuMemcpyHtoD", "null host source");
  flushAll();
  if (n > 0) std::memcpy((void*)(uintptr_t)dst, src, n);
  return SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemcpyDtoH")) return r;
  if (CUresult r = checkRange("cuMemcpyDtoH", "source", src, n)) return r;
  if (n > 0 && dst == nullptr) return fail(INVALID_VALUE, "cuMemcpyDtoH", "null host destination");
  flushAll();
  if (n > 0) std::memcpy(dst, (const void*)(uintptr_t)src, n);
  return SUCCESS;
}

// Pinned source: queued (the host must not touch it until the copy is done). Pageable: copied now, after the
// stream's earlier work, as the driver stages pageable memory before returning.
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemcpyHtoDAsync")) return r;
  if (CUresult r = checkStream("cuMemcpyHtoDAsync", stream)) return r;
  if (CUresult r = checkRange("cuMemcpyHtoDAsync", "destination", dst, n)) return r;
  if (n > 0 && src == nullptr) return fail(INVALID_VALUE, "cuMemcpyHtoDAsync", "null host source");
  if (n == 0) return SUCCESS;
  enqueue(stream, [dst, src, n] { std::memcpy((void*)(uintptr_t)dst, src, n); });
  if (!within(hostAllocations, (uintptr_t)src, n)) flush(stream);
  return SUCCESS;
}

// Pinned destination: queued (the host sees the data only after synchronising). Pageable: the host waits.
CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemcpyDtoHAsync")) return r;
  if (CUresult r = checkStream("cuMemcpyDtoHAsync", stream)) return r;
  if (CUresult r = checkRange("cuMemcpyDtoHAsync", "source", src, n)) return r;
  if (n > 0 && dst == nullptr) return fail(INVALID_VALUE, "cuMemcpyDtoHAsync", "null host destination");
  if (n == 0) return SUCCESS;
  enqueue(stream, [dst, src, n] { std::memcpy(dst, (const void*)(uintptr_t)src, n); });
  if (!within(hostAllocations, (uintptr_t)dst, n)) flush(stream);
  return SUCCESS;
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuMemcpyDtoDAsync")) return r;
  if (CUresult r = checkStream("cuMemcpyDtoDAsync", stream)) return r;
  if (CUresult r = checkRange("cuMemcpyDtoDAsync", "destination", dst, n)) return r;
  if (CUresult r = checkRange("cuMemcpyDtoDAsync", "source", src, n)) return r;
  if (n > 0) enqueue(stream, [dst, src, n] { std::memmove((void*)(uintptr_t)dst, (const void*)(uintptr_t)src, n); });
  return SUCCESS;
}

CUresult cuModuleLoadData(CUmodule* module, const void* image) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needContext("cuModuleLoadData")) return r;
  uint32_t magic = 0;
  if (image != nullptr) std::memcpy(&magic, image, 4);
  if (magic != FATBIN_MAGIC) {
    return fail(INVALID_IMAGE, "cuModuleLoadData", "not a fatbin (magic 0x%08x, expected 0x%08x)", magic, FATBIN_MAGIC);
  }
  *module = new char;
  modules.insert(*module);
  return SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuModuleGetFunction")) return r;
  if (!modules.count(module)) return fail(INVALID_HANDLE, "cuModuleGetFunction", "unknown module %p", module);
  auto it = kernels().find(name);
  if (it == kernels().end()) return fail(NOT_FOUND, "cuModuleGetFunction", "no kernel named %s", name);
  *function = it->second;
  return SUCCESS;
}

CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                        unsigned int by, unsigned int bz, unsigned int sharedBytes, CUstream stream, void** params,
                        void** extra) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (CUresult r = needInit("cuLaunchKernel")) return r;
  bool known = false;
  for (auto& k : kernels()) known |= k.second == f;
  if (!known) return fail(INVALID_HANDLE, "cuLaunchKernel", "unknown function %p", (const void*)f);
  const char* name = f->name;
  if (CUresult r = checkStream("cuLaunchKernel", stream)) return r;
  if (gx == 0 || gy == 0 || gz == 0 || gx > 0x7fffffffu || gy > 65535 || gz > 65535) {
    return fail(INVALID_VALUE, "cuLaunchKernel", "%s: grid %u x %u x %u", name, gx, gy, gz);
  }
  if (bx == 0 || by == 0 || bz == 0 || (unsigned long long)bx * by * bz > 1024 || bz > 64) {
    return fail(INVALID_VALUE, "cuLaunchKernel", "%s: block %u x %u x %u", name, bx, by, bz);
  }
  if (by != 1 || bz != 1 || gz != 1 || sharedBytes != 0 || extra != nullptr) {
    return fail(NOT_SUPPORTED, "cuLaunchKernel",
                "%s: the emulation runs 1-D blocks on 1-D or 2-D grids without dynamic shared memory or extra", name);
  }
  if (f->params > 0 && params == nullptr) return fail(INVALID_VALUE, "cuLaunchKernel", "%s: no parameters", name);
  for (int i = 0; i < f->params; i++) {
    if (params[i] == nullptr) return fail(INVALID_VALUE, "cuLaunchKernel", "%s: parameter %d is null", name, i);
    if (f->pointer[i]) {
      CUdeviceptr p;
      std::memcpy(&p, params[i], sizeof p);
      if (!within(deviceAllocations, (uintptr_t)p, 0)) {
        return fail(INVALID_VALUE, "cuLaunchKernel", "%s: pointer parameter %d (0x%llx) is not in a live device "
                    "allocation", name, i, p);
      }
    }
  }
  // The driver copies the arguments at launch.
  auto args = std::make_shared<std::vector<std::vector<char>>>();
  for (int i = 0; i < f->params; i++) {
    const char* p = static_cast<const char*>(params[i]);
    args->emplace_back(p, p + f->bytes[i]);
  }
  enqueue(stream, [f, args, gx, gy, bx] {
    std::vector<void*> p;
    for (auto& a : *args) p.push_back(a.data());
    f->launch(p.data(), gx, gy, bx);
  });
  return SUCCESS;
}

}  // extern "C"
