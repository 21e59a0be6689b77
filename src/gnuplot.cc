#include "gnuplot.h"

#include <filesystem>

#include "atomic_file.h"
#include "subprocess.h"

namespace kmlb {

bool gnuplot_available() { return run_command("command -v gnuplot").exit_code == 0; }

PlotResult run_gnuplot(const std::string &dir, const std::string &script, const std::vector<std::string> &outputs)
{
	PlotResult r;
	if (!gnuplot_available()) {
		r.note = kNoGnuplotNote;
		return r;
	}
	const std::string script_path = dir + "/plot.gp";
	write_file_atomic(script_path, script);
	const bool ok = run_command("gnuplot " + shell_quote(script_path)).exit_code == 0;
	std::error_code ec;
	std::filesystem::remove(script_path, ec);
	for (const std::string &name : outputs) {
		const std::string tmp = dir + "/" + name + ".tmp";
		if (ok && std::filesystem::exists(tmp) && std::filesystem::file_size(tmp, ec) > 0) {
			std::filesystem::rename(tmp, dir + "/" + name, ec);
			if (!ec)
				r.made.push_back(name);
		} else {
			std::filesystem::remove(tmp, ec);
		}
	}
	if (r.made.size() != outputs.size())
		r.note = "gnuplot failed: some plots skipped";
	return r;
}

}  // namespace kmlb
