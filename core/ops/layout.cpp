// Layout ops as index maps: each result is a compute whose body loads the input at remapped
// indices, never a copy, so the scheduler can fuse it into whatever reads it.
#include <algorithm>

#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_guard.h"
#include "core/ops/row_major.h"
#include "core/ops/type_promotion.h"
#include "core/ops/view_geometry.h"

namespace kiln {

namespace {

using IndexMap = std::function<std::vector<Expr>(const std::vector<Var>& out_axes)>;

Tensor remap(const OpArgs& a, const Tensor& x, std::vector<int64_t> shape, const IndexMap& map) {
  return compute(short_name(a.op()), std::move(shape),
                 [&](const std::vector<Var>& i) { return x.load(map(i)); });
}

std::vector<Tensor> one(Tensor t) {
  return {std::move(t)};
}

/// view/reshape's size with a -1 inferred; checks the element count.
std::vector<int64_t> view_shape(const OpArgs& a, const Tensor& x, std::vector<int64_t> size) {
  int64_t known = 1, infer = -1;
  for (size_t d = 0; d < size.size(); ++d) {
    if (size[d] == -1 && infer < 0)
      infer = static_cast<int64_t>(d);
    else if (size[d] < 0)
      throw a.error(1, str_cat("has an invalid size: ", shape_str(size)));
    else
      known *= size[d];
  }
  if (infer >= 0 && known != 0 && x->numel() % known == 0) size[infer] = x->numel() / known;
  int64_t n = 1;
  for (int64_t s : size) n *= s;
  if (n != x->numel() || (infer >= 0 && known == 0))
    throw a.error(1, str_cat("is ", shape_str(size), ", which does not fit the ", x->numel(),
                             " elements of shape ", shape_str(x->shape)));
  return size;
}

/// Row-major reinterpretation: output index -> flat position -> input index.
std::vector<Expr> unflatten(const std::vector<Var>& out, const std::vector<int64_t>& out_shape,
                            const std::vector<int64_t>& in_shape) {
  return index_at(flat_position(as_exprs(out), out_shape), in_shape);
}

std::vector<Tensor> lower_view(const std::string& op, const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"self", "size"});
  Tensor x = a.tensor(0);
  std::vector<int64_t> shape = view_shape(a, x, a.ints(1));
  return one(remap(a, x, shape, [&](const std::vector<Var>& i) {
    return shape == x->shape ? as_exprs(i) : unflatten(i, shape, x->shape);
  }));
}

/// `perm` (argument i) as a permutation of the dims of a rank-`rank` tensor.
std::vector<int64_t> permutation(const OpArgs& a, int i, const std::vector<int64_t>& perm,
                                 int64_t rank) {
  if (static_cast<int64_t>(perm.size()) != rank)
    throw a.error(i, str_cat("has ", perm.size(), " dims for a tensor of rank ", rank));
  std::vector<int64_t> p;
  for (int64_t d : perm) {
    int64_t n = normalize_dim(a, i, d, rank);
    if (std::find(p.begin(), p.end(), n) != p.end())
      throw a.error(i, str_cat("repeats dimension ", n));
    p.push_back(n);
  }
  return p;
}

Tensor permuted(const OpArgs& a, const Tensor& x, const std::vector<int64_t>& perm) {
  std::vector<int64_t> shape;
  for (int64_t d : perm) shape.push_back(x->shape[d]);
  return remap(a, x, shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> in(perm.size());
    for (size_t k = 0; k < perm.size(); ++k) in[perm[k]] = i[k];
    return in;
  });
}

std::vector<int64_t> swapped(int64_t rank, int64_t d0, int64_t d1) {
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < rank; ++d) perm.push_back(d);
  std::swap(perm[d0], perm[d1]);
  return perm;
}

