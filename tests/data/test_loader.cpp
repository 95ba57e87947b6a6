// The loader: fixed shapes, determinism across threads and batch sizes,
// resume from a cursor, rank striping, static vs dynamic masking.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <set>

#include "data/pretrain_loader.h"
#include "data/token_corpus.h"
#include "data_fixtures.h"

using namespace bf::data;

namespace {

LoaderOptions loader_options(std::int64_t batch, std::int32_t threads, std::uint64_t seed = 7) {
  LoaderOptions o;
  o.data_dir = test::english_shards();
  o.instances.max_seq_length = 64;
  o.masking.max_predictions_per_seq = 10;
  o.batch_size = batch;
  o.seed = seed;
  o.num_threads = threads;
  o.prefetch = 4;
  o.tokenizer = TokenizerInfo::of(test::english_tokenizer());
  return o;
}

bool same(const torch::Tensor& a, const torch::Tensor& b) { return a.sizes() == b.sizes() && a.equal(b); }

bool same_batch(const PretrainBatch& a, const PretrainBatch& b) {
  return same(a.input_ids, b.input_ids) && same(a.token_type_ids, b.token_type_ids) &&
         same(a.attention_mask, b.attention_mask) && same(a.masked_positions, b.masked_positions) &&
         same(a.masked_labels, b.masked_labels) && same(a.next_sentence_label, b.next_sentence_label);
}

// Rows [first, first + n) of the epoch as one batch, concatenated from any batch size.
torch::Tensor rows(std::vector<PretrainBatch>& batches, const std::string& field) {
  std::vector<torch::Tensor> parts;
  for (auto& b : batches) parts.push_back(field == "ids" ? b.input_ids : field == "labels" ? b.masked_labels : b.next_sentence_label);
  return torch::cat(parts);
}

}  // namespace

TEST_CASE("loader: fixed shapes, dtypes, padding and the dense-label helper") {
  PretrainLoader loader(loader_options(8, 2));
  const TokenizerInfo tok = TokenizerInfo::of(test::english_tokenizer());
  for (int step = 0; step < 5; ++step) {
    const PretrainBatch b = loader.next();
    REQUIRE(b.input_ids.sizes() == torch::IntArrayRef({8, 64}));
    REQUIRE(b.token_type_ids.sizes() == torch::IntArrayRef({8, 64}));
    REQUIRE(b.attention_mask.sizes() == torch::IntArrayRef({8, 64}));
    REQUIRE(b.masked_positions.sizes() == torch::IntArrayRef({8, 10}));
    REQUIRE(b.masked_labels.sizes() == torch::IntArrayRef({8, 10}));
    REQUIRE(b.next_sentence_label.sizes() == torch::IntArrayRef({8}));
    CHECK(b.input_ids.dtype() == torch::kInt64);
    CHECK(b.masked_labels.dtype() == torch::kInt64);
    // Padding: [PAD] exactly where the attention mask is 0, never masked.
    CHECK(b.input_ids.eq(tok.special.pad).equal(b.attention_mask.eq(0)));
    CHECK(b.input_ids.select(1, 0).eq(tok.special.cls).all().item<bool>());
    CHECK(b.masked_positions.lt(b.attention_mask.sum(1, true)).logical_or(b.masked_labels.eq(-100)).all().item<bool>());
    CHECK(b.masked_positions.masked_select(b.masked_labels.eq(-100)).eq(0).all().item<bool>());
    CHECK(b.num_masked() > 8);
    const torch::Tensor dense = dense_mlm_labels(b);
    CHECK(dense.sizes() == torch::IntArrayRef({8, 64}));
    CHECK(dense.ne(-100).sum().item<std::int64_t>() == b.num_masked());
    CHECK(dense.gather(1, b.masked_positions).masked_select(b.masked_labels.ne(-100))
              .equal(b.masked_labels.masked_select(b.masked_labels.ne(-100))));
    CHECK(b.next_sentence_label.ge(0).logical_and(b.next_sentence_label.le(1)).all().item<bool>());
  }
}

TEST_CASE("loader: the same samples whatever the thread count and batch size") {
  std::vector<PretrainBatch> sync, threaded, small;
  PretrainLoader a(loader_options(12, 0));
  PretrainLoader b(loader_options(12, 3));
  PretrainLoader c(loader_options(4, 2));
  for (int i = 0; i < 6; ++i) sync.push_back(a.next());
  for (int i = 0; i < 6; ++i) threaded.push_back(b.next());
  for (int i = 0; i < 18; ++i) small.push_back(c.next());
  for (int i = 0; i < 6; ++i) CHECK(same_batch(sync[i], threaded[i]));
  for (const char* field : {"ids", "labels", "nsp"}) CHECK(rows(sync, field).equal(rows(small, field)));
  // A different seed is a different order and different masks.
  PretrainLoader d(loader_options(12, 2, 8));
  CHECK_FALSE(same_batch(d.next(), sync[0]));
}

