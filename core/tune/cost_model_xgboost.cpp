// The XGBoost cost model, through XGBoost's C API (1.6 and later).
//
// Training beside prediction on one booster is not safe, so every (re)training builds a new
// booster and swaps it in under a mutex; predict() scores with whichever booster it took.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "core/support/error.h"
#include "core/tune/cost_model.h"

#ifdef KILN_HAVE_XGBOOST
#include <xgboost/c_api.h>
#endif

namespace kiln {

#ifdef KILN_HAVE_XGBOOST
namespace {

constexpr int kRounds = 100;
// Heads a saved blob; the number is the blob layout's version.
constexpr char kMagic[] = "kiln-xgboost-1";

void check(int rc, const char* call) {
  if (rc != 0) throw Error(str_cat("xgboost cost model: ", call, " failed: ", XGBGetLastError()));
}

using DMatrix = std::unique_ptr<void, int (*)(DMatrixHandle)>;
using Booster = std::shared_ptr<void>;

DMatrix make_dmatrix(const std::vector<const std::vector<float>*>& rows, size_t width) {
  std::vector<float> dense;
  dense.reserve(rows.size() * width);
  for (const auto* r : rows) dense.insert(dense.end(), r->begin(), r->end());
  DMatrixHandle h = nullptr;
  check(XGDMatrixCreateFromMat(dense.data(), rows.size(), width, NAN, &h),
        "XGDMatrixCreateFromMat");
  return DMatrix(h, XGDMatrixFree);
}

Booster make_booster(DMatrixHandle cache) {
  BoosterHandle h = nullptr;
  check(XGBoosterCreate(&cache, cache ? 1 : 0, &h), "XGBoosterCreate");
  return Booster(h, XGBoosterFree);
}

// Appends raw bytes of trivially copyable values; read() takes them back off the front.
template <typename T>
void write(std::string& out, const T* data, size_t n) {
  out.append(reinterpret_cast<const char*>(data), n * sizeof(T));
}
template <typename T>
void read(std::string_view& in, T* data, size_t n) {
  if (in.size() < n * sizeof(T)) throw Error("xgboost cost model: load() got a truncated blob");
  std::memcpy(data, in.data(), n * sizeof(T));
  in.remove_prefix(n * sizeof(T));
}

class XGBoostModel : public CostModel {
 public:
  explicit XGBoostModel(int threads) : threads_(std::max(1, threads)) {}

  void fit(const std::vector<TrainingSample>& samples) override {
    if (samples.empty()) throw Error("xgboost cost model: fit() needs at least one sample");
    std::lock_guard lock(train_mutex_);
    check_samples(samples, samples[0].features.size(), "fit");
    train(samples);
    samples_ = samples;
  }

  // With no samples there is nothing new to learn; the first update() acts as fit().
  void update(const std::vector<TrainingSample>& samples) override {
    if (samples.empty()) return;
    std::lock_guard lock(train_mutex_);
    check_samples(samples, samples_.empty() ? samples[0].features.size() : width(), "update");
    std::vector<TrainingSample> all = samples_;
    all.insert(all.end(), samples.begin(), samples.end());
    train(all);  // the model keeps its samples when training fails
    samples_ = std::move(all);
  }

  /// Before any training every score is 0: no candidate is preferred.
  std::vector<float> predict(const std::vector<std::vector<float>>& features) const override {
    auto [booster, width] = current();
    std::vector<const std::vector<float>*> rows;
    for (const auto& f : features) {
      if (booster && f.size() != width)
        throw Error(str_cat("xgboost cost model: predict() got ", f.size(),
                            " features per row, the model was trained on ", width));
      rows.push_back(&f);
    }
    if (!booster || features.empty()) return std::vector<float>(features.size(), 0.0f);
    DMatrix m = make_dmatrix(rows, width);
    bst_ulong n = 0;
    const float* out = nullptr;
    check(XGBoosterPredict(booster.get(), m.get(), 0, 0, 0, &n, &out), "XGBoosterPredict");
    KILN_CHECK(n == features.size(), "xgboost returned ", n, " scores for ", features.size());
    return std::vector<float>(out, out + n);
  }

  /// The training samples (so update() after load() goes on as before save()) and the model.
  std::string save() const override {
    std::lock_guard lock(train_mutex_);
    auto [booster, width] = current();
    std::string out(kMagic, sizeof(kMagic));
    uint64_t header[2] = {width, samples_.size()};
    write(out, header, 2);
    for (const TrainingSample& s : samples_) {
      write(out, s.features.data(), s.features.size());
      write(out, &s.throughput, 1);
      int64_t task = s.task;
      write(out, &task, 1);
    }
    bst_ulong len = 0;
    const char* model = nullptr;
    if (booster)
      check(XGBoosterSaveModelToBuffer(booster.get(), R"({"format": "json"})", &len, &model),
            "XGBoosterSaveModelToBuffer");
    uint64_t model_len = len;
    write(out, &model_len, 1);
    out.append(model, len);
    return out;
  }