/// squeeze of the listed dims (those of size 1; others stay).
Tensor squeezed(const OpArgs& a, const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<bool> drop(x->rank(), false);
  for (int64_t d : dims) {
    int64_t n = normalize_dim(a, 1, d, x->rank());
    if (x->rank() > 0 && x->shape[n] == 1) drop[n] = true;
  }
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < x->rank(); ++d)
    if (!drop[d]) shape.push_back(x->shape[d]);
  return remap(a, x, shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> in;
    size_t next = 0;
    for (int64_t d = 0; d < x->rank(); ++d) in.push_back(drop[d] ? Expr(0) : Expr(i[next++]));
    return in;
  });
}

std::vector<Tensor> lower_expand(const std::vector<OpArg>& args) {
  OpArgs a("aten.expand.default", args, {"self", "size", "implicit"});
  Tensor x = a.tensor(0);
  std::vector<int64_t> size = a.ints(1);
  int64_t lead = static_cast<int64_t>(size.size()) - x->rank();
  if (lead < 0)
    throw a.error(1, str_cat("is ", shape_str(size), ", shorter than the rank of shape ",
                             shape_str(x->shape)));
  for (int64_t d = 0; d < static_cast<int64_t>(size.size()); ++d) {
    int64_t in = d >= lead ? x->shape[d - lead] : -1;
    if (size[d] == -1 && in >= 0)
      size[d] = in;
    else if (size[d] < 0 || (in >= 0 && in != 1 && in != size[d]))
      throw a.error(1, str_cat("is ", shape_str(a.ints(1)), ", which shape ", shape_str(x->shape),
                               " cannot expand to (dimension ", d, ")"));
  }
  return one(remap(a, x, size, [&](const std::vector<Var>& i) {
    std::vector<Expr> in;
    for (int64_t d = 0; d < x->rank(); ++d)
      in.push_back(x->shape[d] == 1 ? Expr(0) : Expr(i[d + lead]));
    return in;
  }));
}

std::vector<Tensor> lower_slice(const std::vector<OpArg>& args) {
  OpArgs a("aten.slice.Tensor", args, {"self", "dim", "start", "end", "step"});
  Tensor x = a.tensor(0);
  SliceView v = slice_view(a, x, 1);
  return one(remap(a, x, v.shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> in = as_exprs(i);
    in[v.dim] = in[v.dim] * v.step + v.start;
    return in;
  }));
}

/// The dim (argument 2) a split cuts `x` along.
int64_t split_dim(const OpArgs& a, const Tensor& x) {
  if (x->rank() == 0) throw a.error(0, "is a rank-0 tensor, which cannot be split");
  return normalize_dim(a, 2, a.integer(2), x->rank());
}

/// `x` cut along `dim` into consecutive chunks of `sizes`, which sum to its size there.
std::vector<Tensor> split_into(const OpArgs& a, const Tensor& x, int64_t dim,
                               const std::vector<int64_t>& sizes) {
  std::vector<Tensor> chunks;
  int64_t offset = 0;
  for (int64_t size : sizes) {
    std::vector<int64_t> shape = x->shape;
    shape[dim] = size;
    chunks.push_back(remap(a, x, shape, [&](const std::vector<Var>& i) {
      std::vector<Expr> in = as_exprs(i);
      in[dim] = in[dim] + offset;
      return in;
    }));
    offset += size;
  }
  return chunks;
}

std::vector<Tensor> lower_split_with_sizes(const std::vector<OpArg>& args) {
  OpArgs a("aten.split_with_sizes.default", args, {"self", "split_sizes", "dim"});
  Tensor x = a.tensor(0);
  int64_t dim = split_dim(a, x);
  std::vector<int64_t> sizes = a.ints(1);
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw a.error(1, str_cat("has a negative size: ", shape_str(sizes)));
    total += s;
  }
  if (total != x->shape[dim])
    throw a.error(1, str_cat("is ", shape_str(sizes), ", which sums to ", total,
                             ", not to the size ", x->shape[dim], " of dimension ", dim));
  return split_into(a, x, dim, sizes);
}

