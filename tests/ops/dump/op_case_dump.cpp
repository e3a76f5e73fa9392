// Writes every op case's inputs and the interpreter's outputs as raw binary files plus a JSON
// manifest (shapes, dtypes, strides, the op and its arguments) to a directory, for
// torch_reference_test.py to replay the same ATen calls in PyTorch and compare.
//
//   op_case_dump <dir> [case-name-substring]
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "core/reference/interpreter.h"
#include "core/support/error.h"
#include "tests/ops/op_cases.h"

namespace kiln {
namespace {

std::string json_ints(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string json_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// The tensor's whole storage to `dir/file`, and its description as a JSON object.
std::string write_tensor(const std::string& dir, const std::string& file, const HostTensor& t) {
  std::ofstream out(dir + "/" + file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(t.storage.get()),
            t.storage_elements * dtype_bytes(t.dtype));
  if (!out) throw Error(str_cat("cannot write ", dir, "/", file));
  return str_cat("{\"file\": \"", file, "\", \"dtype\": \"", dtype_name(t.dtype),
                 "\", \"shape\": ", json_ints(t.shape), ", \"strides\": ", json_ints(t.strides),
                 ", \"offset\": ", t.offset, ", \"storage_elements\": ", t.storage_elements, "}");
}

/// One argument as JSON: tensors as {"input": k} referring to the case's inputs.
std::string json_arg(const OpArg& arg, const std::vector<Tensor>& placeholders) {
  auto index_of = [&](const Tensor& t) {
    for (size_t k = 0; k < placeholders.size(); ++k)
      if (placeholders[k].same_as(t)) return str_cat("{\"input\": ", k, "}");
    throw Error("a case argument is a tensor that is not one of its inputs");
  };
  return std::visit(
      [&](auto&& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, NoneArg>)
          return "null";
        else if constexpr (std::is_same_v<T, Tensor>)
          return index_of(v);
        else if constexpr (std::is_same_v<T, double>)
          return str_cat("{\"float\": ", json_double(v), "}");
        else if constexpr (std::is_same_v<T, int64_t>)
          return str_cat("{\"int\": ", v, "}");
        else if constexpr (std::is_same_v<T, bool>)
          return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
          return json_ints(v);
        else if constexpr (std::is_same_v<T, std::vector<Tensor>>) {
          std::string s = "{\"tensors\": [";
          for (size_t i = 0; i < v.size(); ++i)
            s += (i ? ", " : "") + (v[i].defined() ? index_of(v[i]) : std::string("null"));
          return s + "]}";
        } else if constexpr (std::is_same_v<T, std::string>)
          return str_cat("\"", v, "\"");
        else
          return str_cat("{\"dtype\": \"", dtype_name(v), "\"}");
      },
      arg);
}

int run(const std::string& dir, const std::string& filter) {
  std::ofstream manifest(dir + "/manifest.json");
  manifest << "[\n";
  bool first = true;
  for (auto& c : op_cases()) {
    if (c.name.find(filter) == std::string::npos) continue;
    PreparedCase p = prepare_case(c);
    std::vector<HostTensor> outputs = interpret(p.outputs, bind_inputs(p));
    std::string inputs, outs, args;
    for (size_t k = 0; k < p.inputs.size(); ++k)
      inputs += (k ? ", " : "") + write_tensor(dir, str_cat(c.name, ".in", k, ".bin"), p.inputs[k]);
    for (size_t k = 0; k < outputs.size(); ++k)
      outs += (k ? ", " : "") + write_tensor(dir, str_cat(c.name, ".out", k, ".bin"), outputs[k]);
    for (size_t k = 0; k < p.args.size(); ++k)
      args += (k ? ", " : "") + json_arg(p.args[k], p.placeholders);
    manifest << (first ? "" : ",\n") << "{\"name\": \"" << c.name << "\", \"op\": \"" << c.op
             << "\", \"atol\": " << json_double(c.atol) << ", \"rtol\": " << json_double(c.rtol)
             << ", \"inputs\": [" << inputs << "], \"outputs\": [" << outs << "], \"args\": ["
             << args << "]}";
    first = false;
  }
  manifest << "\n]\n";
  return manifest ? 0 : 1;
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: op_case_dump <dir> [case-name-substring]\n";
    return 2;
  }
  try {
    return kiln::run(argv[1], argc == 3 ? argv[2] : "");
  } catch (const std::exception& e) {
    std::cerr << "op_case_dump: " << e.what() << "\n";
    return 1;
  }
}
