// Convolutions as one matrix product over the whole batch: im2col, then oneDNN's matmul.
//
// Why: the autoencoders' deepest layers work on 4x4 and 8x8 pixels with 512 to 2048 channels.
// There oneDNN 2.6's direct convolutions (brgconv forward, jit backward) ran at 115-170 GFLOP/s
// on this 2-core AVX-512 machine, and each pass also reorders the filter between TensorFlow's
// HWIO layout and a blocked one (the filter changes every step, so every call pays). Unrolled,
// the same convolution is a [N*OH*OW x KH*KW*C] by [KH*KW*C x OC] product whose right operand
// is the HWIO filter as it lies in memory, and oneDNN's matmul ran that at 250-330 GFLOP/s in
// fp32, and at 800-2900 in bf16 on AMX, where its bf16 convolutions gained only 1.3-1.6x:
//   forward          y    = col(x) . W           (+ bias and activation as post-ops)
//   input gradient   dx   = col^-1(dy . W^T)     (col^-1 adds each patch back where it came from)
//   filter gradient  dW   = col(x)^T . dy        (written straight into the HWIO array)
// col(x) costs a write of KH*KW times the input, which is why large images keep oneDNN's
// convolutions in fp32.

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <vector>
#include "common.h"
#include "conv.h"

namespace dfl {

using namespace dnnl;
using dt = memory::data_type;

// The unrolled input is built a few whole images at a time, so its scratch stays near this many
// elements whatever the batch; one image's patches may exceed it. DEEPFAKE_CONV_GEMM_CHUNK sets
// another bound (tests use a tiny one to run every batch image by image).
static int64_t MaxColElements() {
  const char* v = std::getenv("DEEPFAKE_CONV_GEMM_CHUNK");
  const long long n = v ? std::atoll(v) : 0;
  return n > 0 ? n : int64_t{32} << 20;
}

// DEEPFAKE_CONV_GEMM=on|off forces the path for every convolution with groups 1 (tests and paired
// measurements switch it within one process, so it is read on every call: microseconds against
// milliseconds); unset, the rule below decides.
static int Forced() {
  const char* v = std::getenv("DEEPFAKE_CONV_GEMM");
  if (!v) return -1;
  return std::strcmp(v, "on") == 0 ? 1 : std::strcmp(v, "off") == 0 ? 0 : -1;
}

// fp32, measured per pass on the layers of lite and original at batch 8 and 16 (ms per call,
// oneDNN's convolution -> here, alternating in one process; K = KH*KW*C, P = OH*OW):
//   4x4 outputs: 1024 -> 2048 (K 9216) forward 94.9 -> 40.6, input gradient 60.9 -> 44.2, filter
//     gradient 117.7 -> 34.5; 128 -> 256 stride 2 (K 3200) 2.8 -> 1.9, 2.1 -> 1.7, 2.6 -> 2.0;
//   8x8: 512 -> 1024 (K 4608) 38.6 -> 40.4, 46.1 -> 39.4, 45.1 -> 39.6: the gradients gain, the
//     forward pass not; 128 -> 256 (K 1152) 2.2 -> 3.0, 2.9 -> 2.7, 2.7 -> 3.1: too little to
//     multiply per unrolled pixel;
//   16x16, 128 -> 256 stride 2 (K 3200): only the input gradient gains (36.1 -> 29.7);
//   the first layer's input gradient (3 input channels) gains at any size: 3 -> 128 at 64x64
//     6.4 -> 2.4 (oneDNN's kernel for it is slow); its other passes lose (1.5 -> 1.9).
//   Larger images lose (the unrolled input is KH*KW times the image), and so do the output
//   layers (3 channels): 64 -> 3 at 64x64 went 12.1 -> 63.5.
// bf16 (AMX), against oneDNN's bf16 convolution where UseBf16 (conv.cc) keeps it:
//   4x4 outputs gain in every pass: 1024 -> 2048 50.3 -> 22.7, 53.6 -> 15.9, 73.8 -> 23.7; lite's
//     256 -> 512 2.2 -> 1.2, 1.9 -> 1.3, 3.1 -> 1.2;
//   8x8: forward gains from K 1600 (64 -> 128 stride 2: 1.00 -> 0.82), the filter gradient from
//     K 1152 (128 -> 256: 1.48 -> 1.10), the input gradient only from K 6400 (256 -> 512 stride 2:
//     16.5 -> 13.0; 64 -> 128 stride 2 lost, 1.04 -> 1.62);
//   16x16: the filter gradient of 128 -> 256 stride 2 (K 3200) gains, 18.0 -> 12.1; the rest lose.
//   Converting the filter to bf16 on every call is much of what is left: 1024 -> 2048's is 19 M
//   values, and its product alone took 4 ms.
bool UseGemm(const ConvShape& s, int mode, bool bf16) {
  if (s.G != 1) return false;
  const int forced = Forced();
  if (forced >= 0) return forced == 1;
  const int64_t K = s.KH * s.KW * s.C, P = s.OH * s.OW;
  if (s.OC < 32) return false;
  if (bf16) {
    if (mode == 0) return (P <= 16 && K >= 1024) || (P <= 64 && K >= 1536);
    if (mode == 1) return (P <= 16 && K >= 1024) || (P <= 64 && K >= 6400);
    return (P <= 64 && K >= 1024) || (P <= 256 && K >= 3200);
  }
  // Forward, by the rows of the product (N * P): at batch 16 the 4x4 layers as measured above; one
  // image at a time (face-api's SSD, swapping) 16x16 layers too, and 1x1 convolutions (a plain
  // product, nothing to unroll) up to 32x32. SSD MobileNet's, one photo, ms per call: 512 -> 512 at
  // 32x32 11.8 -> 9.9, 1024 -> 1024 at 16x16 3.7 -> 2.1, 256 -> 512 3x3 onto 8x8 1.9 -> under 1.2;
  // its 64x64 and larger layers lost (128 -> 128 at 128x128: 2.1 -> 2.2).
  const int64_t M = s.N * P;
  const bool oneByOne = s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1;
  if (mode == 0) return (M <= 256 && K >= 1024) || (oneByOne && M <= 1024 && K >= 512);
  // lite's 64 -> 128 stride 2 onto 8x8 (K 1600) lost here, with aligned arrays: 1.51 against 1.28.
  if (mode == 1) return (P <= 64 && K >= 2048) || (P <= 256 && K >= 3200) || s.C <= 4;
  return (P <= 16 && K >= 1024) || (P <= 64 && K >= 4096);
}

// Rows of col(x) for images [n0, n0 + n): row (n, oy, ox), column (ky, kx, c); zeros where a tap
// falls in the padding. T is float, or uint16_t for bf16.
template <typename T>
static void Im2Col(const ConvShape& s, const float* x, int64_t n0, int64_t n, T* col) {
  const int64_t K = s.KH * s.KW * s.C;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t i = 0; i < n; i++)
    for (int64_t oy = 0; oy < s.OH; oy++)
      for (int64_t ox = 0; ox < s.OW; ox++) {
        T* row = col + ((i * s.OH + oy) * s.OW + ox) * K;
        for (int64_t ky = 0; ky < s.KH; ky++) {
          const int64_t iy = oy * s.sh - s.pt + ky * s.dh;
          for (int64_t kx = 0; kx < s.KW; kx++) {
            const int64_t ix = ox * s.sw - s.pl + kx * s.dw;
            T* dst = row + (ky * s.KW + kx) * s.C;
            if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) {
              std::fill(dst, dst + s.C, T(0));
              continue;
            }
            const float* src = x + (((n0 + i) * s.H + iy) * s.W + ix) * s.C;
            if constexpr (std::is_same_v<T, float>) std::memcpy(dst, src, sizeof(float) * s.C);
            else
              for (int64_t c = 0; c < s.C; c++) dst[c] = ToBf16(src[c]);
          }
        }
      }
}

