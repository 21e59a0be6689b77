// Exit codes of the kmlb command line (sysexits.h values where one fits) and
// the error type that carries one up to main().
#pragma once

#include <stdexcept>
#include <string>

namespace kmlb {

enum class ExitCode : int {
	kOk = 0,
	kFailure = 1,      // the job ran and failed (e.g. a check did not hold)
	kUsage = 2,        // bad flags or flag values (unknown kernel version, ...)
	kBadData = 65,     // EX_DATAERR: malformed CSV, NaN, corrupt model file
	kNoInput = 66,     // EX_NOINPUT: an input file is missing or unreadable
	kNoPermission = 77,  // EX_NOPERM: missing privileges (BPF, qemu, ...)
	kWriteError = 74,  // EX_IOERR: an output could not be written
	kInterrupted = 130,
};

// Thrown for every user-facing failure; main() prints what() and exits with code().
class Error : public std::runtime_error {
public:
	Error(ExitCode code, const std::string &message)
		: std::runtime_error(message), code_(code) {}
	ExitCode code() const { return code_; }

private:
	ExitCode code_;
};

}  // namespace kmlb