  void load(const std::string& blob) override {
    std::string_view in(blob);
    if (in.substr(0, sizeof(kMagic)) != std::string_view(kMagic, sizeof(kMagic)))
      throw Error("xgboost cost model: load() got a blob that save() did not make");
    in.remove_prefix(sizeof(kMagic));
    uint64_t header[2];
    read(in, header, 2);
    std::vector<TrainingSample> samples(header[1]);
    for (TrainingSample& s : samples) {
      s.features.resize(header[0]);
      read(in, s.features.data(), header[0]);
      read(in, &s.throughput, 1);
      int64_t task = 0;
      read(in, &task, 1);
      s.task = static_cast<int>(task);
    }
    uint64_t model_len = 0;
    read(in, &model_len, 1);
    if (in.size() != model_len) throw Error("xgboost cost model: load() got a truncated blob");
    Booster booster;
    if (model_len > 0) {
      booster = make_booster(nullptr);
      check(XGBoosterLoadModelFromBuffer(booster.get(), in.data(), model_len),
            "XGBoosterLoadModelFromBuffer");
    }
    std::lock_guard lock(train_mutex_);
    samples_ = std::move(samples);
    swap_in(std::move(booster), header[0]);
  }

  std::string name() const override { return "xgboost"; }

 private:
  size_t width() const { return current().second; }

  std::pair<Booster, size_t> current() const {
    std::lock_guard lock(booster_mutex_);
    return {booster_, width_};
  }
  void swap_in(Booster b, size_t width) {
    std::lock_guard lock(booster_mutex_);
    booster_ = std::move(b);
    width_ = width;
  }

  static void check_samples(const std::vector<TrainingSample>& samples, size_t width,
                            const char* what) {
    if (width == 0) throw Error(str_cat("xgboost cost model: ", what, "() got empty features"));
    for (size_t i = 0; i < samples.size(); ++i) {
      const TrainingSample& s = samples[i];
      if (s.features.size() != width)
        throw Error(str_cat("xgboost cost model: ", what, "() sample ", i, " has ",
                            s.features.size(), " features, expected ", width));
      if (!std::isfinite(s.throughput) || s.throughput < 0)
        throw Error(str_cat("xgboost cost model: ", what, "() sample ", i, " has throughput ",
                            s.throughput, "; want a finite value >= 0"));
    }
  }

  // Trains a new booster on `samples` and swaps it in (train_mutex_ held). Ranking groups must be
  // contiguous, so samples are ordered by task; labels are throughputs relative to the task's best.
  void train(const std::vector<TrainingSample>& samples) {
    std::vector<const TrainingSample*> order;
    for (const TrainingSample& s : samples) order.push_back(&s);
    std::stable_sort(order.begin(), order.end(),
                     [](auto* a, auto* b) { return a->task < b->task; });
    std::vector<const std::vector<float>*> rows;
    std::vector<float> labels;
    std::vector<unsigned> groups;
    std::vector<float> weights;         // per group
    size_t tuned = 0, tuned_group = 0;  // samples and group of kTunedTask
    for (size_t begin = 0; begin < order.size();) {
      size_t end = begin;
      float best = 0;
      while (end < order.size() && order[end]->task == order[begin]->task)
        best = std::max(best, order[end++]->throughput);
      for (size_t i = begin; i < end; ++i) {
        rows.push_back(&order[i]->features);
        labels.push_back(best > 0 ? order[i]->throughput / best : 0.0f);
      }
      groups.push_back(static_cast<unsigned>(end - begin));
      if (order[begin]->task == kTunedTask) {
        tuned = end - begin;
        tuned_group = groups.size() - 1;
      }
      weights.push_back(1.0f);
      begin = end;
    }
    // rank:pairwise samples pairs per instance, so a group's pull grows with its size: the tuned
    // task's group gets the weight that makes its pull equal to all the others'.
    if (tuned > 0 && tuned < order.size())
      weights[tuned_group] = static_cast<float>(order.size() - tuned) / static_cast<float>(tuned);
    size_t width = rows[0]->size();
    DMatrix m = make_dmatrix(rows, width);
    check(XGDMatrixSetFloatInfo(m.get(), "label", labels.data(), labels.size()),
          "XGDMatrixSetFloatInfo(label)");
    check(XGDMatrixSetUIntInfo(m.get(), "group", groups.data(), groups.size()),
          "XGDMatrixSetUIntInfo(group)");
    check(XGDMatrixSetFloatInfo(m.get(), "weight", weights.data(), weights.size()),
          "XGDMatrixSetFloatInfo(weight)");
    Booster b = make_booster(m.get());
    std::string threads = std::to_string(threads_);
    const std::pair<const char*, const char*> params[] = {
        {"objective", "rank:pairwise"}, {"max_depth", "3"}, {"eta", "0.3"},
        {"nthread", threads.c_str()},   {"verbosity", "0"}, {"seed", "0"}};
    for (auto [key, value] : params)
      check(XGBoosterSetParam(b.get(), key, value), "XGBoosterSetParam");
    for (int round = 0; round < kRounds; ++round)
      check(XGBoosterUpdateOneIter(b.get(), round, m.get()), "XGBoosterUpdateOneIter");
    swap_in(std::move(b), width);
  }

  int threads_;
  mutable std::mutex train_mutex_;    // one training (or load) at a time; guards samples_
  mutable std::mutex booster_mutex_;  // guards the swap of booster_ and width_
  std::vector<TrainingSample> samples_;
  Booster booster_;
  size_t width_ = 0;
};

}  // namespace

std::unique_ptr<CostModel> make_xgboost_model(int threads) {
  return std::make_unique<XGBoostModel>(threads);
}

bool has_xgboost() {
  return true;
}

#else

std::unique_ptr<CostModel> make_xgboost_model(int) {
  throw Error("built without XGBoost");
}

bool has_xgboost() {
  return false;
}

#endif

}  // namespace kiln
