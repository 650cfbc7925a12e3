// What conv.cc (oneDNN's convolutions) and conv-gemm.cc (convolutions as one matrix product)
// share: the shape, the engine, activations as post-ops, bf16 rounding, and the choice of path.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include "common.h"

namespace dfl {

// TensorFlow.js's Conv2DInfo, as lib/engine/native/kernels.ts sends it: NHWC input [N, H, W, C], HWIO
// filter [KH, KW, C, OC / G], output [N, OH, OW, OC]; pads top/left/bottom/right; dilations.
struct ConvShape {
  int64_t N, H, W, C, KH, KW, OC, OH, OW, sh, sw, pt, pl, pb, pr, dh, dw, G;
};

// The process's oneDNN engine and stream (conv.cc).
dnnl::engine& Eng();
dnnl::stream& Strm();

// Post-ops: an optional sum onto the destination's old values (accumulate), then the activation
// (common.h's numbering; alpha is LeakyReLU's slope).
dnnl::primitive_attr ActivationAttr(int act, float alpha, bool accumulate);

// Scratch arrays kept between calls (a training step reuses the sizes), one per slot and element
// type; never destroyed, like the primitive caches. A pointer holds until the next request for
// the same slot, so calls that may nest (a pass that runs another pass) use different slots.
enum ScratchSlot { kFilterBf16, kDyBf16, kCol, kColBf16, kDz, kDzBf16, kFlippedFilter, kTransposed, kScratchSlots };
template <typename T>
T* Scratch(ScratchSlot slot, size_t n) {
  static auto* bufs = new std::vector<AlignedVector<T>>(kScratchSlots);
  auto& v = (*bufs)[slot];
  if (v.size() < n) v.resize(n);
  return v.data();
}

// An activation (common.h's numbering) on one value, for the kernels written here; oneDNN's
// post-ops compute the same functions.
inline float Activate(float v, int act, float alpha) {
  switch (act) {
    case ACT_RELU: return v > 0.f ? v : 0.f;
    case ACT_LEAKY: return v > 0.f ? v : alpha * v;
    case ACT_SIGMOID: return 1.f / (1.f + std::exp(-v));
    case ACT_RELU6: return std::min(std::max(v, 0.f), 6.f);
    case ACT_ELU: return v > 0.f ? v : std::expm1(v);
    default: return v;
  }
}

// bf16 of a float, rounded to the nearest even as oneDNN's reorder does.
inline uint16_t ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// Whether a pass (mode 0 forward, 1 input gradient, 2 filter gradient) runs as im2col + one
// matrix product over the whole batch instead of oneDNN's convolution, in bf16 (the layer runs in
// bf16) or fp32: true where that measured faster (conv-gemm.cc).
bool UseGemm(const ConvShape& s, int mode, bool bf16);

// The pass on that path; a, b, out as conv.cc's RunConv: mode 0 (x, w) -> y [+ bias, activation];
// mode 1 (dy, w) -> dx; mode 2 (x, dy) -> dw. aBf16 / bBf16: dy already in bf16, used in bf16 (the
// f32 one may then be null). Sizes are checked by the caller. Returns the implementation's name.
std::string GemmConv(int mode, const ConvShape& s, bool bf16, const float* a, const float* b, float* out,
                     const float* bias, int act, float alpha, const uint16_t* aBf16, const uint16_t* bBf16);

// The forward pass onto 1-4 output channels from a multiple of 16, stride 1 (the decoders' last
// layer), in fp32 on AVX-512 (conv-few.cc): whether it applies, and the pass. Returns its name.
bool UseFewOutputs(const ConvShape& s);
std::string FewOutputsConv(const ConvShape& s, const float* x, const float* w, float* y, const float* bias, int act, float alpha);

// C[M x N] (f32, row-major) = op(A) op(B) [+ bias over N: biasN is N or 1][+ old C (accumulate)],
// activation, on oneDNN's matmul primitive (cached per shape). A and B are f32, or bf16 when bf16.
// Returns the implementation's name. (Not dnnl_sgemm: oneDNN 2.6's sgemm corrupted the heap when
// a signal arrived during a call with M > 1, e.g. a terminal resize or a profiler's SIGPROF.)
const std::string& RunMatMul(int64_t M, int64_t K, int64_t N, bool ta, bool tb, bool bf16, const void* A, const void* B, float* C,
                             const float* bias, int64_t biasN, int act, float alpha, bool accumulate);

}  // namespace dfl
