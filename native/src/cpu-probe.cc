// deepfake_cpu: which instruction-set extensions this CPU (and its OS) offers, read from CPUID by
// libgcc's __builtin_cpu_supports. It is a target of its own, compiled for the baseline x86-64 and
// not -march=native, so that it loads on any CPU: lib/engine/native/cpu.ts asks it before it loads
// deepfake_native, whose build may use extensions this CPU lacks (SIGILL, not an exception).
//
// Why not /proc/cpuinfo: it is the kernel's list, not the CPU's. On the AMD EPYC machines here
// (Firecracker, Linux 6.18) it omits "abm" although CPUID reports LZCNT and g++ -march=native
// compiles for it, so a check against it refused every fresh build.
#include <napi.h>

namespace {

Napi::Value Features(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Array::New(env);
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  uint32_t n = 0;
  // The /proc/cpuinfo spelling (what the build stamp records), then libgcc's name for it. The
  // argument must be a string literal, hence a macro rather than a table.
#define DFL_FEATURE(flag, gcc) \
  if (__builtin_cpu_supports(gcc)) out.Set(n++, flag);
  DFL_FEATURE("pni", "sse3") DFL_FEATURE("ssse3", "ssse3") DFL_FEATURE("sse4_1", "sse4.1")
  DFL_FEATURE("sse4_2", "sse4.2") DFL_FEATURE("popcnt", "popcnt") DFL_FEATURE("avx", "avx")
  DFL_FEATURE("avx2", "avx2") DFL_FEATURE("fma", "fma") DFL_FEATURE("f16c", "f16c")
  DFL_FEATURE("bmi1", "bmi") DFL_FEATURE("bmi2", "bmi2") DFL_FEATURE("abm", "lzcnt")
  DFL_FEATURE("movbe", "movbe") DFL_FEATURE("adx", "adx") DFL_FEATURE("aes", "aes")
  DFL_FEATURE("pclmulqdq", "pclmul") DFL_FEATURE("sha_ni", "sha") DFL_FEATURE("rdrand", "rdrnd")
  DFL_FEATURE("rdseed", "rdseed") DFL_FEATURE("gfni", "gfni") DFL_FEATURE("vaes", "vaes")
  DFL_FEATURE("vpclmulqdq", "vpclmulqdq") DFL_FEATURE("avx512f", "avx512f")
  DFL_FEATURE("avx512cd", "avx512cd") DFL_FEATURE("avx512dq", "avx512dq")
  DFL_FEATURE("avx512bw", "avx512bw") DFL_FEATURE("avx512vl", "avx512vl")
  DFL_FEATURE("avx512ifma", "avx512ifma") DFL_FEATURE("avx512vbmi", "avx512vbmi")
  DFL_FEATURE("avx512_vbmi2", "avx512vbmi2") DFL_FEATURE("avx512_vnni", "avx512vnni")
  DFL_FEATURE("avx512_bitalg", "avx512bitalg") DFL_FEATURE("avx512_vpopcntdq", "avx512vpopcntdq")
  DFL_FEATURE("avx512_bf16", "avx512bf16") DFL_FEATURE("avx512_fp16", "avx512fp16")
  DFL_FEATURE("avx_vnni", "avxvnni") DFL_FEATURE("amx_tile", "amx-tile")
  DFL_FEATURE("amx_bf16", "amx-bf16") DFL_FEATURE("amx_int8", "amx-int8")
#undef DFL_FEATURE
#endif
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("features", Napi::Function::New(env, Features));
  return exports;
}

}  // namespace

NODE_API_MODULE(deepfake_cpu, Init)
