// The kernel table of the emulated CUDA driver (libcuda.cpp). build-libcuda.sh compiles each rapids-kernels module
// (x.cu) in its own translation unit, inside namespace emu_x so that the modules' C++ helpers cannot collide, and
// ends it with EMU_MODULE(x, kernel, ...): one entry per extern "C" kernel, whose launcher unpacks cuLaunchKernel's
// parameter pointers into the kernel's own parameter types and runs it on the emulation.
#pragma once
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda_emulation.h"

struct EmuKernel {
  const char* name;
  int params;
  // Per parameter: whether it is a pointer (libcuda.cpp checks that it points into a live allocation).
  const bool* pointer;
  // Per parameter: its size in bytes (libcuda.cpp copies the arguments at launch).
  const size_t* bytes;
  void (*launch)(void** params, unsigned int gridX, unsigned int gridY, unsigned int threads);
};

// Adds a module's kernels to the driver's table (called from static initialisers, before any cuModuleLoadData).
void emu_register_module(const char* module, const EmuKernel* kernels, int count);

template <typename... A>
constexpr int emu_arity(void (*)(A...)) {
  return sizeof...(A);
}

template <typename... A>
const bool* emu_pointer_flags(void (*)(A...)) {
  static const bool flags[] = {std::is_pointer_v<A>..., false};
  return flags;
}

template <typename... A>
const size_t* emu_param_bytes(void (*)(A...)) {
  static const size_t bytes[] = {sizeof(std::decay_t<A>)..., 0};
  return bytes;
}

template <typename... A, std::size_t... I>
void emu_run(void (*kernel)(A...), void** p, std::index_sequence<I...>, unsigned int gx, unsigned int gy,
             unsigned int threads) {
  // The driver copies the arguments at launch; so does this.
  std::tuple<std::decay_t<A>...> args{*static_cast<std::decay_t<A>*>(p[I])...};
  emu_launch(gx, gy, threads, [&] { kernel(std::get<I>(args)...); });
}

template <auto F>
void emu_launcher(void** p, unsigned int gx, unsigned int gy, unsigned int threads) {
  emu_run(F, p, std::make_index_sequence<emu_arity(F)>{}, gx, gy, threads);
}

#define EMU_KERNEL(k) EmuKernel{#k, emu_arity(&k), emu_pointer_flags(&k), emu_param_bytes(&k), &emu_launcher<&k>}
