// Standard workloads, built from the op library: the ResNet-18 convolutions and BERT-base
// matmuls, softmax and layer_norm, and ad-hoc shapes from the command line.
#pragma once

#include <string>
#include <vector>

#include "core/tune/task.h"

namespace kiln::workloads {

// Each in `dtype` (f32 unless given; the task's name says any other).

/// A matmul (M x K) @ (K x N); in i8, summed in i32 (aten._int_mm).
TuningTask matmul(int64_t m, int64_t n, int64_t k, DType dtype = DType::F32);
/// A 2-D convolution, batch 1, NCHW, padding kernel/2 (as in the AutoTVM tables), in `groups`
/// groups (in_channels groups with as many out_channels: depthwise).
TuningTask conv2d(int64_t h, int64_t w, int64_t in_channels, int64_t out_channels, int64_t kernel,
                  int64_t stride, int64_t groups = 1, DType dtype = DType::F32);
/// Softmax over the last axis of a rows x cols tensor.
TuningTask softmax(int64_t rows, int64_t cols, DType dtype = DType::F32);
/// layer_norm over the last axis (with weight and bias) of a rows x cols tensor.
TuningTask layer_norm(int64_t rows, int64_t cols, DType dtype = DType::F32);

/// ResNet-18's convolutions C1..C12, BERT-base's matmuls, its softmax and layer_norm.
std::vector<TuningTask> standard_suite();

/// A task from words like {"matmul", "1024", "1024", "1024"} or {"conv", H, W, IN, OUT, KERNEL,
/// STRIDE[, GROUPS]}; throws Error with the usage.
TuningTask from_words(const std::vector<std::string>& words, DType dtype = DType::F32);

/// The benchmarks' selection of the suite: `only` keeps those 0-based indices ("" keeps all; a
/// comma-separated list, "3,7"), then `shard` "K/N" takes every N-th of them from the K-th, so
/// N processes on N cores share the suite. Throws Error naming a bad index or shard.
std::vector<TuningTask> select(std::vector<TuningTask> suite, const std::string& only,
                               const std::string& shard);

}  // namespace kiln::workloads
