// Image resampling: tf.image.transform (projective warps: face alignment, the swap's paste-back,
// random-warp augmentation) and tf.image.resizeBilinear, with TensorFlow.js's exact arithmetic
// (coordinates in double, its fill modes and rounding), so results match the cpu kernels.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>
#include "common.h"

namespace dfl {

enum FillMode { FILL_CONSTANT = 0, FILL_REFLECT = 1, FILL_WRAP = 2, FILL_NEAREST = 3 };

static double Clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

// Where an output coordinate reads from, as TensorFlow.js maps it (image_ops.h in TensorFlow).
static double MapCoord(double c, int64_t len, int mode) {
  const double n = static_cast<double>(len);
  switch (mode) {
    case FILL_REFLECT:
      if (c < 0) {
        if (len <= 1) c = 0;
        else {
          const double sz2 = 2 * n;
          if (c < sz2) c = sz2 * std::trunc(-c / sz2) + c;
          c = c < -n ? c + sz2 : -c - 1;
        }
      } else if (c > n - 1) {
        if (len <= 1) c = 0;
        else {
          const double sz2 = 2 * n;
          c -= sz2 * std::trunc(c / sz2);
          if (c >= n) c = sz2 - c - 1;
        }
      }
      return Clamp(c, 0, n - 1);
    case FILL_WRAP:
      if (c < 0) {
        if (len <= 1) c = 0;
        else c += n * (std::trunc(-c / (n - 1)) + 1);
      } else if (c > n - 1) {
        if (len <= 1) c = 0;
        else c -= n * std::trunc(c / (n - 1));
      }
      return Clamp(c, 0, n - 1);
    case FILL_NEAREST: return Clamp(c, 0, n - 1);
    default: return c;  // constant: out-of-image reads give the fill value
  }
}

// transform(image, transforms, out, N, H, W, C, OH, OW, bilinear, fillMode, fillValue)
// transforms: 8 numbers per image [a0 a1 a2 b0 b1 b2 c0 c1], or 8 for the whole batch; the output
// pixel (x, y) reads the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1.
Napi::Value Transform(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "transform";
  RequireArgs(info, 12, fn);
  F32 img = f32(info[0], fn, "image"), tr = f32(info[1], fn, "transforms"), out = f32(info[2], fn, "out");
  const int64_t N = Int(info[3], fn, "N", 1), H = Int(info[4], fn, "H", 1), W = Int(info[5], fn, "W", 1), C = Int(info[6], fn, "C", 1);
  const int64_t OH = Int(info[7], fn, "OH", 1), OW = Int(info[8], fn, "OW", 1);
  const bool bilinear = Flag(info[9], fn, "bilinear");
  const int mode = static_cast<int>(Int(info[10], fn, "fillMode", 0, 3));
  const float fill = static_cast<float>(Real(info[11], fn, "fillValue"));
  RequireSize(env, img.n, Product(env, fn, "image", {N, H, W, C}), "transform: image");
  RequireSize(env, out.n, Product(env, fn, "out", {N, OH, OW, C}), "transform: out");
  if (tr.n != 8 && tr.n != static_cast<size_t>(N) * 8) Fail(env, fn, "transforms must hold 8 numbers, or 8 per image");
  const size_t rowIn = W * C, batchIn = H * rowIn;
#pragma omp parallel for collapse(2) if (N * OH * OW * C > (1 << 15))
  for (int64_t b = 0; b < N; b++)
    for (int64_t oy = 0; oy < OH; oy++) {
      const float* t = tr.n == 8 ? tr.p : tr.p + b * 8;
      const float* im = img.p + b * batchIn;
      float* o = out.p + ((b * OH + oy) * OW) * C;
      // A read outside the image gives the fill value (after the fill mode's mapping).
      auto at = [&](int64_t y, int64_t x, int64_t c) -> double {
        return y >= 0 && y < H && x >= 0 && x < W ? im[y * rowIn + x * C + c] : fill;
      };
      // Affine (no perspective): k is exactly 1, and the divisions can go without changing a bit.
      const bool affine = t[6] == 0.f && t[7] == 0.f;
      for (int64_t ox = 0; ox < OW; ox++, o += C) {
        const double k = affine ? 1.0 : static_cast<double>(t[6]) * ox + static_cast<double>(t[7]) * oy + 1;
        if (k == 0) {
          for (int64_t c = 0; c < C; c++) o[c] = fill;
          continue;
        }
        double inX = static_cast<double>(t[0]) * ox + static_cast<double>(t[1]) * oy + t[2];
        double inY = static_cast<double>(t[3]) * ox + static_cast<double>(t[4]) * oy + t[5];
        if (!affine) inX /= k, inY /= k;
        const double x = MapCoord(inX, W, mode), y = MapCoord(inY, H, mode);
        if (!bilinear) {
          // Math.round: halves round up.
          const int64_t ry = static_cast<int64_t>(std::floor(y + 0.5)), rx = static_cast<int64_t>(std::floor(x + 0.5));
          for (int64_t c = 0; c < C; c++) o[c] = static_cast<float>(at(ry, rx, c));
          continue;
        }
        const double fy = std::floor(y), fx = std::floor(x);
        const int64_t y0 = static_cast<int64_t>(fy), x0 = static_cast<int64_t>(fx);
        const double wx1 = x - fx, wx0 = fx + 1 - x, wy1 = y - fy, wy0 = fy + 1 - y;
        if (y0 >= 0 && y0 < H - 1 && x0 >= 0 && x0 < W - 1) {
          // All four neighbours inside (most pixels of a crop): the same sums, without the checks.
          const float* p = im + y0 * rowIn + x0 * C;
          const float* q = p + rowIn;
          for (int64_t c = 0; c < C; c++) {
            const double top = wx0 * p[c] + wx1 * p[C + c];
            const double bottom = wx0 * q[c] + wx1 * q[C + c];
            o[c] = static_cast<float>(wy0 * top + wy1 * bottom);
          }
          continue;
        }
        for (int64_t c = 0; c < C; c++) {
          const double top = wx0 * at(y0, x0, c) + wx1 * at(y0, x0 + 1, c);
          const double bottom = wx0 * at(y0 + 1, x0, c) + wx1 * at(y0 + 1, x0 + 1, c);
          o[c] = static_cast<float>(wy0 * top + wy1 * bottom);
        }
      }
    }
  return env.Undefined();
}

// resizeBilinear(image, out, N, H, W, C, OH, OW, alignCorners, halfPixelCenters)
Napi::Value ResizeBilinear(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "resizeBilinear";
  RequireArgs(info, 10, fn);
  F32 img = f32(info[0], fn, "image"), out = f32(info[1], fn, "out");
  const int64_t N = Int(info[2], fn, "N", 1), H = Int(info[3], fn, "H", 1), W = Int(info[4], fn, "W", 1), C = Int(info[5], fn, "C", 1);
  const int64_t OH = Int(info[6], fn, "OH", 1), OW = Int(info[7], fn, "OW", 1);
  const bool align = Flag(info[8], fn, "alignCorners"), half = Flag(info[9], fn, "halfPixelCenters");
  RequireSize(env, img.n, Product(env, fn, "image", {N, H, W, C}), "resizeBilinear: image");
  RequireSize(env, out.n, Product(env, fn, "out", {N, OH, OW, C}), "resizeBilinear: out");
  const double ry = static_cast<double>(align && OH > 1 ? H - 1 : H) / static_cast<double>(align && OH > 1 ? OH - 1 : OH);
  const double rx = static_cast<double>(align && OW > 1 ? W - 1 : W) / static_cast<double>(align && OW > 1 ? OW - 1 : OW);
#pragma omp parallel for collapse(2) if (N * OH * OW * C > (1 << 15))
  for (int64_t b = 0; b < N; b++)
    for (int64_t r = 0; r < OH; r++) {
      const double sy = half ? ry * (r + 0.5) - 0.5 : ry * r;
      const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(sy)));
      const double fy = sy - static_cast<double>(y0);
      const int64_t y1 = std::min<int64_t>(H - 1, static_cast<int64_t>(std::ceil(sy)));
      const float* top = img.p + (b * H + y0) * W * C;
      const float* bot = img.p + (b * H + y1) * W * C;
      float* o = out.p + ((b * OH + r) * OW) * C;
      for (int64_t c = 0; c < OW; c++, o += C) {
        const double sx = half ? rx * (c + 0.5) - 0.5 : rx * c;
        const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(sx)));
        const double fx = sx - static_cast<double>(x0);
        const int64_t x1 = std::min<int64_t>(W - 1, static_cast<int64_t>(std::ceil(sx)));
        for (int64_t d = 0; d < C; d++) {
          const double tl = top[x0 * C + d], tr = top[x1 * C + d], bl = bot[x0 * C + d], br = bot[x1 * C + d];
          const double t = tl + (tr - tl) * fx, bo = bl + (br - bl) * fx;
          o[d] = static_cast<float>(t + (bo - t) * fy);
        }
      }
    }
  return env.Undefined();
}

