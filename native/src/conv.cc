// Convolutions (forward, backward data, backward weights) and matrix products on oneDNN.
//
// TensorFlow.js keeps activations as NHWC and filters as HWIO; oneDNN reads both in place
// through strided memory descriptors. The primitive chooses its own (blocked) weight layout
// and we reorder filters into and out of it: filters are small next to activations, except in
// the deepest layers, which run as a matrix product on the filter as it lies instead
// (conv-gemm.cc; PlanOf below picks the path per pass).
// Primitives are built once per shape and cached: building one picks an implementation and
// JIT-compiles it, which costs far more than running it at these sizes. The cache keeps the
// kConvCacheSize most recently used (a training run needs about 40; evaluation with changing
// batch sizes and face-api's many shapes would otherwise grow it without bound).

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#include <algorithm>
#include <cstring>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
#include "common.h"
#include "conv.h"

namespace dfl {

using namespace dnnl;
using dt = memory::data_type;
using tag = memory::format_tag;

// Engine, stream and cache live until the process ends and are never destroyed: static
// destructors run in an order oneDNN does not expect (primitives after their engine) and
// corrupted the heap at exit.
engine& Eng() {
  static engine* e = new engine(engine::kind::cpu, 0);
  return *e;
}
stream& Strm() {
  static stream* s = new stream(Eng());
  return *s;
}

// NHWC activations as oneDNN sees them: logical dims N, C, H, W with NHWC strides.
static memory::desc Nhwc(int64_t n, int64_t c, int64_t h, int64_t w, dt type = dt::f32) {
  return memory::desc({n, c, h, w}, type, memory::dims{h * w * c, 1, w * c, c});
}

// TensorFlow's filter, [KH][KW][C][OC] (or [KH][KW][C][multiplier] for depthwise), in place.
static memory::desc UserWeights(const ConvShape& s) {
  if (s.G == 1)
    return memory::desc({s.OC, s.C, s.KH, s.KW}, dt::f32, memory::dims{1, s.OC, s.KW * s.C * s.OC, s.C * s.OC});
  const int64_t m = s.OC / s.G;  // depthwise: G = C groups of one input channel each
  return memory::desc({s.G, m, 1, s.KH, s.KW}, dt::f32, memory::dims{m, 1, m, s.KW * s.C * m, s.C * m});
}

static memory::desc AnyWeights(const ConvShape& s, dt type) {
  if (s.G == 1) return memory::desc({s.OC, s.C, s.KH, s.KW}, type, tag::any);
  return memory::desc({s.G, s.OC / s.G, 1, s.KH, s.KW}, type, tag::any);
}

// One operand as the user holds it (f32; NHWC or TensorFlow's filter layout) and as the primitive
// reads or writes it. When the two differ (a blocked filter layout; bf16) a reorder converts it on
// the way in (or, for the weight gradient, on the way out) through a scratch buffer.
struct Operand {
  memory::desc user, prim;
  bool reorder = false;
  dnnl::reorder conv;
  AlignedVector<uint8_t> buf;
  void Init(const memory::desc& u, const memory::desc& p, bool out) {
    user = u, prim = p, reorder = u != p;
    if (!reorder) return;
    buf.resize(p.get_size() + 64);
    conv = out ? dnnl::reorder(reorder::primitive_desc(Eng(), p, Eng(), u)) : dnnl::reorder(reorder::primitive_desc(Eng(), u, Eng(), p));
  }
  // The memory the primitive uses; for an input, converted from the user's array first, unless
  // the caller already holds it as the primitive reads it (`ready`: a bf16 NHWC copy).
  memory In(float* data, const uint16_t* ready = nullptr) {
    if (ready && prim.data_type() == dt::bf16) return memory(prim, Eng(), const_cast<uint16_t*>(ready));
    memory u(user, Eng(), data);
    if (!reorder) return u;
    memory m(prim, Eng(), buf.data());
    conv.execute(Strm(), u, m);
    return m;
  }
  memory Out(float* data) { return reorder ? memory(prim, Eng(), buf.data()) : memory(user, Eng(), data); }
  void Finish(memory m, float* data) {
    if (!reorder) return;
    memory u(user, Eng(), data);
    conv.execute(Strm(), m, u);
  }
};

struct ConvEntry {
  primitive prim;
  Operand a, b, out;  // mode 0: src, weights, dst; mode 1: diff_dst, weights, diff_src; mode 2: src, diff_dst, diff_weights
  bool bias = false;
  std::string impl;  // oneDNN's implementation name, e.g. "brgconv:avx512_core"
};

// Convolutions in bf16 (inputs rounded to bf16, products accumulated and written in f32) or f32.
// A process-wide setting of the training session (lib/engine/native/precision.ts).
static bool g_bf16 = false;

// Least recently used first. Never destroyed, like the engine (see above).
constexpr size_t kConvCacheSize = 96;
struct ConvCache {
  std::list<std::pair<std::string, std::unique_ptr<ConvEntry>>> order;  // most recent at the front
  std::unordered_map<std::string, decltype(order)::iterator> index;
  size_t built = 0, evicted = 0;
  // The largest convolution built so far (by multiply-adds) and the implementation of each pass.
  double largestMacs = 0;
  std::string largestShape, largest[3];
};
static ConvCache& Cache() {
  static ConvCache* c = new ConvCache();
  return *c;
}

static algorithm ActAlgorithm(int act) {
  switch (act) {
    case ACT_RELU: case ACT_LEAKY: return algorithm::eltwise_relu;
    case ACT_SIGMOID: return algorithm::eltwise_logistic;
    case ACT_RELU6: return algorithm::eltwise_clip;
    case ACT_ELU: return algorithm::eltwise_elu;
    default: return algorithm::undef;
  }
}

primitive_attr ActivationAttr(int act, float alpha, bool accumulate) {
  primitive_attr attr;
  post_ops po;
  if (accumulate) po.append_sum(1.f);
  if (act != ACT_LINEAR) {
    const float a = act == ACT_LEAKY ? alpha : act == ACT_ELU ? 1.f : 0.f;
    const float b = act == ACT_RELU6 ? 6.f : 0.f;
    po.append_eltwise(1.f, ActAlgorithm(act), a, b);
  }
  attr.set_post_ops(po);
  return attr;
}

// The bottom and right padding that make the output size exact (see GetConv).
static int64_t PadBottom(const ConvShape& s) { return (s.OH - 1) * s.sh + (s.KH - 1) * s.dh + 1 - s.H - s.pt; }
static int64_t PadRight(const ConvShape& s) { return (s.OW - 1) * s.sw + (s.KW - 1) * s.dw + 1 - s.W - s.pl; }

// The filter gradient of a stride-1 convolution onto few output channels (the decoders' last
// layer, 16 -> 3 at 64x64) is the flipped filter gradient of the convolution that goes the other
// way: dw[ky, kx, c, o] = sum_p x[p + k - pad, c] dy[p, o] = dw'[KH-1-ky, KW-1-kx, o, c], where
// dw' is the filter gradient of a convolution from dy (OC channels) to x (C channels) with
// paddings K-1-pad. oneDNN's kernels are slow onto 3 channels and fast from them: lite's 16 -> 3,
// batch 16, fp32 2.34 ms against 0.43 ms on the Xeon. The swapped form keeps the pass's precision:
// in bf16 it multiplies the same bf16-rounded x and dy and sums in f32, in another order (within
// 1e-6 of the direct bf16 gradient, relative to its largest value; both 2.1e-3 from fp32's). On
// the EPYC (avx512_bf16, no AMX) that took a bf16 lite step's two calls from 3.30 to 1.02 ms.
// (A bf16 run must keep a bf16 gradient here: with fp32's exact one, bf16's 500-step lite loss,
// bench/bf16-loss.ts, moved from within 1.44% / 1.80% of fp32's to 4.13% / 5.93%, while the
// forward pass it differentiates still rounds to bf16.)
static bool SwapFilterGradient(const ConvShape& s) {
  const int64_t pb = PadBottom(s), pr = PadRight(s);
  return s.G == 1 && s.OC < 8 && s.C >= 16 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 &&
         s.pt < s.KH && s.pl < s.KW && pb >= 0 && pb < s.KH && pr >= 0 && pr < s.KW;
}

// bf16 applies to the layers of a network: convolutions with at least 3 input and output channels
// (an RGB image in or out counts). Single-channel filters stay fp32: SSIM's Gaussian window and the
// Laplacian compute variances as E[x^2] - E[x]^2, which bf16's 8-bit mantissa turns into noise (a
// bf16 run with the SSIM loss stopped learning at a loss 50% above fp32's), and they cost next to
// nothing. Each pass decides on its own, from what oneDNN 2.6 measured on lite's layers with AMX
// (ms per call, fp32 -> bf16): the forward pass is faster everywhere (16 -> 3 output layer 3.5 ->
// 0.8); so is the filter gradient (16 -> 3: 4.3 -> 1.5; 256 -> 512 at 4x4: 4.1 -> 2.8), except
// where its reduction runs over 3 input channels (3 -> 32: 0.45 -> 0.84) or where it is strided
// over few output pixels (128 -> 256, stride 2 to 4x4: 2.5 -> 3.9; 64 -> 128 to 8x8: 2.05 -> 2.3);
// the input gradient is faster unless it sums over fewer than 8 output channels (16 -> 3: 0.8 -> 1.2).
static bool UseBf16(const ConvShape& s, int mode) {
  if (!g_bf16 || s.G != 1 || s.C < 3 || s.OC < 3) return false;
  if (mode == 1) return s.OC >= 8;
  if (mode == 2) return s.C >= 8 && !((s.sh > 1 || s.sw > 1) && s.OH * s.OW < 16 * 16);
  return true;
}

// Remember the largest convolution run so far (by multiply-adds; the first of equal ones): its
// shape without the pass, and the implementation of each pass (bench reports them).
static void NoteLargest(int mode, const ConvShape& s, bool bf16, const std::string& impl) {
  ConvCache& cache = Cache();
  const double macs = static_cast<double>(s.N) * s.OH * s.OW * s.OC * s.KH * s.KW * (s.C / s.G);
  if (macs < cache.largestMacs) return;
  std::string shapeKey = bf16 ? "bf16" : "f32";
  for (int64_t v : {s.N, s.H, s.W, s.C, s.KH, s.KW, s.OC, s.OH, s.OW, s.sh, s.sw, s.pt, s.pl, s.pb, s.pr, s.dh, s.dw, s.G})
    shapeKey += "," + std::to_string(v);
  if (macs > cache.largestMacs || shapeKey == cache.largestShape) {
    if (shapeKey != cache.largestShape) cache.largest[0] = cache.largest[1] = cache.largest[2] = "";
    cache.largestMacs = macs;
    cache.largestShape = shapeKey;
    cache.largest[mode] = impl;
  }
}

// Where a pass runs, and in which precision: oneDNN's convolution or im2col + a matrix product
// (conv-gemm.cc), each in bf16 where UseBf16 says so.
struct Plan {
  bool gemm, bf16;
};
// UseBf16 decides the precision on both paths, so bf16 training computes what it computed before
// the matrix-product path existed. Letting that path take the strided filter gradients onto few
// pixels in bf16 too (it is faster there in bf16) moved bf16's 500-step lite loss (bench/bf16-loss.ts,
// 50-step averages) by up to 6.0% and 7.3% from fp32's, 2.3% and 2.1% below it on average; with
// them in fp32, 2.9% and 3.9%, and 0.7% and 1.2% below. fp32 with the next seed: 4.0% and 5.2%.
static Plan PlanOf(const ConvShape& s, int mode) {
  const bool bf16 = UseBf16(s, mode);
  return {UseGemm(s, mode, bf16), bf16};
}

static ConvEntry* GetConv(int mode, const ConvShape& s, bool bias, int act, float alpha, bool bf16) {
  std::string key = std::to_string(mode) + ":" + std::to_string(bias) + ":" + std::to_string(act) + ":" + std::to_string(alpha) + (bf16 ? ":bf16" : ":f32");
  for (int64_t v : {s.N, s.H, s.W, s.C, s.KH, s.KW, s.OC, s.OH, s.OW, s.sh, s.sw, s.pt, s.pl, s.pb, s.pr, s.dh, s.dw, s.G})
    key += "," + std::to_string(v);
  ConvCache& cache = Cache();
  auto it = cache.index.find(key);
  if (it != cache.index.end()) {
    cache.order.splice(cache.order.begin(), cache.order, it->second);
    return it->second->second.get();
  }

  auto e = std::make_unique<ConvEntry>();
  // oneDNN wants the right/bottom padding that makes the output size exact, which is negative
  // when a VALID convolution's stride skips the last rows (TensorFlow.js reports 0 there).
  const int64_t padB = PadBottom(s), padR_ = PadRight(s);
  memory::dims strides{s.sh, s.sw}, dil{s.dh - 1, s.dw - 1}, padL{s.pt, s.pl}, padR{padB, padR_};
  const auto x = Nhwc(s.N, s.C, s.H, s.W), y = Nhwc(s.N, s.OC, s.OH, s.OW), w = UserWeights(s);
  // Activations NHWC, filters in the primitive's layout. bf16: inputs converted to bf16 NHWC (with
  // a blocked layout for them, oneDNN 2.6 fell back to its reference code); outputs stay f32.
  const dt in = bf16 ? dt::bf16 : dt::f32;
  const auto xIn = bf16 ? Nhwc(s.N, s.C, s.H, s.W, in) : x;
  const auto yIn = bf16 ? Nhwc(s.N, s.OC, s.OH, s.OW, in) : y;
  auto wAny = AnyWeights(s, in);
  e->bias = bias;
  auto fwdDesc = bias ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, xIn, wAny,
                                                  memory::desc({s.OC}, dt::f32, tag::a), y, strides, dil, padL, padR)
                      : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, xIn, wAny,
                                                  y, strides, dil, padL, padR);
  convolution_forward::primitive_desc fwdPd(fwdDesc, ActivationAttr(mode == 0 ? act : ACT_LINEAR, alpha, false), Eng());
  if (mode == 0) {
    e->prim = convolution_forward(fwdPd);
    e->a.Init(x, fwdPd.src_desc(), false);
    e->b.Init(w, fwdPd.weights_desc(), false);
    e->out.Init(y, fwdPd.dst_desc(), true);
    e->impl = fwdPd.impl_info_str();
  } else if (mode == 1) {
    convolution_backward_data::desc d(algorithm::convolution_direct, x, wAny, yIn, strides, dil, padL, padR);
    convolution_backward_data::primitive_desc pd(d, Eng(), fwdPd);
    e->prim = convolution_backward_data(pd);
    e->a.Init(y, pd.diff_dst_desc(), false);
    e->b.Init(w, pd.weights_desc(), false);
    e->out.Init(x, pd.diff_src_desc(), true);
    e->impl = pd.impl_info_str();
  } else {
    convolution_backward_weights::desc d(algorithm::convolution_direct, xIn, AnyWeights(s, dt::f32), yIn, strides, dil, padL, padR);
    convolution_backward_weights::primitive_desc pd(d, Eng(), fwdPd);
    e->prim = convolution_backward_weights(pd);
    e->a.Init(x, pd.src_desc(), false);
    e->b.Init(y, pd.diff_dst_desc(), false);
    e->out.Init(w, pd.diff_weights_desc(), true);
    e->impl = pd.impl_info_str();
  }
  NoteLargest(mode, s, bf16, e->impl);
  auto* raw = e.get();
  cache.order.emplace_front(key, std::move(e));
  cache.index[key] = cache.order.begin();
  cache.built++;
  while (cache.order.size() > kConvCacheSize) {
    cache.index.erase(cache.order.back().first);
    cache.order.pop_back();
    cache.evicted++;
  }
  return raw;
}

