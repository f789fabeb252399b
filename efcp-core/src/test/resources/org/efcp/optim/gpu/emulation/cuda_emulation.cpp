// The worker threads and barriers behind cuda_emulation.h.
#include "cuda_emulation.h"
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <cstdlib>

thread_local emu_dim3 threadIdx;
emu_dim3 blockIdx, blockDim, gridDim;
uint64_t emu_warp_buf[32][32];

static const int T = 256;
static std::barrier<>* blockBarrier;
static std::barrier<>* warpBarriers[T / 32];
static std::barrier<>* startBarrier;
static std::barrier<>* endBarrier;
static const std::function<void()>* currentBody;
static std::vector<std::thread> workers;

void emu_syncthreads() { blockBarrier->arrive_and_wait(); }
void emu_warp_sync(int warp) { warpBarriers[warp]->arrive_and_wait(); }

// Worker t is thread t of every block; it lives until the process exits (the harness ends with _Exit).
static void worker(int t) {
  threadIdx = {(unsigned)t, 0, 0};
  while (true) {
    startBarrier->arrive_and_wait();
    (*currentBody)();
    endBarrier->arrive_and_wait();
  }
}

static void init() {
  if (!workers.empty()) return;
  blockBarrier = new std::barrier<>(T);
  for (int w = 0; w < T / 32; w++) warpBarriers[w] = new std::barrier<>(32);
  startBarrier = new std::barrier<>(T + 1);
  endBarrier = new std::barrier<>(T + 1);
  for (int t = 0; t < T; t++) workers.emplace_back(worker, t);
}

void emu_launch(unsigned int gridX, unsigned int gridY, unsigned int threads, const std::function<void()>& body) {
  if (threads != T) { std::fprintf(stderr, "emu: blocks must have %d threads\n", T); std::abort(); }
  init();
  gridDim = {gridX, gridY, 1};
  blockDim = {threads, 1, 1};
  currentBody = &body;
  for (unsigned y = 0; y < gridY; y++) {
    for (unsigned b = 0; b < gridX; b++) {
      blockIdx = {b, y, 0};
      startBarrier->arrive_and_wait();
      endBarrier->arrive_and_wait();
    }
  }
}
