#pragma once
// Each subcommand of the `betamix` tool lives in its own file and registers itself on the
// application: it adds a CLI11 subcommand with its options and returns the function that
// runs it. main.cpp calls every add_*_command and runs the one the user chose.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace betamix::cli {

/// A registered subcommand and the function that runs it (returns the exit code).
struct Command {
  CLI::App* app;
  std::function<int()> run;
};
using CommandList = std::vector<Command>;

/// Exit codes of the tool.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;    // a check failed (crosscheck beyond tolerance), device error
constexpr int kExitBadInput = 2;   // bad input: files, values, options
constexpr int kExitDevice = 3;     // the requested device is unavailable or failed
constexpr int kExitStopped = 130;  // a fit stopped by Ctrl-C, its result written (128 + SIGINT)

void add_demo_command(CLI::App& app, CommandList& commands);
void add_fit_command(CLI::App& app, CommandList& commands);
void add_sample_command(CLI::App& app, CommandList& commands);
void add_crosscheck_command(CLI::App& app, CommandList& commands);
void add_predict_command(CLI::App& app, CommandList& commands);
void add_score_command(CLI::App& app, CommandList& commands);
void add_pdf_command(CLI::App& app, CommandList& commands);
void add_plot_command(CLI::App& app, CommandList& commands);

}  // namespace betamix::cli
