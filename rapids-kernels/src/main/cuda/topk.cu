// Error feedback + exact global Top-k on the device: the same selection as org.efcp.optim.TopKCompressor
// inside ErrorFeedback (k largest |a_i|, ties to the lower index, values a_i rounded to float32, indices
// ascending; xi = a - c, so c + xi == a bitwise).
//
// Keys: the bits of a double with the sign cleared order like |a| (finite input). The threshold key T (the k-th
// largest) is found by a radix select over the 63 key bits, most significant digit first, in six passes of
// TOPK_PASS_* widths 11,11,11,11,11,8 (shifts 52,41,30,19,8,0); each pass is one launch over all d keys (the
// array is a few MB, re-reading it is cheaper than compacting candidates), every block histograms the digit of
// the keys whose higher bits equal the prefix found so far, and the last block to finish picks the bucket that
// holds the rank-th largest key. After the last pass, prefix = T and rank = need = how many keys equal to T are
// taken (the lowest-index ones). Then topk_count counts per block the keys > T and == T and scans the counts,
// and topk_write writes the selection stably in ascending index order.
//
// Launch every kernel here with blocks of 256 threads and gridX = ceil(d / TOPK_CHUNK) (4096 keys per block).
// State (a device array of 4 unsigned 64-bit words, all 0 before the first use):
//   st[0] prefix (then T), st[1] rank still to select (then need), st[2] the ticket counter of the
//   last-block protocol (low 32 bits; reset by each last block). The histogram (2048 uint32) must be all 0
//   before the first use; each last block clears it again.
#include "sparse_mfac_block.cuh"

#define TOPK_ITEMS 16
#define TOPK_CHUNK (SM_THREADS * TOPK_ITEMS)
#define TOPK_MAX_BINS 2048

#define TOPK_ST_PREFIX 0
#define TOPK_ST_RANK 1
#define TOPK_ST_TICKET 2

__device__ __forceinline__ sm_u64 topk_key(double x) {
  return (sm_u64)__double_as_longlong(x) & 0x7FFFFFFFFFFFFFFFull;
}

#define TOPK_NO_BIN 0xFFFFFFFFu

// Adds the warp's keys to the block histogram, one shared atomic per distinct bin in the warp (massive ties, e.g. many
// exact zeros, would otherwise serialise 32 atomics on one address). Every lane of the warp must call it; a lane with
// nothing to count passes TOPK_NO_BIN.
__device__ __forceinline__ void topk_add_to_bin(unsigned int* sh, unsigned int bin) {
  const unsigned int peers = __match_any_sync(0xffffffffu, bin);
  if (bin != TOPK_NO_BIN && (int)(threadIdx.x & 31) == __ffs(peers) - 1) {
    atomicAdd(&sh[bin], (unsigned int)__popc(peers));
  }
}

// Called by every thread of every block after its digit histogram `sh` (nbins = 1 << width bins) is complete:
// adds it to the global histogram; the last block then finds the bucket holding the rank-th largest key among
// the candidates (bins scanned from the top), appends its digit to the prefix, lowers the rank by the count in
// higher buckets, and clears the histogram and the ticket for the next launch.
__device__ void topk_finish_pass(unsigned int* sh, unsigned int* hist, int width, sm_u64* st, sm_u64 prefix,
                                 sm_u64 rank) {
  const int nbins = 1 << width;
  const int tid = threadIdx.x;
  for (int b = tid; b < nbins; b += SM_THREADS) {
    unsigned int c = sh[b];
    if (c != 0) {
      atomicAdd(&hist[b], c);
    }
  }
  if (!sm_last_block((unsigned int*)&st[TOPK_ST_TICKET])) {
    return;
  }
  for (int b = tid; b < nbins; b += SM_THREADS) {
    sh[b] = __ldcg(&hist[b]);
    hist[b] = 0;
  }
  __syncthreads();
  // Thread t owns `per` bins from the top: [top - per, top) with top = nbins - per * t, so thread order is
  // descending bin order and an inclusive scan over threads counts the keys in bins >= each thread's lowest.
  const int per = nbins / SM_THREADS;
  const int top = nbins - per * tid;
  sm_u64 own = 0;
  for (int q = 1; q <= per; q++) {
    own += sh[top - q];
  }
  sm_u64 total;
  sm_u64 before = sm_block_exclusive_scan(own, &total);
  if (before < rank && rank <= before + own) {
    sm_u64 above = before;
    for (int q = 1; q <= per; q++) {
      const int b = top - q;
      const sm_u64 c = sh[b];
      if (above + c >= rank) {
        st[TOPK_ST_PREFIX] = (prefix << width) | (sm_u64)b;
        st[TOPK_ST_RANK] = rank - above;
        break;
      }
      above += c;
    }
  }
  if (tid == 0) {
    st[TOPK_ST_TICKET] = 0;
  }
}

