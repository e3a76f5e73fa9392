#include "core/runtime/kernel_object_cache.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/ir/hash128.h"
#include "core/support/error.h"

namespace kiln {

namespace {

constexpr std::string_view kMagic = "kiln-object 1";

/// What a file must hold to serve `key`: its entry symbol and bytes, when the key text matches.
bool read_object(const std::filesystem::path& path, const std::string& key, ObjectCode* code) {
  std::ifstream in(path, std::ios::binary);
  std::string magic, entry, key_size, bytes_size;
  if (!std::getline(in, magic) || magic != kMagic || !std::getline(in, entry) ||
      !std::getline(in, key_size) || !std::getline(in, bytes_size))
    return false;
  try {
    std::string stored(std::stoull(key_size), '\0');
    code->bytes.assign(std::stoull(bytes_size), '\0');
    if (!in.read(stored.data(), stored.size()) || stored != key) return false;
    if (!in.read(code->bytes.data(), code->bytes.size())) return false;
  } catch (const std::exception&) {
    return false;  // sizes that do not parse or do not fit: a damaged file is a miss
  }
  code->entry = entry;
  return true;
}

bool write_object(const std::filesystem::path& path, const std::string& key,
                  const ObjectCode& code) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::ostringstream aside_name;
  aside_name << path.string() << ".tmp-" << ::getpid() << "-" << std::this_thread::get_id();
  std::filesystem::path aside = aside_name.str();
  {
    std::ofstream out(aside, std::ios::binary);
    out << kMagic << "\n" << code.entry << "\n" << key.size() << "\n" << code.bytes.size() << "\n";
    out.write(key.data(), key.size());
    out.write(code.bytes.data(), code.bytes.size());
    if (!out.flush()) {
      std::filesystem::remove(aside, ec);
      return false;
    }
  }
  std::filesystem::rename(aside, path, ec);
  if (ec) std::filesystem::remove(aside, ec);
  return !ec;
}

}  // namespace

KernelObjectCache::KernelObjectCache(std::string dir, std::string target)
    : dir_(std::move(dir)), target_(std::move(target)) {}

std::unique_ptr<Kernel> KernelObjectCache::compile(const KernelCompiler& compiler,
                                                   const LoweredFunc& f) {
  // NOTE: the printed function names its tensors. Keying by structure alone would need the
  // parameters' roles in the body too (two same-typed parameters swapped is another kernel), so
  // the names stay: a structurally equal group named otherwise in another run is only a miss.
  std::string key = str_cat(target_, "\n", f);
  std::filesystem::path path = std::filesystem::path(dir_) / (hash128(key).hex() + ".kobj");
  ObjectCode code;
  if (read_object(path, key, &code)) {
    try {
      std::unique_ptr<Kernel> kernel = compiler.load_object(code, f);
      ++hits_;
      return kernel;
    } catch (const CompileError&) {
      // An object this compiler cannot load (damaged bytes): compile and overwrite it.
    }
  }
  ++misses_;
  auto [kernel, object] = compiler.compile_with_object(f);
  if (write_failures_ == 0 && !write_object(path, key, object)) ++write_failures_;
  return std::move(kernel);
}

}  // namespace kiln
