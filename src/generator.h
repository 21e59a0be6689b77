// Distillation: a seeded generator of consistent kernel states, labelled by
// the teacher. See generator.cc for every sampling choice and why.
//
// Presets:
//   seed        the report's data set (section 3.1): 86,400 rows, its table's
//               distributions, 5.15 labels, ~18 % / 82 % classes
//   idle        a mostly idle 2-socket SMT machine (Chen: a model trained at
//               high load only scored 85 % here)
//   balanced    about one runnable task per CPU
//   overloaded  about two to three runnable tasks per CPU
//   seed-domain, modern-domain
//               the whole verification domain of the feature set (domain.h):
//               every region alike, queues and loads up to the caps, fault
//               ratios next to 0; what kmlb verify proves a model on
// The load presets draw full states: every hard check, SMT/MC/NUMA domains,
// active balance, NUMA groups, every branch of the chosen kernel version.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_state.h"
#include "kernel_version.h"
#include "teacher.h"

namespace kmlb {

enum class Preset { kSeed, kIdle, kBalanced, kOverloaded, kSeedDomain, kModernDomain };

std::string_view preset_name(Preset p);
Preset parse_preset(std::string_view name);  // Error(kUsage) if unknown
std::span<const std::string_view> preset_names();

struct GeneratorConfig {
	Preset preset = Preset::kSeed;
	uint64_t seed = 1;
	size_t rows = 86400;
	KernelVersion kernel = KernelVersion::k5_15;
	// Run-wide settings of the load presets (the seed preset fixes them).
	int nodes = 2;               // 2 or 4 sockets, one NUMA node each
	int cores_per_node = 14;     // Chen's machine: 2 x 14 x 2 = 56 CPUs
	int threads_per_core = 2;
	int64_t migration_cost_ns = 500000;
	bool numa_balancing = true;
};

// Default configuration of a preset (rows, kernel, topology).
GeneratorConfig preset_config(Preset p);

struct GeneratedStates {
	std::vector<KernelState> states;  // can_migrate = the teacher's decision
	std::vector<Decision> decisions;
};

GeneratedStates generate_states(const GeneratorConfig &config);

// The seed preset's sampling probabilities, exposed for docs and tests.
struct SeedPresetProbabilities {
	double cpu_idle = 0.5;          // then not idle / newly idle: a fair coin
	double same_node = 0.5;
	double prefer = 0.5;            // each of prefer_src / prefer_dst
	double src_non_pref_nr = 0.5;
	double delta_hot = 0.5;
	double buddy_hot = 0.5;         // then next or last buddy: a fair coin
	double extra_fails = 0.70;      // sets the class balance, see generator.cc
	double len_stddev = 3.0;        // |N(0, 3)| rounded, clipped to 0..55
	double delta_faults_stddev = 4.0;  // N(0, 4) rounded, clipped to -10..10
	double load_mean = 1024.0;      // exponential, per runnable task
};

}  // namespace kmlb