static void RunPlanned(int mode, const ConvShape& s, const Plan& plan, float* a, float* b, float* out, float* bias, int act,
                       float alpha, const uint16_t* aBf16, const uint16_t* bBf16);

// dyBf16: dy already in bf16 NHWC, or null.
static void SwappedFilterGradient(const ConvShape& s, bool bf16, float* x, float* dy, float* dw, const uint16_t* dyBf16) {
  ConvShape u = s;
  u.H = s.OH, u.W = s.OW, u.C = s.OC, u.OC = s.C, u.OH = s.H, u.OW = s.W;
  u.pt = s.KH - 1 - s.pt, u.pl = s.KW - 1 - s.pl, u.pb = s.KH - 1 - PadBottom(s), u.pr = s.KW - 1 - PadRight(s);
  float* f = Scratch<float>(kFlippedFilter, static_cast<size_t>(s.KH * s.KW * s.C * s.OC));
  RunPlanned(2, u, {UseGemm(u, 2, bf16), bf16}, dy, x, f, nullptr, ACT_LINEAR, 0.f, dyBf16, nullptr);
  for (int64_t ky = 0; ky < s.KH; ky++)
    for (int64_t kx = 0; kx < s.KW; kx++)
      for (int64_t o = 0; o < s.OC; o++)
        for (int64_t c = 0; c < s.C; c++)
          dw[((ky * s.KW + kx) * s.C + c) * s.OC + o] = f[(((s.KH - 1 - ky) * s.KW + (s.KW - 1 - kx)) * s.OC + o) * s.C + c];
}