TEST_CASE("loader: restoring a saved cursor continues exactly like an uninterrupted run, across epochs") {
  PretrainLoader straight(loader_options(32, 2));
  const std::int64_t per_epoch = straight.batches_per_epoch();
  REQUIRE(per_epoch > 10);
  // Stop 3 steps before the end of epoch 0 and run into epoch 1.
  const std::int64_t stop = per_epoch - 3;
  std::vector<PretrainBatch> expected;
  LoaderCursor saved;
  for (std::int64_t i = 0; i < stop + 8; ++i) {
    if (i == stop) saved = straight.cursor();
    PretrainBatch b = straight.next();
    if (i >= stop) expected.push_back(b);
  }
  CHECK(straight.cursor().epoch == 1);

  const LoaderCursor restored_cursor = LoaderCursor::from_json(nlohmann::json::parse(saved.to_json().dump()));
  CHECK(restored_cursor == saved);
  PretrainLoader resumed(loader_options(32, 3), restored_cursor);
  for (auto& b : expected) CHECK(same_batch(resumed.next(), b));

  // restore() on a running loader does the same.
  PretrainLoader running(loader_options(32, 2));
  running.next();
  running.restore(saved);
  CHECK(running.cursor() == saved);
  for (auto& b : expected) CHECK(same_batch(running.next(), b));
}

TEST_CASE("loader: epochs are reshuffled and dynamic masks change, static masks stay") {
  LoaderOptions o = loader_options(16, 0);
  PretrainLoader dynamic(o);
  const SampleSource& src = dynamic.source();
  const auto plan0 = src.plan(0);
  const auto plan1 = src.plan(1);
  CHECK(plan0->order != plan1->order);

  o.masking.static_masking = true;
  o.masking.dupe_factor = 2;
  PretrainLoader fixed(o);
  const SampleSource& st = fixed.source();
  const auto s0 = st.plan(0);
  const auto s1 = st.plan(1);
  REQUIRE(s0->chunks.size() == s1->chunks.size());
  CHECK(s0->order != s1->order);  // new order every epoch
  // The sample behind the same chunk is identical in both epochs (instance and mask).
  std::vector<std::uint32_t> where1(s1->order.size());
  for (std::uint32_t p = 0; p < s1->order.size(); ++p) where1[s1->order[p]] = p;
  Sample a, b;
  int differ = 0;
  for (std::uint32_t p = 0; p < 200; ++p) {
    st.sample(*s0, 0, p, a);
    st.sample(*s1, 1, where1[s0->order[p]], b);
    differ += a.instance.tokens != b.instance.tokens || a.masked_positions != b.masked_positions;
  }
  CHECK(differ == 0);
  // With dynamic masking the same chunk gets a new mask (and maybe new chunking) next epoch.
  Sample d0, d1;
  int changed = 0;
  for (std::uint32_t p = 0; p < 200; ++p) {
    src.sample(*plan0, 0, p, d0);
    src.sample(*plan1, 1, p, d1);
    changed += d0.masked_positions != d1.masked_positions;
  }
  CHECK(changed > 150);
}

TEST_CASE("loader: ranks read disjoint stripes that together equal one process with the global batch") {
  const std::int32_t world = 3;
  LoaderOptions single = loader_options(4 * world, 0);
  PretrainLoader one(single);
  std::vector<std::unique_ptr<PretrainLoader>> ranks;
  for (std::int32_t r = 0; r < world; ++r) {
    LoaderOptions o = loader_options(4, r % 2 ? 2 : 0);
    o.rank = r;
    o.world_size = world;
    ranks.push_back(std::make_unique<PretrainLoader>(o));
  }
  CHECK(ranks[0]->batches_per_epoch() == one.batches_per_epoch());
  std::set<std::int64_t> seen_positions;
  for (int step = 0; step < 5; ++step) {
    std::vector<torch::Tensor> parts;
    for (auto& r : ranks) CHECK(r->cursor() == one.cursor());  // one cursor for all ranks, after the same steps
    for (auto& r : ranks) parts.push_back(r->next().input_ids);
    CHECK(torch::cat(parts).equal(one.next().input_ids));
  }

  // Over a whole epoch, every sample position is read by exactly one rank.
  const SampleSource& src = ranks[0]->source();
  const std::int64_t samples = src.samples_in_epoch(0);
  const std::int64_t steps = ranks[0]->batches_per_epoch();
  std::vector<int> reads(static_cast<std::size_t>(samples), 0);
  for (std::int64_t s = 0; s < steps; ++s) {
    for (std::int32_t r = 0; r < world; ++r) {
      for (std::int64_t i = 0; i < 4; ++i) reads[static_cast<std::size_t>(s * 12 + r * 4 + i)]++;
    }
  }
  std::int64_t once = 0, twice = 0;
  for (int n : reads) once += n == 1, twice += n > 1;
  CHECK(twice == 0);
  CHECK(samples - once < 12);  // only the tail that cannot fill a global batch is left out
}

TEST_CASE("loader: the held-out split and a batch larger than the split") {
  LoaderOptions o = loader_options(4, 0);
  o.split = "heldout";
  PretrainLoader heldout(o);
  CHECK(heldout.batches_per_epoch() > 0);
  std::set<std::uint32_t> train_docs_unused;
  o.batch_size = 1000000;
  CHECK_THROWS_WITH(PretrainLoader(o), Catch::Contains("fewer than one global batch"));
}