// The inverse: add every patch of dcol back onto dx (images [n0, n0 + n), dx zeroed by the
// caller). Patches of one image overlap, so each thread takes whole images.
static void Col2Im(const ConvShape& s, const float* dcol, int64_t n0, int64_t n, float* dx) {
  const int64_t K = s.KH * s.KW * s.C;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++)
    for (int64_t oy = 0; oy < s.OH; oy++)
      for (int64_t ox = 0; ox < s.OW; ox++) {
        const float* row = dcol + ((i * s.OH + oy) * s.OW + ox) * K;
        for (int64_t ky = 0; ky < s.KH; ky++) {
          const int64_t iy = oy * s.sh - s.pt + ky * s.dh;
          if (iy < 0 || iy >= s.H) continue;
          for (int64_t kx = 0; kx < s.KW; kx++) {
            const int64_t ix = ox * s.sw - s.pl + kx * s.dw;
            if (ix < 0 || ix >= s.W) continue;
            const float* src = row + (ky * s.KW + kx) * s.C;
            float* d = dx + (((n0 + i) * s.H + iy) * s.W + ix) * s.C;
#pragma omp simd
            for (int64_t c = 0; c < s.C; c++) d[c] += src[c];
          }
        }
      }
}

static void ToBf16Array(const float* x, uint16_t* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
  for (int64_t i = 0; i < n; i++) y[i] = ToBf16(x[i]);
}

