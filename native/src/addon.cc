// deepfake_native: the kernels of the `native` TensorFlow.js backend (lib/engine/native/), on oneDNN
// (convolutions, matrix products) and OpenMP loops (everything element-wise).
#include <omp.h>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
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

// node-addon-api turns a thrown Napi::Error into a JavaScript exception, but any other C++
// exception leaving a callback ends the process. Every entry point runs inside this.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guard(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN failed: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(info.Env(), "native kernel: out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("native kernel failed: ") + e.what());
  } catch (...) {
    throw Napi::Error::New(info.Env(), "native kernel failed with an unknown C++ exception");
  }
}

}  // namespace dfl

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace dfl;
  exports.Set("conv2d", Napi::Function::New(env, Guard<Conv2D>));
  exports.Set("convLeakyBackward", Napi::Function::New(env, Guard<ConvLeakyBackward>));
  exports.Set("matMul", Napi::Function::New(env, Guard<MatMul>));
  exports.Set("unary", Napi::Function::New(env, Guard<Unary>));
  exports.Set("binary", Napi::Function::New(env, Guard<Binary>));
  exports.Set("compare", Napi::Function::New(env, Guard<Compare>));
  exports.Set("select", Napi::Function::New(env, Guard<Select>));
  exports.Set("leakyReluGrad", Napi::Function::New(env, Guard<LeakyReluGrad>));
  exports.Set("l1Mean", Napi::Function::New(env, Guard<L1Mean>));
  exports.Set("l1MeanGrad", Napi::Function::New(env, Guard<L1MeanGrad>));
  exports.Set("reduce", Napi::Function::New(env, Guard<Reduce>));
  exports.Set("transpose", Napi::Function::New(env, Guard<Transpose>));
  exports.Set("depthToSpace", Napi::Function::New(env, Guard<DepthToSpace>));
  exports.Set("transform", Napi::Function::New(env, Guard<Transform>));
  exports.Set("resizeBilinear", Napi::Function::New(env, Guard<ResizeBilinear>));
  exports.Set("ssdInput", Napi::Function::New(env, Guard<SsdInput>));
  exports.Set("pool", Napi::Function::New(env, Guard<Pool>));
  exports.Set("copyBox", Napi::Function::New(env, Guard<CopyBox>));
  exports.Set("channelAffine", Napi::Function::New(env, Guard<ChannelAffine>));
  exports.Set("bytesToF32", Napi::Function::New(env, Guard<BytesToF32>));
  exports.Set("f32ToBytes", Napi::Function::New(env, Guard<F32ToBytes>));
  exports.Set("addressMod64", Napi::Function::New(env, Guard<AddressMod64>));
  exports.Set("augment", Napi::Function::New(env, Guard<Augment>));
  exports.Set("adam", Napi::Function::New(env, Guard<Adam>));
  exports.Set("info", Napi::Function::New(env, Guard<Info>));
  exports.Set("setPrecision", Napi::Function::New(env, Guard<SetPrecision>));
  exports.Set("cacheInfo", Napi::Function::New(env, Guard<CacheInfo>));
  return exports;
}

NODE_API_MODULE(deepfake_native, Init)
