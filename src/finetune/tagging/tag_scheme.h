#pragma once
// Tagging schemes of token-classification data and the one reading of tags as
// entities. Every file is turned into IOB2 on read, so the label set, the
// model, the metrics and the output all speak IOB2; `extract_entities` is the
// single definition of an entity that the metrics and the writer share.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bf::ft::tagging {

enum class TagScheme { Iob2, Iob1, Bioes, Bmes };

TagScheme parse_tag_scheme(const std::string& name);  // "iob2" | "iob1" | "bioes" | "bmes"
std::string tag_scheme_name(TagScheme scheme);

// "B-creative-work" -> {'B', "creative-work"} (the type is all after the
// first '-'); "O" -> {'O', ""}.
struct TagParts {
  char prefix = 'O';
  std::string type;
};

// nullopt unless the tag is "O" or PREFIX-TYPE with a prefix the scheme uses
// (IOB: B I; BIOES: B I E S; BMES: B M E S) and a non-empty type.
std::optional<TagParts> split_tag(std::string_view tag, TagScheme scheme);

// Where one sentence's tags go wrong: the token index and what is wrong.
struct TagProblem {
  std::size_t index = 0;
  std::string message;
};

// The first tag that is not of the scheme's form.
std::optional<TagProblem> check_tag_forms(const std::vector<std::string>& tags, TagScheme scheme);

// The first tag that breaks the scheme's sequence rules (tags already of the
// right form). IOB2: an I-X not after B-X or I-X. IOB1: a B-X not after an
// entity of type X (B- only separates two adjacent entities of one type).
// BIOES/BMES: I-/M-/E-X not after B-X or I-/M-X, and a B-X or I-/M-X not
// followed by I-/M-/E-X. For `strict` mode only: by default such tags are
// read as conlleval reads them (see to_iob2).
std::optional<TagProblem> strict_violation(const std::vector<std::string>& tags, TagScheme scheme);

// One sentence's tags as IOB2, where every entity starts with B-. An I-
// (or M-, E-) that cannot continue an open entity of its type starts one, as
// in conlleval; E- and S- close their entity. Throws bf::Error on a tag that
// is not of the scheme's form.
std::vector<std::string> to_iob2(const std::vector<std::string>& tags, TagScheme scheme);

// One entity: tokens [start, end).
struct Entity {
  std::string type;
  std::int64_t start = 0;
  std::int64_t end = 0;
};
bool operator==(const Entity& a, const Entity& b);
// "TYPE[start, end)", for test failure messages.
std::ostream& operator<<(std::ostream& out, const Entity& e);

// The entities of one sentence of IOB1/IOB2 tags with conlleval's chunk
// rules: B-X always starts an entity; I-X continues one of type X and
// otherwise (after O or another type) starts one; O and a type change end
// one. Throws bf::Error ("token N: ...") on a tag that is not O, B-X or I-X.
std::vector<Entity> extract_entities(const std::vector<std::string>& tags);

}  // namespace bf::ft::tagging
