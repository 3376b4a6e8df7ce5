// The `betamix` command-line tool: one subcommand per file in this folder. Errors become one
// line on stderr and an exit code: 2 for bad input or options, 3 for device errors and
// exhausted memory, 1 for a failed check.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "betamix/error.hpp"
#include "cli/command.hpp"

namespace {
// An error message as one line: a file name may hold a newline or other control characters,
// which are shown escaped (\x0a) instead of breaking the line a script reads.
std::string one_line(const char* what) {
  std::string out;
  for (const char* p = what; *p; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += *p;
    }
  }
  return out;
}

// Prints help or the version; a write that fails (a full disk) is an error, as for any output.
int help_exit(const CLI::App& app, const CLI::Error& e) {
  const int code = app.exit(e);
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::cerr << "betamix: error: stdout: write failed: " << std::strerror(errno) << "\n";
    return betamix::cli::kExitFailure;
  }
  return code;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace betamix::cli;
  CLI::App app(
      "betamix: fit finite mixtures of Beta distributions to samples in (0,1) by maximum\n"
      "likelihood, draw samples from them, and use a fitted mixture (predict, score, pdf, plot).\n"
      "`betamix <command> --help` explains each command.",
      "betamix");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every command");
  app.set_version_flag(
      "--version",
      std::string("betamix ") + BETAMIX_VERSION +
          (BETAMIX_CUDA_BUILT ? " (with the CUDA backend)" : " (without the CUDA backend)"),
      "print the version and exit");
  CommandList commands;
  add_demo_command(app, commands);
  add_fit_command(app, commands);
  add_sample_command(app, commands);
  add_crosscheck_command(app, commands);
  add_predict_command(app, commands);
  add_score_command(app, commands);
  add_pdf_command(app, commands);
  add_plot_command(app, commands);
  // A first word that names no command, or an option before the command: say so (CLI11 would
  // only ask for a command, or report a command's option as missing).
  if (argc > 1) {
    const std::string word = argv[1];
    std::string names;
    bool known = false;
    for (const Command& c : commands) {
      known = known || c.app->get_name() == word;
      names += (names.empty() ? "" : ", ") + c.app->get_name();
    }
    const bool top_level =
        word == "-h" || word == "--help" || word == "--help-all" || word == "--version";
    if (word[0] != '-' && !known) {
      std::cerr << "betamix: error: unknown command \"" << one_line(word.c_str())
                << "\" (the commands: " << names << "; see betamix --help)\n";
      return kExitBadInput;
    }
    if (word[0] == '-' && !top_level) {
      std::cerr << "betamix: error: " << one_line(word.c_str())
                << " before the command: options follow the command, as in betamix fit FILE -k "
                   "2 (the commands: "
                << names << "; see betamix --help)\n";
      return kExitBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return help_exit(app, e);
  } catch (const CLI::CallForAllHelp& e) {
    return help_exit(app, e);
  } catch (const CLI::CallForVersion& e) {
    return help_exit(app, e);
  } catch (const CLI::ParseError& e) {
    // Point to the help of the command that was run, where there is one.
    std::string help = "betamix --help";
    for (const Command& c : commands) {
      if (argc > 1 && c.app->get_name() == argv[1])
        help = "betamix " + c.app->get_name() + " --help";
    }
    std::cerr << "betamix: error: " << one_line(e.what()) << " (see " << help << ")\n";
    return kExitBadInput;
  }
  // An empty value is never meant: it is what an unset shell variable gives ("--weights-file
  // $W"), and taking it as "not given" would drop the weights without a word.
  for (const Command& c : commands) {
    if (!c.app->parsed()) continue;
    for (const CLI::Option* option : c.app->get_options()) {
      for (const std::string& value : option->results()) {
        if (!value.empty() || option->get_expected_min() == 0) continue;
        const std::string name = option->get_name();
        std::cerr << "betamix: error: " << c.app->get_name() << " " << name
                  << ": the value is empty (an unset shell variable?)\n";
        return kExitBadInput;
      }
    }
  }
  try {
    for (const Command& c : commands) {
      if (!c.app->parsed()) continue;
      const int status = c.run();
      // What went to standard output (a result, a table, a summary) is only delivered once it
      // is flushed: a full disk or a closed pipe is an error, not a silent success.
      std::cout.flush();
      if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
        std::cerr << "betamix: error: stdout: write failed: " << std::strerror(errno) << "\n";
        return kExitFailure;
      }
      return status;
    }
  } catch (const betamix::InputError& e) {
    std::cerr << "betamix: error: " << one_line(e.what()) << "\n";
    return kExitBadInput;
  } catch (const betamix::DeviceError& e) {
    std::cerr << "betamix: device error: " << one_line(e.what()) << "\n";
    return kExitDevice;
  } catch (const std::bad_alloc&) {
    std::cerr << "betamix: error: out of host memory (the input takes 8 bytes per sample, a "
                 "fit on the CPU 16 more)\n";
    return kExitDevice;
  } catch (const std::exception& e) {
    std::cerr << "betamix: error: " << one_line(e.what()) << "\n";
    return kExitFailure;
  }
  return kExitFailure;
}