// Pass 0 fused with error feedback: a = xi + g (one IEEE add, as on the CPU), stored back into xi; histogram of
// key bits 62..52. k is the number of entries to select (1 <= k <= d).
extern "C" __global__ void topk_ef_hist(double* __restrict__ xi, const double* __restrict__ g, int d,
                                        unsigned int* __restrict__ hist, sm_u64* __restrict__ st, int k) {
  __shared__ unsigned int sh[TOPK_MAX_BINS];
  for (int b = threadIdx.x; b < TOPK_MAX_BINS; b += SM_THREADS) {
    sh[b] = 0;
  }
  __syncthreads();
  const long long base = (long long)blockIdx.x * TOPK_CHUNK + threadIdx.x;
#pragma unroll 4
  for (int q = 0; q < TOPK_ITEMS; q++) {
    const long long i = base + (long long)q * SM_THREADS;
    unsigned int bin = TOPK_NO_BIN;
    if (i < d) {
      const double a = xi[i] + g[i];
      xi[i] = a;
      bin = (unsigned int)(topk_key(a) >> 52);
    }
    topk_add_to_bin(sh, bin);
  }
  __syncthreads();
  topk_finish_pass(sh, hist, 11, st, 0ull, (sm_u64)k);
}

// Passes 1..5: histogram of key bits [shift, shift + width) over the keys whose bits above shift + width equal
// st[0]. (shift, width) = (41,11), (30,11), (19,11), (8,11), (0,8) in that order.
extern "C" __global__ void topk_hist(const double* __restrict__ a, int d, unsigned int* __restrict__ hist,
                                     sm_u64* __restrict__ st, int shift, int width) {
  __shared__ unsigned int sh[TOPK_MAX_BINS];
  const int nbins = 1 << width;
  for (int b = threadIdx.x; b < nbins; b += SM_THREADS) {
    sh[b] = 0;
  }
  const sm_u64 prefix = st[TOPK_ST_PREFIX];
  const sm_u64 rank = st[TOPK_ST_RANK];
  const sm_u64 mask = (sm_u64)(nbins - 1);
  const int high = shift + width;
  __syncthreads();
  const long long base = (long long)blockIdx.x * TOPK_CHUNK + threadIdx.x;
#pragma unroll 4
  for (int q = 0; q < TOPK_ITEMS; q++) {
    const long long i = base + (long long)q * SM_THREADS;
    unsigned int bin = TOPK_NO_BIN;
    if (i < d) {
      const sm_u64 key = topk_key(a[i]);
      if ((key >> high) == prefix) {
        bin = (unsigned int)((key >> shift) & mask);
      }
    }
    topk_add_to_bin(sh, bin);
  }
  __syncthreads();
  topk_finish_pass(sh, hist, width, st, prefix, rank);
}

