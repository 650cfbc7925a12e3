// Shared helpers for the addon: typed-array access without copies, and argument checks.
//
// Every entry point is called by lib/engine/native/kernels.ts with arguments TypeScript already checked,
// but a wrong argument here does not throw on its own: it reads or writes past a buffer, divides
// by zero, or aborts the process (and a learner's Jupyter kernel with it). So each entry point
// checks every argument with these helpers, which throw a JavaScript error naming the function
// and the argument; `Guard` (addon.cc) turns any C++ exception that escapes into one too.
#pragma once
#include <napi.h>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <string>
#include <vector>

namespace dfl {

// No tensor here comes near this; a product above it is a bug or an overflow, not a request.
constexpr size_t kMaxElements = size_t{1} << 40;
constexpr int64_t kMaxDim = INT32_MAX;

[[noreturn]] inline void Fail(const Napi::Env& env, const char* fn, const std::string& msg) {
  throw Napi::RangeError::New(env, std::string(fn) + ": " + msg);
}
[[noreturn]] inline void FailType(const Napi::Env& env, const char* fn, const std::string& msg) {
  throw Napi::TypeError::New(env, std::string(fn) + ": " + msg);
}

inline void RequireArgs(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() < n)
    FailType(info.Env(), fn, "expects " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
}

// Scratch memory on 64-byte boundaries (a cache line, one AVX-512 register): oneDNN's kernels
// read and write whole lines, and an array 16 bytes off (what malloc and V8 hand out) splits
// every load across two. oneDNN alone on lite's layers at batch 16 (forward and both gradients,
// warm caches): 30.3 ms aligned, 34.0 ms 16 bytes off. In whole lite steps the gain is smaller
// (paired: 213.7 / 213.7 against 209.6 / 194.2 faces/s in fp32, level in bf16).
constexpr size_t kAlign = 64;
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = std::aligned_alloc(kAlign, (n * sizeof(T) + kAlign - 1) / kAlign * kAlign);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const AlignedAllocator<U>&) const { return false; }
};
template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

// A view of a Float32Array's memory. The JavaScript array owns it; kernels read inputs and
// write outputs in place, so tensors never cross between JavaScript and native memory.
struct F32 {
  float* p;
  size_t n;
};

inline F32 f32(const Napi::Value& v, const char* fn, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    FailType(v.Env(), fn, std::string(what) + " must be a Float32Array");
  auto a = v.As<Napi::Float32Array>();
  return {a.Data(), a.ElementLength()};
}

inline uint8_t* u8(const Napi::Value& v, const char* fn, const char* what, size_t* n) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    FailType(v.Env(), fn, std::string(what) + " must be a Uint8Array");
  auto a = v.As<Napi::Uint8Array>();
  *n = a.ElementLength();
  return a.Data();
}

inline Napi::Int32Array i32s(const Napi::Value& v, const char* fn, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    FailType(v.Env(), fn, std::string(what) + " must be an Int32Array");
  return v.As<Napi::Int32Array>();
}

// An integer in [lo, hi]. A negative count cast to size_t would wrap to a huge one.
inline int64_t Int(const Napi::Value& v, const char* fn, const char* what, int64_t lo = 0, int64_t hi = kMaxDim) {
  if (!v.IsNumber()) FailType(v.Env(), fn, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d)) FailType(v.Env(), fn, std::string(what) + " must be an integer, got " + std::to_string(d));
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    Fail(v.Env(), fn, std::string(what) + " = " + std::to_string(static_cast<long long>(d)) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int64_t>(d);
}

inline double Real(const Napi::Value& v, const char* fn, const char* what) {
  if (!v.IsNumber()) FailType(v.Env(), fn, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) Fail(v.Env(), fn, std::string(what) + " must be finite");
  return d;
}

inline bool Flag(const Napi::Value& v, const char* fn, const char* what) {
  if (!v.IsBoolean()) FailType(v.Env(), fn, std::string(what) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// The product of non-negative sizes, refusing overflow.
inline size_t Product(const Napi::Env& env, const char* fn, const char* what, std::initializer_list<int64_t> dims) {
  size_t p = 1;
  for (int64_t d : dims) {
    if (d < 0) Fail(env, fn, std::string(what) + ": negative size");
    if (__builtin_mul_overflow(p, static_cast<size_t>(d), &p) || p > kMaxElements)
      Fail(env, fn, std::string(what) + ": size overflows (more than 2^40 elements)");
  }
  return p;
}

// Fused activations, numbered as lib/engine/native/addon.ts numbers them.
enum Act { ACT_LINEAR = 0, ACT_RELU = 1, ACT_LEAKY = 2, ACT_SIGMOID = 3, ACT_RELU6 = 4, ACT_ELU = 5 };
constexpr int kLastAct = ACT_ELU;

void RequireSize(const Napi::Env& env, size_t have, size_t want, const char* what);

Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value ConvLeakyBackward(const Napi::CallbackInfo& info);
Napi::Value MatMul(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Compare(const Napi::CallbackInfo& info);
Napi::Value Select(const Napi::CallbackInfo& info);
Napi::Value LeakyReluGrad(const Napi::CallbackInfo& info);
Napi::Value L1Mean(const Napi::CallbackInfo& info);
Napi::Value L1MeanGrad(const Napi::CallbackInfo& info);
Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value Transpose(const Napi::CallbackInfo& info);
Napi::Value DepthToSpace(const Napi::CallbackInfo& info);
Napi::Value Adam(const Napi::CallbackInfo& info);
Napi::Value CopyBox(const Napi::CallbackInfo& info);
Napi::Value Transform(const Napi::CallbackInfo& info);
Napi::Value ResizeBilinear(const Napi::CallbackInfo& info);
Napi::Value SsdInput(const Napi::CallbackInfo& info);
Napi::Value Pool(const Napi::CallbackInfo& info);
Napi::Value ChannelAffine(const Napi::CallbackInfo& info);
Napi::Value BytesToF32(const Napi::CallbackInfo& info);
Napi::Value F32ToBytes(const Napi::CallbackInfo& info);
Napi::Value AddressMod64(const Napi::CallbackInfo& info);
Napi::Value Augment(const Napi::CallbackInfo& info);
Napi::Value Info(const Napi::CallbackInfo& info);
Napi::Value CacheInfo(const Napi::CallbackInfo& info);
Napi::Value SetPrecision(const Napi::CallbackInfo& info);

}  // namespace dfl
