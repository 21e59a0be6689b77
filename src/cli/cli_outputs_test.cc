// Outputs as a shell redirection treats them (issue 13, item 1): `-` is
// stdout, devices and FIFOs are written through and never replaced, a
// symlink is followed, and a command's several outputs are complete or
// absent even when the disk fills up.
#include <algorithm>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

namespace fs = std::filesystem;
using testing::run_kmlb;
using testing::TempDir;

const std::string kSmall = "generate --preset idle --rows 50 --format raw";

TEST(CliOutputs, DashIsStandardOutput)
{
	TempDir dir;
	const CommandOutput c = run_command("cd " + shell_quote(dir.path().string()) + " && " + testing::kmlb_binary() +
						    " " + kSmall + " --out -",
					    false);
	ASSERT_EQ(c.exit_code, 0) << c.output;
	EXPECT_EQ(c.output.rfind("ts,", 0), 0u) << c.output.substr(0, 200);
	EXPECT_EQ(std::count(c.output.begin(), c.output.end(), '\n'), 51);
	EXPECT_FALSE(fs::exists(dir / "-")) << "--out - created a file named '-'";
	EXPECT_FALSE(fs::exists(dir / "-.json"));
	// --json would print the sidecar into the data stream: refused.
	EXPECT_EQ(run_kmlb(kSmall + " --out - --json").exit_code, 2);
}

TEST(CliOutputs, ASymlinkIsFollowedAndAFifoWrittenThrough)
{
	TempDir dir;
	fs::create_symlink("real.csv", dir / "link.csv");
	auto r = run_kmlb(kSmall + " --out " + dir / "link.csv");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir / "link.csv"))) << "the symlink was replaced";
	EXPECT_EQ(read_file(dir / "real.csv").rfind("ts,", 0), 0u);

	ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
	const CommandOutput c = run_command("cat " + shell_quote(dir / "fifo") + " > " + shell_quote(dir / "got") + " & " +
					    testing::kmlb_binary() + " " + kSmall + " --out " + shell_quote(dir / "fifo") +
					    "; rc=$?; wait; exit $rc");
	ASSERT_EQ(c.exit_code, 0) << c.output;
	EXPECT_TRUE(fs::is_fifo(dir / "fifo")) << "the FIFO was replaced by a file";
	EXPECT_EQ(read_file(dir / "got").rfind("ts,", 0), 0u);
	EXPECT_FALSE(fs::exists(dir / "fifo.json"));
}

TEST(CliOutputs, AFullDeviceIsAWriteError)
{
	if (!fs::is_character_file("/dev/full"))
		GTEST_SKIP() << "no /dev/full";
	const auto r = run_kmlb(kSmall + " --out /dev/full");
	EXPECT_EQ(r.exit_code, 74) << r.output;
	EXPECT_NE(r.output.find("kmlb: /dev/full: write failed: No space left on device"), std::string::npos) << r.output;
	EXPECT_TRUE(fs::is_character_file("/dev/full"));
	EXPECT_FALSE(fs::exists("/dev/full.json"));
}

// A disk that fills up while `train` writes: the file size limit (16 KiB:
// /bin/sh counts 512-byte blocks; with SIGXFSZ ignored, writes fail with
// EFBIG) lets model.json (about 10 KiB) fit but not the 300-epoch history.
// Nothing is left that looks like a usable run.
TEST(CliOutputs, TrainOnAFullDiskLeavesNoPartialRun)
{
	TempDir dir;
	ASSERT_EQ(run_kmlb("generate --preset seed --rows 2000 --out " + dir / "seed.csv").exit_code, 0);
	const CommandOutput c = run_command("trap '' XFSZ; ulimit -f 32; " + testing::kmlb_binary() +
					    " train --quiet --protocol report --patience 1000 --epochs 100 --data " +
					    shell_quote(dir / "seed.csv") + " --out " + shell_quote(dir / "run"));
	EXPECT_EQ(c.exit_code, 74) << c.output;
	EXPECT_NE(c.output.find("File too large"), std::string::npos) << c.output;
	for (const char *name : {"model.json", "metrics.json", "history.csv", "training-curves.svg"})
		EXPECT_FALSE(fs::exists(dir / (std::string("run/") + name))) << name << " left behind";
	size_t temps = 0;
	if (fs::exists(dir / "run"))
		for (const auto &e : fs::directory_iterator(dir / "run"))
			temps += e.path().string().find(".tmp") != std::string::npos;
	EXPECT_EQ(temps, 0u);
}

}  // namespace
}  // namespace kmlb
