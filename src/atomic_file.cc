#include "atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

#include "exit_codes.h"

namespace kmlb {

void write_file_atomic(const std::string &path, std::string_view content)
{
	const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
	const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		throw Error(ExitCode::kWriteError,
			    fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
	size_t done = 0;
	while (done < content.size()) {
		const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			const int err = errno;
			::close(fd);
			::unlink(tmp.c_str());
			throw Error(ExitCode::kWriteError,
				    fmt::format("{}: write failed: {}", path, std::strerror(err)));
		}
		done += static_cast<size_t>(n);
	}
	if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
		const int err = errno;
		::unlink(tmp.c_str());
		throw Error(ExitCode::kWriteError,
			    fmt::format("{}: cannot write: {}", path, std::strerror(err)));
	}
}

std::string read_file(const std::string &path)
{
	FILE *f = std::fopen(path.c_str(), "rb");
	if (!f)
		throw Error(ExitCode::kNoInput,
			    fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
	std::string out;
	char buf[1 << 16];
	size_t n;
	while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
		out.append(buf, n);
	const bool failed = std::ferror(f);
	std::fclose(f);
	if (failed)
		throw Error(ExitCode::kNoInput, fmt::format("{}: read error", path));
	return out;
}

std::string fnv1a64_hex(std::string_view bytes)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (unsigned char c : bytes) {
		h ^= c;
		h *= 0x100000001b3ULL;
	}
	return fmt::format("{:016x}", h);
}

}  // namespace kmlb
