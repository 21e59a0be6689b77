// Outputs as a shell redirection would treat them: symlinks and FIFOs are
// written through, not replaced; multi-file outputs are complete or absent.
#include "atomic_file.h"

#include <filesystem>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

#include "exit_codes.h"
#include "temp_dir.h"

namespace kmlb {
namespace {

namespace fs = std::filesystem;

TEST(AtomicFile, ReplacesARegularFileAndKeepsItsMode)
{
	TempDir dir("kmlb-atomic");
	write_file_atomic(dir / "a", "old");
	::chmod((dir / "a").c_str(), 0600);
	write_file_atomic(dir / "a", "new");
	EXPECT_EQ(read_file(dir / "a"), "new");
	EXPECT_EQ(fs::status(dir / "a").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST(AtomicFile, FollowsASymlinkInsteadOfReplacingIt)
{
	TempDir dir("kmlb-atomic");
	write_file_atomic(dir / "target", "old");
	fs::create_symlink("target", dir / "link");
	write_file_atomic(dir / "link", "new");
	EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir / "link")));
	EXPECT_EQ(read_file(dir / "target"), "new");
	// A dangling link creates its target.
	fs::create_symlink("later", dir / "dangling");
	write_file_atomic(dir / "dangling", "x");
	EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir / "dangling")));
	EXPECT_EQ(read_file(dir / "later"), "x");
}

TEST(AtomicFile, WritesThroughAFifo)
{
	TempDir dir("kmlb-atomic");
	ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
	std::string got;
	std::thread reader([&] { got = read_file(dir / "fifo"); });
	write_file_atomic(dir / "fifo", "through the pipe\n");
	reader.join();
	EXPECT_EQ(got, "through the pipe\n");
	EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
	EXPECT_TRUE(is_stream_output(dir / "fifo"));
	EXPECT_TRUE(is_stream_output("-"));
	EXPECT_FALSE(is_stream_output(dir / "none"));
}

TEST(AtomicFile, AFullDeviceIsAWriteErrorAndStaysADevice)
{
	if (!fs::is_character_file("/dev/full"))
		GTEST_SKIP() << "no /dev/full";
	try {
		write_file_atomic("/dev/full", "x");
		FAIL() << "writing /dev/full succeeded";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), ExitCode::kWriteError);
		EXPECT_NE(std::string(e.what()).find("/dev/full: write failed"), std::string::npos) << e.what();
	}
	EXPECT_TRUE(fs::is_character_file("/dev/full"));
}

TEST(AtomicFile, RefusesADirectory)
{
	TempDir dir("kmlb-atomic");
	fs::create_directory(dir / "d");
	EXPECT_THROW(write_file_atomic(dir / "d", "x"), Error);
	EXPECT_TRUE(fs::is_directory(dir / "d"));
}

TEST(AtomicFile, SeveralFilesAreCompleteOrAbsent)
{
	TempDir dir("kmlb-atomic");
	const OutputFile bad[] = {{dir / "a", "1"}, {dir / "b", "2"}, {dir / "no/such/c", "3"}};
	EXPECT_THROW(write_files_atomic(bad), Error);
	size_t left = 0;
	for ([[maybe_unused]] const auto &e : fs::directory_iterator(dir.path()))
		++left;
	EXPECT_EQ(left, 0u) << "a failed multi-file write left files behind";
	const OutputFile good[] = {{dir / "a", "1"}, {dir / "b", "2"}};
	write_files_atomic(good);
	EXPECT_EQ(read_file(dir / "a") + read_file(dir / "b"), "12");
}

TEST(AtomicFile, SameFileSeesThroughLinks)
{
	TempDir dir("kmlb-atomic");
	write_file_atomic(dir / "a", "x");
	fs::create_symlink(dir / "a", dir / "l");
	EXPECT_TRUE(same_file(dir / "a", dir / "l"));
	EXPECT_TRUE(same_file(dir / "a", dir.path().string() + "/./a"));
	EXPECT_FALSE(same_file(dir / "a", dir / "none"));
}

}  // namespace
}  // namespace kmlb
