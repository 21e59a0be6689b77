#include "atomic_file.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "exit_codes.h"

namespace kmlb {

namespace {

[[noreturn]] void write_error(const std::string &path, std::string_view what, int err)
{
	throw Error(ExitCode::kWriteError, fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

// Writes all of `content` to fd; false with errno set on failure.
bool write_all(int fd, std::string_view content)
{
	size_t done = 0;
	while (done < content.size()) {
		const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		done += static_cast<size_t>(n);
	}
	return true;
}

void write_through(const std::string &path, std::string_view content)
{
	const bool is_stdout = path == "-";
	const int fd = is_stdout ? STDOUT_FILENO : ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		write_error(path, "cannot write", errno);
	std::fflush(stdout);  // keep what was printed before in order
	const bool ok = write_all(fd, content);
	const int err = errno;
	const bool closed = is_stdout || ::close(fd) == 0;
	if (!ok)
		write_error(is_stdout ? "standard output" : path, "write failed", err);
	if (!closed)
		write_error(path, "write failed", errno);
}

// Where a regular-file output really goes: a symlink is followed (the link
// stays, its target is replaced).
std::string resolve_target(const std::string &path)
{
	struct stat st;
	if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode))
		return path;
	char buf[PATH_MAX];
	if (!::realpath(path.c_str(), buf)) {
		// A dangling link: create the file it points to.
		const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
		if (n <= 0)
			return path;
		buf[n] = '\0';
		std::string target(buf);
		if (target.front() != '/') {
			const size_t slash = path.rfind('/');
			if (slash != std::string::npos)
				target = path.substr(0, slash + 1) + target;
		}
		return target;
	}
	return buf;
}

struct Temp {
	std::string target;  // what the user named, for messages
	std::string real;    // the file renamed over
	std::string tmp;
	bool renamed = false;
};

// Writes content to a fresh temporary beside the real target.
void write_temp(Temp &t, std::string_view content)
{
	t.real = resolve_target(t.target);
	t.tmp = fmt::format("{}.tmp.{}", t.real, ::getpid());
	mode_t mode = 0644;
	struct stat st;
	if (::stat(t.real.c_str(), &st) == 0) {
		if (S_ISDIR(st.st_mode))
			throw Error(ExitCode::kWriteError, fmt::format("{}: is a directory", t.target));
		mode = st.st_mode & 07777;  // keep the permissions of what is replaced
	}
	const int fd = ::open(t.tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		write_error(t.target, "cannot write", errno);
	const bool ok = write_all(fd, content);
	const int err = errno;
	if (!ok) {
		::close(fd);
		::unlink(t.tmp.c_str());
		write_error(t.target, "write failed", err);
	}
	if (::close(fd) != 0) {
		const int close_err = errno;
		::unlink(t.tmp.c_str());
		write_error(t.target, "write failed", close_err);
	}
}

}  // namespace

bool is_stream_output(const std::string &path)
{
	if (path == "-")
		return true;
	struct stat st;
	return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

void write_file_atomic(const std::string &path, std::string_view content)
{
	const OutputFile one{path, std::string(content)};
	write_files_atomic({&one, 1});
}

void write_files_atomic(std::span<const OutputFile> files)
{
	std::vector<Temp> temps;
	std::vector<const OutputFile *> streams;
	for (const OutputFile &f : files) {
		if (f.path.empty())
			throw Error(ExitCode::kWriteError, "empty output path");
		if (is_stream_output(f.path))
			streams.push_back(&f);
		else
			temps.push_back({f.path, "", "", false});
	}
	auto undo = [&temps] {
		for (Temp &t : temps) {
			if (!t.tmp.empty())
				::unlink(t.tmp.c_str());
			if (t.renamed)
				::unlink(t.real.c_str());
		}
	};
	try {
		size_t i = 0;
		for (const OutputFile &f : files)
			if (!is_stream_output(f.path))
				write_temp(temps[i++], f.content);
		for (Temp &t : temps) {
			if (std::rename(t.tmp.c_str(), t.real.c_str()) != 0)
				write_error(t.target, "cannot write", errno);
			t.tmp.clear();
			t.renamed = true;
		}
		for (const OutputFile *f : streams)
			write_through(f->path, f->content);
	} catch (...) {
		undo();
		throw;
	}
}

std::string read_file(const std::string &path)
{
	const bool is_stdin = path == "-";
	FILE *f = is_stdin ? stdin : std::fopen(path.c_str(), "rb");
	if (!f)
		throw Error(ExitCode::kNoInput, fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
	struct stat st;
	if (::fstat(::fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		std::fclose(f);
		throw Error(ExitCode::kNoInput, fmt::format("{}: is a directory, expected a file", path));
	}
	std::string out;
	char buf[1 << 16];
	size_t n;
	while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
		out.append(buf, n);
	const bool failed = std::ferror(f);
	if (!is_stdin)
		std::fclose(f);
	if (failed)
		throw Error(ExitCode::kNoInput, fmt::format("{}: read error", is_stdin ? "standard input" : path));
	return out;
}

bool same_file(const std::string &a, const std::string &b)
{
	if (a == "-" || b == "-")
		return false;
	struct stat sa, sb;
	return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
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
