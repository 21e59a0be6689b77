// Training progress on stderr: a bar redrawn in place on a terminal, one
// plain line per epoch otherwise (logs, CI). Results never go here.
#pragma once

#include <string>

#include "trainer.h"

namespace kmlb::cli {

class EpochProgress {
public:
	EpochProgress(std::string label, size_t folds, size_t max_epochs, bool quiet = false);
	~EpochProgress();
	void operator()(const EpochRecord &r);

private:
	std::string label_;
	size_t folds_, max_epochs_;
	bool quiet_, tty_;
	bool drawn_ = false;
};

}  // namespace kmlb::cli
