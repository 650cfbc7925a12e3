// Element-wise kernels, reductions, rearrangements and the Adam update, as OpenMP loops over the
// Float32Arrays TensorFlow.js already holds. At `lite` sizes these weigh as much as the
// convolutions, so they must not run one JavaScript element at a time.

#include <cmath>
#include <cstring>
#include <vector>
#include "common.h"

namespace dfl {

// Below this many elements threads cost more than they save.
static constexpr size_t kParallel = 1 << 15;

enum UnaryOp { U_ABS, U_NEG, U_SQUARE, U_SQRT, U_RSQRT, U_EXP, U_LOG, U_SIGMOID, U_TANH, U_RELU, U_LEAKY, U_STEP, U_SIGN, U_RECIPROCAL, U_RELU6, U_ELU, U_CLIP, U_ROUND, U_COUNT };
enum BinaryOp { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_SQDIFF, B_COUNT };
enum CompareOp { C_GT, C_GE, C_LT, C_LE, C_EQ, C_NE, C_COUNT };

template <typename F>
static void Map(const float* x, float* y, size_t n, F f) {
#pragma omp parallel for simd if (n > kParallel)
  for (size_t i = 0; i < n; i++) y[i] = f(x[i]);
}

static void RunUnary(int op, const float* x, float* y, size_t n, float alpha, float beta = 0.f) {
  switch (op) {
    case U_ABS: return Map(x, y, n, [](float v) { return std::fabs(v); });
    case U_NEG: return Map(x, y, n, [](float v) { return -v; });
    case U_SQUARE: return Map(x, y, n, [](float v) { return v * v; });
    case U_SQRT: return Map(x, y, n, [](float v) { return std::sqrt(v); });
    case U_RSQRT: return Map(x, y, n, [](float v) { return 1.f / std::sqrt(v); });
    case U_EXP: return Map(x, y, n, [](float v) { return std::exp(v); });
    case U_LOG: return Map(x, y, n, [](float v) { return std::log(v); });
    case U_SIGMOID: return Map(x, y, n, [](float v) { return 1.f / (1.f + std::exp(-v)); });
    case U_TANH: return Map(x, y, n, [](float v) { return std::tanh(v); });
    case U_RELU: return Map(x, y, n, [](float v) { return v > 0.f ? v : 0.f; });
    case U_LEAKY: return Map(x, y, n, [alpha](float v) { return v > 0.f ? v : alpha * v; });
    // TensorFlow.js: NaN stays NaN, positive is 1, the rest alpha.
    case U_STEP: return Map(x, y, n, [alpha](float v) { return std::isnan(v) ? v : v > 0.f ? 1.f : alpha; });
    case U_SIGN: return Map(x, y, n, [](float v) { return v > 0.f ? 1.f : v < 0.f ? -1.f : 0.f; });
    case U_RECIPROCAL: return Map(x, y, n, [](float v) { return 1.f / v; });
    case U_RELU6: return Map(x, y, n, [](float v) { return v < 0.f ? 0.f : v > 6.f ? 6.f : v; });
    case U_ELU: return Map(x, y, n, [](float v) { return v >= 0.f ? v : std::exp(v) - 1.f; });
    // ClipByValue to [alpha, beta]; NaN stays NaN, as in TensorFlow.js.
    case U_CLIP: return Map(x, y, n, [alpha, beta](float v) { return v < alpha ? alpha : v > beta ? beta : v; });
    // Halves to even, as TensorFlow.js rounds (the default floating-point rounding mode).
    case U_ROUND: return Map(x, y, n, [](float v) { return std::nearbyint(v); });
  }
}

// unary(op, x, y, alpha, beta)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "unary";
  RequireArgs(info, 3, fn);
  const int op = static_cast<int>(Int(info[0], fn, "op", 0, U_COUNT - 1));
  F32 x = f32(info[1], fn, "x"), y = f32(info[2], fn, "y");
  RequireSize(env, y.n, x.n, "unary: y");
  const float alpha = info.Length() > 3 && !info[3].IsUndefined() ? static_cast<float>(Real(info[3], fn, "alpha")) : 0.f;
  const float beta = info.Length() > 4 && !info[4].IsUndefined() ? static_cast<float>(Real(info[4], fn, "beta")) : 0.f;
  if (op == U_CLIP && !(alpha <= beta)) Fail(env, fn, "clip needs min <= max");
  RunUnary(op, x.p, y.p, x.n, alpha, beta);
  return env.Undefined();
}

