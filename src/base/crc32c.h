// CRC32C (Castagnoli), the checksum of every object section and footer.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at startup) and a
// table-driven software fallback otherwise, so objects written on one machine verify on any other.
// Used by src/block (writer and reader) and the metastore snapshots.
#ifndef EMBERS_BASE_CRC32C_H_
#define EMBERS_BASE_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace embers {

// Extends `crc` (the value returned for the preceding bytes; 0 to start) over `data`.
uint32_t Crc32cExtend(uint32_t crc, std::string_view data);
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data); }

}  // namespace embers

#endif  // EMBERS_BASE_CRC32C_H_