// Whether some filter tap reaches every input pixel: stride at most the filter, no dilation, and no
// rows or columns past the last window. The input gradient then writes every pixel, and the zero
// fill before it (4 MB a call for the decoders' last layer) can go.
static bool CoversInput(const ConvShape& s) {
  return s.dh == 1 && s.dw == 1 && s.sh <= s.KH && s.sw <= s.KW && PadBottom(s) >= 0 && PadRight(s) >= 0;
}

// Run one convolution on arrays already checked for size, on the path and in the precision `plan` says.
// aBf16 / bBf16: the activation operand already in bf16 NHWC, used when this pass runs in bf16.
static void RunPlanned(int mode, const ConvShape& s, const Plan& plan, float* a, float* b, float* out, float* bias, int act,
                       float alpha, const uint16_t* aBf16, const uint16_t* bBf16) {
  if (mode == 2 && SwapFilterGradient(s)) {
    SwappedFilterGradient(s, plan.bf16, a, b, out, bBf16);
    return;
  }
  if (mode == 0 && !plan.bf16 && UseFewOutputs(s)) {
    NoteLargest(mode, s, false, FewOutputsConv(s, a, b, out, bias, act, alpha));
    return;
  }
  if (plan.gemm) {
    NoteLargest(mode, s, plan.bf16, GemmConv(mode, s, plan.bf16, a, b, out, bias, act, alpha, aBf16, bBf16));
    return;
  }
  ConvEntry* e = GetConv(mode, s, bias != nullptr, act, alpha, plan.bf16);
  memory ma = e->a.In(a, aBf16), mb = e->b.In(b, bBf16), mo = e->out.Out(out);
  if (mode == 0) {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mo}};
    if (bias) args.emplace(DNNL_ARG_BIAS, memory(memory::desc({s.OC}, dt::f32, tag::a), Eng(), bias));
    e->prim.execute(Strm(), args);
  } else if (mode == 1) {
    // Input pixels no filter tap reaches (stride larger than the filter) get no write: zero first.
    if (!CoversInput(s)) {
      if (!e->out.reorder) std::fill(out, out + s.N * s.H * s.W * s.C, 0.f);
      else std::fill(e->out.buf.begin(), e->out.buf.end(), 0);
    }
    e->prim.execute(Strm(), {{DNNL_ARG_DIFF_DST, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DIFF_SRC, mo}});
  } else {
    e->prim.execute(Strm(), {{DNNL_ARG_SRC, ma}, {DNNL_ARG_DIFF_DST, mb}, {DNNL_ARG_DIFF_WEIGHTS, mo}});
  }
  e->out.Finish(mo, out);
  Strm().wait();
}

