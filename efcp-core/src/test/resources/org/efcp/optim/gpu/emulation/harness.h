// What every emulation harness shares (KernelEmulation copies it next to them): the launch macros, opening and
// reading the Java test's files (little-endian, as it writes them) and the two ways out. Include it before the
// kernel sources.
#pragma once
#include "cuda_emulation.h"
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <vector>

// One kernel call over a grid of 256-thread blocks (gx × gy for LAUNCH2), as the Java launch code configures it.
#define LAUNCH(grid, kernel, ...) emu_launch((grid), 256, [&] { kernel(__VA_ARGS__); })
// As LAUNCH, with blocks of `threads` threads (mfac_cholesky.cu's step: MCHOL_THREADS).
#define LAUNCH_T(grid, threads, kernel, ...) emu_launch((grid), (threads), [&] { kernel(__VA_ARGS__); })
#define LAUNCH2(gx, gy, kernel, ...) emu_launch((gx), (gy), 256, [&] { kernel(__VA_ARGS__); })

// Ends the harness with rc. _Exit: the emulation's worker threads never return, so the process must not join them.
[[noreturn]] inline void harness_exit(int rc) {
  std::fflush(stderr);
  std::_Exit(rc);
}

// A bad input or a broken invariant: the message goes to stderr (the Java test shows it) and the harness exits with 1.
[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  harness_exit(1);
}

// As die(what), for step `step`; `format` is printf's.
[[noreturn]] __attribute__((format(printf, 2, 3))) inline void die(int step, const char* format, ...) {
  std::fprintf(stderr, "step %d: ", step);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  harness_exit(1);
}

// fopen that dies when the file cannot be opened.
inline FILE* open_file(const char* path, const char* mode) {
  FILE* f = std::fopen(path, mode);
  if (f == nullptr) {
    std::fprintf(stderr, "cannot open %s\n", path);
    harness_exit(1);
  }
  return f;
}

// Fills v from `in`; false when the file ends first.
template <typename T>
inline bool read_all(FILE* in, std::vector<T>& v) {
  return std::fread(v.data(), sizeof(T), v.size(), in) == v.size();
}

// Closes the output file and ends the harness with rc.
[[noreturn]] inline void finish(FILE* out, int rc = 0) {
  std::fclose(out);
  harness_exit(rc);
}
