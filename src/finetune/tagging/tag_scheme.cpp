#include "finetune/tagging/tag_scheme.h"

#include <utility>

#include "util/error.h"

namespace bf::ft::tagging {
namespace {

std::string_view prefixes_of(TagScheme scheme) {
  switch (scheme) {
    case TagScheme::Iob2:
    case TagScheme::Iob1: return "BI";
    case TagScheme::Bioes: return "BIES";
    case TagScheme::Bmes: return "BMES";
  }
  return "BI";
}

std::string form_of(TagScheme scheme) {
  std::string out = "O";
  for (char p : prefixes_of(scheme)) out += std::string(", ") + p + "-TYPE";
  return out;
}

std::string quoted(const std::string& tag) { return "'" + tag + "'"; }

std::string after(const std::vector<std::string>& tags, std::size_t i) {
  return i == 0 ? "at the start of the sentence" : "after " + quoted(tags[i - 1]);
}

// The tags split, or the first one of a bad form.
std::optional<TagProblem> split_all(const std::vector<std::string>& tags, TagScheme scheme,
                                    std::vector<TagParts>& parts) {
  parts.clear();
  parts.reserve(tags.size());
  for (std::size_t i = 0; i < tags.size(); ++i) {
    auto p = split_tag(tags[i], scheme);
    if (!p)
      return TagProblem{i, "tag " + quoted(tags[i]) + " is not of the form " + form_of(scheme) + " (scheme " +
                               tag_scheme_name(scheme) + ")"};
    parts.push_back(std::move(*p));
  }
  return std::nullopt;
}

bool continues(const TagParts& prev, const TagParts& cur, char inside) {
  return (prev.prefix == 'B' || prev.prefix == inside) && prev.type == cur.type;
}

std::optional<TagProblem> strict_iob(const std::vector<std::string>& tags, const std::vector<TagParts>& parts,
                                     TagScheme scheme) {
  const TagParts outside;
  // IOB2 entities begin with B-; IOB1 ones with I-, B- only marking a second
  // entity of the same type right after the first.
  const char checked = scheme == TagScheme::Iob2 ? 'I' : 'B';
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].prefix != checked) continue;
    if (continues(i == 0 ? outside : parts[i - 1], parts[i], 'I')) continue;
    if (scheme == TagScheme::Iob2)
      return TagProblem{i, quoted(tags[i]) + " continues an entity that never began (" + after(tags, i) + ")"};
    return TagProblem{i, quoted(tags[i]) + " does not follow an entity of type " + parts[i].type + " (" +
                             after(tags, i) + "); IOB1 uses B- only between two adjacent entities of one type"};
  }
  return std::nullopt;
}

std::optional<TagProblem> strict_closed(const std::vector<std::string>& tags, const std::vector<TagParts>& parts,
                                        TagScheme scheme) {
  const char inside = scheme == TagScheme::Bioes ? 'I' : 'M';
  const TagParts outside;
  for (std::size_t i = 0; i <= parts.size(); ++i) {
    const TagParts& prev = i == 0 ? outside : parts[i - 1];
    const bool open = prev.prefix == 'B' || prev.prefix == inside;
    const bool inner = i < parts.size() && (parts[i].prefix == inside || parts[i].prefix == 'E');
    if (open && !(inner && prev.type == parts[i].type))
      return TagProblem{i - 1, quoted(tags[i - 1]) + " is not closed by E-" + prev.type + " (" +
                                   (i == parts.size() ? "the sentence ends" : "next is " + quoted(tags[i])) + ")"};
    if (inner && !open)
      return TagProblem{i, quoted(tags[i]) + " continues an entity that never began (" + after(tags, i) + ")"};
  }
  return std::nullopt;
}

}  // namespace

TagScheme parse_tag_scheme(const std::string& name) {
  if (name == "iob2") return TagScheme::Iob2;
  if (name == "iob1") return TagScheme::Iob1;
  if (name == "bioes") return TagScheme::Bioes;
  if (name == "bmes") return TagScheme::Bmes;
  bf::fail("tag scheme '" + name + "' is not one of iob2, iob1, bioes, bmes");
}

std::string tag_scheme_name(TagScheme scheme) {
  switch (scheme) {
    case TagScheme::Iob2: return "iob2";
    case TagScheme::Iob1: return "iob1";
    case TagScheme::Bioes: return "bioes";
    case TagScheme::Bmes: return "bmes";
  }
  return "iob2";
}

std::optional<TagParts> split_tag(std::string_view tag, TagScheme scheme) {
  if (tag == "O") return TagParts{};
  if (tag.size() < 3 || tag[1] != '-' || prefixes_of(scheme).find(tag[0]) == std::string_view::npos)
    return std::nullopt;
  return TagParts{tag[0], std::string(tag.substr(2))};
}

std::optional<TagProblem> check_tag_forms(const std::vector<std::string>& tags, TagScheme scheme) {
  std::vector<TagParts> parts;
  return split_all(tags, scheme, parts);
}

std::optional<TagProblem> strict_violation(const std::vector<std::string>& tags, TagScheme scheme) {
  std::vector<TagParts> parts;
  if (auto problem = split_all(tags, scheme, parts)) return problem;
  if (scheme == TagScheme::Iob2 || scheme == TagScheme::Iob1) return strict_iob(tags, parts, scheme);
  return strict_closed(tags, parts, scheme);
}

std::vector<std::string> to_iob2(const std::vector<std::string>& tags, TagScheme scheme) {
  std::vector<TagParts> parts;
  if (auto problem = split_all(tags, scheme, parts))
    bf::fail("token " + std::to_string(problem->index) + ": " + problem->message);
  std::vector<std::string> out;
  out.reserve(tags.size());
  // The type of the entity that the next tag may continue; empty when none is
  // open (after O, E-, S- and at the start).
  std::string open;
  for (const auto& p : parts) {
    if (p.prefix == 'O') {
      out.emplace_back("O");
      open.clear();
      continue;
    }
    const bool starts = p.prefix == 'B' || p.prefix == 'S' || open != p.type;
    out.push_back((starts ? "B-" : "I-") + p.type);
    open = (p.prefix == 'E' || p.prefix == 'S') ? std::string() : p.type;
  }
  return out;
}

bool operator==(const Entity& a, const Entity& b) {
  return a.type == b.type && a.start == b.start && a.end == b.end;
}

std::ostream& operator<<(std::ostream& out, const Entity& e) {
  return out << e.type << "[" << e.start << ", " << e.end << ")";
}

std::vector<Entity> extract_entities(const std::vector<std::string>& tags) {
  std::vector<Entity> out;
  bool open = false;
  Entity current;
  const auto close = [&](std::size_t end) {
    if (!open) return;
    current.end = static_cast<std::int64_t>(end);
    out.push_back(current);
    open = false;
  };
  for (std::size_t i = 0; i < tags.size(); ++i) {
    auto p = split_tag(tags[i], TagScheme::Iob2);
    if (!p) bf::fail("token " + std::to_string(i) + ": tag " + quoted(tags[i]) + " is not O, B-TYPE or I-TYPE");
    if (p->prefix == 'I' && open && current.type == p->type) continue;
    close(i);
    if (p->prefix == 'O') continue;
    open = true;
    current.type = std::move(p->type);
    current.start = static_cast<std::int64_t>(i);
  }
  close(tags.size());
  return out;
}

}  // namespace bf::ft::tagging
