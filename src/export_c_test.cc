#include "export_c.h"
#include "subprocess.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "atomic_file.h"
#include "cli/cli_test_util.h"
#include "fixed_features.h"
#include "generator.h"
#include "prep.h"
#include "rng.h"

namespace kmlb {
namespace {

using testing::TempDir;


ModelFile fixture(const std::string &name)
{
	return load_model(std::string(KMLB_TEST_DATA_DIR) + "/fixed_seed_" + name + ".model.json");
}

const Calibration &seed_calibration()
{
	static const Calibration cal = default_calibration(FeatureSet::kSeed);
	return cal;
}

FixedModel seed_model(const std::string &name, std::optional<int> frac_bits = std::nullopt)
{
	kmlb::QuantizeOptions opt;
	opt.frac_bits = frac_bits;
	return quantize(fixture(name), seed_calibration(), opt).model;
}

// States of the load presets: every modern branch (SMT, active balance,
// NUMA groups, idle policy) and the seed preset.
std::vector<KernelState> all_preset_states(size_t rows_each)
{
	std::vector<KernelState> out;
	for (Preset p : {Preset::kSeed, Preset::kIdle, Preset::kBalanced, Preset::kOverloaded}) {
		GeneratorConfig c = preset_config(p);
		c.rows = rows_each;
		for (const KernelState &s : generate_states(c).states)
			if (passes_prep_filter(s, c.kernel))
				out.push_back(s);
	}
	return out;
}

// A modern-set model without training: Glorot weights and the four presets
// as calibration. Any weights exercise the exported code.
FixedModel modern_model(const Calibration &cal)
{
	Rng rng(5);
	ModelFile file;
	file.feature_set = FeatureSet::kModern;
	file.model = Mlp::glorot_uniform(21, {9, 6}, rng);
	kmlb::QuantizeOptions opt;
	opt.frac_bits = 12;
	return quantize(file, cal, opt).model;
}

// Calls every API function from non-inline functions, so all of it is compiled.
constexpr const char *kUseEverything = R"C(#include "kmlb_model.h"

int use_fixed(const int32_t *x);
int use_state(const struct kmlb_state *s);
void use_features(const struct kmlb_state *s, int32_t *x);
int32_t use_logit(const int32_t *x);

int use_fixed(const int32_t *x)
{
	return kmlb_predict_fixed(x);
}

int use_state(const struct kmlb_state *s)
{
	return kmlb_predict_state(s);
}

void use_features(const struct kmlb_state *s, int32_t *x)
{
	kmlb_features(s, x);
}

int32_t use_logit(const int32_t *x)
{
	return kmlb_logit_fixed(x);
}
)C";

// Just enough of the kernel's headers for the __KERNEL__ branch.
constexpr const char *kStubTypes = R"C(#ifndef _LINUX_TYPES_H
#define _LINUX_TYPES_H
typedef signed char s8;
typedef unsigned char u8;
typedef int s32;
typedef unsigned int u32;
typedef long long s64;
typedef unsigned long long u64;
typedef s32 int32_t;
typedef u32 uint32_t;
typedef s64 int64_t;
typedef u64 uint64_t;
#endif
)C";
constexpr const char *kStubMath64 = R"C(#ifndef _LINUX_MATH64_H
#define _LINUX_MATH64_H
static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}
#endif
)C";

const std::string kKernelWarnings =
	" -Wall -Wextra -Werror -Wundef -Wvla -Wstrict-prototypes -Wmissing-prototypes"
	" -Wdeclaration-after-statement -Wframe-larger-than=2048";

void write(const std::string &path, const std::string &text) { write_file_atomic(path, text); }

std::string cc()
{
	const char *env = std::getenv("CC");
	return env && *env ? env : "cc";
}