/// Chunks of split_size along dim; the last takes what is left (a dim of size 0 gives one empty
/// chunk, as in PyTorch).
std::vector<Tensor> lower_split(const std::vector<OpArg>& args) {
  OpArgs a("aten.split.Tensor", args, {"self", "split_size", "dim"});
  Tensor x = a.tensor(0);
  int64_t dim = split_dim(a, x), left = x->shape[dim], chunk = a.integer(1);
  if (chunk < 0 || (chunk == 0 && left > 0))
    throw a.error(1,
                  str_cat("is ", chunk, ", which cannot split dimension ", dim, " of size ", left));
  std::vector<int64_t> sizes;
  do {
    sizes.push_back(std::min(chunk, left));
    left -= sizes.back();
  } while (left > 0);
  return split_into(a, x, dim, sizes);
}

std::vector<Tensor> lower_select(const std::vector<OpArg>& args) {
  OpArgs a("aten.select.int", args, {"self", "dim", "index"});
  Tensor x = a.tensor(0);
  SelectView v = select_view(a, x, 1);
  return one(remap(a, x, v.shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> in = as_exprs(i);
    in.insert(in.begin() + v.dim, Expr(v.index));
    return in;
  }));
}

std::vector<Tensor> lower_cat(const std::vector<OpArg>& args) {
  OpArgs a("aten.cat.default", args, {"tensors", "dim"});
  std::vector<Tensor> parts;
  // PyTorch still accepts legacy empty 1-D tensors of any dtype in a cat and skips them.
  for (auto& t : a.tensors(0))
    if (!(t->rank() == 1 && t->shape[0] == 0)) parts.push_back(t);
  if (parts.empty()) throw a.error(0, "has no non-empty tensors");
  std::vector<int64_t> shape = parts[0]->shape;
  int64_t dim = normalize_dim(a, 1, a.integer(1), static_cast<int64_t>(shape.size()));
  std::vector<PromotionOperand> ops;
  std::vector<int64_t> offsets;
  int64_t total = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    auto s = parts[k]->shape;
    if (s.size() != shape.size())
      throw a.error(0, str_cat("mixes ranks: tensor ", k, " has shape ", shape_str(s),
                               ", tensor 0 has ", shape_str(shape)));
    for (size_t d = 0; d < s.size(); ++d)
      if (static_cast<int64_t>(d) != dim && s[d] != shape[d])
        throw a.error(
            0, str_cat("has tensor ", k, " of shape ", shape_str(s), ", which does not match ",
                       shape_str(shape), " outside dim ", dim));
    offsets.push_back(total);
    total += s[dim];
    ops.push_back({parts[k]->dtype, PromotionOperand::kTensor});
  }
  shape[dim] = total;
  DType out = result_type(ops);
  return one(compute("cat", shape, [&](const std::vector<Var>& i) {
    // A select chain from the last part back: part k covers [offsets[k], offsets[k] + size).
    Expr value;
    for (size_t k = parts.size(); k-- > 0;) {
      if (parts[k]->shape[dim] == 0) continue;
      std::vector<Expr> in = as_exprs(i);
      in[dim] = in[dim] - offsets[k];  // read only where its select takes it (expr.h)
      Expr v = cast(out, parts[k].load(in));
      value = value.defined() ? select(i[dim] < offsets[k] + parts[k]->shape[dim], v, value) : v;
    }
    return value;
  }));
}

