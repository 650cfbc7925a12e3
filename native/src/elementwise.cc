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

enum UnaryOp { U_ABS, U_NEG, U_SQUARE, U_SQRT, U_RSQRT, U_EXP, U_LOG, U_SIGMOID, U_TANH, U_RELU, U_LEAKY, U_STEP, U_SIGN, U_RECIPROCAL, U_RELU6, U_ELU };
enum BinaryOp { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_SQDIFF };
enum CompareOp { C_GT, C_GE, C_LT, C_LE, C_EQ, C_NE };

template <typename F>
static void Map(const float* x, float* y, size_t n, F f) {
#pragma omp parallel for simd if (n > kParallel)
  for (size_t i = 0; i < n; i++) y[i] = f(x[i]);
}

static void RunUnary(int op, const float* x, float* y, size_t n, float alpha) {
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
  }
}

void ApplyActivation(float* y, size_t n, int act, float alpha) {
  switch (act) {
    case ACT_RELU: return RunUnary(U_RELU, y, y, n, 0.f);
    case ACT_LEAKY: return RunUnary(U_LEAKY, y, y, n, alpha);
    case ACT_SIGMOID: return RunUnary(U_SIGMOID, y, y, n, 0.f);
    case ACT_RELU6: return RunUnary(U_RELU6, y, y, n, 0.f);
    case ACT_ELU: return RunUnary(U_ELU, y, y, n, 0.f);
  }
}

// unary(op, x, y, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  F32 x = f32(info[1], "x"), y = f32(info[2], "y");
  RequireSize(env, y.n, x.n, "y");
  RunUnary(static_cast<int>(i64(info[0])), x.p, y.p, x.n, info.Length() > 3 ? static_cast<float>(num(info[3])) : 0.f);
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

static void CheckBroadcast(const Napi::Env& env, size_t na, size_t nb, size_t n) {
  if (na == 0 || nb == 0 || n % na != 0 || n % nb != 0 || (na != n && nb != n && na != 1 && nb != 1))
    throw Napi::RangeError::New(env, "binary: operands must be full size, scalar, or a trailing block");
}

// binary(op, a, b, out): sizes from the arrays.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  F32 a = f32(info[1], "a"), b = f32(info[2], "b"), out = f32(info[3], "out");
  CheckBroadcast(env, a.n, b.n, out.n);
  const size_t n = out.n;
  switch (static_cast<int>(i64(info[0]))) {
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
  F32 a = f32(info[1], "a"), b = f32(info[2], "b");
  size_t n;
  uint8_t* out = u8(info[3], "out", &n);
  CheckBroadcast(env, a.n, b.n, n);
  switch (static_cast<int>(i64(info[0]))) {
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

// select(cond, a, b, out): out = cond ? a : b, all the same size.
Napi::Value Select(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  size_t nc;
  const uint8_t* c = u8(info[0], "cond", &nc);
  F32 a = f32(info[1], "a"), b = f32(info[2], "b"), out = f32(info[3], "out");
  const size_t n = out.n;
  RequireSize(env, nc, n, "cond");
  RequireSize(env, a.n, n, "a");
  RequireSize(env, b.n, n, "b");
#pragma omp parallel for simd if (n > kParallel)
  for (size_t i = 0; i < n; i++) out.p[i] = c[i] ? a.p[i] : b.p[i];
  return env.Undefined();
}

// reduce(x, outer, mid, inner, out, scale): out[o][j] = scale * sum over m of x[o][m][j].
// Sums in double: a mean over a million pixels in float32 drifts visibly.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  F32 x = f32(info[0], "x");
  const size_t outer = i64(info[1]), mid = i64(info[2]), inner = i64(info[3]);
  F32 out = f32(info[4], "out");
  const double scale = num(info[5]);
  RequireSize(env, x.n, outer * mid * inner, "x");
  RequireSize(env, out.n, outer * inner, "out");
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
  F32 x = f32(info[0], "x"), out = f32(info[3], "out");
  auto shapeArr = info[1].As<Napi::Int32Array>();
  auto permArr = info[2].As<Napi::Int32Array>();
  const size_t rank = shapeArr.ElementLength();
  if (rank == 0 || rank > 6 || permArr.ElementLength() != rank) throw Napi::RangeError::New(env, "transpose: rank 1 to 6");
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
  const size_t total = oshape[0] * oshape[1] * oshape[2] * oshape[3] * oshape[4] * oshape[5];
  RequireSize(env, x.n, total, "x");
  RequireSize(env, out.n, total, "out");
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
  F32 x = f32(info[0], "x");
  const size_t N = i64(info[1]), H = i64(info[2]), W = i64(info[3]), C = i64(info[4]), bs = i64(info[5]);
  F32 out = f32(info[6], "out");
  const bool inverse = info[7].ToBoolean();
  const size_t oc = C / (bs * bs), total = N * H * W * C;
  RequireSize(env, x.n, total, "x");
  RequireSize(env, out.n, total, "out");
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
  F32 p = f32(info[0], "p"), m = f32(info[1], "m"), v = f32(info[2], "v"), g = f32(info[3], "g");
  const float lr = num(info[4]), b1 = num(info[5]), b2 = num(info[6]), eps = num(info[7]), c1 = num(info[8]), c2 = num(info[9]);
  F32 po = f32(info[10], "pOut"), mo = f32(info[11], "mOut"), vo = f32(info[12], "vOut");
  const size_t n = p.n;
  for (const F32* a : {&m, &v, &g, &po, &mo, &vo}) RequireSize(env, a->n, n, "adam operand");
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
