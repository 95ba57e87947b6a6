#pragma once
// Every `bertforge <command>` is registered by one add_*_commands function,
// each in its own file of src/cli. main.cpp calls them all.
namespace CLI {
class App;
}

namespace bf::cli {

void add_version_command(CLI::App& app);
void add_model_commands(CLI::App& app);       // model init | inspect | forward
void add_tokenizer_commands(CLI::App& app);   // tokenizer train | inspect | encode
void add_data_commands(CLI::App& app);        // data build | inspect
void add_train_commands(CLI::App& app);       // pretrain | validate-config
void add_finetune_commands(CLI::App& app);    // finetune | evaluate | predict | embed
void add_bench_commands(CLI::App& app);      // bench train | infer | gemm
void add_launch_command(CLI::App& app);      // launch (data-parallel workers)
void add_probe_command(CLI::App& app);       // probe (an encoder on a labelled task)
void add_serve_command(CLI::App& app);       // serve (a model over HTTP)

}  // namespace bf::cli
