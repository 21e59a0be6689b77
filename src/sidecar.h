// The JSON sidecar written next to every data file (FILE.json): what the
// file holds, how it was made, and a hash of its bytes. Deterministic: no
// timestamps or host names, so the same --seed gives identical sidecars.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kmlb {

inline constexpr int kSidecarSchemaVersion = 1;

// Writes `data` to `path` and `meta` (completed with schema_version,
// kmlb_version, bytes and content_hash) to `path`.json, both or neither
// (write_files_atomic). A stream output ("-", a device, a FIFO) gets the
// data only: there is no "beside" for a sidecar.
void write_data_with_sidecar(const std::string &path, std::string_view data, nlohmann::json meta);

}  // namespace kmlb
