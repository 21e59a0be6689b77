#include "progress.h"

#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace kmlb::cli {

EpochProgress::EpochProgress(std::string label, size_t folds, size_t max_epochs, bool quiet)
	: label_(std::move(label)), folds_(folds), max_epochs_(max_epochs), quiet_(quiet),
	  tty_(::isatty(STDERR_FILENO) && std::getenv("TERM") && std::string(std::getenv("TERM")) != "dumb")
{
}

EpochProgress::~EpochProgress()
{
	if (drawn_)
		fmt::print(stderr, "\n");
}

void EpochProgress::operator()(const EpochRecord &r)
{
	if (quiet_)
		return;
	// The refit on all non-test rows arrives as fold K (0-based).
	const std::string stage = r.fold < folds_ ? fmt::format("fold {}/{}", r.fold + 1, folds_) : std::string("refit");
	const std::string stats = fmt::format("val_loss {:.5f} val_acc {:.5f} wrong {} lr {:.2g}", r.val_loss,
					      r.val_accuracy, r.val_misclassified, r.learning_rate);
	if (!tty_) {
		fmt::print(stderr, "{} {} epoch {}: {}\n", label_, stage, r.epoch, stats);
		return;
	}
	constexpr int kWidth = 24;
	const int filled = static_cast<int>(kWidth * std::min<size_t>(r.epoch, max_epochs_) / max_epochs_);
	fmt::print(stderr, "\r\033[K{} {} [{}{}] {:>3} {}", label_, stage, std::string(filled, '#'),
		   std::string(kWidth - filled, '.'), r.epoch, stats);
	std::fflush(stderr);
	drawn_ = true;
}

}  // namespace kmlb::cli
