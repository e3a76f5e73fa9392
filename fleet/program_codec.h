// Tensor programs as JSON, so that a tuning task can travel to a worker on another machine: the
// worker rebuilds the compute definitions and tunes them as if it had traced the model itself.
// Only the program travels (placeholders, compute definitions, scans, scatters, their
// expressions), never data or machine code.
//
//   std::string text = program_to_json(outputs);
//   std::vector<Tensor> again = program_from_json(text);
//   // describe_workload(again).key == describe_workload(outputs).key
#pragma once

#include <string>
#include <vector>

#include "core/ir/tensor.h"

namespace kiln {

/// The program that computes `outputs`: every tensor reachable from them, once, producers first,
/// with the expressions of their bodies, scan steps and scatter updates. Names, dtypes, shapes,
/// strides, variable names and constants (to the bit, inf and NaN included) are kept, so the
/// rebuilt program prints and hashes the same. The format (program_codec.cpp) spells every value
/// by name and carries a schema version. Throws IRError on an expression nested deeper than
/// program_from_json reads (1000 levels).
std::string program_to_json(const std::vector<Tensor>& outputs);

/// Rebuilds the outputs of program_to_json() through the IR's validating constructors: a tensor
/// that several consumers read is rebuilt once. Throws IRError naming what is wrong and where
/// (not JSON, a newer schema, an unknown node kind, op or dtype, a reference to a tensor or
/// variable not defined before, a malformed node, nesting too deep) — never a crash on hostile
/// text.
std::vector<Tensor> program_from_json(const std::string& text);

}  // namespace kiln