// out[i] = f(a[i % na], b[i % nb]) where a and b are either the full size n or repeat over it
// (a scalar, or a trailing block such as a bias over channels).
template <typename T, typename F>
static void Broadcast(const float* a, size_t na, const float* b, size_t nb, T* out, size_t n, F f) {
  if (na == n && nb == n) {
#pragma omp parallel for simd if (n > kParallel)
    for (size_t i = 0; i < n; i++) out[i] = f(a[i], b[i]);
  } else if (nb == 1) {
    const float s = b[0];
#pragma omp parallel for simd if (n > kParallel)
    for (size_t i = 0; i < n; i++) out[i] = f(a[i], s);
  } else if (na == 1) {
    const float s = a[0];
#pragma omp parallel for simd if (n > kParallel)
    for (size_t i = 0; i < n; i++) out[i] = f(s, b[i]);
  } else if (na == n) {
    const size_t outer = n / nb;
#pragma omp parallel for if (n > kParallel)
    for (size_t o = 0; o < outer; o++)
      for (size_t j = 0; j < nb; j++) out[o * nb + j] = f(a[o * nb + j], b[j]);
  } else {
    const size_t outer = n / na;
#pragma omp parallel for if (n > kParallel)
    for (size_t o = 0; o < outer; o++)
      for (size_t j = 0; j < na; j++) out[o * na + j] = f(a[j], b[o * na + j]);
  }
}

static void CheckBroadcast(const Napi::Env& env, const char* fn, size_t na, size_t nb, size_t n) {
  if (na == 0 || nb == 0 || n % na != 0 || n % nb != 0 || (na != n && nb != n && na != 1 && nb != 1))
    Fail(env, fn, "operands must be full size, scalar, or a trailing block (sizes " + std::to_string(na) + ", " +
                      std::to_string(nb) + " for an output of " + std::to_string(n) + ")");
}

// binary(op, a, b, out): sizes from the arrays.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "binary";
  RequireArgs(info, 4, fn);
  const int op = static_cast<int>(Int(info[0], fn, "op", 0, B_COUNT - 1));
  F32 a = f32(info[1], fn, "a"), b = f32(info[2], fn, "b"), out = f32(info[3], fn, "out");
  CheckBroadcast(env, fn, a.n, b.n, out.n);
  const size_t n = out.n;
  switch (op) {
    case B_ADD: Broadcast(a.p, a.n, b.p, b.n, out.p, n, [](float x, float y) { return x + y; }); break;
    case B_SUB: Broadcast(a.p, a.n, b.p, b.n, out.p, n, [](float x, float y) { return x - y; }); break;
    case B_MUL: Broadcast(a.p, a.n, b.p, b.n, out.p, n, [](float x, float y) { return x * y; }); break;
    case B_DIV: Broadcast(a.p, a.n, b.p, b.n, out.p, n, [](float x, float y) { return x / y; }); break;
    case B_MAX: Broadcast(a.p, a.n, b.p, b.n, out.p, n, [](float x, float y) { return std::isnan(x) || x > y ? x : y; }); break;
    case B_MIN: Broadcast(a.p, a.n, b.p, b.n, out.p, n, [](float x, float y) { return std::isnan(x) || x < y ? x : y; }); break;
    case B_SQDIFF: Broadcast(a.p, a.n, b.p, b.n, out.p, n, [](float x, float y) { return (x - y) * (x - y); }); break;
    default: throw Napi::RangeError::New(env, "binary: unknown op");
  }
  return env.Undefined();
}

// compare(op, a, b, out: Uint8Array): TensorFlow.js stores booleans as bytes.
Napi::Value Compare(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "compare";
  RequireArgs(info, 4, fn);
  const int op = static_cast<int>(Int(info[0], fn, "op", 0, C_COUNT - 1));
  F32 a = f32(info[1], fn, "a"), b = f32(info[2], fn, "b");
  size_t n;
  uint8_t* out = u8(info[3], fn, "out", &n);
  CheckBroadcast(env, fn, a.n, b.n, n);
  switch (op) {
    case C_GT: Broadcast(a.p, a.n, b.p, b.n, out, n, [](float x, float y) -> uint8_t { return x > y; }); break;
    case C_GE: Broadcast(a.p, a.n, b.p, b.n, out, n, [](float x, float y) -> uint8_t { return x >= y; }); break;
    case C_LT: Broadcast(a.p, a.n, b.p, b.n, out, n, [](float x, float y) -> uint8_t { return x < y; }); break;
    case C_LE: Broadcast(a.p, a.n, b.p, b.n, out, n, [](float x, float y) -> uint8_t { return x <= y; }); break;
    case C_EQ: Broadcast(a.p, a.n, b.p, b.n, out, n, [](float x, float y) -> uint8_t { return x == y; }); break;
    case C_NE: Broadcast(a.p, a.n, b.p, b.n, out, n, [](float x, float y) -> uint8_t { return x != y; }); break;
    default: throw Napi::RangeError::New(env, "compare: unknown op");
  }
  return env.Undefined();
}

