// mfac_cholesky.cu's overlapped combination (mchol_overlap_step_C / mchol_overlap_wave_C) on the CPU emulation,
// checking itself; exits with 0 when every check holds, else says which failed.
//
//   overlap_harness m d steps consumers rows|wavefront
//
// From the empty state (K = 0, R = sqrt(m) I), `steps` random float32 vectors of length d go into the window in turn
// (slot t mod m, the ring wraps after m), w = their dots with the window. Each step runs the overlapped kernel (grid
// 1 + consumers) on one copy of the state and the plain step kernel (mchol_step_C / mchol_wave_C) on another:
//   - R, K, M and the drift maximum are bitwise the plain kernel's, and the three block counters are back to 0;
//   - every publication of the producer (its atomicMax on the row counter, intercepted here) counts up in groups of
//     MCHOL_PUBLISH_ROWS to m, and only rows whose M is already stored, with the value it keeps;
//   - u = x/λ − Σ_j M_j x_j to 1e-12 (max-norm relative) of the sum in slot order (dmfac_combine's).
// The emulation runs a launch's blocks one at a time, so in that launch the readers find every row published. Their
// waits are checked apart: each consumer's range again, alone, against a stand-in producer that publishes one more
// row (in back-solve order, M copied from the overlapped kernel's) each time the reader polls, with the rows not yet
// published NaN: u is bitwise the overlapped kernel's, so no row was read before it was published.
#include "harness.h"

#undef MCHOL_GRID_BACKOFF
#undef MCHOL_MAX_GRID_POLLS
#define MCHOL_GRID_BACKOFF() harness_poll()
#define MCHOL_MAX_GRID_POLLS (1 << 30)
void harness_poll();
#define atomicMax harness_atomic_max
unsigned int harness_atomic_max(unsigned int* p, unsigned int v);
unsigned long long harness_atomic_max(unsigned long long* p, unsigned long long v);
#include "mfac_cholesky.cu"
#undef atomicMax
#include "mchol_launch.h"
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

int gM = 0;
int gHead = 0;  // the logical head after the step (the slot after the one written)
std::vector<double>* gCoefficients = nullptr;  // the overlapped kernel's M
unsigned int* gPublished = nullptr;             // its row counter
std::vector<unsigned int> gPublications;
std::vector<double> gAtPublication;  // M of the rows a publication counts, when it was made (logical order)

// The stand-in producer of the readers-alone runs.
bool gStandIn = false;
unsigned int gStandInPublished = 0;
std::vector<double> gStandInM;  // M as the readers see it: NaN until published
const std::vector<double>* gFinalM = nullptr;
long gPolls = 0;

int slotOf(int p) { return mchol_slot(gHead, p, gM); }

}  // namespace

unsigned int harness_atomic_max(unsigned int* p, unsigned int v) {
  if (p == gPublished) {
    const unsigned int last = gPublications.empty() ? 0 : gPublications.back();
    if (v <= last || v > (unsigned int)gM || (v % MCHOL_PUBLISH_ROWS != 0 && v != (unsigned int)gM)) {
      std::fprintf(stderr, "publication of %u rows after %u (m = %d)\n", v, last, gM);
      harness_exit(1);
    }
    for (int p2 = gM - 1; p2 >= gM - (int)v; p2--) {
      const double mp = (*gCoefficients)[slotOf(p2)];
      if (std::isnan(mp)) {
        std::fprintf(stderr, "publication of %u rows before M of logical row %d (slot %d) was stored\n", v, p2,
                     slotOf(p2));
        harness_exit(1);
      }
      if (p2 < gM - (int)last) {
        gAtPublication.push_back(mp);
      }
    }
    gPublications.push_back(v);
  }
  return ::atomicMax(p, v);
}

unsigned long long harness_atomic_max(unsigned long long* p, unsigned long long v) { return ::atomicMax(p, v); }

// Thread 0 of a reader polls: the stand-in producer publishes the next row in back-solve order.
void harness_poll() {
  if (!gStandIn) die("a reader waited inside the overlapped kernel's launch, where the producer had finished");
  gPolls++;
  if (gStandInPublished < (unsigned int)gM) {
    const int p = gM - 1 - (int)gStandInPublished;
    gStandInM[slotOf(p)] = (*gFinalM)[slotOf(p)];
    gStandInPublished++;
  }
}

void readers_alone(const float4* window, int ld4, int d, int m, int filled, int old, double invDamping,
                   const double* M, const unsigned int* published, int consumer, int consumers, double* u) {
  mchol_combine(window, ld4, d, m, filled, old, invDamping, M, published, consumer, consumers, u);
}