// C[M x N] (f32, row-major) = op(A) op(B) [+ bias][+ old C], activation. A is [M x K] row-major
// or, transposed, [K x M]; B is [K x N] or, transposed, [N x K]; bias holds N values or 1 (then
// broadcast). Built once per shape.
struct GemmPrim {
  matmul prim;
  memory::desc a, b, c, bias;
  std::string impl;
};

static GemmPrim& GetMatMul(int64_t M, int64_t K, int64_t N, bool ta, bool tb, bool bf16, int64_t biasN, int act, float alpha, bool accumulate) {
  // A handful of shapes per model; a bound keeps evaluation's changing batch sizes from growing it.
  static auto* cache = new std::unordered_map<std::string, std::unique_ptr<GemmPrim>>();  // never destroyed, like conv.cc's
  std::string key;
  for (int64_t v : {M, K, N, int64_t{ta}, int64_t{tb}, int64_t{bf16}, biasN, int64_t{act}, int64_t{accumulate}}) key += std::to_string(v) + ",";
  key += std::to_string(alpha);
  auto it = cache->find(key);
  if (it != cache->end()) return *it->second;
  if (cache->size() >= 64) cache->clear();
  const dt in = bf16 ? dt::bf16 : dt::f32;
  auto e = std::make_unique<GemmPrim>();
  e->a = memory::desc({M, K}, in, ta ? memory::dims{1, M} : memory::dims{K, 1});
  e->b = memory::desc({K, N}, in, tb ? memory::dims{1, K} : memory::dims{N, 1});
  e->c = memory::desc({M, N}, dt::f32, memory::dims{N, 1});
  e->bias = memory::desc({1, biasN ? biasN : 1}, dt::f32, memory::dims{biasN ? biasN : 1, 1});
  auto d = biasN ? matmul::desc(e->a, e->b, e->bias, e->c) : matmul::desc(e->a, e->b, e->c);
  matmul::primitive_desc pd(d, ActivationAttr(act, alpha, accumulate), Eng());
  e->prim = matmul(pd);
  e->impl = pd.impl_info_str();
  return *cache->emplace(key, std::move(e)).first->second;
}

