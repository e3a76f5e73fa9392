#include "core/runtime/kernel.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/support/error.h"
#include "tests/support/error_message.h"

namespace kiln {
namespace {

/// A kernel whose "generated code" copies its f32 input into its output: a real implementation of
/// the Kernel interface, small enough to check run_kernel's argument handling against.
class CopyKernel : public Kernel {
 public:
  explicit CopyKernel(LoweredFunc f) : Kernel(std::move(f)) {}
  void launch(void* const* args) const override {
    std::memcpy(args[1], args[0], func().params[0]->numel() * sizeof(float));
    ++launches;
  }
  mutable int launches = 0;
};

LoweredFunc copy_func(std::vector<int64_t> shape) {
  LoweredFunc f;
  f.name = "copy";
  f.params = {placeholder("A", shape, DType::F32), placeholder("B", shape, DType::F32)};
  f.num_inputs = 1;
  return f;
}

TEST(RunKernel, LaunchesWithDataPointers) {
  CopyKernel k(copy_func({4, 3}));
  HostTensor a = HostTensor::random({4, 3}, DType::F32, 1),
             b = HostTensor::zeros({4, 3}, DType::F32);
  run_kernel(k, {&a, &b});
  EXPECT_EQ(k.launches, 1);
  EXPECT_EQ(max_relative_error(b, a, 0, 0), 0);
}

TEST(RunKernel, NamesTheMismatchedArgument) {
  CopyKernel k(copy_func({4, 3}));
  HostTensor a = HostTensor::zeros({4, 3}, DType::F32);
  HostTensor narrow = HostTensor::zeros({4, 2}, DType::F32);
  EXPECT_EQ(testing::error_message([&] { run_kernel(k, {&a, &narrow}); }),
            "kernel 'copy' argument 1 ('B'): expected f32[4, 3] strides [3, 1], got f32[4, 2] "
            "strides [2, 1]");
  HostTensor doubles = HostTensor::zeros({4, 3}, DType::F64);
  EXPECT_NE(testing::error_message([&] { run_kernel(k, {&doubles, &a}); }).find("argument 0 ('A')"),
            std::string::npos);
  HostTensor transposed = HostTensor::random({4, 3}, DType::F32, 1, -1, 1, {1, 4});
  EXPECT_NE(testing::error_message([&] {
              run_kernel(k, {&transposed, &a});
            }).find("got f32[4, 3] strides [1, 4]"),
            std::string::npos);
  EXPECT_NE(testing::error_message([&] { run_kernel(k, {&a}); }).find("takes 2 arguments, got 1"),
            std::string::npos);
  EXPECT_NE(testing::error_message([&] { run_kernel(k, {&a, nullptr}); }).find("('B') is null"),
            std::string::npos);
  HostTensor truncated = HostTensor::zeros({4, 3}, DType::F32);
  truncated.storage_elements = 11;
  EXPECT_NE(testing::error_message([&] { run_kernel(k, {&a, &truncated}); }).find("past the end"),
            std::string::npos);
  EXPECT_EQ(k.launches, 0);
}

TEST(RunKernel, IgnoresStridesOfSizeOneDimensions) {
  CopyKernel k(copy_func({1, 5}));
  HostTensor a = HostTensor::random({1, 5}, DType::F32, 2, -1, 1, {999, 1});
  HostTensor b = HostTensor::zeros({1, 5}, DType::F32);
  run_kernel(k, {&a, &b});
  EXPECT_EQ(max_relative_error(b, a, 0, 0), 0);
}

}  // namespace
}  // namespace kiln