std::vector<Tensor> lower_constant_pad(const std::vector<OpArg>& args) {
  OpArgs a("aten.constant_pad_nd.default", args, {"self", "pad", "value"});
  Tensor x = a.tensor(0);
  std::vector<int64_t> pad = a.ints(1);
  if (pad.size() % 2 != 0 || static_cast<int64_t>(pad.size()) > 2 * x->rank())
    throw a.error(1, str_cat("has ", pad.size(),
                             " entries; expected an even number up to twice "
                             "the rank of shape ",
                             shape_str(x->shape)));
  // pad lists (before, after) pairs starting from the last dim.
  std::vector<int64_t> before(x->rank(), 0), after(x->rank(), 0), shape = x->shape;
  for (size_t k = 0; k < pad.size() / 2; ++k) {
    int64_t d = x->rank() - 1 - static_cast<int64_t>(k);
    before[d] = pad[2 * k];
    after[d] = pad[2 * k + 1];
    shape[d] += before[d] + after[d];
    if (shape[d] < 0)
      throw a.error(
          1, str_cat("shrinks dimension ", d, " of shape ", shape_str(x->shape), " below size 0"));
  }
  double value = a.scalar(2).value;
  return one(compute("constant_pad_nd", shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> in;
    Expr inside;
    for (int64_t d = 0; d < x->rank(); ++d) {
      Expr j = i[d] - before[d];
      // Only a dim that grows needs a guard; a negative pad merely crops.
      if (before[d] > 0 || after[d] > 0) {
        Expr ok = in_range(j, x->shape[d]);
        inside = inside.defined() ? (inside && ok) : ok;
      }
      in.push_back(j);
    }
    Expr v = x.load(in);
    return inside.defined() ? select(inside, v, make_const(x->dtype, value)) : v;
  }));
}

}  // namespace

/// The dims of argument `i`, normalized; a dim named twice is an error, as in eager.
std::vector<int64_t> distinct_dims(const OpArgs& a, int i, const std::vector<int64_t>& dims,
                                   int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t d : dims) {
    int64_t n = normalize_dim(a, i, d, rank);
    if (std::find(out.begin(), out.end(), n) != out.end())
      throw a.error(i, str_cat("names dim ", n, " more than once"));
    out.push_back(n);
  }
  return out;
}

std::vector<Tensor> lower_flip(const std::vector<OpArg>& args) {
  OpArgs a("aten.flip.default", args, {"self", "dims"});
  Tensor x = a.tensor(0);
  std::vector<int64_t> dims = distinct_dims(a, 1, a.ints(1), std::max<int64_t>(x->rank(), 1));
  if (x->rank() == 0) dims.clear();  // a scalar has nothing to flip (dims 0 and -1 name it)
  return one(remap(a, x, x->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> in = as_exprs(i);
    for (int64_t d : dims) in[d] = Expr(x->shape[d] - 1) - in[d];
    return in;
  }));
}

/// roll: out[i] = x[(i - shift) mod size] along each dim; with no dims, over the flattened
/// tensor, reshaped back.
std::vector<Tensor> lower_roll(const std::vector<OpArg>& args) {
  OpArgs a("aten.roll.default", args, {"self", "shifts", "dims"});
  Tensor x = a.tensor(0);
  std::vector<int64_t> shifts = a.ints(1), dims = a.ints(2);
  if (dims.empty() && shifts.size() != 1)
    throw a.error(1, str_cat("has ", shifts.size(), " shifts; without dims roll takes one"));
  if (!dims.empty() && shifts.size() != dims.size())
    throw a.error(1, str_cat("has ", shifts.size(), " shifts for ", dims.size(), " dims"));
  auto rolled = [](Expr i, int64_t shift, int64_t size) {
    if (size == 0) return i;
    int64_t s = ((shift % size) + size) % size;
    return s == 0 ? i : floormod(i + Expr(size - s), Expr(size));
  };
  if (dims.empty()) {
    return one(remap(a, x, x->shape, [&](const std::vector<Var>& i) {
      return index_at(rolled(flat_position(as_exprs(i), x->shape), shifts[0], x->numel()),
                      x->shape);
    }));
  }
  std::vector<int64_t> shift_of(x->rank(), 0);
  for (size_t k = 0; k < dims.size(); ++k)
    shift_of[normalize_dim(a, 2, dims[k], x->rank())] += shifts[k];
  return one(remap(a, x, x->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> in = as_exprs(i);
    for (int64_t d = 0; d < x->rank(); ++d) in[d] = rolled(in[d], shift_of[d], x->shape[d]);
    return in;
  }));
}