// ssdInput(image, out, H, W, C, S): the SSD detector's input from a photo (0-255) in one pass, as
// lib/faces/ssd-fused.ts builds it elsewhere from three or four kernels: the photo padded at the
// bottom or right to a square and scaled to S x S (squareInput: a transform, or a pad and a
// resize), then x / 127.5 - 1 (RealDiv, Sub). A square of S px or
// more is sampled as tf.image.transform samples it (bilinear, zeros outside the photo), a smaller
// one as tf.image.resizeBilinear scales the zero-padded square (its last row and column repeated);
// each with that kernel's arithmetic, so the result is the same to the bit. A 250 px photo's input
// took 3.7 ms through pad, resize, divide and subtract; this pass takes 0.3 ms (hot).
Napi::Value SsdInput(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "ssdInput";
  RequireArgs(info, 6, fn);
  F32 img = f32(info[0], fn, "image"), out = f32(info[1], fn, "out");
  const int64_t H = Int(info[2], fn, "H", 1), W = Int(info[3], fn, "W", 1), C = Int(info[4], fn, "C", 1), S = Int(info[5], fn, "S", 1);
  RequireSize(env, img.n, Product(env, fn, "image", {H, W, C}), "ssdInput: image");
  RequireSize(env, out.n, Product(env, fn, "out", {S, S, C}), "ssdInput: out");
  const int64_t side = std::max(H, W), rowIn = W * C;
  const bool transform = side >= S;
  // Where output column (or row) i reads: two source indices and the fraction between them, as
  // each kernel computes them. Out of the photo (the padding) an index is -1 and reads 0.
  struct Tap { int64_t i0, i1; double x, f; };
  auto taps = [&](int64_t len) {
    std::vector<Tap> t(S);
    if (transform) {
      // transform's matrix holds side / S as float32; x = scale * i, neighbours floor(x) and floor(x) + 1.
      const double scale = static_cast<float>(static_cast<double>(side) / static_cast<double>(S));
      for (int64_t i = 0; i < S; i++) {
        const double x = scale * static_cast<double>(i), f = std::floor(x);
        const int64_t i0 = static_cast<int64_t>(f);
        t[i] = {i0 >= 0 && i0 < len ? i0 : -1, i0 + 1 >= 0 && i0 + 1 < len ? i0 + 1 : -1, x, f};
      }
    } else {
      // resizeBilinear of the side x side square (alignCorners and halfPixelCenters off).
      const double ratio = static_cast<double>(side) / static_cast<double>(S);
      for (int64_t i = 0; i < S; i++) {
        const double x = ratio * static_cast<double>(i);
        const int64_t i0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(x)));
        const int64_t i1 = std::min<int64_t>(side - 1, static_cast<int64_t>(std::ceil(x)));
        t[i] = {i0 < len ? i0 : -1, i1 < len ? i1 : -1, x, static_cast<double>(i0)};
      }
    }
    return t;
  };
  const std::vector<Tap> rows = taps(H), cols = taps(W);
  const int64_t SC = S * C;
  // Separable: each source row is first interpolated along x (into a row of doubles), then output
  // rows mix two of those. The sums are the kernels' own, in their order; a source row serves every
  // output row that reads it (about two, scaling a small photo up).
