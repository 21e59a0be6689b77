#include "progress.h"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace kmlb::cli {

namespace {

bool stderr_is_terminal()
{
	const char *term = std::getenv("TERM");
	return ::isatty(STDERR_FILENO) && term && std::string(term) != "dumb";
}

size_t terminal_width()
{
	struct winsize ws;
	if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

}  // namespace

EpochProgress::EpochProgress(std::string label, size_t folds, size_t max_epochs, bool quiet)
	: EpochProgress(std::move(label), folds, max_epochs, Options{.quiet = quiet})
{
}

EpochProgress::EpochProgress(std::string label, size_t folds, size_t max_epochs, const Options &options)
	: label_(std::move(label)), folds_(folds), max_epochs_(max_epochs), opt_(options),
	  tty_(options.tty < 0 ? stderr_is_terminal() : options.tty > 0), start_(std::chrono::steady_clock::now()),
	  last_(start_)
{
}

EpochProgress::~EpochProgress() { finish(); }

std::string EpochProgress::stage_name(size_t fold, size_t folds)
{
	return fold < folds ? fmt::format("fold {}/{}", fold + 1, folds) : std::string("refit");
}

void EpochProgress::operator()(const EpochRecord &r)
{
	if (opt_.quiet || finished_)
		return;
	if (stages_.size() <= r.fold)
		stages_.resize(r.fold + 1);
	stages_[r.fold] = {r.epoch, r.val_misclassified};
	any_ = true;
	const auto now = std::chrono::steady_clock::now();
	const double since = std::chrono::duration<double>(now - last_).count();
	if (since >= (tty_ ? opt_.redraw_interval_seconds : opt_.pipe_interval_seconds)) {
		last_ = now;
		emit(false);
	}
}

std::string EpochProgress::status() const
{
	// "report: folds 1-3 epoch 41 40 12, val_wrong 9 8 11; refit epoch 30, train_wrong 0 (3 s)"
	std::string epochs, wrong;
	const size_t shown = std::min(stages_.size(), folds_);
	for (size_t f = 0; f < shown; ++f) {
		epochs += stages_[f].epoch ? fmt::format(" {}", stages_[f].epoch) : std::string(" -");
		wrong += stages_[f].epoch ? fmt::format(" {}", stages_[f].wrong) : std::string(" -");
	}
	std::string s = label_ + ":";
	if (shown)
		s += fmt::format(" folds 1-{} epoch{}, val_wrong{}", folds_, epochs, wrong);
	if (stages_.size() > folds_ && stages_[folds_].epoch)
		// The refit is monitored on its own training rows.
		s += fmt::format("{} refit epoch {}, train_wrong {}", shown ? ";" : "", stages_[folds_].epoch,
				 stages_[folds_].wrong);
	const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
	s += fmt::format(" ({:.0f} s, max {} epochs)", secs, max_epochs_);
	return s;
}

void EpochProgress::emit(bool final)
{
	// What was printed to stdout before comes first when both streams go
	// to the same pipe or terminal.
	std::fflush(stdout);
	std::string line = status();
	if (!tty_) {
		fmt::print(opt_.out, "{}{}\n", line, final ? " done" : "");
		std::fflush(opt_.out);
		return;
	}
	const size_t width = terminal_width() - 1;  // never wrap: a wrapped line cannot be redrawn
	if (line.size() > width)
		line = line.substr(0, width - 3) + "...";
	const size_t pad = drawn_width_ > line.size() ? drawn_width_ - line.size() : 0;
	fmt::print(opt_.out, "\r{}{}{}", line, std::string(pad, ' '), final ? "\n" : "");
	std::fflush(opt_.out);
	drawn_width_ = line.size();
}

void EpochProgress::finish()
{
	if (finished_)
		return;
	finished_ = true;
	if (opt_.quiet || !any_)
		return;
	emit(true);
}

}  // namespace kmlb::cli