// leakyReluGrad(dy, x, out, alpha): out = x > 0 ? dy : alpha * dy, TensorFlow.js's LeakyRelu
// gradient (Greater, Multiply and Select: three passes and two temporaries) in one pass.
Napi::Value LeakyReluGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "leakyReluGrad";
  RequireArgs(info, 4, fn);
  F32 dy = f32(info[0], fn, "dy"), x = f32(info[1], fn, "x"), out = f32(info[2], fn, "out");
  const float alpha = static_cast<float>(Real(info[3], fn, "alpha"));
  const size_t n = out.n;
  RequireSize(env, dy.n, n, "leakyReluGrad: dy");
  RequireSize(env, x.n, n, "leakyReluGrad: x");
#pragma omp parallel for simd if (n > kParallel)
  for (size_t i = 0; i < n; i++) out.p[i] = x.p[i] > 0.f ? dy.p[i] : alpha * dy.p[i];
  return env.Undefined();
}

// l1Mean(a, b, out): out[0] = mean |a - b|, the L1 loss, in one pass: the difference in float32
// (as Sub takes it), summed in double. TensorFlow.js takes three kernels and two temporaries.
Napi::Value L1Mean(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "l1Mean";
  RequireArgs(info, 3, fn);
  F32 a = f32(info[0], fn, "a"), b = f32(info[1], fn, "b"), out = f32(info[2], fn, "out");
  const size_t n = a.n;
  RequireSize(env, b.n, n, "l1Mean: b");
  RequireSize(env, out.n, 1, "l1Mean: out");
  if (n == 0) Fail(env, fn, "a and b are empty");
  double s = 0;
#pragma omp parallel for simd reduction(+ : s) if (n > kParallel)
  for (size_t i = 0; i < n; i++) s += std::fabs(a.p[i] - b.p[i]);
  out.p[0] = static_cast<float>(s / static_cast<double>(n));
  return env.Undefined();
}

// l1MeanGrad(a, b, dy, out): the L1 mean's gradient with respect to a, to the bit as TensorFlow.js's
// chain computes it: Mean's, g = dy / n in float32, then Abs's, g where a - b > 0 and -g elsewhere
// (0 included; NaN where a - b is NaN). One pass instead of five kernels and an array of ones.
Napi::Value L1MeanGrad(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "l1MeanGrad";
  RequireArgs(info, 4, fn);
  F32 a = f32(info[0], fn, "a"), b = f32(info[1], fn, "b"), out = f32(info[3], fn, "out");
  const float dy = static_cast<float>(Real(info[2], fn, "dy"));
  const size_t n = out.n;
  RequireSize(env, a.n, n, "l1MeanGrad: a");
  RequireSize(env, b.n, n, "l1MeanGrad: b");
  const float g = dy / static_cast<float>(n);
#pragma omp parallel for simd if (n > kParallel)
  for (size_t i = 0; i < n; i++) {
    const float d = a.p[i] - b.p[i];
    out.p[i] = d > 0.f ? g : d != d ? d : -g;
  }
  return env.Undefined();
}

// select(cond, a, b, out): out = cond ? a : b, all the same size.
Napi::Value Select(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "select";
  RequireArgs(info, 4, fn);
  size_t nc;
  const uint8_t* c = u8(info[0], fn, "cond", &nc);
  F32 a = f32(info[1], fn, "a"), b = f32(info[2], fn, "b"), out = f32(info[3], fn, "out");
  const size_t n = out.n;
  RequireSize(env, nc, n, "select: cond");
  RequireSize(env, a.n, n, "select: a");
  RequireSize(env, b.n, n, "select: b");
#pragma omp parallel for simd if (n > kParallel)
  for (size_t i = 0; i < n; i++) out.p[i] = c[i] ? a.p[i] : b.p[i];
  return env.Undefined();
}

