#include "tools/workloads.h"

#include "core/ops/op_registry.h"
#include "core/support/error.h"

namespace kiln::workloads {

namespace {

// A task's name: `base`, with the dtype after it unless f32.
std::string named(const std::string& base, DType dtype) {
  return dtype == DType::F32 ? base : str_cat(base, "_", dtype_name(dtype));
}

std::vector<Tensor> op(const std::string& name, const std::vector<OpArg>& args) {
  return OpRegistry::global().lower(name, args);
}

}  // namespace

TuningTask matmul(int64_t m, int64_t n, int64_t k, DType dtype) {
  // An int8 matmul is summed in int32 (_int_mm), as int8 inference needs it.
  return {named(str_cat("matmul_", m, "x", n, "x", k), dtype),
          op(dtype == DType::I8 ? "aten._int_mm.default" : "aten.mm.default",
             {placeholder("a", {m, k}, dtype), placeholder("b", {k, n}, dtype)})};
}

TuningTask conv2d(int64_t h, int64_t w, int64_t ci, int64_t co, int64_t kernel, int64_t stride,
                  int64_t groups, DType dtype) {
  std::vector<int64_t> s{stride, stride}, p{kernel / 2, kernel / 2}, d{1, 1};
  std::string name = str_cat("conv_", h, "x", w, "_", ci, "to", co, "_k", kernel, "s", stride);
  if (groups > 1) name += str_cat("g", groups);
  return {named(name, dtype), op("aten.convolution.default",
                                 {placeholder("x", {1, ci, h, w}, dtype),
                                  placeholder("w", {co, ci / groups, kernel, kernel}, dtype),
                                  NoneArg{}, s, p, d, false, std::vector<int64_t>{0, 0}, groups})};
}

TuningTask softmax(int64_t rows, int64_t cols, DType dtype) {
  return {named(str_cat("softmax_", rows, "x", cols), dtype),
          op("aten._softmax.default", {placeholder("x", {rows, cols}, dtype), int64_t{-1}, false})};
}

TuningTask layer_norm(int64_t rows, int64_t cols, DType dtype) {
  return {named(str_cat("layer_norm_", rows, "x", cols), dtype),
          op("aten.native_layer_norm.default",
             {placeholder("x", {rows, cols}, dtype), std::vector<int64_t>{cols},
              placeholder("w", {cols}, dtype), placeholder("b", {cols}, dtype), 1e-5})};
}

std::vector<TuningTask> standard_suite() {
  std::vector<TuningTask> suite;
  // (H, W, in, out, kernel, stride): ResNet-18's convolutions C1..C12.
  const int64_t convs[][6] = {
      {224, 224, 3, 64, 7, 2},  {56, 56, 64, 64, 3, 1},   {56, 56, 64, 64, 1, 1},
      {56, 56, 64, 128, 3, 2},  {56, 56, 64, 128, 1, 2},  {28, 28, 128, 128, 3, 1},
      {28, 28, 128, 256, 3, 2}, {28, 28, 128, 256, 1, 2}, {14, 14, 256, 256, 3, 1},
      {14, 14, 256, 512, 3, 2}, {14, 14, 256, 512, 1, 2}, {7, 7, 512, 512, 3, 1}};
  for (auto& c : convs) suite.push_back(conv2d(c[0], c[1], c[2], c[3], c[4], c[5]));
  // BERT-base at sequence 128: QKV, attention output, FFN up, FFN down.
  suite.push_back(matmul(128, 2304, 768));
  suite.push_back(matmul(128, 768, 768));
  suite.push_back(matmul(128, 3072, 768));
  suite.push_back(matmul(128, 768, 3072));
  suite.push_back(softmax(12 * 128, 128));
  suite.push_back(layer_norm(128, 768));
  return suite;
}

TuningTask from_words(const std::vector<std::string>& w, DType dtype) {
  const char* usage =
      "workloads: matmul M N K | conv H W IN OUT KERNEL STRIDE [GROUPS] | softmax ROWS COLS | "
      "layer_norm ROWS COLS";
  auto need = [&](size_t n) {
    if (w.size() != n + 1)
      throw Error(str_cat("'", w.empty() ? "" : w[0], "' needs ", n, " sizes; ", usage));
  };
  auto num = [&](size_t i) {
    try {
      int64_t v = std::stoll(w[i]);
      if (v <= 0) throw std::invalid_argument(w[i]);
      return v;
    } catch (const std::exception&) {
      throw Error(str_cat("'", w[i], "' is not a positive size; ", usage));
    }
  };
  if (w.empty()) throw Error(usage);
  if (w[0] == "matmul") return need(3), matmul(num(1), num(2), num(3), dtype);
  if (w[0] == "conv" && w.size() == 8)
    return conv2d(num(1), num(2), num(3), num(4), num(5), num(6), num(7), dtype);
  if (w[0] == "conv")
    return need(6), conv2d(num(1), num(2), num(3), num(4), num(5), num(6), 1, dtype);
  if (w[0] == "softmax") return need(2), softmax(num(1), num(2), dtype);
  if (w[0] == "layer_norm") return need(2), layer_norm(num(1), num(2), dtype);
  throw Error(str_cat("unknown workload '", w[0], "'; ", usage));
}

std::vector<TuningTask> select(std::vector<TuningTask> suite, const std::string& only,
                               const std::string& shard) {
  auto number = [](const std::string& text, const char* what) {
    try {
      size_t used = 0;
      int v = std::stoi(text, &used);
      if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw Error(str_cat(what, " '", text, "' is not a number"));
  };
  if (!only.empty()) {
    std::vector<TuningTask> kept;
    for (size_t at = 0; at <= only.size();) {
      size_t comma = std::min(only.find(',', at), only.size());
      int i = number(only.substr(at, comma - at), "--only");
      if (i < 0 || i >= static_cast<int>(suite.size()))
        throw Error(str_cat("--only ", i, ": the suite has workloads 0..", suite.size() - 1));
      kept.push_back(suite[i]);
      at = comma + 1;
    }
    suite = std::move(kept);
  }
  if (shard.empty()) return suite;
  size_t slash = shard.find('/');
  if (slash == std::string::npos) throw Error("--shard wants K/N, got " + shard);
  int k = number(shard.substr(0, slash), "--shard"), n = number(shard.substr(slash + 1), "--shard");
  if (n < 1 || k < 0 || k >= n) throw Error("--shard " + shard + ": K must be in [0, N)");
  std::vector<TuningTask> mine;
  for (size_t w = k; w < suite.size(); w += n) mine.push_back(suite[w]);
  return mine;
}

}  // namespace kiln::workloads
