#include "kernel_version.h"

#include <array>
#include <fmt/format.h>

#include "exit_codes.h"

namespace kmlb {

namespace {

constexpr std::array<KernelVersionName, 10> kNames = {{
	{"4.15", KernelVersion::k4_15, "Chen et al.'s kernel"},
	{"5.15", KernelVersion::k5_15, "the seed report's kernel"},
	{"6.6", KernelVersion::k6_6, "EEVDF: only the next buddy is cache hot"},
	{"6.18", KernelVersion::k6_18, "delayed dequeue, eligibility, signed NUMA score, proxy exec"},
	{"6.1", KernelVersion::k5_15, "same decision as 5.15 (renames only); Debian bookworm"},
	{"6.12", KernelVersion::k6_6, "same decision as 6.6 (idle enum renumbered, stats moved)"},
	{"7.1", KernelVersion::k6_18, "same decision as 6.18 (cosmetic changes)"},
	{"7.2", KernelVersion::k6_18, "between 7.1 and 7.3, which decide alike (source not read)"},
	{"7.3", KernelVersion::k6_18, "same decision as 6.18 on Debian 7.3.4's real decisions (single EEVDF runqueue)"},
	{"7.x", KernelVersion::k6_18, "Debian's newest 7.x (trixie-backports, 7.3 when checked): 7.3's teacher"},
}};

}  // namespace

std::span<const KernelVersionName> kernel_version_names() { return kNames; }

std::string_view canonical_name(KernelVersion v)
{
	for (const auto &n : kNames)
		if (n.version == v)
			return n.name;
	return "?";
}

KernelVersion parse_kernel_version(std::string_view name)
{
	for (const auto &n : kNames)
		if (n.name == name)
			return n.version;
	std::string known;
	for (const auto &n : kNames)
		known += fmt::format("{}{}", known.empty() ? "" : ", ", n.name);
	throw Error(ExitCode::kUsage,
		    fmt::format("unknown kernel version '{}' (supported: {})", name, known));
}

}  // namespace kmlb
