// Adapts jazzer.js to a stock libFuzzer (Debian's libclang-rt-14-dev) instead
// of the patched fork its CMakeLists downloads from GitHub.
#include <cstdint>
namespace libfuzzer { extern void (*PrintCrashingInput)(); }
extern "C" {
void __sanitizer_cov_trace_const_cmp8(uint64_t a, uint64_t b);
void __sanitizer_cov_trace_pc_indir(uintptr_t callee);
// The fork adds _with_pc variants so each JS comparison site gets its own id;
// stock libFuzzer takes the caller's return address instead. Comparison
// operands still reach the table of recent compares, which is what solves
// magic values; only value-profile per-site precision is lost.
void __sanitizer_cov_trace_const_cmp8_with_pc(uintptr_t, uint64_t a, uint64_t b) {
  __sanitizer_cov_trace_const_cmp8(a, b);
}
void __sanitizer_cov_trace_pc_indir_with_pc(void *, uintptr_t callee) {
  __sanitizer_cov_trace_pc_indir(callee);
}
// Stock libFuzzer registers its death callback (dump crash-<sha1>, print final
// stats) through this sanitizer hook when it is defined; the fork calls
// __jazzer_set_death_callback instead.
void __sanitizer_set_death_callback(void (*callback)()) {
  libfuzzer::PrintCrashingInput = callback;
}
}