const std::string& RunMatMul(int64_t M, int64_t K, int64_t N, bool ta, bool tb, bool bf16, const void* A, const void* B, float* C,
                             const float* bias, int64_t biasN, int act, float alpha, bool accumulate) {
  GemmPrim& m = GetMatMul(M, K, N, ta, tb, bf16, bias ? biasN : 0, act, alpha, accumulate);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(m.a, Eng(), const_cast<void*>(A))},
                                       {DNNL_ARG_WEIGHTS, memory(m.b, Eng(), const_cast<void*>(B))},
                                       {DNNL_ARG_DST, memory(m.c, Eng(), C)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(m.bias, Eng(), const_cast<float*>(bias)));
  m.prim.execute(Strm(), args);
  Strm().wait();
  return m.impl;
}

std::string GemmConv(int mode, const ConvShape& s, bool bf16, const float* a, const float* b, float* out,
                     const float* bias, int act, float alpha, const uint16_t* aBf16, const uint16_t* bBf16) {
  const int64_t K = s.KH * s.KW * s.C, P = s.OH * s.OW, OC = s.OC;
  const bool plain = s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && !s.pt && !s.pl && !s.pb && !s.pr;
  // Whole images per chunk, so that col stays near MaxColElements().
  const int64_t per = std::max<int64_t>(1, std::min<int64_t>(s.N, MaxColElements() / std::max<int64_t>(1, P * K)));
  const size_t colN = static_cast<size_t>(per * P * K);
  // bf16 operands: the filter converted once per call; dy converted unless the caller has it.
  const uint16_t* wB = nullptr;
  if (bf16 && mode != 2) {
    uint16_t* w = Scratch<uint16_t>(kFilterBf16, K * OC);
    ToBf16Array(b, w, K * OC);
    wB = w;
  }
  const uint16_t* dyB = mode == 1 ? aBf16 : mode == 2 ? bBf16 : nullptr;
  if (bf16 && mode != 0 && !dyB) {
    uint16_t* d = Scratch<uint16_t>(kDyBf16, s.N * P * OC);
    ToBf16Array(mode == 1 ? a : b, d, s.N * P * OC);
    dyB = d;
  }
  if (mode == 1 && !plain) std::fill(out, out + s.N * s.H * s.W * s.C, 0.f);
  const std::string* impl = nullptr;
  for (int64_t n0 = 0; n0 < s.N; n0 += per) {
    const int64_t n = std::min(per, s.N - n0), M = n * P;
    if (mode == 1) {
      // dcol = dy . W^T, then back onto dx (straight into dx for a plain 1x1 filter).
      float* dcol = plain ? out + n0 * P * K : Scratch<float>(kCol, colN);
      impl = bf16 ? &RunMatMul(M, OC, K, false, true, true, dyB + n0 * P * OC, wB, dcol, nullptr, 0, ACT_LINEAR, 0.f, false)
                  : &RunMatMul(M, OC, K, false, true, false, a + n0 * P * OC, b, dcol, nullptr, 0, ACT_LINEAR, 0.f, false);
      if (!plain) Col2Im(s, dcol, n0, n, out);
      continue;
    }
    // col(x) for these images, in the product's precision (x itself for a plain 1x1 filter in fp32).
    const void* col;
    if (bf16) {
      uint16_t* c = Scratch<uint16_t>(kColBf16, colN);
      if (plain) ToBf16Array(a + n0 * P * K, c, M * K);
      else Im2Col(s, a, n0, n, c);
      col = c;
    } else if (plain) {
      col = a + n0 * P * K;
    } else {
      float* c = Scratch<float>(kCol, colN);
      Im2Col(s, a, n0, n, c);
      col = c;
    }
    if (mode == 0) {
      impl = &RunMatMul(M, K, OC, false, false, bf16, col, bf16 ? static_cast<const void*>(wB) : b, out + n0 * P * OC, bias, OC, act, alpha, false);
    } else {
      // dW = col^T . dy, summed over the chunks.
      const void* dy = bf16 ? static_cast<const void*>(dyB + n0 * P * OC) : b + n0 * P * OC;
      impl = &RunMatMul(K, M, OC, true, false, bf16, col, dy, out, nullptr, 0, ACT_LINEAR, 0.f, n0 > 0);
    }
  }
  return "im2col+" + *impl;
}

}  // namespace dfl
