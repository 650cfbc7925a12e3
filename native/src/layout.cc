// Moving blocks of a tensor around: the box copy behind Slice and Concat, and a per-channel
// affine map behind FusedBatchNorm. face-api's nets lean on these (a slice of the photo for every
// face, a batch norm after every convolution), and the cpu backend's JavaScript versions took 55%
// of a detection on the native backend, reading one element at a time.

#include <immintrin.h>
#include <cmath>
#include <cstring>
#include <string>
#include "common.h"

namespace dfl {

static constexpr int kMaxRank = 6;
static constexpr size_t kParallel = 1 << 15;

// A Float32Array or Int32Array, as 4-byte words.
struct Words {
  uint32_t* p;
  size_t n;
  bool isFloat;
};
static Words words(const Napi::Value& v, const char* fn, const char* what) {
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    if (t.TypedArrayType() == napi_float32_array || t.TypedArrayType() == napi_int32_array) {
      auto* base = static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
      return {reinterpret_cast<uint32_t*>(base), t.ElementLength(), t.TypedArrayType() == napi_float32_array};
    }
  }
  FailType(v.Env(), fn, std::string(what) + " must be a Float32Array or an Int32Array");
}

// A rank-r index list padded in front to kMaxRank with `fill`.
static void Padded(const Napi::Env& env, const char* fn, const char* what, const Napi::Int32Array& a, size_t rank, int64_t fill,
                   int64_t out[kMaxRank]) {
  if (a.ElementLength() != rank) Fail(env, fn, std::string(what) + " must have " + std::to_string(rank) + " entries");
  for (size_t i = 0; i < kMaxRank; i++) {
    const size_t pad = kMaxRank - rank;
    out[i] = i < pad ? fill : a[i - pad];
    if (out[i] < 0) Fail(env, fn, std::string(what) + "[" + std::to_string(i - pad) + "] is negative");
  }
}

// copyBox(src, srcShape, srcBegin, dst, dstShape, dstBegin, size): dst[dstBegin + i] = src[srcBegin + i]
// for every index i of a box of `size`, all as Int32Arrays of one rank (1 to 6). src and dst are
// Float32Arrays or Int32Arrays of the same type, or an Int32Array into a Float32Array (converted:
// TensorFlow.js's cpu Cast leaves int32 values under a float32 tensor).
//   Slice:  dst is the box (dstShape = size, dstBegin = 0).
//   Concat: each input is a box placed at its offset along the axis.
Napi::Value CopyBox(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "copyBox";
  RequireArgs(info, 7, fn);
  Words src = words(info[0], fn, "src"), dst = words(info[3], fn, "dst");
  if (src.isFloat && !dst.isFloat) FailType(env, fn, "cannot copy a Float32Array into an Int32Array");
  const bool convert = !src.isFloat && dst.isFloat;
  auto ss = i32s(info[1], fn, "srcShape"), sb = i32s(info[2], fn, "srcBegin");
  auto ds = i32s(info[4], fn, "dstShape"), db = i32s(info[5], fn, "dstBegin"), sz = i32s(info[6], fn, "size");
  const size_t rank = ss.ElementLength();
  if (rank == 0 || rank > kMaxRank) Fail(env, fn, "rank must be 1 to 6, got " + std::to_string(rank));
  int64_t S[kMaxRank], SB[kMaxRank], D[kMaxRank], DB[kMaxRank], Z[kMaxRank];
  Padded(env, fn, "srcShape", ss, rank, 1, S);
  Padded(env, fn, "srcBegin", sb, rank, 0, SB);
  Padded(env, fn, "dstShape", ds, rank, 1, D);
  Padded(env, fn, "dstBegin", db, rank, 0, DB);
  Padded(env, fn, "size", sz, rank, 1, Z);
  for (int i = 0; i < kMaxRank; i++)
    if (SB[i] + Z[i] > S[i] || DB[i] + Z[i] > D[i]) Fail(env, fn, "the box does not fit in axis " + std::to_string(i - (kMaxRank - static_cast<int>(rank))));
  RequireSize(env, src.n, Product(env, fn, "src", {S[0], S[1], S[2], S[3], S[4], S[5]}), "copyBox: src");
  RequireSize(env, dst.n, Product(env, fn, "dst", {D[0], D[1], D[2], D[3], D[4], D[5]}), "copyBox: dst");
  const size_t total = Product(env, fn, "size", {Z[0], Z[1], Z[2], Z[3], Z[4], Z[5]});
  if (total == 0) return env.Undefined();
  // Strides, then fold the innermost axes that are whole in both (one long memcpy instead of many).
  size_t sst[kMaxRank], dst_[kMaxRank];
  sst[kMaxRank - 1] = dst_[kMaxRank - 1] = 1;
  for (int i = kMaxRank - 2; i >= 0; i--) sst[i] = sst[i + 1] * S[i + 1], dst_[i] = dst_[i + 1] * D[i + 1];
  int inner = kMaxRank - 1;
  size_t run = Z[inner];
  while (inner > 0 && Z[inner] == S[inner] && Z[inner] == D[inner]) run *= Z[--inner];
  // Rows: every index of the axes before `inner`, with the inner axis's start.
  size_t rows = 1;
  for (int i = 0; i < inner; i++) rows *= Z[i];
  const size_t srcOff0 = [&] { size_t o = 0; for (int i = 0; i < kMaxRank; i++) o += SB[i] * sst[i]; return o; }();
  const size_t dstOff0 = [&] { size_t o = 0; for (int i = 0; i < kMaxRank; i++) o += DB[i] * dst_[i]; return o; }();
#pragma omp parallel for if (total > kParallel)
  for (size_t r = 0; r < rows; r++) {
    size_t rest = r, so = srcOff0, dof = dstOff0;
    for (int i = inner - 1; i >= 0; i--) {
      const size_t k = rest % Z[i];
      rest /= Z[i];
      so += k * sst[i], dof += k * dst_[i];
    }
    if (convert) {
      const int32_t* from = reinterpret_cast<const int32_t*>(src.p + so);
      float* to = reinterpret_cast<float*>(dst.p + dof);
      for (size_t i = 0; i < run; i++) to[i] = static_cast<float>(from[i]);
    } else {
      std::memcpy(dst.p + dof, src.p + so, run * sizeof(uint32_t));
    }
  }
  return env.Undefined();
}

