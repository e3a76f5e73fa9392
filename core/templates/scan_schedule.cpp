// The default template's scans (cumsum, cumprod, cummax, ...): the scan axis is one serial loop;
// the axes before it run in parallel, the axes after it are one vector loop (every lane its own
// recurrence), so that a scan along a leading axis is as wide as a copy. A scan accumulated in a
// wider type than its result (cumsum of f32 in f64, as ATen) is computed row by row inside its
// cast's row loop, into a buffer of one row (of a few rows interleaved, along the last axis): the
// wide values never travel through memory.
// A scatter's group goes here too: each of its stages at its own root, a scatter's init as a
// copy is (its updates' loops are lowering's, lower.cpp).
#include "core/ir/functor.h"
#include "core/templates/template_internals.h"

namespace kiln::schedule_detail {

namespace {

/// The axes of `s` before and after `axis`, by loop name.
std::pair<std::vector<std::string>, std::vector<std::string>> around(const Stage& s, int axis) {
  std::vector<std::string> before, after;
  for (int d = 0; d < s.num_spatial; ++d)
    if (d != axis) (d < axis ? before : after).push_back(s.loops[d].name);
  return {before, after};
}

}  // namespace

void DefaultScheduler::schedule_scans() {
  for (auto& name : others("")) {
    if (sch_.stage(name).attach != AttachKind::Root || own_roots_.count(name)) continue;
    if (!sch_.stage(name).is_scan()) {
      schedule_root(name);
    } else if (auto reader = row_reader(name)) {
      schedule_scan_in_rows(name, *reader);
    } else {
      schedule_scan(name);
    }
  }
}

std::optional<std::string> DefaultScheduler::row_reader(const std::string& scan) const {
  const Stage& s = sch_.stage(scan);
  if (s.is_output || s.tensor->scan_axis == 0) return std::nullopt;
  const Stage* reader = nullptr;
  for (auto& r : sch_.stages()) {
    if (r.attach == AttachKind::Inline || !reads(r.body, s.tensor.get())) continue;
    if (reader || r.is_scan() || r.is_reduction()) return std::nullopt;
    reader = &r;
  }
  // The reader reads the scan at its own point only (a cast), and nothing else.
  if (!reader || reader->root_extents != s.root_extents) return std::nullopt;
  for (auto* load : loads_in(reader->body)) {
    if (load->tensor.get() != s.tensor.get()) return std::nullopt;
    for (int d = 0; d < s.num_spatial; ++d)
      if (load->indices[d].get() != reader->root_vars[d].get()) return std::nullopt;
  }
  return reader->name;
}

void DefaultScheduler::schedule_scan_in_rows(const std::string& scan, const std::string& reader) {
  int axis = sch_.stage(scan).tensor->scan_axis;
  auto [before, after] = around(sch_.stage(reader), axis);
  int64_t rows = interleaved_rows(scan, after.empty());
  if (rows > 1) before.back() = sch_.split(reader, before.back(), rows).first;
  std::string row = fuse_all(reader, before);
  sch_.parallel(reader, row);
  const Stage& r = sch_.stage(reader);
  std::vector<std::string> rest{r.loops[axis].name};
  rest.insert(rest.end(), after.begin(), after.end());
  int64_t extent = 1;
  for (int d = axis; d < r.num_spatial; ++d) extent *= r.root_extents[d];
  vectorize_inner(reader, fuse_all(reader, rest), extent, r.tensor->dtype);
  // The scan per row (per `rows` rows): its leading loops have extent 1 there (the last one
  // `rows`, run inside the scan loop), its trailing ones are lanes.
  const Stage& s = sch_.stage(scan);
  auto [scan_before, scan_after] = around(s, axis);
  if (rows > 1) {
    // Split, not only reordered, so that the rows' buffer stays row-major (a buffer follows
    // its loop order only while its stage has no split or fuse): the reader's vector loop
    // reads each row contiguously.
    std::string chains = sch_.split(scan, scan_before.back(), rows).second;
    sch_.reorder(scan, {s.loops[axis].name, chains});
    sch_.unroll(scan, chains);
  }
  if (!scan_after.empty()) {
    int64_t lanes = 1;
    for (int d = axis + 1; d < r.num_spatial; ++d) lanes *= r.root_extents[d];
    vectorize_inner(scan, fuse_all(scan, scan_after), lanes, sch_.stage(scan).tensor->dtype);
  }
  sch_.compute_at(scan, reader, row);
  own_roots_.insert(reader);
}

int64_t DefaultScheduler::interleaved_rows(const std::string& scan, bool along_last_axis) {
  // A scan along the last axis is one dependency chain per row, as long as the row: the latency
  // of its add, not its arithmetic, bounds it (eager's loop too). Rows computed together in the
  // scan loop run as independent chains, which the core overlaps. Across lanes (a scan along an
  // inner axis) the vector loop already does that.
  const Stage& s = sch_.stage(scan);
  int axis = s.tensor->scan_axis;
  if (!along_last_axis || axis == 0) return 1;
  // Rows come from the axis just before the scan axis, so that they are whole inside one row
  // loop's iteration; the row loop keeps at least one iteration per thread.
  int64_t rows = s.root_extents[axis - 1], all_rows = 1;
  for (int d = 0; d < axis; ++d) all_rows *= s.root_extents[d];
  std::vector<int64_t> choices{1};
  for (int64_t r : {2, 4, 8})
    if (rows % r == 0) choices.push_back(r);
  int64_t preferred = 1;
  for (int64_t r : {2, 4})
    if (rows % r == 0 && all_rows / r >= target_.num_threads) preferred = r;
  return knob(scan, "interleaved_rows", choices, preferred);
}

void DefaultScheduler::schedule_scan(const std::string& name) {
  const Stage& s = sch_.stage(name);
  int n = s.num_spatial, axis = s.tensor->scan_axis;
  auto [before, after] = around(s, axis);
  std::string scan_loop = s.loops[axis].name;
  if (!before.empty()) sch_.parallel(name, fuse_all(name, before));
  if (after.empty()) return;
  int64_t inner = 1;
  for (int d = axis + 1; d < n; ++d) inner *= s.root_extents[d];
  std::string lanes_loop = fuse_all(name, after);
  if (before.empty() && target_.num_threads > 1) {
    // Nothing before the scan axis to share out: the threads take chunks of the lanes.
    std::vector<int64_t> chunks;
    for (int64_t c : {64, 256, 1024})
      if (c < inner) chunks.push_back(c);
    if (!chunks.empty()) {
      int64_t preferred = chunks.front();
      for (int64_t c : chunks)
        if (c * target_.num_threads <= inner) preferred = c;
      int64_t chunk = knob(name, "parallel_chunk", chunks, preferred);
      auto [o, i] = sch_.split(name, lanes_loop, chunk);
      sch_.reorder(name, {o, scan_loop});
      sch_.parallel(name, o);
      lanes_loop = i;
      inner = chunk;
    }
  }
  vectorize_inner(name, lanes_loop, inner, s.tensor->dtype);
}

}  // namespace kiln::schedule_detail
