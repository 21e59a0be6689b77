// Outputs are never left half-written: content goes to a temporary file in
// the destination directory, is flushed, and is renamed over the target.
#pragma once

#include <string>
#include <string_view>

namespace kmlb {

// Throws Error(kWriteError) naming the path on any failure; the target is
// then untouched and the temporary file removed.
void write_file_atomic(const std::string &path, std::string_view content);

// Reads a whole file; Error(kNoInput) if it is missing or unreadable.
std::string read_file(const std::string &path);

// Hex FNV-1a 64 of bytes: the "hash of the data" in sidecars and models.
std::string fnv1a64_hex(std::string_view bytes);

}  // namespace kmlb
