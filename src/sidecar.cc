#include "sidecar.h"

#include "atomic_file.h"

namespace kmlb {

void write_data_with_sidecar(const std::string &path, std::string_view data, nlohmann::json meta)
{
	if (is_stream_output(path)) {
		write_file_atomic(path, data);
		return;
	}
	meta["schema_version"] = kSidecarSchemaVersion;
	meta["kmlb_version"] = KMLB_VERSION;
	meta["bytes"] = data.size();
	meta["content_hash"] = fnv1a64_hex(data);
	const OutputFile files[] = {{path, std::string(data)}, {path + ".json", meta.dump(2) + "\n"}};
	write_files_atomic(files);
}

}  // namespace kmlb
