#include "verified_training.h"

#include "prep.h"

namespace kmlb {

VerifiedTrainingResult train_until_verified(const Dataset &data, const TrainConfig &config,
					    const VerifiedTrainingOptions &opt, const TrainHooks &hooks)
{
	VerifiedTrainingResult out;
	out.data = data;
	const VerifyDomain domain(data.feature_set, opt.kernel);
	std::vector<float> x(data.cols);
	for (size_t round = 1; round <= std::max<size_t>(1, opt.max_rounds); ++round) {
		out.train = train(out.data, config, hooks);
		ModelFile file;
		file.model = out.train.model;
		file.feature_set = out.data.feature_set;
		const Calibration all = calibration_from_dataset(out.data, "training data");
		const HoldoutSplit split = holdout_split(out.data.y, config);
		out.fixed = quantize(file, calibration_rows(all, split.train, "training rows"), {}).model;
		VerifiedRound r;
		r.round = round;
		r.rows = out.data.rows;
		r.test_misclassified = out.train.test.misclassified;
		r.verification = verify(domain, *fixed_target(out.fixed), opt.verify);
		const bool done = r.verification.outcome != VerifyOutcome::kFalsified || round == opt.max_rounds;
		if (!done)
			for (const Counterexample &c : r.verification.counterexamples) {
				extract_features(c.state, out.data.feature_set, x.data());
				for (size_t k = 0; k < opt.copies; ++k) {
					out.data.x.insert(out.data.x.end(), x.begin(), x.end());
					out.data.y.push_back(static_cast<uint8_t>(c.state.can_migrate));
				}
			}
		out.data.rows = out.data.y.size();
		out.rounds.push_back(std::move(r));
		if (done)
			break;
	}
	return out;
}

nlohmann::json VerifiedTrainingResult::to_json() const
{
	nlohmann::json rs = nlohmann::json::array();
	for (const VerifiedRound &r : rounds) {
		nlohmann::json v = r.verification.to_json();
		v["round"] = r.round;
		v["rows"] = r.rows;
		v["test_misclassified"] = r.test_misclassified;
		rs.push_back(v);
	}
	return {{"result", rounds.empty() ? "unknown" : outcome_name(rounds.back().verification.outcome)},
		{"rounds", rounds.size()},
		{"per_round", rs}};
}

}  // namespace kmlb