#pragma omp parallel if (S * S * C > (1 << 15))
  {
    std::vector<double> a(SC), b(SC);
    int64_t ya = -2, yb = -2;  // the source rows a and b hold (-1: the zero padding)
    auto along = [&](std::vector<double>& h, int64_t y) {
      const float* src = y >= 0 ? img.p + y * rowIn : nullptr;
      // Transform's weights (f + 1 - x, x - f), or ResizeBilinear's l + (r - l) * fraction.
      auto mix = [&](const Tap& tx, double l, double r) { return transform ? (tx.f + 1 - tx.x) * l + (tx.x - tx.f) * r : l + (r - l) * (tx.x - tx.f); };
      for (int64_t c = 0; c < S; c++) {
        const Tap& tx = cols[c];
        double* o = h.data() + c * C;
        if (src && tx.i0 >= 0 && tx.i1 >= 0) {
          const float* l = src + tx.i0 * C;
          const float* r = src + tx.i1 * C;
          for (int64_t d = 0; d < C; d++) o[d] = mix(tx, l[d], r[d]);
        } else {
          for (int64_t d = 0; d < C; d++) o[d] = mix(tx, src && tx.i0 >= 0 ? src[tx.i0 * C + d] : 0.0, src && tx.i1 >= 0 ? src[tx.i1 * C + d] : 0.0);
        }
      }
    };
#pragma omp for schedule(static)
    for (int64_t r = 0; r < S; r++) {
      const Tap& ty = rows[r];
      if (ya != ty.i0) {
        if (yb == ty.i0) std::swap(a, b), std::swap(ya, yb);
        else along(a, ty.i0), ya = ty.i0;
      }
      if (yb != ty.i1) along(b, ty.i1), yb = ty.i1;
      float* o = out.p + r * SC;
      const double* t = a.data();
      const double* u = b.data();
      if (transform) {
        const double w1 = ty.x - ty.f, w0 = ty.f + 1 - ty.x;
        for (int64_t k = 0; k < SC; k++) o[k] = static_cast<float>(w0 * t[k] + w1 * u[k]) / 127.5f - 1.0f;
      } else {
        const double f = ty.x - ty.f;
        for (int64_t k = 0; k < SC; k++) o[k] = static_cast<float>(t[k] + (u[k] - t[k]) * f) / 127.5f - 1.0f;
      }
    }
  }
  return env.Undefined();
}