// Run one convolution on the path and in the precision PlanOf picks for it.
static void RunConv(int mode, const ConvShape& s, float* a, float* b, float* out, float* bias, int act, float alpha,
                    const uint16_t* aBf16 = nullptr, const uint16_t* bBf16 = nullptr) {
  RunPlanned(mode, s, PlanOf(s, mode), a, b, out, bias, act, alpha, aBf16, bBf16);
}

// Copy between the full input [N, H, W, C] and its strided samples [N, OH, OW, C] (x[:, ::sh, ::sw]).
static void Subsample(const ConvShape& s, float* full, float* sub, bool toSub) {
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t y = 0; y < s.OH; y++)
      for (int64_t x = 0; x < s.OW; x++) {
        float* f = full + ((n * s.H + y * s.sh) * s.W + x * s.sw) * s.C;
        float* q = sub + ((n * s.OH + y) * s.OW + x) * s.C;
        if (toSub) std::copy(f, f + s.C, q);
        else std::copy(q, q + s.C, f);
      }
}

// conv2d(mode, a, b, out, dims, bias | null, activation, alpha)
//   mode 0: y = conv(x=a, w=b) [+ bias, activation]     out = y  [N, OH, OW, OC]
//   mode 1: dx = conv_backward_data(dy=a, w=b)          out = dx [N, H, W, C]
//   mode 2: dw = conv_backward_weights(x=a, dy=b)       out = dw [KH, KW, C, OC]
//   dims (Int32Array): N H W C KH KW OC OH OW strideH strideW padTop padLeft padBottom padRight
//   dilationH dilationW groups; groups is 1, or C for a depthwise convolution (OC = C x multiplier).
static const char* const kConvDims[18] = {"N", "H", "W", "C", "KH", "KW", "OC", "OH", "OW", "strideH", "strideW",
                                          "padTop", "padLeft", "padBottom", "padRight", "dilationH", "dilationW", "groups"};

