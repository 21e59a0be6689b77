#include "subprocess.h"

#include <cstdio>
#include <filesystem>
#include <sys/wait.h>

namespace kmlb {

CommandOutput run_command(const std::string &command, bool merge_stderr)
{
	CommandOutput r;
	FILE *p = ::popen((merge_stderr ? command + " 2>&1" : command).c_str(), "r");
	if (!p)
		return r;
	char buf[4096];
	size_t n;
	while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
		r.output.append(buf, n);
	const int status = ::pclose(p);
	r.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return r;
}

std::string shell_quote(std::string_view text)
{
	std::string q = "'";
	for (char c : text)
		q += c == '\'' ? std::string("'\\''") : std::string(1, c);
	return q + "'";
}

std::string self_executable()
{
	std::error_code ec;
	const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
	return ec ? std::string("kmlb") : p.string();
}

}  // namespace kmlb