// Per block: the count of keys > T (high 32 bits) and == T (low 32 bits) in its 4096 keys; the last block turns
// blockCounts[0..gridDim.x) into exclusive prefix sums (the same packing; no carry, counts < 2^31).
extern "C" __global__ void topk_count(const double* __restrict__ a, int d, sm_u64* __restrict__ st,
                                      sm_u64* __restrict__ blockCounts) {
  const sm_u64 threshold = st[TOPK_ST_PREFIX];
  const long long base = (long long)blockIdx.x * TOPK_CHUNK + (long long)threadIdx.x * TOPK_ITEMS;
  unsigned int greater = 0;
  unsigned int equal = 0;
#pragma unroll
  for (int q = 0; q < TOPK_ITEMS; q++) {
    const long long i = base + q;
    if (i < d) {
      const sm_u64 key = topk_key(a[i]);
      greater += key > threshold ? 1u : 0u;
      equal += key == threshold ? 1u : 0u;
    }
  }
  sm_u64 blockTotal;
  sm_block_exclusive_scan(((sm_u64)greater << 32) | equal, &blockTotal);
  if (threadIdx.x == 0) {
    blockCounts[blockIdx.x] = blockTotal;
  }
  if (!sm_last_block((unsigned int*)&st[TOPK_ST_TICKET])) {
    return;
  }
  // Thread t scans a contiguous segment of the block counts.
  const int nb = gridDim.x;
  const int seg = (nb + SM_THREADS - 1) / SM_THREADS;
  const int from = min(nb, (int)threadIdx.x * seg);
  const int to = min(nb, from + seg);
  sm_u64 own = 0;
  for (int b = from; b < to; b++) {
    own += __ldcg(&blockCounts[b]);
  }
  sm_u64 all;
  sm_u64 running = sm_block_exclusive_scan(own, &all);
  for (int b = from; b < to; b++) {
    const sm_u64 c = __ldcg(&blockCounts[b]);
    blockCounts[b] = running;
    running += c;
  }
  if (threadIdx.x == 0) {
    st[TOPK_ST_TICKET] = 0;
  }
}

// Writes the selection in ascending index order into slot `slot` of the window (outIdx/outVal rows of k
// entries): every key > T and the first `need` keys == T. For each selected i: xi_i = a_i - (float)a_i
// (elsewhere xi keeps a_i), the support bit of i is set in `bitmap` and scratch_i = (double)(float)a_i.
// blockOffsets holds topk_count's exclusive prefix sums.
extern "C" __global__ void topk_write(double* __restrict__ xi, int d, const sm_u64* __restrict__ st,
                                      const sm_u64* __restrict__ blockOffsets, int* __restrict__ outIdx,
                                      float* __restrict__ outVal, int k, int slot,
                                      unsigned int* __restrict__ bitmap, double* __restrict__ scratch) {
  const sm_u64 threshold = st[TOPK_ST_PREFIX];
  const sm_u64 need = st[TOPK_ST_RANK];
  const long long base = (long long)blockIdx.x * TOPK_CHUNK + (long long)threadIdx.x * TOPK_ITEMS;
  double v[TOPK_ITEMS];
  unsigned int greater = 0;
  unsigned int equal = 0;
#pragma unroll
  for (int q = 0; q < TOPK_ITEMS; q++) {
    const long long i = base + q;
    v[q] = i < d ? xi[i] : 0.0;
  }
#pragma unroll
  for (int q = 0; q < TOPK_ITEMS; q++) {
    if (base + q < d) {
      const sm_u64 key = topk_key(v[q]);
      greater += key > threshold ? 1u : 0u;
      equal += key == threshold ? 1u : 0u;
    }
  }
  sm_u64 blockTotal;
  const sm_u64 before = blockOffsets[blockIdx.x] + sm_block_exclusive_scan(((sm_u64)greater << 32) | equal,
                                                                          &blockTotal);
  const sm_u64 greaterBefore = before >> 32;
  sm_u64 equalSeen = before & 0xFFFFFFFFull;
  sm_u64 pos = greaterBefore + (equalSeen < need ? equalSeen : need);
  int* rowIdx = outIdx + (long long)slot * k;
  float* rowVal = outVal + (long long)slot * k;
  for (int q = 0; q < TOPK_ITEMS; q++) {
    const long long i = base + q;
    if (i >= d) {
      break;
    }
    const sm_u64 key = topk_key(v[q]);
    bool selected = key > threshold;
    if (key == threshold) {
      selected = equalSeen < need;
      equalSeen++;
    }
    if (selected) {
      const float f = (float)v[q];
      const double fd = (double)f;
      rowIdx[pos] = (int)i;
      rowVal[pos] = f;
      xi[i] = v[q] - fd;
      atomicOr(&bitmap[i >> 5], 1u << (i & 31));
      scratch[i] = fd;
      pos++;
    }
  }
}
