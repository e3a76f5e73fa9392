#include "plugin/torch/build_identity.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>

namespace kiln {

namespace {

struct Search {
  uintptr_t base;
  std::string id;
};

// The NT_GNU_BUILD_ID note of the loaded object at `search->base`, as hex.
int find_build_id(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  if (info->dlpi_addr != search->base) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    auto align4 = [](size_t n) { return (n + 3) & ~size_t{3}; };
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const auto* desc = reinterpret_cast<const unsigned char*>(name + align4(note->n_namesz));
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        for (size_t b = 0; b < note->n_descsz; ++b) {
          char hex[3];
          std::snprintf(hex, sizeof(hex), "%02x", desc[b]);
          search->id += hex;
        }
        return 1;
      }
      p = reinterpret_cast<const char*>(desc) + align4(note->n_descsz);
    }
  }
  return 1;
}

std::string compute() {
  Dl_info where{};
  if (!dladdr(reinterpret_cast<void*>(&build_identity), &where) || !where.dli_fname)
    return "unknown";
  Search search{reinterpret_cast<uintptr_t>(where.dli_fbase), {}};
  dl_iterate_phdr(find_build_id, &search);
  if (!search.id.empty()) return "build-id " + search.id;
  struct stat st{};
  if (stat(where.dli_fname, &st) != 0) return std::string("path ") + where.dli_fname;
  return std::string("path ") + where.dli_fname + " size " + std::to_string(st.st_size) +
         " mtime " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

const std::string& build_identity() {
  static const std::string id = compute();
  return id;
}

}  // namespace kiln