// The 18 dims of a convolution, checked: every size positive, groups 1 or depthwise, and the
// output size the one input, filter, stride, dilation and padding give (or the primitive reads and
// writes rows that are not there).
static ConvShape ReadShape(const Napi::Env& env, const Napi::Value& dims, const char* fn) {
  auto dv = i32s(dims, fn, "dims");
  if (dv.ElementLength() != 18) Fail(env, fn, "dims must have 18 entries, got " + std::to_string(dv.ElementLength()));
  int64_t d[18];
  for (int i = 0; i < 18; i++) {
    d[i] = dv[i];
    const int64_t lo = i >= 11 && i <= 14 ? 0 : 1;  // paddings may be 0, everything else is at least 1
    if (d[i] < lo) Fail(env, fn, "dims[" + std::to_string(i) + "] (" + kConvDims[i] + ") = " + std::to_string(d[i]) + " must be >= " + std::to_string(lo));
  }
  ConvShape s{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15], d[16], d[17]};
  if (s.G != 1 && (s.G != s.C || s.OC % s.G != 0))
    Fail(env, fn, "groups = " + std::to_string(s.G) + " must be 1, or C = " + std::to_string(s.C) + " (depthwise) with OC a multiple of it");
  const int64_t spanH = (s.KH - 1) * s.dh + 1, spanW = (s.KW - 1) * s.dw + 1;
  const int64_t padH = s.H + s.pt + s.pb, padW = s.W + s.pl + s.pr;
  if (padH < spanH || padW < spanW) Fail(env, fn, "the dilated filter is larger than the padded input");
  const int64_t wantOH = (padH - spanH) / s.sh + 1, wantOW = (padW - spanW) / s.sw + 1;
  if (s.OH != wantOH || s.OW != wantOW)
    Fail(env, fn, "output " + std::to_string(s.OH) + "x" + std::to_string(s.OW) + " does not follow from input, filter, stride and padding (" +
                      std::to_string(wantOH) + "x" + std::to_string(wantOW) + ")");
  return s;
}

Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "conv2d";
  RequireArgs(info, 5, fn);
  const int mode = static_cast<int>(Int(info[0], fn, "mode", 0, 2));
  F32 a = f32(info[1], fn, "a"), b = f32(info[2], fn, "b"), out = f32(info[3], fn, "out");
  const ConvShape s = ReadShape(env, info[4], fn);
  const bool hasBias = info.Length() > 5 && !info[5].IsNull() && !info[5].IsUndefined();
  F32 bias{nullptr, 0};
  if (hasBias) {
    if (mode != 0) Fail(env, fn, "bias is only for the forward convolution");
    bias = f32(info[5], fn, "bias");
  }
  const int act = info.Length() > 6 && !info[6].IsUndefined() ? static_cast<int>(Int(info[6], fn, "activation", 0, kLastAct)) : ACT_LINEAR;
  if (mode != 0 && act != ACT_LINEAR) Fail(env, fn, "an activation is only for the forward convolution");
  const float alpha = info.Length() > 7 && !info[7].IsUndefined() ? static_cast<float>(Real(info[7], fn, "alpha")) : 0.f;

  const size_t xN = Product(env, fn, "x", {s.N, s.H, s.W, s.C}), yN = Product(env, fn, "y", {s.N, s.OH, s.OW, s.OC});
  const size_t wN = Product(env, fn, "filter", {s.KH, s.KW, s.C, s.OC / s.G});
  if (mode == 0) { RequireSize(env, a.n, xN, "conv2d: x"); RequireSize(env, b.n, wN, "conv2d: filter"); RequireSize(env, out.n, yN, "conv2d: y"); }
  else if (mode == 1) { RequireSize(env, a.n, yN, "conv2d: dy"); RequireSize(env, b.n, wN, "conv2d: filter"); RequireSize(env, out.n, xN, "conv2d: dx"); }
  else { RequireSize(env, a.n, xN, "conv2d: x"); RequireSize(env, b.n, yN, "conv2d: dy"); RequireSize(env, out.n, wN, "conv2d: dw"); }
  if (hasBias) RequireSize(env, bias.n, s.OC, "conv2d: bias");

  float* biasP = hasBias ? bias.p : nullptr;
  if (s.KH == 1 && s.KW == 1 && (s.sh > 1 || s.sw > 1)) {
    // A strided 1x1 convolution is a 1x1 convolution of the strided samples. oneDNN 2.6's own
    // path for it (nhwc, stride 2) corrupted the heap in backward-weights, so we subsample here.
    if (s.pt || s.pl || s.pb || s.pr) Fail(env, fn, "a strided 1x1 convolution takes no padding");
    ConvShape u = s;
    u.H = s.OH, u.W = s.OW, u.sh = u.sw = 1, u.pt = u.pl = u.pb = u.pr = 0, u.dh = u.dw = 1;
    AlignedVector<float> sub(Product(env, fn, "samples", {s.N, s.OH, s.OW, s.C}));
    if (mode == 1) {
      RunConv(1, u, a.p, b.p, sub.data(), nullptr, ACT_LINEAR, 0.f);
      std::fill(out.p, out.p + xN, 0.f);
      Subsample(s, out.p, sub.data(), false);
    } else {
      Subsample(s, a.p, sub.data(), true);
      RunConv(mode, u, sub.data(), b.p, out.p, biasP, act, alpha);
    }
  } else {
    RunConv(mode, s, a.p, b.p, out.p, biasP, act, alpha);
  }
  return env.Undefined();
}

