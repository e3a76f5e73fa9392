#include "core/tune/target_fingerprint.h"

#include <fstream>
#include <map>

#include "core/support/error.h"

namespace kiln {

namespace {

/// The fields, in the order to_text writes them, each with its member.
struct Field {
  const char* name;
  std::string TargetFingerprint::* text;  ///< null for `threads`, the one integer field.
};
constexpr Field kFields[] = {
    {"kind", &TargetFingerprint::kind},         {"cpu_model", &TargetFingerprint::cpu_model},
    {"cpu", &TargetFingerprint::cpu},           {"features", &TargetFingerprint::features},
    {"caches", &TargetFingerprint::caches},     {"threads", nullptr},
    {"compiler", &TargetFingerprint::compiler},
};

std::string value_of(const TargetFingerprint& f, const Field& field) {
  return field.text ? f.*field.text : std::to_string(f.threads);
}

/// "AuthenticAMD family 25 model 17 AMD EPYC 9R14 96-Core Processor" from /proc/cpuinfo's first
/// processor; "" where there is none. Two CPUs that LLVM names alike (one "znver4") can differ
/// in cache sizes and clocks, so the model is part of the key.
std::string cpu_model() {
  std::ifstream info("/proc/cpuinfo");
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(info, line) && !line.empty();) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    fields.emplace(key, value);
  }
  std::string text = fields["vendor_id"];
  if (!fields["cpu family"].empty()) text += " family " + fields["cpu family"];
  if (!fields["model"].empty()) text += " model " + fields["model"];
  if (!fields["model name"].empty()) text += " " + fields["model name"];
  // ';' and '=' separate fields in to_text.
  for (char& c : text)
    if (c == ';' || c == '=') c = ' ';
  return text;
}

}  // namespace

std::string TargetFingerprint::to_text() const {
  std::string text;
  for (const Field& f : kFields)
    text += str_cat(text.empty() ? "" : ";", f.name, "=", value_of(*this, f));
  return text;
}

TargetFingerprint TargetFingerprint::from_text(const std::string& text) {
  TargetFingerprint fp;
  std::map<std::string, bool> seen;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    std::string entry = text.substr(start, end - start);
    size_t eq = entry.find('=');
    if (eq == std::string::npos)
      throw Error(str_cat("target fingerprint '", text, "': entry '", entry, "' has no '='"));
    std::string name = entry.substr(0, eq), value = entry.substr(eq + 1);
    const Field* field = nullptr;
    for (const Field& f : kFields)
      if (name == f.name) field = &f;
    if (!field) throw Error(str_cat("target fingerprint '", text, "': unknown field '", name, "'"));
    if (field->text) {
      fp.*field->text = value;
    } else {
      try {
        fp.threads = std::stoi(value);
      } catch (const std::exception&) {
        throw Error(
            str_cat("target fingerprint '", text, "': threads '", value, "' is not a number"));
      }
    }
    seen[name] = true;
    start = end + 1;
  }
  for (const Field& f : kFields)
    if (!seen[f.name])
      throw Error(str_cat("target fingerprint '", text, "': missing field '", f.name, "'"));
  return fp;
}

std::vector<std::pair<std::string, std::string>> TargetFingerprint::differences(
    const TargetFingerprint& other) const {
  std::vector<std::pair<std::string, std::string>> diffs;
  for (const Field& f : kFields) {
    std::string mine = value_of(*this, f), theirs = value_of(other, f);
    if (mine != theirs) diffs.emplace_back(f.name, mine + " → " + theirs);
  }
  return diffs;
}

std::string TargetFingerprint::vector_isa() const {
  if (kind != "cpu") return kind + " " + cpu;
  auto has = [&](std::string_view feature) {
    return str_cat(",", features, ",").find(str_cat(",+", feature, ",")) != std::string::npos;
  };
  for (std::string_view isa : {"avx512f", "avx2", "avx", "sse2", "neon", "sve"})
    if (has(isa)) return str_cat(kind, " ", isa);
  return kind;
}

TargetFingerprint fingerprint_of(const Target& target, const std::string& compiler, int threads) {
  TargetFingerprint fp;
  fp.kind = target.kind == TargetKind::CPU ? "cpu" : "cuda";
  fp.cpu_model = target.kind == TargetKind::CPU ? cpu_model() : target.cpu;
  fp.cpu = target.cpu;
  fp.features = target.features;
  fp.caches = str_cat("l1=", target.l1_bytes, ",l2=", target.l2_bytes, ",l3=", target.l3_bytes);
  fp.threads = threads;
  fp.compiler = compiler;
  return fp;
}

}  // namespace kiln
