{
  "targets": [{
    "target_name": "deepfake_native",
    "sources": ["src/addon.cc", "src/conv.cc", "src/conv-gemm.cc", "src/conv-few.cc", "src/elementwise.cc", "src/layout.cc", "src/image.cc", "src/augment.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O3", "-march=native", "-fopenmp", "-std=c++17", "-fexceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "ldflags": ["-fopenmp"],
    "libraries": ["-ldnnl", "-lgomp"]
  }]
}
