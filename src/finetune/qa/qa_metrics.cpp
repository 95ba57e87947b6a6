#include "finetune/qa/qa_metrics.h"

#include <utf8proc.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bf::ft::qa {
namespace {

namespace unicode = tok::unicode;

// The scripts work on Python str (code points); so do we.
std::u32string decode(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    char32_t cp = 0;
    const int length = unicode::decode_utf8(p, end, &cp);
    if (length == 0) {  // not UTF-8 (never from JSON): skipped
      ++p;
      continue;
    }
    out.push_back(cp);
    p += length;
  }
  return out;
}

std::string encode(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) unicode::append_utf8(out, cp);
  return out;
}

// str.isspace(): what str.split() and str.strip() break at.
bool is_python_space(char32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0x2028 || cp == 0x2029)
    return true;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ZS;
}

// What \w matches in Python 3's re on str: letters, numbers and "_".
bool is_word_char(char32_t cp) {
  if (cp == U'_') return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// str.lower(): simple mappings, U+0130 to "i" + combining dot, and the Greek
// final sigma where a word ends.
std::u32string python_lower(const std::u32string& cps) {
  std::u32string out;
  out.reserve(cps.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t cp = cps[i];
    if (cp == 0x130) {
      out += U"i\u0307";
    } else if (cp == 0x3A3) {
      std::size_t before = i;
      while (before > 0 && unicode::is_case_ignorable(cps[before - 1])) --before;
      std::size_t after = i + 1;
      while (after < cps.size() && unicode::is_case_ignorable(cps[after])) ++after;
      const bool final_sigma = before > 0 && unicode::is_cased(cps[before - 1]) &&
                         (after == cps.size() || !unicode::is_cased(cps[after]));
      out.push_back(final_sigma ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(unicode::simple_lowercase(cp));
    }
  }
  return out;
}

std::u32string python_strip(const std::u32string& cps) {
  std::size_t begin = 0, end = cps.size();
  while (begin < end && is_python_space(cps[begin])) ++begin;
  while (end > begin && is_python_space(cps[end - 1])) --end;
  return cps.substr(begin, end - begin);
}

std::vector<std::u32string> python_split(const std::u32string& cps) {
  std::vector<std::u32string> out;
  std::u32string word;
  for (char32_t cp : cps) {
    if (!is_python_space(cp)) {
      word.push_back(cp);
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

bool is_ascii_punctuation(char32_t cp) {  // Python's string.punctuation
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

// re.sub(r"\b(a|an|the)\b", " ", text): every boundary test looks at the
// text before any replacement, as re.sub scans the original.
std::u32string remove_articles(const std::u32string& cps) {
  static const std::u32string kArticles[] = {U"a", U"an", U"the"};
  auto boundary_after = [&](std::size_t end) { return end == cps.size() || !is_word_char(cps[end]); };
  std::u32string out;
  std::size_t i = 0;
  while (i < cps.size()) {
    std::size_t matched = 0;
    if (i == 0 || !is_word_char(cps[i - 1])) {
      for (const std::u32string& article : kArticles) {
        if (cps.compare(i, article.size(), article) == 0 && boundary_after(i + article.size())) {
          matched = article.size();
          break;
        }
      }
    }
    if (matched > 0) {
      out.push_back(U' ');
      i += matched;
    } else {
      out.push_back(cps[i++]);
    }
  }
  return out;
}

std::vector<std::string> squad_tokens(std::string_view text) {
  std::vector<std::string> tokens;
  const std::string normalized = squad_normalize(text);
  std::size_t start = 0;
  while (start < normalized.size()) {
    std::size_t end = normalized.find(' ', start);
    if (end == std::string::npos) end = normalized.size();
    tokens.push_back(normalized.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

// The script's sp_char list. Its "……" entry is two characters and so never
// equals the one character the script compares it with: "…" stays.
bool is_cmrc_punctuation(char32_t cp) {
  static const std::u32string kMarks = U"-:_*^/\\~`+=\uFF0C\u3002\uFF1A\uFF1F\uFF01\u201C\u201D\uFF1B\u2019\u300A\u300B"
                                       U"\u00B7\u3001\u300C\u300D\uFF08\uFF09\uFF0D\uFF5E\u300E\u300F";
  return kMarks.find(cp) != std::u32string::npos;
}

// The script's [\u4e00-\u9fa5] test, narrower than BERT's CJK ranges.
bool is_cmrc_chinese(char32_t cp) { return cp >= 0x4E00 && cp <= 0x9FA5; }

std::u32string cmrc_prepare(std::string_view text) { return python_strip(python_lower(decode(text))); }

// Longest common contiguous run of tokens (the script's find_lcs).
std::size_t longest_common_run(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::size_t> previous(b.size() + 1, 0), current(b.size() + 1, 0);
  std::size_t best = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < b.size(); ++j) {
      current[j + 1] = a[i] == b[j] ? previous[j] + 1 : 0;
      best = std::max(best, current[j + 1]);
    }
    std::swap(previous, current);
  }
  return best;
}

struct PairScore {
  double exact = 0.0, f1 = 0.0;
};

PairScore best_over_golds(QaMetric metric, const std::string& prediction, const std::vector<std::string>& golds) {
  PairScore best;
  for (const std::string& gold : golds) {
    const bool exact = metric == QaMetric::Cmrc ? cmrc_exact_match(prediction, gold) : squad_exact_match(prediction, gold);
    const double f1 = metric == QaMetric::Cmrc ? cmrc_f1(prediction, gold) : squad_f1(prediction, gold);
    best.exact = std::max(best.exact, exact ? 1.0 : 0.0);
    best.f1 = std::max(best.f1, f1);
  }
  return best;
}

// v2.0: gold answers that normalise to nothing do not count; a question left
// with none is a no-answer question, right when the prediction is empty too.
std::vector<std::string> squad_golds(const QaExample& example) {
  std::vector<std::string> golds;
  for (const std::string& text : example.gold_texts)
    if (!squad_normalize(text).empty()) golds.push_back(text);
  return golds;
}

PairScore score_question(QaMetric metric, const QaExample& example, const std::string& prediction) {
  const std::vector<std::string> golds = metric == QaMetric::Squad ? squad_golds(example) : example.gold_texts;
  if (golds.empty()) {
    // CMRC's script has no unanswerable questions; they score as in SQuAD v2.0.
    const bool empty = metric == QaMetric::Cmrc ? cmrc_segment(prediction, true).empty() : squad_tokens(prediction).empty();
    return PairScore{empty ? 1.0 : 0.0, empty ? 1.0 : 0.0};
  }
  return best_over_golds(metric, prediction, golds);
}

double percent(double sum, int count) { return count > 0 ? 100.0 * sum / count : 0.0; }

}  // namespace

QaMetric parse_qa_metric(const std::string& name) {
  if (name == "squad") return QaMetric::Squad;
  if (name == "cmrc") return QaMetric::Cmrc;
  if (name == "auto") return QaMetric::Auto;
  fail("unknown QA metric \"" + name + "\" (squad, cmrc or auto)");
}

std::string qa_metric_name(QaMetric metric) {
  switch (metric) {
    case QaMetric::Squad: return "squad";
    case QaMetric::Cmrc: return "cmrc";
    case QaMetric::Auto: return "auto";
  }
  return "auto";
}

QaMetric resolve_metric(QaMetric metric, const std::vector<QaExample>& examples) {
  if (metric != QaMetric::Auto) return metric;
  std::size_t cjk = 0, counted = 0;
  const std::string* previous = nullptr;
  for (const QaExample& example : examples) {
    if (previous != nullptr && *previous == example.context) continue;  // a paragraph's questions share it
    previous = &example.context;
    for (char32_t cp : decode(example.context)) {
      if (is_python_space(cp)) continue;
      ++counted;
      cjk += unicode::is_cjk(cp);
    }
  }
  return 2 * cjk > counted ? QaMetric::Cmrc : QaMetric::Squad;
}

std::string squad_normalize(std::string_view text) {
  std::u32string cps = python_lower(decode(text));
  cps.erase(std::remove_if(cps.begin(), cps.end(), is_ascii_punctuation), cps.end());
  std::string out;
  for (const std::u32string& word : python_split(remove_articles(cps))) {
    if (!out.empty()) out.push_back(' ');
    out += encode(word);
  }
  return out;
}

bool squad_exact_match(std::string_view prediction, std::string_view gold) {
  return squad_normalize(prediction) == squad_normalize(gold);
}

double squad_f1(std::string_view prediction, std::string_view gold) {
  const std::vector<std::string> predicted = squad_tokens(prediction);
  const std::vector<std::string> expected = squad_tokens(gold);
  // v2.0's rule: with nothing on one side, only nothing on the other is right.
  if (predicted.empty() || expected.empty()) return predicted.empty() && expected.empty() ? 1.0 : 0.0;
  std::map<std::string, int> counts;
  for (const std::string& token : expected) ++counts[token];
  int common = 0;
  for (const std::string& token : predicted) {
    auto it = counts.find(token);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double precision = static_cast<double>(common) / predicted.size();
  const double recall = static_cast<double>(common) / expected.size();
  return 2.0 * precision * recall / (precision + recall);
}

std::vector<std::string> cmrc_segment(std::string_view text, bool remove_punctuation) {
  std::vector<std::string> tokens;
  std::u32string run;
  // The script hands the runs between Chinese characters to
  // nltk.word_tokenize; we split them at whitespace only (see README).
  auto flush = [&] {
    for (const std::u32string& word : python_split(run)) tokens.push_back(encode(word));
    run.clear();
  };
  for (char32_t cp : cmrc_prepare(text)) {
    const bool mark = is_cmrc_punctuation(cp);
    if (mark && remove_punctuation) continue;
    if (mark || is_cmrc_chinese(cp)) {
      flush();
      tokens.push_back(encode(std::u32string(1, cp)));
    } else {
      run.push_back(cp);
    }
  }
  flush();
  return tokens;
}

std::string cmrc_remove_punctuation(std::string_view text) {
  std::u32string cps = cmrc_prepare(text);
  cps.erase(std::remove_if(cps.begin(), cps.end(), is_cmrc_punctuation), cps.end());
  return encode(cps);
}

bool cmrc_exact_match(std::string_view prediction, std::string_view gold) {
  return cmrc_remove_punctuation(prediction) == cmrc_remove_punctuation(gold);
}

double cmrc_f1(std::string_view prediction, std::string_view gold) {
  const std::vector<std::string> expected = cmrc_segment(gold, true);
  const std::vector<std::string> predicted = cmrc_segment(prediction, true);
  const std::size_t common = longest_common_run(expected, predicted);
  if (common == 0) return 0.0;
  const double precision = static_cast<double>(common) / predicted.size();
  const double recall = static_cast<double>(common) / expected.size();
  return 2.0 * precision * recall / (precision + recall);
}

nlohmann::json QaScore::to_json() const {
  nlohmann::json out = {{"metric", qa_metric_name(metric)},
                        {"exact_match", exact_match},
                        {"f1", f1},
                        {"total", total},
                        {"missing", missing}};
  if (no_answer > 0) {
    out["has_answer"] = {{"total", has_answer}, {"exact_match", has_answer_exact_match}, {"f1", has_answer_f1}};
    out["no_answer"] = {{"total", no_answer}, {"exact_match", no_answer_exact_match}, {"f1", no_answer_f1}};
  }
  return out;
}

QaScore score_predictions(const std::vector<QaExample>& examples, const nlohmann::json& predictions,
                          QaMetric metric) {
  if (!predictions.is_object()) fail("predictions: must be a JSON object {id: answer}, not " +
                                     std::string(predictions.type_name()));
  QaScore score;
  score.metric = resolve_metric(metric, examples);
  PairScore all, has, none;
  for (const QaExample& example : examples) {
    const bool answerable = !example.gold_texts.empty();
    ++score.total;
    ++(answerable ? score.has_answer : score.no_answer);
    const auto it = predictions.find(example.id);
    if (it == predictions.end()) {
      ++score.missing;  // the scripts score a missing prediction 0
      continue;
    }
    if (!it->is_string()) fail("predictions: \"" + example.id + "\": must be a string, not " + it->dump());
    const PairScore question = score_question(score.metric, example, it->get<std::string>());
    PairScore& group = answerable ? has : none;
    for (PairScore* sum : {&all, &group}) {
      sum->exact += question.exact;
      sum->f1 += question.f1;
    }
  }
  score.exact_match = percent(all.exact, score.total);
  score.f1 = percent(all.f1, score.total);
  score.has_answer_exact_match = percent(has.exact, score.has_answer);
  score.has_answer_f1 = percent(has.f1, score.has_answer);
  score.no_answer_exact_match = percent(none.exact, score.no_answer);
  score.no_answer_f1 = percent(none.f1, score.no_answer);
  return score;
}

}  // namespace bf::ft::qa
