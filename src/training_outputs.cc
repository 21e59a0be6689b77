#include "training_outputs.h"

#include <filesystem>
#include <fmt/format.h>

#include "atomic_file.h"
#include "exit_codes.h"
#include "gnuplot.h"
#include "model_file.h"

namespace kmlb {

nlohmann::json training_metrics(const TrainResult &r, const TrainConfig &c, const Dataset &d)
{
	nlohmann::json j = r.metrics_json(true);
	j["schema_version"] = kMetricsSchemaVersion;
	j["protocol"] = c.name;
	j["params"] = r.model.param_count();
	j["hidden"] = c.hidden;
	j["feature_set"] = feature_set_name(d.feature_set);
	j["rows"] = d.rows;
	return j;
}

std::string history_csv(const std::vector<EpochRecord> &history)
{
	std::string out = "fold,epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_misclassified,learning_rate,seconds\n";
	for (const EpochRecord &e : history)
		fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{}\n", e.fold + 1, e.epoch, e.train_loss,
			       e.train_accuracy, e.val_loss, e.val_accuracy, e.val_misclassified, e.learning_rate,
			       e.seconds);
	return out;
}

namespace {

// Two panels per fold: validation loss and misclassified rows per epoch.
std::string plot_training_curves(const std::string &dir, size_t folds)
{
	std::string script = fmt::format(
		"set terminal svg size 960,420 dynamic background '#ffffff'\n"
		"set output '{0}/training-curves.svg.tmp'\n"
		"set datafile separator ','\nset key autotitle columnhead\n"
		"set multiplot layout 1,2\n"
		"set title 'validation loss'\nset xlabel 'epoch'\nset logscale y\n",
		dir);
	auto plot = [&](int column) {
		script += "plot ";
		// history.csv numbers folds from 1; the refit on all non-test rows, if
		// any, is fold K + 1.
		for (size_t f = 1; f <= folds + 1; ++f)
			script += fmt::format("{}'{}/history.csv' using ($1=={} ? $2 : 1/0):{} with lines title '{}'",
					      f > 1 ? ", " : "", dir, f, column,
					      f <= folds ? fmt::format("fold {}", f) : std::string("refit"));
		script += "\n";
	};
	plot(5);
	script += "set title 'validation rows misclassified'\nset logscale y\nset yrange [0.5:*]\n";
	plot(7);
	script += "unset multiplot\n";
	return run_gnuplot(dir, script, {"training-curves.svg"}).note;
}

}  // namespace

std::string write_training_outputs(const std::string &dir, const TrainResult &r, const TrainConfig &c,
				   const Dataset &d)
{
	std::error_code ec;
	std::filesystem::create_directories(dir, ec);
	if (ec)
		throw Error(ExitCode::kWriteError, fmt::format("{}: cannot create directory: {}", dir, ec.message()));
	ModelFile file;
	file.model = r.model;
	file.feature_set = d.feature_set;
	file.training = c;
	file.data_hash = r.data_hash;
	file.metrics = r.metrics_json(false);
	save_model(dir + "/model.json", file);
	write_file_atomic(dir + "/metrics.json", training_metrics(r, c, d).dump(2) + "\n");
	write_file_atomic(dir + "/history.csv", history_csv(r.history));
	return plot_training_curves(dir, c.folds);
}

}  // namespace kmlb
