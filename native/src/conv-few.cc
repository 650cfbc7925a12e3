// The forward pass of a convolution onto a few output channels (1 to 4) from many (a multiple of
// 16): the decoders' last layer, 16 -> 3 (lite) or 64 -> 3 (original), 5x5 at 64x64.
//
// Why: oneDNN 2.6 vectorises over output channels, so with 3 of them its fp32 kernels used 3 of
// 16 lanes: lite's layer at batch 16 took 2.4 ms (68 GFLOP/s) where its 3x3 layers run at 350+.
// Here the lanes run over input channels instead: per output pixel one register per output
// channel sums x[tap, c..c+15] * w[tap, c..c+15, o] over the taps, then one horizontal sum each.
// Four neighbouring pixels share each filter load. (bf16 keeps oneDNN: it is fast there.)

#include <algorithm>
#include "common.h"
#include "conv.h"

#ifdef __AVX512F__
// GCC 12 warns inside its own AVX-512 intrinsics (their _mm512_undefined_* operands) once they
// are inlined at -O3 (GCC bug 105593): not about this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

namespace dfl {

bool UseFewOutputs(const ConvShape& s) {
#ifdef __AVX512F__
  return s.G == 1 && s.OC <= 4 && s.C % 16 == 0 && s.C <= 1024 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1;
#else
  (void)s;
  return false;
#endif
}

#ifdef __AVX512F__
// One output row of image n: the pixels whose taps all fall inside the image ([inLo, inHi)) take the
// four-pixel path; the others (near the left and right edges) go one by one, their taps clipped.
template <int OC>
static void Row(const ConvShape& s, const float* x, const float* wt, float* y, const float* bias, int act, float alpha,
                int64_t n, int64_t oy) {
  const int64_t C = s.C, ky0 = std::max<int64_t>(0, s.pt - oy), ky1 = std::min<int64_t>(s.KH, s.H + s.pt - oy);
  // Output columns whose taps all fall inside the image: ox - pl >= 0 and ox - pl + KW <= W.
  const int64_t inLo = s.pl, inHi = s.W + s.pl - s.KW + 1;
  auto finish = [&](__m512 (&acc)[OC], int64_t ox) {
    float* out = y + ((n * s.OH + oy) * s.OW + ox) * OC;
    for (int o = 0; o < OC; o++) out[o] = Activate(_mm512_reduce_add_ps(acc[o]) + (bias ? bias[o] : 0.f), act, alpha);
  };
  auto one = [&](int64_t ox) {
    __m512 acc[OC];
    for (int o = 0; o < OC; o++) acc[o] = _mm512_setzero_ps();
    const int64_t kx0 = std::max<int64_t>(0, s.pl - ox), kx1 = std::min<int64_t>(s.KW, s.W + s.pl - ox);
    for (int64_t ky = ky0; ky < ky1; ky++)
      for (int64_t kx = kx0; kx < kx1; kx++) {
        const float* xp = x + ((n * s.H + oy + ky - s.pt) * s.W + ox + kx - s.pl) * C;
        const float* wp = wt + (ky * s.KW + kx) * OC * C;
        for (int64_t c = 0; c < C; c += 16) {
          const __m512 xv = _mm512_loadu_ps(xp + c);
          for (int o = 0; o < OC; o++) acc[o] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wp + o * C + c), acc[o]);
        }
      }
    finish(acc, ox);
  };
  int64_t ox = 0;
  for (; ox < std::min(inLo, s.OW); ox++) one(ox);
  for (; ox + 4 <= std::min(inHi, s.OW); ox += 4) {
    __m512 a0[OC], a1[OC], a2[OC], a3[OC];
    for (int o = 0; o < OC; o++) a0[o] = a1[o] = a2[o] = a3[o] = _mm512_setzero_ps();
    for (int64_t ky = ky0; ky < ky1; ky++)
      for (int64_t kx = 0; kx < s.KW; kx++) {
        const float* xp = x + ((n * s.H + oy + ky - s.pt) * s.W + ox + kx - s.pl) * C;
        const float* wp = wt + (ky * s.KW + kx) * OC * C;
        for (int64_t c = 0; c < C; c += 16) {
          const __m512 x0 = _mm512_loadu_ps(xp + c), x1 = _mm512_loadu_ps(xp + C + c);
          const __m512 x2 = _mm512_loadu_ps(xp + 2 * C + c), x3 = _mm512_loadu_ps(xp + 3 * C + c);
          for (int o = 0; o < OC; o++) {
            const __m512 w = _mm512_loadu_ps(wp + o * C + c);
            a0[o] = _mm512_fmadd_ps(x0, w, a0[o]);
            a1[o] = _mm512_fmadd_ps(x1, w, a1[o]);
            a2[o] = _mm512_fmadd_ps(x2, w, a2[o]);
            a3[o] = _mm512_fmadd_ps(x3, w, a3[o]);
          }
        }
      }
    finish(a0, ox), finish(a1, ox + 1), finish(a2, ox + 2), finish(a3, ox + 3);
  }
  for (; ox < s.OW; ox++) one(ox);
}

template <int OC>
static void Run(const ConvShape& s, const float* x, const float* w, float* y, const float* bias, int act, float alpha) {
  // The filter as [KH, KW, OC, C]: each output channel's taps contiguous over input channels.
  static thread_local AlignedVector<float> wt;
  const int64_t taps = s.KH * s.KW;
  wt.resize(static_cast<size_t>(taps * OC * s.C));
  for (int64_t t = 0; t < taps; t++)
    for (int64_t c = 0; c < s.C; c++)
      for (int o = 0; o < OC; o++) wt[(t * OC + o) * s.C + c] = w[(t * s.C + c) * OC + o];
  const float* wp = wt.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t oy = 0; oy < s.OH; oy++) Row<OC>(s, x, wp, y, bias, act, alpha, n, oy);
}
#endif

std::string FewOutputsConv(const ConvShape& s, const float* x, const float* w, float* y, const float* bias, int act, float alpha) {
#ifdef __AVX512F__
  switch (s.OC) {
    case 1: Run<1>(s, x, w, y, bias, act, alpha); break;
    case 2: Run<2>(s, x, w, y, bias, act, alpha); break;
    case 3: Run<3>(s, x, w, y, bias, act, alpha); break;
    default: Run<4>(s, x, w, y, bias, act, alpha); break;
  }
#else
  (void)s, (void)x, (void)w, (void)y, (void)bias, (void)act, (void)alpha;
#endif
  return "few-outputs:avx512";
}

}  // namespace dfl
