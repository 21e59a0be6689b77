// kmlb verify: whether a model decides as the teacher on every point of the
// verification domain (domain.h), not only on a test set.
//
// Method (docs/verify.md). Each region of the domain fixes the 0/1 features
// and gives every numeric input an interval on which the teacher's decision
// is constant. A box of such intervals is mapped to intervals of the model's
// inputs (every feature transform is monotone in its natural unit) and
// pushed through the network by interval bound propagation:
//   fixed point  exact integer intervals through the same operations as
//                fixed_logit_reference (= the exported header, bit for bit):
//                sums in 128 bits, ReLU, shift and cap are monotone, so each
//                unit's interval holds every value the unit can take;
//                decided when the logit interval lies on one side of 0
//                (migrate iff logit >= 0).
//   float        the same in double precision, each unit's interval widened
//                by the worst rounding error of the float32 evaluation
//                ((n + 2) u sum |terms|, u = 2^-24); migrate iff logit > 0.
// A box whose logit interval straddles 0 is split in two along the input
// that moves the first layer most; its middle point is evaluated concretely
// first. A concrete point is always a realized kernel state: the teacher
// labels it and the model decides it through the kernel's feature
// extraction, so every counterexample replays through kmlb teacher and
// kmlb eval. Outcome: verified only when every box of every region was
// decided equal to the teacher; falsified when a counterexample was found;
// unknown when the box budget ran out first.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain.h"
#include "fixed_point.h"
#include "model_file.h"

namespace kmlb {

// A model as the verifier sees it.
class VerifyTarget {
public:
	virtual ~VerifyTarget() = default;
	virtual FeatureSet feature_set() const = 0;
	// The decision on one state (the kernel's feature extraction).
	virtual bool decide(const KernelState &s) const = 0;
	// Over every input between the features of `lo` and of `hi` (per input):
	// 1 all migrate, 0 none migrates, -1 not decided by the bounds.
	virtual int decide_box(const KernelState &lo, const KernelState &hi) const = 0;
	// How much input `feature` moves the first layer over the box (where to split).
	virtual double sensitivity(size_t feature, const KernelState &lo, const KernelState &hi) const = 0;
};

std::unique_ptr<VerifyTarget> fixed_target(const FixedModel &m);
std::unique_ptr<VerifyTarget> float_target(const ModelFile &m);

struct VerifyOptions {
	uint64_t max_boxes = 50'000'000;       // then: unknown, every region left undecided
	// Boxes one region may take; a region past it is left undecided and the
	// next one is searched, so one hard region cannot use the whole budget.
	uint64_t max_boxes_per_region = UINT64_MAX;
	size_t max_counterexamples = 100'000;  // then stop (falsified)
	size_t max_per_region = 20;            // then the next region (falsified)
};

enum class VerifyOutcome { kVerified, kFalsified, kUnknown };
std::string_view outcome_name(VerifyOutcome o);

struct Counterexample {
	KernelState state;  // can_migrate = the teacher's decision
	Reason reason = Reason::kCacheCold;
	bool model = false;  // the model's decision
	size_t region = 0;   // index into the domain's regions
};

struct VerifyResult {
	VerifyOutcome outcome = VerifyOutcome::kUnknown;
	uint64_t boxes = 0;            // boxes bounded
	uint64_t undecided_boxes = 0;  // left when the budget ran out
	uint64_t concrete_points = 0;  // points evaluated concretely
	size_t regions = 0, regions_wrong = 0;
	size_t regions_undecided = 0;  // no counterexample found, not proven either (a budget ran out)
	std::vector<Counterexample> counterexamples;
	// Boxes bounded per teacher reason of their region: where the time goes.
	std::map<Reason, uint64_t> boxes_by_reason;
	double seconds = 0;
	nlohmann::json to_json() const;  // result, boxes, counterexamples, seconds, by_reason, boxes_by_reason, ...
};

VerifyResult verify(const VerifyDomain &domain, const VerifyTarget &target, const VerifyOptions &opt = {});

// Index of the model input that a numeric dimension feeds.
size_t feature_of_dim(size_t dim);

}  // namespace kmlb