// channelAffine(x, scale, shift, out): out[i] = x[i] * scale[i % C] + shift[i % C], C = scale's
// length (the last axis). A batch norm in inference is this with scale = gamma / sqrt(var + eps).
Napi::Value ChannelAffine(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "channelAffine";
  RequireArgs(info, 4, fn);
  F32 x = f32(info[0], fn, "x"), scale = f32(info[1], fn, "scale"), shift = f32(info[2], fn, "shift"), out = f32(info[3], fn, "out");
  const size_t C = scale.n, n = x.n;
  if (C == 0 || n % C != 0) Fail(env, fn, "x's size " + std::to_string(n) + " is not a multiple of the channels " + std::to_string(C));
  RequireSize(env, shift.n, C, "channelAffine: shift");
  RequireSize(env, out.n, n, "channelAffine: out");
  const size_t rows = n / C;
#pragma omp parallel for if (n > kParallel)
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x.p + r * C;
    float* yr = out.p + r * C;
#pragma omp simd
    for (size_t c = 0; c < C; c++) yr[c] = xr[c] * scale.p[c] + shift.p[c];
  }
  return env.Undefined();
}

// bytesToF32(bytes, out): out[i] = bytes[i]. A decoded photo (8-bit RGB) as the float tensor the
// nets read: in JavaScript this was 9 ms of a 1920 px photo, and a new 32 MB array each time.
Napi::Value BytesToF32(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "bytesToF32";
  RequireArgs(info, 2, fn);
  size_t n = 0;
  const uint8_t* b = u8(info[0], fn, "bytes", &n);
  F32 out = f32(info[1], fn, "out");
  RequireSize(env, out.n, n, "bytesToF32: out");
#ifdef __AVX512F__
  // A 1920 px photo is 33 MB of floats, far past the caches: streaming stores skip reading each
  // line before it is overwritten.
  if (reinterpret_cast<uintptr_t>(out.p) % 64 == 0) {
    const size_t blocks = n / 16;
#pragma omp parallel if (n > kParallel)
    {
#pragma omp for nowait
      for (size_t k = 0; k < blocks; k++) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k * 16));
        _mm512_stream_ps(out.p + k * 16, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v)));
      }
      _mm_sfence();  // each thread's streamed lines visible before the kernels read them
    }
    for (size_t i = blocks * 16; i < n; i++) out.p[i] = b[i];
    return env.Undefined();
  }
#endif
#pragma omp parallel for simd if (n > kParallel)
  for (size_t i = 0; i < n; i++) out.p[i] = b[i];
  return env.Undefined();
}

// f32ToBytes(values, k, channels, out): 8-bit RGB from floats, as lib/image.ts's tensorToImage
// stores them in a Uint8ClampedArray: the float32 product v * k (k is 1 or 255), NaN to 0, clamped
// to [0, 255], halves rounded to even. One channel is repeated into R, G and B.
Napi::Value F32ToBytes(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "f32ToBytes";
  RequireArgs(info, 4, fn);
  F32 v = f32(info[0], fn, "values");
  const double k = Real(info[1], fn, "k");
  const int64_t channels = Int(info[2], fn, "channels", 1, 3);
  if (channels == 2) Fail(env, fn, "channels must be 1 or 3");
  size_t n = 0;
  uint8_t* out = u8(info[3], fn, "out", &n);
  RequireSize(env, n, v.n * (channels == 1 ? 3 : 1), "f32ToBytes: out");
  auto toByte = [k](float x) -> uint8_t {
    const double p = static_cast<float>(static_cast<double>(x) * k);  // Math.fround(x * k)
    if (!(p > 0)) return 0;  // NaN too
    if (p >= 255) return 255;
    return static_cast<uint8_t>(std::nearbyint(p));  // the default rounding: halves to even
  };
  if (channels == 1)
    for (size_t i = 0; i < v.n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = toByte(v.p[i]);
  else
    for (size_t i = 0; i < v.n; i++) out[i] = toByte(v.p[i]);
  return env.Undefined();
}

// addressMod64(buffer): where an ArrayBuffer's memory starts, modulo 64. The backend makes its
// output arrays views that start on a 64-byte boundary (see AlignedAllocator in common.h).
Napi::Value AddressMod64(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const char* fn = "addressMod64";
  RequireArgs(info, 1, fn);
  if (!info[0].IsArrayBuffer()) FailType(env, fn, "buffer must be an ArrayBuffer");
  auto b = info[0].As<Napi::ArrayBuffer>();
  return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(b.Data()) % kAlign));
}

}  // namespace dfl