// reduce(x, outer, mid, inner, out, scale): out[o][j] = scale * sum over m of x[o][m][j].
// Sums in double: a mean over a million pixels in float32 drifts visibly.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "reduce";
  RequireArgs(info, 6, fn);
  F32 x = f32(info[0], fn, "x");
  const int64_t o64 = Int(info[1], fn, "outer"), m64 = Int(info[2], fn, "mid"), i64_ = Int(info[3], fn, "inner");
  F32 out = f32(info[4], fn, "out");
  const double scale = Real(info[5], fn, "scale");
  RequireSize(env, x.n, Product(env, fn, "x", {o64, m64, i64_}), "reduce: x");
  RequireSize(env, out.n, Product(env, fn, "out", {o64, i64_}), "reduce: out");
  const size_t outer = o64, mid = m64, inner = i64_;
  if (inner == 1) {
    if (outer == 1) {
      double s = 0;
#pragma omp parallel for simd reduction(+ : s) if (mid > kParallel)
      for (size_t m = 0; m < mid; m++) s += x.p[m];
      out.p[0] = static_cast<float>(s * scale);
    } else {
#pragma omp parallel for if (outer * mid > kParallel)
      for (size_t o = 0; o < outer; o++) {
        double s = 0;
        for (size_t m = 0; m < mid; m++) s += x.p[o * mid + m];
        out.p[o] = static_cast<float>(s * scale);
      }
    }
    return env.Undefined();
  }
  for (size_t o = 0; o < outer; o++) {
    const float* xo = x.p + o * mid * inner;
    std::vector<double> total(inner, 0.0);
#pragma omp parallel if (mid * inner > kParallel)
    {
      std::vector<double> acc(inner, 0.0);
#pragma omp for nowait
      for (size_t m = 0; m < mid; m++)
        for (size_t j = 0; j < inner; j++) acc[j] += xo[m * inner + j];
#pragma omp critical
      for (size_t j = 0; j < inner; j++) total[j] += acc[j];
    }
    for (size_t j = 0; j < inner; j++) out.p[o * inner + j] = static_cast<float>(total[j] * scale);
  }
  return env.Undefined();
}

// transpose(x, shape: Int32Array, perm: Int32Array, out), rank up to 6.
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "transpose";
  RequireArgs(info, 4, fn);
  F32 x = f32(info[0], fn, "x"), out = f32(info[3], fn, "out");
  auto shapeArr = i32s(info[1], fn, "shape");
  auto permArr = i32s(info[2], fn, "perm");
  const size_t rank = shapeArr.ElementLength();
  if (rank == 0 || rank > 6) Fail(env, fn, "rank must be 1 to 6, got " + std::to_string(rank));
  if (permArr.ElementLength() != rank) Fail(env, fn, "perm must have one entry per axis");
  // perm must be a permutation of 0..rank-1: [0, 0] would read one axis twice, past the buffer.
  bool seen[6] = {false, false, false, false, false, false};
  for (size_t i = 0; i < rank; i++) {
    const int32_t p = permArr[i];
    if (p < 0 || static_cast<size_t>(p) >= rank || seen[p]) Fail(env, fn, "perm is not a permutation of the axes");
    seen[p] = true;
    if (shapeArr[i] < 0) Fail(env, fn, "shape[" + std::to_string(i) + "] is negative");
  }
  // Pad to rank 6 with leading size-1 axes.
  size_t shape[6], inStride[6], oshape[6], ostrideIn[6];
  const size_t pad = 6 - rank;
  for (size_t i = 0; i < 6; i++) shape[i] = i < pad ? 1 : shapeArr[i - pad];
  inStride[5] = 1;
  for (int i = 4; i >= 0; i--) inStride[i] = inStride[i + 1] * shape[i + 1];
  for (size_t i = 0; i < 6; i++) {
    const size_t src = i < pad ? i : pad + permArr[i - pad];
    oshape[i] = shape[src];
    ostrideIn[i] = inStride[src];  // input step when this output axis advances
  }
  const size_t total = Product(env, fn, "x", {static_cast<int64_t>(oshape[0]), static_cast<int64_t>(oshape[1]), static_cast<int64_t>(oshape[2]),
                                               static_cast<int64_t>(oshape[3]), static_cast<int64_t>(oshape[4]), static_cast<int64_t>(oshape[5])});
  RequireSize(env, x.n, total, "transpose: x");
  RequireSize(env, out.n, total, "transpose: out");
  const size_t outer = oshape[0] * oshape[1] * oshape[2];
