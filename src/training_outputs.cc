#include "training_outputs.h"

#include <filesystem>
#include <fmt/format.h>

#include "atomic_file.h"
#include "exit_codes.h"
#include "gnuplot.h"
#include "model_file.h"

namespace kmlb {

std::string stage_label(size_t fold, size_t folds)
{
	return fold < folds ? std::to_string(fold + 1) : std::string("refit");
}

nlohmann::json numbered_metrics(nlohmann::json j)
{
	if (!j.is_object())
		return j;
	if (j.contains("folds") && j["folds"].is_array())
		for (auto &f : j["folds"])
			if (f.contains("fold") && f["fold"].is_number_unsigned())
				f["fold"] = f["fold"].get<size_t>() + 1;
	if (j.contains("chosen_fold") && j["chosen_fold"].is_number_unsigned())
		j["chosen_fold"] = j["chosen_fold"].get<size_t>() + 1;
	const bool refit = j.contains("refit") && j["refit"].is_object();
	if (refit) {
		nlohmann::json &r = j["refit"];
		r["fold"] = "refit";
		// Its monitor is its own training rows: not a validation.
		if (r.contains("validation")) {
			r["monitor"] = r["validation"];
			r["monitor"]["rows_are"] = "training";
			r.erase("validation");
		}
	}
	j["final_model"] = refit ? nlohmann::json("refit") : nlohmann::json(j.value("chosen_fold", nlohmann::json()));
	return j;
}

nlohmann::json training_metrics(const TrainResult &r, const TrainConfig &c, const Dataset &d)
{
	nlohmann::json j = numbered_metrics(r.metrics_json(true));
	j["schema_version"] = kMetricsSchemaVersion;
	j["protocol"] = c.name;
	j["params"] = r.model.param_count();
	j["hidden"] = c.hidden;
	j["feature_set"] = feature_set_name(d.feature_set);
	j["rows"] = d.rows;
	return j;
}

namespace {

// Shortest text that reads back to the same float32: the history is a record
// of float training, and doubles like 1 - 174/1000 would print as
// 0.8260000000000001.
std::string f32(double v) { return fmt::format("{}", static_cast<float>(v)); }

}  // namespace

std::string history_csv(const std::vector<EpochRecord> &history, size_t folds)
{
	std::string out = std::string(kHistoryHeader) + "\n";
	for (const EpochRecord &e : history)
		fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{},{}\n", stage_label(e.fold, folds),
			       e.epoch, f32(e.train_loss), f32(e.train_accuracy), e.fold < folds ? "validation" : "training",
			       f32(e.val_loss), f32(e.val_accuracy), e.val_misclassified, f32(e.learning_rate),
			       f32(e.seconds));
	return out;
}

namespace {

std::string gnuplot_quote(const std::string &s)
{
	std::string out = "'";
	for (char c : s)
		out += c == '\'' ? std::string("''") : std::string(1, c);
	return out + "'";
}

}  // namespace

std::string training_curves_title(const std::string &dir, const TrainConfig &c, size_t params)
{
	return fmt::format("{}: {} protocol, {} params", dir, c.name, params);
}

std::string training_curves_script(const std::string &dir, const TrainConfig &c, size_t params, bool refit)
{
	const std::string run = training_curves_title(dir, c, params);
	std::string script = fmt::format(
		"set terminal svg size 960,460 dynamic background '#ffffff'\n"
		"set output {0}\n"
		"set datafile separator ','\n"
		"set multiplot layout 1,2 title {1} noenhanced\n"
		"set key top right noenhanced\n"
		"set xlabel 'epoch'\nset logscale y\nset format y '%g'\n"
		"set title 'monitored objective (BCE + L2)'\n",
		gnuplot_quote(dir + "/training-curves.svg.tmp"), gnuplot_quote(run));
	auto plot = [&](const std::string &column) {
		script += "plot ";
		for (size_t f = 1; f <= c.folds + (refit ? 1 : 0); ++f) {
			const bool is_refit = f > c.folds;
			const std::string key = gnuplot_quote(is_refit ? "refit" : std::to_string(f));
			script += fmt::format("{}{} using (strcol(1) eq {} ? $2 : 1/0):{} with lines title {}",
					      f > 1 ? ", " : "", gnuplot_quote(dir + "/history.csv"), key, column,
					      gnuplot_quote(is_refit ? "refit (its training rows)"
								     : fmt::format("fold {} (validation rows)", f)));
		}
		script += "\n";
	};
	plot("6");
	// Counts: integer ticks, and a 0 drawn at 0.5 with its own "0" tick so
	// that it does not vanish from the log axis.
	script += "set title 'monitored rows misclassified'\nset yrange [0.4:*]\nset format y '%.0f'\n"
		  "set ytics add ('0' 0.5)\n";
	plot("($8 > 0 ? $8 : 0.5)");
	script += "unset multiplot\n";
	return script;
}

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
	file.metrics = numbered_metrics(r.metrics_json(false));
	// Complete or absent: a full disk leaves no model without its metrics.
	const OutputFile files[] = {
		{dir + "/model.json", model_to_json(file)},
		{dir + "/metrics.json", training_metrics(r, c, d).dump(2) + "\n"},
		{dir + "/history.csv", history_csv(r.history, c.folds)},
	};
	write_files_atomic(files);
	const size_t params = r.model.param_count();
	return run_gnuplot(dir, training_curves_script(dir, c, params, r.refit.has_value()), {"training-curves.svg"},
			   training_curves_title(dir, c, params))
		.note;
}

}  // namespace kmlb
