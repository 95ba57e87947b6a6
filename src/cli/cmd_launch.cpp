// bertforge launch: flags; the launcher is src/dist/launcher.h.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "dist/launcher.h"

namespace bf::cli {

void add_launch_command(CLI::App& app) {
  auto o = std::make_shared<dist::LaunchOptions>();
  auto* launch = app.add_subcommand(
      "launch", "Run pretrain or finetune as N data-parallel worker processes (torchrun's environment)");
  launch->add_option("--nproc-per-node", o->nproc_per_node, "Worker processes on this host")
      ->check(CLI::Range(1, 1024));
  launch->add_option("--nnodes", o->nnodes, "Hosts taking part")->check(CLI::Range(1, 100000));
  launch->add_option("--node-rank", o->node_rank, "This host's index, 0 .. nnodes-1 (node 0 serves the rendezvous)")
      ->check(CLI::NonNegativeNumber);
  launch->add_option("--master-addr", o->master_addr, "Address of node 0, reachable from every host")
      ->capture_default_str();
  launch->add_option("--master-port", o->master_port, "Free TCP port on node 0 for the rendezvous")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  launch->add_option("--grace", o->grace_seconds, "Seconds the other workers get to stop after one fails")
      ->capture_default_str();
  launch->add_option("command", o->command, "After --: the bertforge command each worker runs")->required();
  launch->footer("Example: bertforge launch --nproc-per-node 2 -- pretrain --config configs/mini.yaml");
  launch->callback([o] {
    const int code = dist::launch_workers(*o);
    if (code != 0) std::exit(code);
  });
}

}  // namespace bf::cli
