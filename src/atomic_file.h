// Outputs behave like a shell redirection, never half-written:
//  - "-" is standard output;
//  - an existing file that is not a regular file (a terminal, /dev/null,
//    /dev/full, a FIFO, /dev/stdout) is opened and written through, never
//    replaced; a write error there is a write error;
//  - a regular file (or a symlink to one, followed) is replaced atomically:
//    the content goes to a temporary file in the target's directory and is
//    renamed over it only when completely written;
//  - a directory is refused.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace kmlb {

// Throws Error(kWriteError) naming the path on any failure; the target is
// then untouched and the temporary file removed.
void write_file_atomic(const std::string &path, std::string_view content);

// Several outputs that belong together, complete or absent: every content is
// written to its temporary first and only then are all renamed into place.
// On any failure every temporary is removed and so is every output already
// renamed, and Error(kWriteError) names the path that failed.
struct OutputFile {
	std::string path;
	std::string content;
};
void write_files_atomic(std::span<const OutputFile> files);

// True for "-" and for existing files that are not regular files (devices,
// FIFOs, /dev/stdout): outputs written through rather than replaced. Files
// that describe an output (sidecars) are not written beside those.
bool is_stream_output(const std::string &path);

// Reads a whole file ("-" is standard input); Error(kNoInput) if it is
// missing or unreadable, or a directory.
std::string read_file(const std::string &path);

// True when both paths name the same existing file (hard links and
// symlinks included): an output must not overwrite its own input.
bool same_file(const std::string &a, const std::string &b);

// Hex FNV-1a 64 of bytes: the "hash of the data" in sidecars and models.
std::string fnv1a64_hex(std::string_view bytes);

}  // namespace kmlb