// convLeakyBackward(dy, y, x, w, dims, alpha, dx | null, dw, db): the gradients of
// y = leaky(conv(x, w) + b) (lib/model/conv-leaky.ts) in one call. TensorFlow.js would run four
// kernels: the activation's gradient dz (a full write and read), then conv_backward_data and
// conv_backward_weights, each converting dz to bf16 on its own in bf16 mode, and a Sum for db.
// Here one pass over dy and y writes dz (f32 and/or bf16, whichever the two passes read) and
// sums db, and both passes read that dz.
// For alpha > 0, y > 0 exactly where the pre-activation is, so the slope is read from y.
// dims as conv2d's; groups must be 1 and a 1x1 filter must have stride 1 (conv-leaky.ts checks).
Napi::Value ConvLeakyBackward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "convLeakyBackward";
  RequireArgs(info, 9, fn);
  F32 dy = f32(info[0], fn, "dy"), y = f32(info[1], fn, "y"), x = f32(info[2], fn, "x"), w = f32(info[3], fn, "w");
  const ConvShape s = ReadShape(env, info[4], fn);
  const float alpha = static_cast<float>(Real(info[5], fn, "alpha"));
  if (!(alpha > 0.f)) Fail(env, fn, "alpha must be > 0 (the slope is read from the output's sign), got " + std::to_string(alpha));
  // dx null: the input needs no gradient (the encoder's first layer reads the batch itself).
  const bool wantDx = !info[6].IsNull() && !info[6].IsUndefined();
  F32 dx = wantDx ? f32(info[6], fn, "dx") : F32{nullptr, 0};
  F32 dw = f32(info[7], fn, "dw"), db = f32(info[8], fn, "db");
  if (s.G != 1) Fail(env, fn, "groups must be 1");
  if (s.KH == 1 && s.KW == 1 && (s.sh > 1 || s.sw > 1)) Fail(env, fn, "a strided 1x1 filter is not supported here");
  const size_t xN = Product(env, fn, "x", {s.N, s.H, s.W, s.C}), yN = Product(env, fn, "y", {s.N, s.OH, s.OW, s.OC});
  const size_t wN = Product(env, fn, "filter", {s.KH, s.KW, s.C, s.OC});
  RequireSize(env, dy.n, yN, "convLeakyBackward: dy");
  RequireSize(env, y.n, yN, "convLeakyBackward: y");
  RequireSize(env, x.n, xN, "convLeakyBackward: x");
  RequireSize(env, w.n, wN, "convLeakyBackward: w");
  if (wantDx) RequireSize(env, dx.n, xN, "convLeakyBackward: dx");
  RequireSize(env, dw.n, wN, "convLeakyBackward: dw");
  RequireSize(env, db.n, s.OC, "convLeakyBackward: db");

  // dz in the form(s) the two passes read. Kept between calls: a training step reuses the sizes.
  const bool b2 = PlanOf(s, 2).bf16, b1 = wantDx ? PlanOf(s, 1).bf16 : b2;
  const bool needB = b1 || b2, needF = !b1 || !b2;
  float* zf = needF ? Scratch<float>(kDz, yN) : nullptr;
  uint16_t* zb = needB ? Scratch<uint16_t>(kDzBf16, yN) : nullptr;
  const int64_t OC = s.OC;
  const size_t pixels = yN / OC;
  // db: per-thread sums in double (as the Sum kernel), added up at the end.
  std::vector<double> partial;
