// The fixed-point model as one self-contained C header for the kernel
// (kmlb export-c), and the user-space harness that compiles that header into
// a shared object so that tests and benchmarks run the exact exported code.
//
// The header is freestanding kernel-style C: integer arithmetic only, no
// library calls, no allocation, straight-line code (one loop, bounded by 64
// iterations, in the fault-ratio helper). It defines
//   KMLB_FEATURE_SET, KMLB_NUM_FEATURES, KMLB_FRAC_BITS, KMLB_MODEL_HASH,
//   KMLB_MODEL_VERIFIED (1: kmlb verify proved it equal to the teacher)
//   struct kmlb_state               the raw-schema fields the features need
//   kmlb_features(s, x)             the A2 transforms in fixed point
//   kmlb_logit_fixed(x)             the logit, int32 at the logit's scale
//   kmlb_predict_fixed(x)           1 = migrate, 0 = not
//   kmlb_predict_state(s)           kmlb_features + kmlb_predict_fixed
//
// How the MLP runs (the "kernel path"): two units share one uint64_t
// accumulator, acc = A + B * 2^32 (mod 2^64), so one 64-bit multiply and one
// add do two multiply-accumulates; the proof (fixed_point.h) guarantees
// |A|, |B| < 2^31, so A is the sign-extended low half and
// B = (acc + 2^31) >> 32 (arithmetic). Inputs are taken one at a time and
// skipped when 0 (ReLU zeros, and flags, whose weight column is added without
// a multiply). Everything is unrolled by the generator with the weights as
// const arrays. Bit-exact with fixed_logit_reference (tested).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fixed_point.h"
#include "kernel_state.h"

namespace kmlb {

// What kmlb verify said about the model (verify.h), for the banner and
// KMLB_MODEL_VERIFIED. A header whose model is not verified refuses to
// compile (#error) unless KMLB_ALLOW_UNVERIFIED is defined.
struct ExportVerification {
	bool verified = false;
	std::string summary = "not checked";  // one line
};

// The header text; model_hash names the quantized model file (fnv1a64 of
// its JSON), printed in the banner and as KMLB_MODEL_HASH.
std::string export_c_header(const FixedModel &m, const std::string &model_hash,
			    const ExportVerification &verification = {});

// The harness around the header (#include "<header_name>"), compiled as a
// freestanding shared object: extern entry points for one row (fixed-point
// features or a raw state, the 57 KernelState values in order), and the two
// timed loops. Each loop is its own translation unit with a single call of
// the model, which the compiler then inlines, as in the kernel module's
// return handler.
struct HarnessSources {
	std::string entry_points, loop_fixed, loop_states;
};
HarnessSources c_harness_sources(const std::string &header_name);

// Flags the harness is compiled with: the kernel's code-generation rules
// that matter here (no FP/SIMD registers, no libc, warnings are errors),
// and KMLB_ALLOW_UNVERIFIED: the harness runs any model, verified or not.
std::vector<std::string> harness_cflags();

// The exported header compiled and loaded into this process.
class ExportedModule {
public:
	// Writes kmlb_model.h and the harness sources into `dir`, compiles them with
	// $CC (default cc) into kmlb_harness.so and loads it. Error(kFailure)
	// with the compiler's output if that fails.
	static ExportedModule build(const FixedModel &m, const std::string &dir);
	// Loads a harness built before.
	static ExportedModule load(const std::string &so_path);

	ExportedModule(ExportedModule &&other) noexcept;
	ExportedModule &operator=(ExportedModule &&other) noexcept;
	ExportedModule(const ExportedModule &) = delete;
	ExportedModule &operator=(const ExportedModule &) = delete;
	~ExportedModule();

	const std::string &so_path() const { return so_path_; }
	int32_t logit(const int32_t *x) const { return logit_(x); }
	void features(const KernelState &s, int32_t *x) const;
	int predict_state(const KernelState &s) const;

	// struct kmlb_state values for many states, laid out as the C array.
	std::vector<unsigned char> make_states(std::span<const KernelState> states) const;
	// Decisions over `rows` rows (the benchmark loops): how many migrate.
	size_t count_fixed(const int32_t *x, size_t rows) const { return count_fixed_(x, rows); }
	size_t count_states(const unsigned char *states, size_t rows) const { return count_states_(states, rows); }

private:
	ExportedModule() = default;
	void resolve();

	void *handle_ = nullptr;
	std::string so_path_;
	size_t state_size_ = 0;
	int32_t (*logit_)(const int32_t *) = nullptr;
	void (*raw_features_)(const int64_t *, int32_t *) = nullptr;
	int (*raw_predict_)(const int64_t *) = nullptr;
	void (*make_state_)(const int64_t *, void *) = nullptr;
	size_t (*count_fixed_)(const int32_t *, size_t) = nullptr;
	size_t (*count_states_)(const unsigned char *, size_t) = nullptr;
};

}  // namespace kmlb
