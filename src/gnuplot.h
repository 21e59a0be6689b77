// Plots drawn by Debian's gnuplot, written atomically: the script writes
// each output as NAME.tmp, renamed into place only when gnuplot succeeded.
// Without gnuplot nothing is drawn and the note says so.
#pragma once

#include <string>
#include <vector>

namespace kmlb {

struct PlotResult {
	std::vector<std::string> made;  // outputs now in `dir`
	std::string note;               // "" when every output was made
};

inline constexpr const char *kNoGnuplotNote = "gnuplot not found: plots skipped (apt-get install gnuplot-nox)";

bool gnuplot_available();

// Runs `script` (which must `set output 'DIR/NAME.tmp'` for each NAME of
// `outputs`) with gnuplot in a temporary script file in `dir`. An SVG
// output gets `title` as its <title> (what viewers show as the window or
// tab name) instead of gnuplot's "Gnuplot".
PlotResult run_gnuplot(const std::string &dir, const std::string &script, const std::vector<std::string> &outputs,
		       const std::string &title = "");

}  // namespace kmlb