#pragma omp parallel
  {
#pragma omp single
    partial.assign(static_cast<size_t>(omp_get_num_threads()) * OC, 0.0);
    double* acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * OC;
#pragma omp for schedule(static)
    for (size_t p = 0; p < pixels; p++) {
      const size_t o = p * OC;
      for (int64_t c = 0; c < OC; c++) {
        const float g = dy.p[o + c], v = y.p[o + c] > 0.f ? g : alpha * g;
        if (zf) zf[o + c] = v;
        if (zb) zb[o + c] = ToBf16(v);
        acc[c] += v;
      }
    }
  }
  for (int64_t c = 0; c < OC; c++) {
    double sum = 0;
    for (size_t t = 0; t < partial.size() / OC; t++) sum += partial[t * OC + c];
    db.p[c] = static_cast<float>(sum);
  }
  if (wantDx) RunConv(1, s, zf, w.p, dx.p, nullptr, ACT_LINEAR, 0.f, zb);
  RunConv(2, s, x.p, zf, dw.p, nullptr, ACT_LINEAR, 0.f, nullptr, zb);
  return env.Undefined();
}

// cacheInfo(): how many convolution primitives are cached, the bound, and how many were built
// and evicted since the process started (tests check the bound holds).
Napi::Value CacheInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ConvCache& c = Cache();
  auto o = Napi::Object::New(env);
  o.Set("entries", static_cast<double>(c.order.size()));
  o.Set("capacity", static_cast<double>(kConvCacheSize));
  o.Set("built", static_cast<double>(c.built));
  o.Set("evicted", static_cast<double>(c.evicted));
  auto largest = Napi::Object::New(env);
  largest.Set("macs", c.largestMacs);
  largest.Set("forward", c.largest[0]);
  largest.Set("backwardData", c.largest[1]);
  largest.Set("backwardWeights", c.largest[2]);
  o.Set("largest", largest);
  o.Set("precision", g_bf16 ? "bf16" : "fp32");
  return o;
}

