// The training augmentation's pixel loop (lib/train/augment.ts), compiled: one face's target
// through the random transform, its input through the transform and the random warp, and its maps
// (face mask, loss weights, texture coordinates) through the transform.
//
// Why: in JavaScript this loop took 4.6 ms of every batch of 16 faces at 64 px, on the main
// thread while the OpenMP workers wait: some 10 ms of a 150 ms lite step. The random draws stay in
// JavaScript (same stream on every backend); this does the same double-precision arithmetic per
// pixel, so the batches agree with the JavaScript loop to float rounding.

#include <algorithm>
#include <cmath>
#include <vector>
#include "common.h"

namespace dfl {

// Byte values as doubles: a table read instead of an int-to-double conversion per tap (whose
// merge into a register's old value serialised the loop).
static const double* ByteValues() {
  static double table[256];
  static bool ready = [] {
    for (int i = 0; i < 256; i++) table[i] = i;
    return true;
  }();
  (void)ready;
  return table;
}

// Bilinear sample of channel-interleaved bytes at (x, y) in pixel-centre coordinates, edges repeated.
static inline void Sample(const uint8_t* src, int64_t size, double x, double y, float* out, const double* v) {
  const double fx = std::min(std::max(x - 0.5, 0.0), static_cast<double>(size - 1));
  const double fy = std::min(std::max(y - 0.5, 0.0), static_cast<double>(size - 1));
  const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);  // fx, fy >= 0: floor
  const int64_t x1 = std::min(x0 + 1, size - 1), y1 = std::min(y0 + 1, size - 1);
  const double ax = fx - x0, ay = fy - y0;
  const double w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
  const uint8_t *p00 = src + (y0 * size + x0) * 3, *p01 = src + (y0 * size + x1) * 3;
  const uint8_t *p10 = src + (y1 * size + x0) * 3, *p11 = src + (y1 * size + x1) * 3;
  // Times 1/255 where the JavaScript divides: a division per channel was most of this loop's time,
  // and the two differ by at most a unit in the last place of the double, before rounding to float.
  constexpr double kInv255 = 1.0 / 255;
  for (int c = 0; c < 3; c++) out[c] = static_cast<float>((w00 * v[p00[c]] + w01 * v[p01[c]] + w10 * v[p10[c]] + w11 * v[p11[c]]) * kInv255);
}

// Bilinear sample of a one-channel map at (x, y) in pixel-centre coordinates; 0 outside.
static inline float SampleMap(const float* src, int64_t size, double x, double y) {
  const double fx = x - 0.5, fy = y - 0.5;
  if (fx <= -1 || fy <= -1 || fx >= size || fy >= size) return 0.f;
  const double fx0 = std::floor(fx), fy0 = std::floor(fy), ax = fx - fx0, ay = fy - fy0;
  const int64_t x0 = static_cast<int64_t>(fx0), y0 = static_cast<int64_t>(fy0);
  const bool inX0 = x0 >= 0, inX1 = x0 + 1 < size, inY0 = y0 >= 0, inY1 = y0 + 1 < size;
  const int64_t r0 = y0 * size, r1 = r0 + size;
  const double v00 = inX0 && inY0 ? src[r0 + x0] : 0, v01 = inX1 && inY0 ? src[r0 + x0 + 1] : 0;
  const double v10 = inX0 && inY1 ? src[r1 + x0] : 0, v11 = inX1 && inY1 ? src[r1 + x0 + 1] : 0;
  return static_cast<float>((1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10 + ax * v11));
}

// The warp's displacement at every pixel: the jittered g x g control points (spanning 1.25 times
// the image, centred) interpolated bilinearly; [dx, dy] per pixel, rounded to float as augment.ts's
// Float32Array holds them.
static void WarpField(const float* grid, int64_t g, int64_t size, float* field) {
  const double lo = -0.125 * size, span = 1.25 * size;
  std::vector<int64_t> cx0(size);
  std::vector<double> cax(size);
  for (int64_t x = 0; x < size; x++) {
    const double gx = ((x + 0.5 - lo) / span) * (g - 1);
    cx0[x] = std::min(static_cast<int64_t>(std::floor(gx)), g - 2);
    cax[x] = gx - cx0[x];
  }
  for (int64_t y = 0; y < size; y++) {
    const double gy = ((y + 0.5 - lo) / span) * (g - 1);
    const int64_t y0 = std::min(static_cast<int64_t>(std::floor(gy)), g - 2);
    const double ay = gy - y0;
    for (int64_t x = 0; x < size; x++) {
      const int64_t x0 = cx0[x];
      const double ax = cax[x];
      const int64_t r0 = (y0 * g + x0) * 2, r1 = ((y0 + 1) * g + x0) * 2;
      for (int k = 0; k < 2; k++)
        field[(y * size + x) * 2 + k] = static_cast<float>((1 - ay) * ((1 - ax) * grid[r0 + k] + ax * grid[r0 + 2 + k]) +
                                                           ay * ((1 - ax) * grid[r1 + k] + ax * grid[r1 + 2 + k]));
    }
  }
}

