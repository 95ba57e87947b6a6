#pragma once
// bench infer --task token_classification | question_answering: the whole
// predict path of the token-level tasks on a real file (windows, batches
// with dynamic padding, the model, assembling tags or decoding answers), as
// sentences/s or questions/s beside the GEMM peak.
#include "bench/infer_bench.h"

namespace bf::bench {

void run_task_infer_bench(const InferBenchOptions& options);

}  // namespace bf::bench
