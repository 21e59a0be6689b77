// The kmlb command line: every subcommand lives in its own cmd_<name>.cc and
// registers itself on the app; its callback stores the job for main() to run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace kmlb::cli {

using Job = std::function<int()>;

void add_generate(CLI::App &app, Job &job);
void add_prep(CLI::App &app, Job &job);
void add_teacher(CLI::App &app, Job &job);

}  // namespace kmlb::cli
