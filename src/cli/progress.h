// Training progress on stderr, the way ninja shows it: on a terminal one
// status line redrawn in place (plain text padded with spaces: no colour or
// escape codes, so NO_COLOR and TERM=dumb need nothing more), ended with a
// newline before anything else is printed; elsewhere (a pipe, a log, CI) a
// plain line at most every few seconds and one when training ends, never a
// line per epoch. Results never go here.
//
// Folds are numbered from 1 ("fold 2/3"), as in history.csv and
// metrics.json; the model refit on all non-test rows is "refit", and what
// it is monitored on is its own training rows, so its figure is called
// train_wrong, not a validation figure.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "trainer.h"

namespace kmlb::cli {

class EpochProgress {
public:
	struct Options {
		bool quiet = false;
		// -1: decide from stderr (a terminal and TERM not "dumb").
		int tty = -1;
		double pipe_interval_seconds = 5.0;  // at most one line this often off a terminal
		double redraw_interval_seconds = 0.1;
		FILE *out = stderr;
	};

	EpochProgress(std::string label, size_t folds, size_t max_epochs, bool quiet = false);
	EpochProgress(std::string label, size_t folds, size_t max_epochs, const Options &options);
	~EpochProgress();
	EpochProgress(const EpochProgress &) = delete;
	EpochProgress &operator=(const EpochProgress &) = delete;

	void operator()(const EpochRecord &r);
	// Ends the status line (terminal) or prints the closing line (elsewhere).
	// Call before printing results; the destructor calls it too.
	void finish();

	// "fold 2/3" or "refit" for a record's 0-based fold index.
	static std::string stage_name(size_t fold, size_t folds);

private:
	struct Stage {
		size_t epoch = 0;
		size_t wrong = 0;
	};
	std::string status() const;
	void emit(bool final);

	std::string label_;
	size_t folds_, max_epochs_;
	Options opt_;
	bool tty_ = false;
	std::vector<Stage> stages_;  // folds, then the refit
	bool any_ = false, finished_ = false;
	size_t drawn_width_ = 0;
	std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace kmlb::cli