// pool(x, out, N, H, W, C, OH, OW, KH, KW, strideH, strideW, padTop, padLeft, max): MaxPool or
// AvgPool over NHWC, TensorFlow.js's way: the window is clipped to the image, and an average
// divides by the pixels inside it (padding does not count).
Napi::Value Pool(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "pool";
  RequireArgs(info, 15, fn);
  F32 x = f32(info[0], fn, "x"), out = f32(info[1], fn, "out");
  const int64_t N = Int(info[2], fn, "N", 1), H = Int(info[3], fn, "H", 1), W = Int(info[4], fn, "W", 1), C = Int(info[5], fn, "C", 1);
  const int64_t OH = Int(info[6], fn, "OH", 1), OW = Int(info[7], fn, "OW", 1), KH = Int(info[8], fn, "KH", 1), KW = Int(info[9], fn, "KW", 1);
  const int64_t sh = Int(info[10], fn, "strideH", 1), sw = Int(info[11], fn, "strideW", 1), pt = Int(info[12], fn, "padTop"), pl = Int(info[13], fn, "padLeft");
  const bool isMax = Flag(info[14], fn, "max");
  RequireSize(env, x.n, Product(env, fn, "x", {N, H, W, C}), "pool: x");
  RequireSize(env, out.n, Product(env, fn, "out", {N, OH, OW, C}), "pool: out");
#pragma omp parallel for collapse(2) if (N * OH * OW * C > (1 << 15))
  for (int64_t b = 0; b < N; b++)
    for (int64_t oy = 0; oy < OH; oy++) {
      const int64_t y0 = std::max<int64_t>(0, oy * sh - pt), y1 = std::min<int64_t>(H, oy * sh - pt + KH);
      std::vector<double> acc(C);
      for (int64_t ox = 0; ox < OW; ox++) {
        const int64_t x0 = std::max<int64_t>(0, ox * sw - pl), x1 = std::min<int64_t>(W, ox * sw - pl + KW);
        float* o = out.p + ((b * OH + oy) * OW + ox) * C;
        if (isMax) {
          for (int64_t c = 0; c < C; c++) o[c] = -INFINITY;
          for (int64_t yy = y0; yy < y1; yy++)
            for (int64_t xx = x0; xx < x1; xx++) {
              const float* px = x.p + ((b * H + yy) * W + xx) * C;
              for (int64_t c = 0; c < C; c++) o[c] = px[c] > o[c] ? px[c] : o[c];
            }
        } else {
          std::fill(acc.begin(), acc.end(), 0.0);
          for (int64_t yy = y0; yy < y1; yy++)
            for (int64_t xx = x0; xx < x1; xx++) {
              const float* px = x.p + ((b * H + yy) * W + xx) * C;
              for (int64_t c = 0; c < C; c++) acc[c] += px[c];
            }
          const double count = static_cast<double>((y1 - y0) * (x1 - x0));
          for (int64_t c = 0; c < C; c++) o[c] = static_cast<float>(acc[c] / count);
        }
      }
    }
  return env.Undefined();
}

}  // namespace dfl
