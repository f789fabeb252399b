// The scheduler behind cuda_emulation.h: each thread of a block is a fiber with its own stack, all run by the
// launching OS thread. A fiber runs until it reaches __syncthreads or a warp synchronisation (a shuffle,
// __syncwarp, __match_any_sync) or returns; once every fiber has been resumed, a __syncthreads is released when all
// threads of the block wait at it and a warp synchronisation when all lanes of the warp do. When nothing can run and
// nothing can be released, the block has deadlocked (a missing or divergent barrier, which hangs or misbehaves on a
// device too): the emulation says where every thread stands and aborts. Switching fibers costs far less than waking
// OS threads, which is what lets whole pipelines run on it; on x86-64 a switch is six register pushes and pops
// (emu_switch), elsewhere ucontext's swapcontext (a system call per switch, and AddressSanitizer unpoisons the
// whole stack on each).
#include "cuda_emulation.h"
#include <cstdio>
#include <cstdlib>
#include <sys/mman.h>
#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#else
#define EMU_ASAN 0
#endif

emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
uint64_t emu_warp_buf[32][32];

namespace {

enum Wait { RUNNABLE, AT_SYNCTHREADS, AT_WARP_SYNC, FINISHED };

#if defined(__x86_64__)
// A saved context is the stack pointer after pushing the callee-saved registers (System V); emu_switch saves the
// running one in *from and resumes `to`.
struct Context {
  void* sp;
};
extern "C" void emu_switch(void** from, void* to);
asm(R"(
  .text
  .p2align 4
  .type emu_switch, @function
emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size emu_switch, .-emu_switch
)");
void swapContext(Context* from, Context* to) { emu_switch(&from->sp, to->sp); }
// A context that starts `entry` on [stack, stack + bytes): six zero registers, then entry as the return address,
// with a zero above it so that entry starts with the stack aligned as after a call.
void makeContext(Context* c, char* stack, size_t bytes, void (*entry)()) {
  void** top = reinterpret_cast<void**>(stack + bytes);
  top[-1] = nullptr;
  top[-2] = reinterpret_cast<void*>(entry);
  for (int r = 3; r <= 8; r++) top[-r] = nullptr;
  c->sp = top - 8;
}
#else
struct Context {
  ucontext_t uc;
};
void swapContext(Context* from, Context* to) { swapcontext(&from->uc, &to->uc); }
void makeContext(Context* c, char* stack, size_t bytes, void (*entry)()) {
  getcontext(&c->uc);
  c->uc.uc_stack.ss_sp = stack;
  c->uc.uc_stack.ss_size = bytes;
  c->uc.uc_link = nullptr;
  makecontext(&c->uc, entry, 0);
}
#endif

constexpr size_t STACK_BYTES = size_t(256) << 10;  // mapped lazily: only the pages a kernel touches are used

struct Fiber {
  Context context;
  char* stack;
  Wait wait;
};

Fiber fibers[1024];
Context scheduler;
const void* schedulerStack = nullptr;  // the launching thread's stack, for AddressSanitizer's fiber switches
size_t schedulerStackBytes = 0;
unsigned int running;
const std::function<void()>* currentBody;

// Switches from the running context to `to` (stack [bottom, bottom + bytes)); `exiting`: the running fiber ends.
void switchTo(Context* from, Context* to, const void* bottom, size_t bytes, bool exiting) {
#if EMU_ASAN
  void* fakeStack = nullptr;
  __sanitizer_start_switch_fiber(exiting ? nullptr : &fakeStack, bottom, bytes);
  swapContext(from, to);
  __sanitizer_finish_switch_fiber(fakeStack, nullptr, nullptr);
#else
  (void)bottom, (void)bytes, (void)exiting;
  swapContext(from, to);
#endif
}

void yieldAt(Wait wait) {
  Fiber& f = fibers[running];
  f.wait = wait;
  switchTo(&f.context, &scheduler, schedulerStack, schedulerStackBytes, wait == FINISHED);
}

void entry() {
#if EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &schedulerStack, &schedulerStackBytes);
#endif
  (*currentBody)();
  yieldAt(FINISHED);  // never resumed: the next block makes a fresh context
}

void deadlock() {
  std::fprintf(stderr, "emu: deadlock in block (%u, %u) of %u threads; threads at __syncthreads, at a warp "
               "synchronisation, finished:", blockIdx.x, blockIdx.y, blockDim.x);
  for (Wait w : {AT_SYNCTHREADS, AT_WARP_SYNC, FINISHED}) {
    unsigned int n = 0;
    for (unsigned int t = 0; t < blockDim.x; t++) n += fibers[t].wait == w;
    std::fprintf(stderr, " %u", n);
  }
  std::fputc('\n', stderr);
  std::abort();
}

// EFCP_EMULATED_SLOW_WARP=w:k (environment): warp w of every block is resumed only every k-th round, where otherwise
// every warp advances to its next synchronisation each round, in lockstep. Protocols between warps that do not go
// through __syncthreads (mfac_cholesky.cu's wavefront) meet such lags on the device. Returns k (1: unset) and
// sets *warp.
unsigned int slowWarp(unsigned int* warp) {
  static unsigned int w = 0, k = 1;
  static const bool parsed = [] {
    if (const char* s = std::getenv("EFCP_EMULATED_SLOW_WARP")) {
      if (std::sscanf(s, "%u:%u", &w, &k) != 2 || w > 31 || k < 1) {
        std::fprintf(stderr, "emu: EFCP_EMULATED_SLOW_WARP=%s: expected warp:period (warp < 32, period >= 1)\n", s);
        std::abort();
      }
    }
    return true;
  }();
  (void)parsed;
  *warp = w;
  return k;
}

void runBlock(unsigned int threads) {
  unsigned int slow;
  const unsigned int period = slowWarp(&slow);
  for (unsigned int t = 0; t < threads; t++) {
    Fiber& f = fibers[t];
    if (f.stack == nullptr) {
      void* p = mmap(nullptr, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) {
        std::fprintf(stderr, "emu: cannot map a fiber stack\n");
        std::abort();
      }
      f.stack = static_cast<char*>(p);
    }
    // Stack tops staggered by 1088 bytes: aligned alike, the fibers' hot frames would compete for the same cache sets.
    makeContext(&f.context, f.stack, STACK_BYTES - (t % 61) * 1088, entry);
    f.wait = RUNNABLE;
  }
  unsigned int finished = 0;
  for (unsigned int round = 0; finished < threads; round++) {
    bool progressed = false;
    for (unsigned int t = 0; t < threads; t++) {
      if (fibers[t].wait != RUNNABLE) continue;
      if (t >> 5 == slow && round % period != 0) {
        progressed = true;  // runnable, resumed in a later round
        continue;
      }
      running = t;
      threadIdx = {t, 0, 0};
      switchTo(&scheduler, &fibers[t].context, fibers[t].stack, STACK_BYTES, false);
      finished += fibers[t].wait == FINISHED;
      progressed = true;
    }
    unsigned int atSync = 0;
    for (unsigned int t = 0; t < threads; t++) atSync += fibers[t].wait == AT_SYNCTHREADS;
    bool released = false;
    if (atSync == threads) {
      for (unsigned int t = 0; t < threads; t++) fibers[t].wait = RUNNABLE;
      released = true;
    }
    for (unsigned int w = 0; w * 32 < threads; w++) {
      unsigned int end = std::min(threads, 32 * w + 32);
      bool all = true;
      for (unsigned int t = 32 * w; t < end; t++) all &= fibers[t].wait == AT_WARP_SYNC;
      if (all) {
        for (unsigned int t = 32 * w; t < end; t++) fibers[t].wait = RUNNABLE;
        released = true;
      }
    }
    if (!progressed && !released && finished < threads) deadlock();
  }
}

}  // namespace

void emu_syncthreads() { yieldAt(AT_SYNCTHREADS); }
void emu_warp_sync(int) { yieldAt(AT_WARP_SYNC); }
void emu_yield() { yieldAt(RUNNABLE); }

void emu_launch(unsigned int gridX, unsigned int gridY, unsigned int threads, const std::function<void()>& body) {
  if (threads < 1 || threads > 1024) {
    std::fprintf(stderr, "emu: a block has 1 to 1024 threads, not %u\n", threads);
    std::abort();
  }
  gridDim = {gridX, gridY, 1};
  blockDim = {threads, 1, 1};
  currentBody = &body;
  for (unsigned y = 0; y < gridY; y++) {
    for (unsigned b = 0; b < gridX; b++) {
      blockIdx = {b, y, 0};
      runBlock(threads);
    }
  }
}
