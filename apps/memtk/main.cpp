// memtk: parse the command line, dispatch to one subcommand, exit.
#include <CLI/CLI.hpp>

#include "cli_errors.h"
#include "cmd_convert.h"
#include "cmd_diff.h"
#include "cmd_memlog.h"
#include "cmd_query.h"
#include "cmd_render_png.h"
#include "cmd_stats.h"

int main(int argc, char** argv) {
  CLI::App app{"memtk: memory profiling toolkit for PyTorch CUDA snapshots", "memtk"};
  app.set_version_flag("--version", memtk::cli::VersionText(), "memtk's version, build type and library versions");
  app.require_subcommand(1);
  memtk::cli::RegisterConvert(app);
  memtk::cli::RegisterMemlog(app);
  memtk::cli::RegisterStats(app);
  memtk::cli::RegisterDiff(app);
  memtk::cli::RegisterQuery(app);
  memtk::cli::RegisterRenderPng(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand finished with this status
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return memtk::cli::ReportParseError(app, e, argc, argv);  // exit 2
  }
  return 0;
}
