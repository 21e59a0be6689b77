#include "gnuplot.h"

#include <filesystem>

#include "atomic_file.h"
#include "subprocess.h"

namespace kmlb {

bool gnuplot_available() { return run_command("command -v gnuplot").exit_code == 0; }

namespace {

std::string xml_escape(const std::string &s)
{
	std::string out;
	for (char c : s)
		out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
	return out;
}

// gnuplot writes <title>Gnuplot</title> into every SVG.
void retitle_svg(const std::string &path, const std::string &title)
{
	std::string svg = read_file(path);
	const std::string_view from = "<title>Gnuplot</title>";
	const size_t at = svg.find(from);
	if (at == std::string::npos)
		return;
	svg.replace(at, from.size(), "<title>" + xml_escape(title) + "</title>");
	write_file_atomic(path, svg);
}

}  // namespace

PlotResult run_gnuplot(const std::string &dir, const std::string &script, const std::vector<std::string> &outputs,
		       const std::string &title)
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
			if (!title.empty() && name.ends_with(".svg"))
				retitle_svg(tmp, title);
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
