// The kmlb command line: every subcommand lives in its own cmd_<name>.cc and
// registers itself with a static CommandRegistration; its CLI11 callback
// stores the job for main() to run. main.cc needs no edit for a new command.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace kmlb::cli {

using Job = std::function<int()>;
using AddCommand = void (*)(CLI::App &app, Job &job);

// `order` sorts the subcommands in --help (pipeline order).
struct CommandRegistration {
	CommandRegistration(int order, AddCommand add);
};

// Registered commands, sorted by order.
std::vector<AddCommand> registered_commands();

}  // namespace kmlb::cli
