// Minimal stand-in for compiler-rt's lib/fuzzer/FuzzerDefs.h: jazzer.js needs
// only the driver entry point and the callback type from it.
#pragma once
#include <cstddef>
#include <cstdint>
namespace fuzzer {
typedef int (*UserCallback)(const uint8_t *Data, size_t Size);
int FuzzerDriver(int *argc, char ***argv, UserCallback Callback);
} // namespace fuzzer
