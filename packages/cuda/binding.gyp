{
  "variables": {
    "cuda_home%": "/usr/local/cuda",
    "cuda_gencode%": "-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90"
  },
  "targets": [
    {
      "target_name": "nmkit_cuda",
      "sources": [
        "native/host/addon.cc",
        "native/host/cuda-context.cc",
        "native/host/cublas-loader.cc",
        "native/kernels/spmm-nm-low-sparsity.cu",
        "native/kernels/spmm-nm-high-sparsity.cu",
        "native/kernels/spmm-nm-stream.cu",
        "native/kernels/spmm-nm-narrow.cu",
        "native/kernels/transpose.cu",
        "native/kernels/spin.cu",
        "native/kernels/finite-check.cu"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<(cuda_home)/include"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NMKIT_CUDA_ARCHS=\"sm_80,sm_90,compute_90\""],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "libraries": ["<(cuda_home)/lib64/libcudart_static.a", "-ldl", "-lrt", "-lpthread"],
      "rules": [
        {
          "rule_name": "nvcc",
          "extension": "cu",
          "inputs": [
            "<(RULE_INPUT_PATH)",
            "native/kernels/cp-async.cuh",
            "native/kernels/kernel-args.h",
            "native/kernels/launch.h",
            "native/kernels/spmm-nm-tiled.cuh",
            "native/kernels/tiled-launch.cuh"
          ],
          "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
          "action": [
            "<(cuda_home)/bin/nvcc", "-std=c++17", "-O3", "-Xcompiler", "-fPIC", "-cudart=static",
            "<@(cuda_gencode)", "-c", "<(RULE_INPUT_PATH)", "-o", "<@(_outputs)"
          ],
          "message": "nvcc <(RULE_INPUT_PATH)",
          "process_outputs_as_sources": 1
        }
      ]
    }
  ]
}
