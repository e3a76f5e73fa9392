// Graphs the plugin's C++ tests compile.
#pragma once

#include "plugin/torch/kiln_torch.h"

namespace kiln {

inline const TensorType kF32x4x8{DType::F32, {4, 8}, {8, 1}, "cpu"};

/// relu(a + 2 * b) over two f32[4, 8] inputs.
inline Graph add_relu_graph() {
  Graph g;
  ValueId a = g.add_input(kF32x4x8);
  ValueId b = g.add_input(kF32x4x8);
  ValueId s = g.add_node("aten.add.Tensor", {ValueRef{a}, ValueRef{b}, int64_t{2}}, {kF32x4x8})[0];
  ValueId r = g.add_node("aten.relu.default", {ValueRef{s}}, {kF32x4x8})[0];
  g.mark_output(r);
  return g;
}

}  // namespace kiln