// augment(src, inputSrc, size, params, grid | null, input, target, at, mapSrc[], mapDst[])
//   params (Float64Array): cos, sin, c, tx, ty, flip (0 or 1), g (the warp grid's side)
//   src, inputSrc: size*size*3 bytes; input, target: batch arrays, face `at` written;
//   grid: g*g*2 control-point displacements, or null for no warp; maps: size*size floats each,
//   resampled into the batch arrays mapDst[i] at face `at`.
Napi::Value Augment(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "augment";
  RequireArgs(info, 10, fn);
  size_t nSrc = 0, nIn = 0;
  const uint8_t* src = u8(info[0], fn, "src", &nSrc);
  const uint8_t* inSrc = u8(info[1], fn, "inputSrc", &nIn);
  const int64_t size = Int(info[2], fn, "size", 1, 1 << 15);
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    FailType(env, fn, "params must be a Float64Array");
  auto params = info[3].As<Napi::Float64Array>();
  if (params.ElementLength() != 7) Fail(env, fn, "params must hold 7 numbers (cos, sin, c, tx, ty, flip, g), got " + std::to_string(params.ElementLength()));
  for (size_t i = 0; i < 7; i++)
    if (!std::isfinite(params[i])) Fail(env, fn, "params[" + std::to_string(i) + "] must be finite");
  const double cosA = params[0], sinA = params[1], c = params[2], tx = params[3], ty = params[4];
  const bool flip = params[5] != 0;
  const bool warp = !info[4].IsNull() && !info[4].IsUndefined();
  F32 grid{nullptr, 0};
  int64_t g = 0;
  if (warp) {
    grid = f32(info[4], fn, "grid");
    if (!(params[6] >= 2 && params[6] <= 1024 && params[6] == std::floor(params[6]))) Fail(env, fn, "the warp grid's side (params[6]) must be an integer in [2, 1024]");
    g = static_cast<int64_t>(params[6]);
    RequireSize(env, grid.n, static_cast<size_t>(g * g * 2), "augment: grid");
  }
  F32 input = f32(info[5], fn, "input"), target = f32(info[6], fn, "target");
  const int64_t at = Int(info[7], fn, "at");
  const size_t pixels = Product(env, fn, "face", {size, size});
  RequireSize(env, nSrc, pixels * 3, "augment: src");
  RequireSize(env, nIn, pixels * 3, "augment: inputSrc");
  const size_t end = Product(env, fn, "batch", {at + 1, size, size});
  if (input.n < end * 3 || target.n < end * 3) Fail(env, fn, "input and target must hold face " + std::to_string(at) + " (" + std::to_string(end * 3) + " floats)");
  if (!info[8].IsArray() || !info[9].IsArray()) FailType(env, fn, "mapSrc and mapDst must be arrays");
  auto ms = info[8].As<Napi::Array>(), md = info[9].As<Napi::Array>();
  if (ms.Length() != md.Length()) Fail(env, fn, "mapSrc and mapDst must have the same length");
  std::vector<const float*> mapSrc;
  std::vector<float*> mapDst;
  for (uint32_t i = 0; i < ms.Length(); i++) {
    F32 s = f32(ms.Get(i), fn, "mapSrc[i]"), d = f32(md.Get(i), fn, "mapDst[i]");
    RequireSize(env, s.n, pixels, "augment: mapSrc[i]");
    if (d.n < end) Fail(env, fn, "mapDst[" + std::to_string(i) + "] must hold face " + std::to_string(at));
    mapSrc.push_back(s.p), mapDst.push_back(d.p);
  }

  AlignedVector<float> field(warp ? pixels * 2 : 0);
  if (warp) WarpField(grid.p, g, size, field.data());
  const size_t base = static_cast<size_t>(at) * pixels;
  const bool sameSource = inSrc == src;
  const double* v = ByteValues();
  // Rows side by side: a 64 px face is some 60 us of work per thread.
#pragma omp parallel for schedule(static) if (pixels >= 1024)
  for (int64_t y = 0; y < size; y++)
    for (int64_t x = 0; x < size; x++) {
      const int64_t p = y * size + x;
      const double qx = x + 0.5, qy = y + 0.5;
      double ux = qx - c - tx, uy = qy - c - ty;
      double sx = cosA * ux - sinA * uy + c;
      const double sy = sinA * ux + cosA * uy + c;
      if (flip) sx = size - sx;
      float* t = target.p + (base + p) * 3;
      float* in = input.p + (base + p) * 3;
      Sample(src, size, sx, sy, t, v);
      for (size_t k = 0; k < mapSrc.size(); k++) mapDst[k][base + p] = SampleMap(mapSrc[k], size, sx, sy);
      if (warp) {
        ux = qx + field[p * 2] - c - tx;
        uy = qy + field[p * 2 + 1] - c - ty;
        double wx = cosA * ux - sinA * uy + c;
        const double wy = sinA * ux + cosA * uy + c;
        if (flip) wx = size - wx;
        Sample(inSrc, size, wx, wy, in, v);
      } else if (!sameSource) {
        Sample(inSrc, size, sx, sy, in, v);
      } else {
        std::copy(t, t + 3, in);
      }
    }
  return env.Undefined();
}

}  // namespace dfl
