// Shared helpers for the addon: typed-array access without copies, argument checks.
#pragma once
#include <napi.h>
#include <cstddef>
#include <cstdint>

namespace dfl {

// A view of a Float32Array's memory. The JavaScript array owns it; kernels read inputs and
// write outputs in place, so tensors never cross between JavaScript and native memory.
struct F32 {
  float* p;
  size_t n;
};

inline F32 f32(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a Float32Array");
  auto a = v.As<Napi::Float32Array>();
  return {a.Data(), a.ElementLength()};
}

inline uint8_t* u8(const Napi::Value& v, const char* what, size_t* n) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a Uint8Array");
  auto a = v.As<Napi::Uint8Array>();
  *n = a.ElementLength();
  return a.Data();
}

inline int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
inline double num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

// Fused activations, numbered as lib/native/ops.ts numbers them.
enum Act { ACT_LINEAR = 0, ACT_RELU = 1, ACT_LEAKY = 2, ACT_SIGMOID = 3, ACT_RELU6 = 4, ACT_ELU = 5 };

void RequireSize(const Napi::Env& env, size_t have, size_t want, const char* what);

Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value MatMul(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Compare(const Napi::CallbackInfo& info);
Napi::Value Select(const Napi::CallbackInfo& info);
Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value Transpose(const Napi::CallbackInfo& info);
Napi::Value DepthToSpace(const Napi::CallbackInfo& info);
Napi::Value Adam(const Napi::CallbackInfo& info);
Napi::Value Info(const Napi::CallbackInfo& info);

}  // namespace dfl

namespace dfl {
// In place: y = act(y).
void ApplyActivation(float* y, size_t n, int act, float alpha);
}  // namespace dfl
