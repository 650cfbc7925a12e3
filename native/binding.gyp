{
  "targets": [{
    "target_name": "deepfake_native",
    "sources": ["src/addon.cc", "src/conv.cc", "src/conv-gemm.cc", "src/conv-few.cc", "src/elementwise.cc", "src/layout.cc", "src/image.cc", "src/augment.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    # -fno-math-errno: std::sqrt need not set errno, so the loops that call it vectorise. Adam's ran
    # one float at a time without it: 8.5 -> 2.4 ms on lite's encoder, bit for bit the same result.
    # Nothing here reads errno.
    "cflags_cc": ["-O3", "-march=native", "-fno-math-errno", "-fopenmp", "-std=c++17", "-fexceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "ldflags": ["-fopenmp"],
    "libraries": ["-ldnnl", "-lgomp"]
  }, {
    # The CPU probe (src/cpu-probe.cc): baseline flags on purpose, so that it loads on any x86-64
    # and can tell lib/engine/native/cpu.ts whether deepfake_native's -march=native build may run here.
    "target_name": "deepfake_cpu",
    "sources": ["src/cpu-probe.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O2", "-std=c++17", "-fexceptions"],
    "cflags_cc!": ["-fno-exceptions"]
  }]
}