#pragma omp parallel for if (total > kParallel)
  for (size_t o = 0; o < outer; o++) {
    const size_t i0 = o / (oshape[1] * oshape[2]), i1 = (o / oshape[2]) % oshape[1], i2 = o % oshape[2];
    const float* base = x.p + i0 * ostrideIn[0] + i1 * ostrideIn[1] + i2 * ostrideIn[2];
    float* y = out.p + o * oshape[3] * oshape[4] * oshape[5];
    for (size_t i3 = 0; i3 < oshape[3]; i3++)
      for (size_t i4 = 0; i4 < oshape[4]; i4++) {
        const float* b = base + i3 * ostrideIn[3] + i4 * ostrideIn[4];
        for (size_t i5 = 0; i5 < oshape[5]; i5++) *y++ = b[i5 * ostrideIn[5]];
      }
  }
  return env.Undefined();
}

// depthToSpace(x, N, H, W, C, block, out, inverse), NHWC, TensorFlow's DCR order:
//   y[n][h*b+i][w*b+j][c] = x[n][h][w][(i*b+j)*C/(b*b) + c]; inverse = space-to-depth of y.
Napi::Value DepthToSpace(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "depthToSpace";
  RequireArgs(info, 8, fn);
  F32 x = f32(info[0], fn, "x");
  const int64_t n64 = Int(info[1], fn, "N"), h64 = Int(info[2], fn, "H"), w64 = Int(info[3], fn, "W"), c64 = Int(info[4], fn, "C");
  const int64_t b64 = Int(info[5], fn, "block", 1, 4096);
  F32 out = f32(info[6], fn, "out");
  const bool inverse = Flag(info[7], fn, "inverse");
  if (c64 % (b64 * b64) != 0) Fail(env, fn, "C = " + std::to_string(c64) + " is not a multiple of block^2 = " + std::to_string(b64 * b64));
  const size_t total = Product(env, fn, "x", {n64, h64, w64, c64});
  RequireSize(env, x.n, total, "depthToSpace: x");
  RequireSize(env, out.n, total, "depthToSpace: out");
  const size_t N = n64, H = h64, W = w64, C = c64, bs = b64, oc = C / (bs * bs);
#pragma omp parallel for collapse(2) if (total > kParallel)
  for (size_t n = 0; n < N; n++)
    for (size_t h = 0; h < H; h++)
      for (size_t w = 0; w < W; w++)
        for (size_t i = 0; i < bs; i++)
          for (size_t j = 0; j < bs; j++) {
            const size_t deep = ((n * H + h) * W + w) * C + (i * bs + j) * oc;
            const size_t wide = ((n * H * bs + h * bs + i) * W * bs + w * bs + j) * oc;
            if (inverse) std::memcpy(out.p + deep, x.p + wide, oc * sizeof(float));
            else std::memcpy(out.p + wide, x.p + deep, oc * sizeof(float));
          }
  return env.Undefined();
}

// adam(p, m, v, g, lr, beta1, beta2, epsilon, 1 - beta1^t, 1 - beta2^t, pOut, mOut, vOut): one fused
// pass with the same arithmetic as TensorFlow.js's AdamOptimizer. The outputs may be the inputs
// (in place).
Napi::Value Adam(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "adam";
  RequireArgs(info, 13, fn);
  F32 p = f32(info[0], fn, "p"), m = f32(info[1], fn, "m"), v = f32(info[2], fn, "v"), g = f32(info[3], fn, "g");
  const float lr = Real(info[4], fn, "lr"), b1 = Real(info[5], fn, "beta1"), b2 = Real(info[6], fn, "beta2"), eps = Real(info[7], fn, "epsilon");
  const float c1 = Real(info[8], fn, "1 - beta1^t"), c2 = Real(info[9], fn, "1 - beta2^t");
  if (c1 == 0.f || c2 == 0.f) Fail(env, fn, "the bias corrections 1 - beta^t must not be 0");
  F32 po = f32(info[10], fn, "pOut"), mo = f32(info[11], fn, "mOut"), vo = f32(info[12], fn, "vOut");
  const size_t n = p.n;
  const char* names[] = {"adam: m", "adam: v", "adam: g", "adam: pOut", "adam: mOut", "adam: vOut"};
  const F32* ops[] = {&m, &v, &g, &po, &mo, &vo};
  for (int i = 0; i < 6; i++) RequireSize(env, ops[i]->n, n, names[i]);
#pragma omp parallel for simd if (n > kParallel)
  for (size_t i = 0; i < n; i++) {
    const float gi = g.p[i];
    const float mi = b1 * m.p[i] + (1.f - b1) * gi;
    const float vi = b2 * v.p[i] + (1.f - b2) * (gi * gi);
    mo.p[i] = mi;
    vo.p[i] = vi;
    po.p[i] = p.p[i] + -lr * ((mi / c1) / (std::sqrt(vi / c2) + eps));
  }
  return env.Undefined();
}

}  // namespace dfl