// The header compiled the way the issue states, then as x86-64 kernel code
// (stub <linux/types.h>, the kernel's code model and FP/SIMD ban): no
// warning, no external symbol (no memcpy, memset or libgcc division).
TEST(ExportC, HeaderCompilesAsFreestandingKernelCode)
{
	const Calibration modern_cal = calibration_from_states(all_preset_states(3000), FeatureSet::kModern, KernelVersion::k5_15, "presets");
	// A model whose hidden units never fire (training can collapse): no
	// unused table or variable may be left behind.
	FixedModel dead = seed_model("171", 11);
	std::fill(dead.layers[0].cap.begin(), dead.layers[0].cap.end(), 0);
	for (const FixedModel &m : {seed_model("573", 12), modern_model(modern_cal), dead}) {
		TempDir dir;
		write(dir / "kmlb_model.h", export_c_header(m, "0123456789abcdef"));
		write(dir / "use.c", kUseEverything);
		std::filesystem::create_directories(dir.path() / "stub" / "linux");
		write(dir / "stub/linux/types.h", kStubTypes);
		write(dir / "stub/linux/math64.h", kStubMath64);
		const std::string base = cc() + " -std=gnu11 -O2 -ffreestanding -nostdlib -mgeneral-regs-only" +
					 kKernelWarnings + " -DKMLB_ALLOW_UNVERIFIED -c " + (dir / "use.c");
		const CommandOutput user = run_command(base + " -o " + (dir / "user.o"));
		ASSERT_EQ(user.exit_code, 0) << user.output;
		const CommandOutput kernel = run_command(base + " -o " + (dir / "kernel.o") +
					" -D__KERNEL__ -nostdinc -isystem " + (dir / "stub") +
					" -mcmodel=kernel -mno-red-zone -fno-pic -fno-common -fno-strict-aliasing"
					" -fno-asynchronous-unwind-tables -fno-strict-overflow -fno-delete-null-pointer-checks");
		ASSERT_EQ(kernel.exit_code, 0) << kernel.output;
		for (const char *obj : {"user.o", "kernel.o"}) {
			const CommandOutput nm = run_command("nm -u " + (dir / obj));
			ASSERT_EQ(nm.exit_code, 0) << nm.output;
			EXPECT_EQ(nm.output, "") << obj << " needs external symbols";
		}
		// The feature set and sizes are what the header says.
		const std::string text = read_file(dir / "kmlb_model.h");
		EXPECT_NE(text.find(fmt::format("#define KMLB_NUM_FEATURES {}\n", m.inputs())), std::string::npos);
		EXPECT_NE(text.find(fmt::format("#define KMLB_FRAC_BITS {}\n", m.frac_bits)), std::string::npos);
		EXPECT_NE(text.find("0123456789abcdef"), std::string::npos);
	}
}

// The verification contract: a header whose model is not verified refuses to
// compile unless KMLB_ALLOW_UNVERIFIED is defined; a verified one compiles
// as it is, and the banner says which.
TEST(ExportC, UnverifiedHeaderRefusesToCompileUnlessAllowed)
{
	const FixedModel m = seed_model("171", 11);
	for (bool verified : {false, true}) {
		TempDir dir;
		const ExportVerification v{verified, verified ? "verified: test" : "falsified: test"};
		write(dir / "kmlb_model.h", export_c_header(m, "0123456789abcdef", v));
		write(dir / "use.c", kUseEverything);
		const std::string text = read_file(dir / "kmlb_model.h");
		EXPECT_NE(text.find(fmt::format("#define KMLB_MODEL_VERIFIED {}\n", verified ? 1 : 0)), std::string::npos);
		EXPECT_NE(text.find(verified ? " * Verification:  VERIFIED (verified: test)"
					     : " * Verification:  NOT VERIFIED (falsified: test)"),
			  std::string::npos);
		const std::string base = cc() + " -std=gnu11 -O2 -ffreestanding -nostdlib -mgeneral-regs-only" +
					 kKernelWarnings + " -c " + (dir / "use.c") + " -o " + (dir / "use.o");
		const CommandOutput plain = run_command(base);
		if (verified) {
			EXPECT_EQ(plain.exit_code, 0) << plain.output;
		} else {
			EXPECT_NE(plain.exit_code, 0);
			EXPECT_NE(plain.output.find("not verified"), std::string::npos) << plain.output;
		}
		const CommandOutput allowed = run_command(base + " -DKMLB_ALLOW_UNVERIFIED");
		EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
	}
}

// With Debian's headers for the guest kernel installed (the kernel module's
// build machine), a real Kbuild module including the header, W=1, -Werror.
TEST(ExportC, HeaderBuildsInAKernelModule)
{
	// The headers of whatever 6.1 ABI Debian serves today (fetched and
	// unpacked into the cache on first use): never a pinned release, never a skip.
	// stderr (apt's progress, the script's errors) stays on the test's stderr
	const CommandOutput headers = run_command(std::string(KMLB_SOURCE_DIR) + "/tools/kernel-headers.sh", false);
	ASSERT_EQ(headers.exit_code, 0) << "tools/kernel-headers.sh failed: " << headers.output;
	const size_t eol = headers.output.find('\n');
	const std::string kdir = headers.output.substr(0, eol);
	std::string make_flags = eol == std::string::npos ? "" : headers.output.substr(eol + 1);
	while (!make_flags.empty() && make_flags.back() == '\n')
		make_flags.pop_back();
	ASSERT_TRUE(std::filesystem::exists(kdir + "/Makefile")) << "no Makefile in '" << kdir << "'";
	TempDir dir;
	write(dir / "kmlb_model.h", export_c_header(seed_model("171", 11), "0123456789abcdef"));
	write(dir / "Kbuild", "obj-m := kmlb_hdrtest.o\nccflags-y := -I$(src) -DKMLB_ALLOW_UNVERIFIED\n");
	write(dir / "kmlb_hdrtest.c", R"C(// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include "kmlb_model.h"

static int __init kmlb_hdrtest_init(void)
{
	struct kmlb_state s = { 0 };

	return kmlb_predict_state(&s) > 1;
}
module_init(kmlb_hdrtest_init);
MODULE_LICENSE("GPL");
)C");
	const CommandOutput make = run_command("make -C " + kdir + " M=" + dir.path().string() + " " + make_flags + " W=1 KCFLAGS=-Werror modules");
	ASSERT_EQ(make.exit_code, 0) << make.output;
	EXPECT_TRUE(std::filesystem::exists(dir.path() / "kmlb_hdrtest.ko")) << make.output;
}

