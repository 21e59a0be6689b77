#include "trainer.h"

#include <gtest/gtest.h>

#include <atomic>

#include "dataset.h"
#include "exit_codes.h"
#include "model_file.h"
#include "rng.h"

namespace kmlb {
namespace {

// A small seed-like data set with a rule-based label: 15 features (flags,
// counts, loads, a signed fraction), about 80 % class 1, learnable to near 100 %.
Dataset rule_data(size_t rows, uint64_t seed)
{
	Rng rng(seed);
	Dataset d;
	d.feature_set = FeatureSet::kSeed;
	d.rows = rows;
	d.cols = 15;
	for (size_t r = 0; r < rows; ++r) {
		float f[15];
		for (int i = 0; i < 8; ++i)
			f[i] = rng.bernoulli(0.5) ? 1.0f : 0.0f;
		f[8] = static_cast<float>(std::round(std::abs(rng.normal(0, 3))));
		f[9] = static_cast<float>(rng.exponential(2.0));
		f[10] = static_cast<float>(rng.exponential(2.0));
		f[11] = static_cast<float>(std::round(std::abs(rng.normal(0, 3))));
		f[12] = static_cast<float>(rng.normal(0, 0.3));
		f[13] = rng.bernoulli(0.7) ? 1.0f : 0.0f;
		f[14] = rng.bernoulli(0.5) ? 1.0f : 0.0f;
		const bool hot = f[1] > 0 || (f[14] > 0 && f[11] > 0);
		const bool label = f[13] > 0 || !hot || (f[0] > 0 && f[12] > 0);
		d.x.insert(d.x.end(), f, f + 15);
		d.y.push_back(label ? 1 : 0);
	}
	return d;
}

TrainConfig quick(TrainConfig c)
{
	c.max_epochs = 12;
	return c;
}

TEST(TrainConfig, ReportProtocolIsTheReports)
{
	const TrainConfig c = TrainConfig::report();
	EXPECT_EQ(c.hidden, (std::vector<size_t>{15, 12, 10}));
	EXPECT_EQ(c.test_fraction, 0.25);
	EXPECT_EQ(c.folds, 3u);
	EXPECT_EQ(c.max_epochs, 500u);
	EXPECT_EQ(c.batch, 64u);
	EXPECT_TRUE(c.class_weights);
	EXPECT_FLOAT_EQ(c.l2, 0.001f);
	EXPECT_FLOAT_EQ(c.adam.learning_rate, 1e-3f);
	EXPECT_FLOAT_EQ(c.adam.epsilon, 1e-7f);
	EXPECT_EQ(c.monitor, Monitor::kValidationLoss);
	EXPECT_EQ(c.patience, 3u);
	EXPECT_FALSE(c.standardise);
	EXPECT_FALSE(c.refit);
	EXPECT_EQ(c.lr_patience, 0u);
}

TEST(TrainConfig, JsonRoundTrips)
{
	for (const TrainConfig &c : {TrainConfig::report(), TrainConfig::recommended()}) {
		const nlohmann::json j = c.to_json();
		EXPECT_EQ(TrainConfig::from_json(j, "x").to_json(), j);
	}
}

TEST(Trainer, LearnsAndReportsEverything)
{
	const Dataset d = rule_data(4000, 1);
	TrainConfig c = quick(TrainConfig::recommended());
	c.refit = false;  // the final model is then the chosen fold's
	std::vector<EpochRecord> seen;
	TrainHooks hooks;
	hooks.on_epoch = [&](const EpochRecord &r) { seen.push_back(r); };
	const TrainResult r = train(d, c, hooks);

	EXPECT_EQ(r.test.rows, 1000u);
	EXPECT_GT(r.test.accuracy, 0.95);
	const Confusion &m = r.test.confusion;
	EXPECT_EQ(m.tn + m.fp + m.fn + m.tp, r.test.rows);
	EXPECT_EQ(m.fp + m.fn, r.test.misclassified);
	EXPECT_EQ(r.folds.size(), 3u);
	EXPECT_EQ(seen.size(), r.history.size());
	size_t rows = 0;
	for (const FoldResult &f : r.folds) {
		rows += f.validation.rows;
		EXPECT_GE(f.epochs, f.best_epoch);
		EXPECT_GE(f.best_epoch, 1u);
		// The kept weights are the best epoch's: same validation score.
		const auto best = std::find_if(r.history.begin(), r.history.end(), [&](const auto &h) {
			return h.fold == f.fold && h.epoch == f.best_epoch;
		});
		ASSERT_NE(best, r.history.end());
		EXPECT_EQ(best->val_misclassified, f.validation.misclassified);
	}
	EXPECT_EQ(rows, 3000u);
	EXPECT_GT(r.samples_per_second, 0.0);
	EXPECT_EQ(r.data_hash, d.content_hash());
	// The chosen fold has the fewest validation misclassifications.
	for (const FoldResult &f : r.folds)
		EXPECT_LE(r.folds[r.chosen_fold].validation.misclassified, f.validation.misclassified);
	EXPECT_EQ(r.model, r.folds[r.chosen_fold].model);
	EXPECT_TRUE(r.model.standardisation);
	// The history is ordered by fold, then epoch.
	for (size_t i = 1; i < r.history.size(); ++i)
		EXPECT_TRUE(r.history[i - 1].fold < r.history[i].fold ||
			    r.history[i - 1].epoch + 1 == r.history[i].epoch);
}

TEST(Trainer, SameSeedSameModelBytesWhateverTheThreads)
{
	const Dataset d = rule_data(3000, 2);
	TrainConfig c = quick(TrainConfig::report());
	c.threads = 2;
	const TrainResult a = train(d, c);
	c.threads = 1;
	const TrainResult b = train(d, c);
	auto bytes = [&](const TrainResult &r) {
		ModelFile f;
		f.model = r.model;
		f.training = c;
		f.data_hash = r.data_hash;
		f.metrics = r.metrics_json(false);
		return model_to_json(f);
	};
	EXPECT_EQ(bytes(a), bytes(b));
	c.seed = 2;
	EXPECT_NE(train(d, c).model, a.model);
}

TEST(Trainer, RefitTrainsOnAllNonTestRows)
{
	const Dataset d = rule_data(3000, 3);
	TrainConfig c = quick(TrainConfig::recommended());
	c.refit = true;
	const TrainResult r = train(d, c);
	ASSERT_TRUE(r.refit);
	EXPECT_EQ(r.refit->train_rows, 2250u);
	EXPECT_EQ(r.refit->fold, 3u);
	EXPECT_EQ(r.model, r.refit->model);
	EXPECT_EQ(r.folds.size(), 3u);
	EXPECT_EQ(r.history.back().fold, 3u);
}

TEST(Trainer, EarlyStoppingStopsAfterPatienceWithoutImprovement)
{
	const Dataset d = rule_data(2000, 4);
	TrainConfig c = TrainConfig::report();
	c.max_epochs = 300;
	c.min_delta = 10.0;  // nothing ever improves by that much after epoch 1
	const TrainResult r = train(d, c);
	for (const FoldResult &f : r.folds) {
		EXPECT_EQ(f.best_epoch, 1u);
		EXPECT_EQ(f.epochs, 1u + c.patience);
		EXPECT_EQ(f.stop_reason, "early_stopping");
	}
}

TEST(Trainer, PlateauDropsTheLearningRate)
{
	const Dataset d = rule_data(2000, 5);
	TrainConfig c = TrainConfig::recommended();
	c.max_epochs = 40;
	c.monitor = Monitor::kValidationLoss;
	c.min_delta = 10.0;
	c.lr_patience = 2;
	c.stop_at_zero_error = false;
	const TrainResult r = train(d, c);
	// Epoch 1 improves; every 2 epochs after it the rate halves.
	const auto &h = r.history;
	ASSERT_GE(h.size(), 6u);
	EXPECT_FLOAT_EQ(h[0].learning_rate, c.adam.learning_rate);
	EXPECT_FLOAT_EQ(h[3].learning_rate, c.adam.learning_rate * 0.5f);
	EXPECT_FLOAT_EQ(h[5].learning_rate, c.adam.learning_rate * 0.25f);
}

TEST(Trainer, BadConfigIsUsageAndTooLittleDataIsBadData)
{
	const Dataset d = rule_data(500, 6);
	auto code_of = [&](const TrainConfig &c, const Dataset &data) {
		try {
			train(data, c);
		} catch (const Error &e) {
			return e.code();
		}
		return ExitCode::kOk;
	};
	TrainConfig c = quick(TrainConfig::report());
	c.folds = 1;
	EXPECT_EQ(code_of(c, d), ExitCode::kUsage);
	c = quick(TrainConfig::report());
	c.batch = 0;
	EXPECT_EQ(code_of(c, d), ExitCode::kUsage);
	c = quick(TrainConfig::report());
	c.test_fraction = 1.5;
	EXPECT_EQ(code_of(c, d), ExitCode::kUsage);
	c = quick(TrainConfig::report());
	c.hidden = {15, 0};
	EXPECT_EQ(code_of(c, d), ExitCode::kUsage);
	Dataset one_class = rule_data(50, 7);
	std::fill(one_class.y.begin(), one_class.y.end(), 1);
	one_class.y[0] = 0;
	EXPECT_EQ(code_of(quick(TrainConfig::report()), one_class), ExitCode::kBadData);
}

TEST(Trainer, InterruptStopsTraining)
{
	const Dataset d = rule_data(1000, 8);
	std::atomic<bool> stop{true};
	TrainHooks hooks;
	hooks.interrupt = &stop;
	try {
		train(d, quick(TrainConfig::report()), hooks);
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), ExitCode::kInterrupted);
	}
}

TEST(Trainer, EvaluateMatchesTheScalarReference)
{
	const Dataset d = rule_data(700, 9);
	const TrainResult r = train(d, quick(TrainConfig::recommended()));
	const EvalResult e = evaluate(r.model, d);
	size_t wrong = 0;
	for (size_t i = 0; i < d.rows; ++i)
		wrong += (r.model.logit_reference(d.row(i)) > 0.0f) != (d.y[i] == 1);
	EXPECT_EQ(e.misclassified, wrong);
	EXPECT_EQ(e.rows, d.rows);
	// Folding the standardisation into the first layer changes no decision here.
	EXPECT_EQ(evaluate(r.model.fold_standardisation(), d).misclassified, wrong);
}

}  // namespace
}  // namespace kmlb
