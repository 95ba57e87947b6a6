#pragma once
// BF_CPU_DISPATCH(name, (params), (args), body_fn) defines `void name(params)`
// that runs body_fn(args) compiled for x86-64-v4, AVX-512F, AVX2 and the
// portable baseline, chosen per call by bf::cpu_capability() (a relaxed
// atomic load). body_fn must be always_inline so each copy is vectorised for
// its own target. It does what GCC's target_clones did, except that the
// level can be forced (ATEN_CPU_CAPABILITY, force_cpu_capability), which the
// tests need to run every copy on one machine.
#include "util/cpu_capability.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define BF_CPU_DISPATCH(name, params, args, body_fn)                              \
  namespace {                                                                     \
  __attribute__((target("arch=x86-64-v4"))) void name##_x86_64_v4 params {        \
    body_fn args;                                                                 \
  }                                                                               \
  __attribute__((target("avx512f"))) void name##_avx512f params { body_fn args; } \
  __attribute__((target("avx2"))) void name##_avx2 params { body_fn args; }       \
  void name##_portable params { body_fn args; }                                   \
  }                                                                               \
  void name params {                                                              \
    switch (::bf::cpu_capability()) {                                             \
      case ::bf::CpuCapability::x86_64_v4: return name##_x86_64_v4 args;          \
      case ::bf::CpuCapability::avx512f: return name##_avx512f args;              \
      case ::bf::CpuCapability::avx2: return name##_avx2 args;                    \
      case ::bf::CpuCapability::portable: break;                                  \
    }                                                                             \
    return name##_portable args;                                                  \
  }
#else
#define BF_CPU_DISPATCH(name, params, args, body_fn) \
  void name params { body_fn args; }
#endif