// The exported code, compiled by the system compiler and loaded: the same
// logit as the C++ reference on every row of the seed data set, on
// arbitrary int32 inputs (saturation), and the same features and decisions
// from raw states.
TEST(ExportC, CompiledHeaderIsBitExactOnTheSeedDataSet)
{
	const Calibration &cal = seed_calibration();
	for (const FixedModel &m : {seed_model("573"), seed_model("171", 11)}) {
		TempDir dir;
		const ExportedModule mod = ExportedModule::build(m, dir.path().string());
		const std::vector<int32_t> x = cal.fixed_inputs(m.frac_bits);
		for (size_t r = 0; r < cal.rows; ++r) {
			const int32_t *row = x.data() + r * 15;
			const int64_t want = fixed_logit_reference(m, row);
			ASSERT_EQ(mod.logit(row), want) << m.shape_name() << " row " << r;
			int32_t features[15];
			mod.features(cal.states[r], features);
			ASSERT_TRUE(std::equal(features, features + 15, row)) << "row " << r;
			ASSERT_EQ(mod.predict_state(cal.states[r]), fixed_decision(want)) << "row " << r;
		}
		std::mt19937 gen(11);
		std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
		for (int r = 0; r < 20000; ++r) {
			int32_t row[15];
			for (int32_t &v : row)
				v = r % 2 ? any(gen) : any(gen) >> (gen() % 31);
			ASSERT_EQ(mod.logit(row), fixed_logit_reference(m, row)) << "random row " << r;
		}
		EXPECT_EQ(mod.count_fixed(x.data(), cal.rows), [&] {
			size_t n = 0;
			for (size_t r = 0; r < cal.rows; ++r)
				n += fixed_decision(fixed_logit_reference(m, x.data() + r * 15));
			return n;
		}());
	}
}

TEST(ExportC, ModernRawStateFunctionsEqualTheCppExtraction)
{
	const std::vector<KernelState> states = all_preset_states(20000);
	const Calibration cal = calibration_from_states(states, FeatureSet::kModern, KernelVersion::k5_15, "presets");
	const FixedModel m = modern_model(cal);
	TempDir dir;
	const ExportedModule mod = ExportedModule::build(m, dir.path().string());
	std::vector<KernelState> odd = cal.states;
	// States outside the ranges: the saturation must match too.
	KernelState s;
	s.src_len = 1000;
	s.dst_load = -7;
	s.src_load = int64_t{1} << 50;
	s.numa_group = 1;
	s.group_total_faults = 3;
	s.group_dst_faults = 90;
	s.delta_faults = -(int64_t{1} << 60);
	s.total_faults = int64_t{1} << 61;
	odd.push_back(s);
	for (size_t r = 0; r < odd.size(); ++r) {
		int32_t want[21], got[21];
		extract_features_fixed(odd[r], FeatureSet::kModern, m.frac_bits, want);
		mod.features(odd[r], got);
		ASSERT_TRUE(std::equal(got, got + 21, want)) << "state " << r;
		ASSERT_EQ(mod.logit(want), fixed_logit_reference(m, want)) << "state " << r;
		ASSERT_EQ(mod.predict_state(odd[r]), fixed_decision(fixed_logit_reference(m, want))) << "state " << r;
	}
	// The batched struct kmlb_state path gives the same count.
	const std::vector<unsigned char> packed = mod.make_states(odd);
	size_t n = 0;
	for (const KernelState &k : odd)
		n += mod.predict_state(k);
	EXPECT_EQ(mod.count_states(packed.data(), odd.size()), n);
}

}  // namespace
}  // namespace kmlb