int main(int argc, char** argv) {
  if (argc < 6) die("usage: m d steps consumers rows|wavefront");
  const int m = atoi(argv[1]), d = atoi(argv[2]), steps = atoi(argv[3]), consumers = atoi(argv[4]);
  const bool wavefront = std::strcmp(argv[5], "wavefront") == 0;
  if (!wavefront && std::strcmp(argv[5], "rows") != 0) die("kernel must be rows or wavefront");
  const double damping = 1e-3, invDamping = 1.0 / damping;
  const int ld = (d + 3) / 4 * 4, ld4 = ld / 4;
  const size_t mm = (size_t)m * m;
  std::vector<double> K1(mm, 0.0), R1(mm, 0.0), K2(mm, 0.0), R2(mm, 0.0), w(m), M1(m), M2(m), u(d), uAlone(d);
  for (int i = 0; i < m; i++) R1[(size_t)i * m + i] = R2[(size_t)i * m + i] = std::sqrt((double)m);
  std::vector<float> window((size_t)m * ld, 0.0f);
  std::vector<sm_u64> drift1(1, 0), drift2(1, 0);
  std::vector<unsigned int> sync(3, 0);
  gM = m;
  gCoefficients = &M1;
  gPublished = &sync[1];
  uint64_t state = 0x9E3779B97F4A7C15ull;
  long standInPolls = 0;
  for (int t = 0; t < steps; t++) {
    const int slot = t % m, filled = t + 1 < m ? t + 1 : m;
    float* x = &window[(size_t)slot * ld];
    for (int i = 0; i < d; i++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      x[i] = (float)((double)(state >> 11) * 0x1p-53 * 2.0 - 1.0);
    }
    for (int j = 0; j < m; j++) {
      double s = 0.0;
      for (int i = 0; j < filled && i < d; i++) s += (double)window[(size_t)j * ld + i] * (double)x[i];
      w[j] = s;
    }
    gHead = mchol_head(slot, m);
    gPublications.clear();
    gAtPublication.clear();
    std::fill(M1.begin(), M1.end(), std::nan(""));
    std::fill(u.begin(), u.end(), std::nan(""));
    mchol_overlap_launch(wavefront, R1.data(), K1.data(), w.data(), m, slot, damping, drift1.data(), M1.data(),
                         reinterpret_cast<const float4*>(window.data()), ld4, d, filled, u.data(), sync.data(),
                         consumers);
    mchol_launch(wavefront, R2.data(), K2.data(), w.data(), m, slot, damping, drift2.data(), M2.data());
    if (std::memcmp(M1.data(), M2.data(), 8 * m) != 0) die(t, "M differs from the plain kernel's");
    if (std::memcmp(R1.data(), R2.data(), 8 * mm) != 0) die(t, "R differs from the plain kernel's");
    if (std::memcmp(K1.data(), K2.data(), 8 * mm) != 0) die(t, "K differs from the plain kernel's");
    if (drift1[0] != drift2[0]) die(t, "the drift maximum differs from the plain kernel's");
    if (sync[0] != 0 || sync[1] != 0 || sync[2] != 0) {
      die(t, "block counters left at %u %u %u", sync[0], sync[1], sync[2]);
    }
    if (gPublications.empty() || gPublications.back() != (unsigned int)m) die(t, "M was not published to the end");
    for (int p = m - 1, k = 0; p >= 0; p--, k++) {
      const double now = M1[slotOf(p)];
      if (std::memcmp(&now, &gAtPublication[k], 8) != 0) die(t, "M of logical row %d changed after publication", p);
    }
    double scale = 0.0, worst = 0.0;
    for (int i = 0; i < d; i++) {
      double ref = 0.0;
      for (int j = 0; j < filled; j++) {
        const double c = j == slot ? invDamping - M1[j] : -M1[j];
        ref += c * (double)window[(size_t)j * ld + i];
      }
      scale = std::fmax(scale, std::fabs(ref));
      const double diff = std::fabs(u[i] - ref);
      worst = std::isnan(diff) ? INFINITY : std::fmax(worst, diff);
    }
    if (worst > 1e-12 * scale) die(t, "u is %g from the slot-order sum (scale %g)", worst, scale);

    // Each reader alone, against the stand-in producer.
    gStandIn = true;
    gFinalM = &M1;
    for (int b = 0; b < consumers; b++) {
      gStandInPublished = 0;
      gStandInM.assign(m, std::nan(""));
      std::fill(uAlone.begin(), uAlone.end(), std::nan(""));
      gPolls = 0;
      LAUNCH_T(1, MCHOL_THREADS, readers_alone, reinterpret_cast<const float4*>(window.data()), ld4, d, m, filled,
               slot, invDamping, gStandInM.data(), &gStandInPublished, b, consumers, uAlone.data());
      standInPolls += gPolls;
      long long begin, end;  // float4 columns
      mchol_reader_columns(ld4, b, consumers, &begin, &end);
      for (long long i = 4 * begin; i < std::min<long long>(d, 4 * end); i++) {
        if (std::memcmp(&uAlone[i], &u[i], 8) != 0) {
          die(t, "reader %d alone: u[%lld] = %g, in the overlapped launch %g", b, i, uAlone[i], u[i]);
        }
      }
      if (begin < end && gPolls < 1) die(t, "reader %d never waited for the stand-in producer", b);
    }
    gStandIn = false;
  }
  std::fprintf(stderr, "overlap_harness: %d steps, m = %d, d = %d, %d consumers, %s: all checks hold (%ld polls)\n",
               steps, m, d, consumers, wavefront ? "wavefront" : "rows", standInPolls);
  harness_exit(0);
}
