// deepfake_native: the kernels of the `native` TensorFlow.js backend (lib/native/), on oneDNN
// (convolutions, matrix products) and OpenMP loops (everything element-wise).
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#include "common.h"

namespace dfl {

void RequireSize(const Napi::Env& env, size_t have, size_t want, const char* what) {
  if (have < want)
    throw Napi::RangeError::New(env, std::string(what) + ": array has " + std::to_string(have) +
                                         " elements, needs " + std::to_string(want));
}

// Versions and threads, for `doctor`.
Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  const dnnl_version_t* v = dnnl_version();
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("threads", omp_get_max_threads());
  o.Set("isa", v->cpu_runtime == DNNL_RUNTIME_OMP ? "omp" : "other");
  return o;
}

}  // namespace dfl

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, dfl::Conv2D));
  exports.Set("matMul", Napi::Function::New(env, dfl::MatMul));
  exports.Set("unary", Napi::Function::New(env, dfl::Unary));
  exports.Set("binary", Napi::Function::New(env, dfl::Binary));
  exports.Set("compare", Napi::Function::New(env, dfl::Compare));
  exports.Set("select", Napi::Function::New(env, dfl::Select));
  exports.Set("reduce", Napi::Function::New(env, dfl::Reduce));
  exports.Set("transpose", Napi::Function::New(env, dfl::Transpose));
  exports.Set("depthToSpace", Napi::Function::New(env, dfl::DepthToSpace));
  exports.Set("adam", Napi::Function::New(env, dfl::Adam));
  exports.Set("info", Napi::Function::New(env, dfl::Info));
  return exports;
}

NODE_API_MODULE(deepfake_native, Init)