/// repeat: the input tiled `repeats` times along each dim (leading repeats add dims).
std::vector<Tensor> lower_repeat(const std::vector<OpArg>& args) {
  OpArgs a("aten.repeat.default", args, {"self", "repeats"});
  Tensor x = a.tensor(0);
  std::vector<int64_t> repeats = a.ints(1);
  int64_t lead = static_cast<int64_t>(repeats.size()) - x->rank();
  if (lead < 0)
    throw a.error(1, str_cat("has ", repeats.size(), " repeats for a tensor of rank ", x->rank(),
                             "; repeat needs at least one per dim"));
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < static_cast<int64_t>(repeats.size()); ++d) {
    if (repeats[d] < 0) throw a.error(1, str_cat("has a negative repeat: ", repeats[d]));
    shape.push_back(repeats[d] * (d < lead ? 1 : x->shape[d - lead]));
  }
  return one(remap(a, x, shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> in;
    for (int64_t d = 0; d < x->rank(); ++d) {
      int64_t size = x->shape[d];
      Expr at = i[d + lead];
      if (size == 1)
        at = Expr(0);
      else if (repeats[d + lead] > 1)
        at = floormod(at, Expr(size));
      in.push_back(at);
    }
    return in;
  }));
}

void register_layout_ops(OpRegistry& r) {
  for (auto op : {"aten.view.default", "aten._unsafe_view.default", "aten.reshape.default"}) {
    std::string name = op;
    r.add(name, [name](const std::vector<OpArg>& args) { return lower_view(name, args); });
  }
  r.add("aten.permute.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.permute.default", args, {"self", "dims"});
    Tensor x = a.tensor(0);
    return one(permuted(a, x, permutation(a, 1, a.ints(1), x->rank())));
  });
  r.add("aten.transpose.int", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.transpose.int", args, {"self", "dim0", "dim1"});
    Tensor x = a.tensor(0);
    if (x->rank() == 0)
      return one(remap(a, x, {}, [](const std::vector<Var>&) { return std::vector<Expr>{}; }));
    int64_t d0 = normalize_dim(a, 1, a.integer(1), x->rank());
    int64_t d1 = normalize_dim(a, 2, a.integer(2), x->rank());
    return one(permuted(a, x, swapped(x->rank(), d0, d1)));
  });
  r.add("aten.t.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.t.default", args, {"self"});
    Tensor x = a.tensor(0);
    if (x->rank() > 2) throw a.error(0, str_cat("has rank ", x->rank(), "; t needs rank <= 2"));
    return one(permuted(a, x, x->rank() == 2 ? swapped(2, 0, 1) : swapped(x->rank(), 0, 0)));
  });
  r.add("aten.expand.default", lower_expand);
  r.add("aten.squeeze.dim", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.squeeze.dim", args, {"self", "dim"});
    return one(squeezed(a, a.tensor(0), {a.integer(1)}));
  });
  r.add("aten.squeeze.dims", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.squeeze.dims", args, {"self", "dim"});
    return one(squeezed(a, a.tensor(0), a.ints(1)));
  });
  r.add("aten.unsqueeze.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.unsqueeze.default", args, {"self", "dim"});
    Tensor x = a.tensor(0);
    int64_t dim = normalize_dim(a, 1, a.integer(1), x->rank() + 1);
    std::vector<int64_t> shape = x->shape;
    shape.insert(shape.begin() + dim, 1);
    return one(remap(a, x, shape, [&](const std::vector<Var>& i) {
      std::vector<Expr> in = as_exprs(i);
      in.erase(in.begin() + dim);
      return in;
    }));
  });
  r.add("aten.slice.Tensor", lower_slice);
  r.add("aten.select.int", lower_select);
  r.add("aten.split.Tensor", lower_split);
  r.add("aten.split_with_sizes.default", lower_split_with_sizes);
  r.add("aten.cat.default", lower_cat);
  r.add("aten.constant_pad_nd.default", lower_constant_pad);
  r.add("aten.flip.default", lower_flip);
  r.add("aten.roll.default", lower_roll);
  r.add("aten.repeat.default", lower_repeat);
  for (auto op : {"aten.flip.default", "aten.roll.default", "aten.repeat.default"})
    r.mark_copying(op);
}

}  // namespace kiln