// setPrecision("fp32" | "bf16"): the data type of every convolution from now on. bf16 needs a CPU
// with avx512_bf16 or AMX; oneDNN refuses to build the primitives otherwise (lib/engine/native/precision.ts
// checks first and says why).
Napi::Value SetPrecision(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "setPrecision";
  RequireArgs(info, 1, fn);
  if (!info[0].IsString()) FailType(env, fn, "precision must be a string");
  const std::string p = info[0].As<Napi::String>().Utf8Value();
  if (p != "fp32" && p != "bf16") Fail(env, fn, "precision must be fp32 or bf16, got " + p);
  g_bf16 = p == "bf16";
  ConvCache& c = Cache();
  c.largestMacs = 0, c.largestShape.clear(), c.largest[0] = c.largest[1] = c.largest[2] = "";  // report this precision's
  return env.Undefined();
}

// matMul(a, b, out, batchA, batchB, M, N, K, transposeA, transposeB, bias | null, activation, alpha)
// Row-major batched C[i] = op(A[i]) op(B[i]) (+ bias over the last dim, activation). A batch of 1
// broadcasts against the other operand's batch.
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "matMul";
  RequireArgs(info, 10, fn);
  F32 a = f32(info[0], fn, "a"), b = f32(info[1], fn, "b"), c = f32(info[2], fn, "out");
  const int64_t batchA = Int(info[3], fn, "batchA", 1), batchB = Int(info[4], fn, "batchB", 1);
  const int64_t M = Int(info[5], fn, "M", 1), N = Int(info[6], fn, "N", 1), K = Int(info[7], fn, "K", 1);
  const bool ta = Flag(info[8], fn, "transposeA"), tb = Flag(info[9], fn, "transposeB");
  if (batchA != batchB && batchA != 1 && batchB != 1)
    Fail(env, fn, "batches " + std::to_string(batchA) + " and " + std::to_string(batchB) + " do not broadcast (equal, or one of them 1)");
  const int64_t batch = batchA > batchB ? batchA : batchB;
  RequireSize(env, a.n, Product(env, fn, "a", {batchA, M, K}), "matMul: a");
  RequireSize(env, b.n, Product(env, fn, "b", {batchB, K, N}), "matMul: b");
  const size_t total = Product(env, fn, "out", {batch, M, N});
  RequireSize(env, c.n, total, "matMul: out");
  F32 bias{nullptr, 0};
  if (info.Length() > 10 && !info[10].IsNull() && !info[10].IsUndefined()) {
    bias = f32(info[10], fn, "bias");
    if (bias.n != static_cast<size_t>(N) && bias.n != 1) Fail(env, fn, "bias must have N or 1 elements");
  }
  const int act = info.Length() > 11 && !info[11].IsUndefined() ? static_cast<int>(Int(info[11], fn, "activation", 0, kLastAct)) : ACT_LINEAR;
  const float alpha = info.Length() > 12 && !info[12].IsUndefined() ? static_cast<float>(Real(info[12], fn, "alpha")) : 0.f;

  // A few rows against a transposed matrix (a dense layer's input gradient at batch 16, dx = dy . W^T
  // with W 4 MB): oneDNN's matmul copied W first. C^T = B . A^T reads W as it lies, and C^T is
  // small to transpose back. With cold caches, ms per call: [16 x 256] . [4096 x 256]^T 0.46 ->
  // 0.25, [16 x 4096] . [256 x 4096]^T 0.35 -> 0.26.
  const bool swap = M <= 16 && tb && !ta && N >= 256 && !bias.p && act == ACT_LINEAR;
  float* ct = swap ? Scratch<float>(kTransposed, static_cast<size_t>(M * N)) : nullptr;
  for (int64_t i = 0; i < batch; i++) {
    const float* A = a.p + (batchA == 1 ? 0 : i * M * K);
    const float* B = b.p + (batchB == 1 ? 0 : i * K * N);
    float* C = c.p + i * M * N;
    if (swap) {
      RunMatMul(N, K, M, false, true, false, B, A, ct, nullptr, 0, ACT_LINEAR, 0.f, false);
      for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) C[m * N + n] = ct[n * M + m];
    } else {
      RunMatMul(M, K, N, ta, tb, false, A, B, C, bias.p, static_cast<int64_t>(bias.n), act, alpha, false);
    }
  }
  return env.Undefined();
}

}  // namespace dfl
