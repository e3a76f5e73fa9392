// partition: classify every node, fuse, keep views of graph inputs in ATen, then build each
// group's compute definitions and an order to run the steps in.
#include <algorithm>
#include <map>
#include <set>

#include "core/graph/fusion.h"
#include "core/graph/group_lowering.h"
#include "core/support/error.h"

namespace kiln {

namespace {

/// Nodes whose results reach a graph output.
std::vector<bool> live_nodes(const Graph& g) {
  std::vector<bool> live(g.nodes().size(), false), needed(g.values().size(), false);
  for (ValueId v : g.outputs()) needed[v] = true;
  for (int n = static_cast<int>(g.nodes().size()) - 1; n >= 0; --n) {
    for (ValueId v : g.nodes()[n].outputs) live[n] = live[n] || needed[v];
    if (live[n])
      for (ValueId v : node_inputs(g.nodes()[n])) needed[v] = true;
  }
  return live;
}

/// True for a group of pure index maps that read only graph inputs: ATen makes those views
/// without copying, a kernel would copy.
bool is_view_of_inputs(const Graph& g, const std::vector<int>& nodes,
                       const std::vector<NodeInfo>& info) {
  std::set<int> in(nodes.begin(), nodes.end());
  for (int n : nodes) {
    if (!info[n].index_map) return false;
    for (ValueId v : node_inputs(g.nodes()[n])) {
      int p = g.producer(v);
      if (p >= 0 && !in.count(p)) return false;
    }
  }
  return true;
}

/// The nodes among `nodes` (sorted) that node `n` reads, directly or through each other, in order.
std::vector<int> producers_within(const Graph& g, const std::vector<int>& nodes, int n) {
  std::set<int> found;
  std::vector<int> stack{n};
  while (!stack.empty()) {
    int m = stack.back();
    stack.pop_back();
    for (ValueId v : node_inputs(g.nodes()[m])) {
      int p = g.producer(v);
      if (p >= 0 && std::binary_search(nodes.begin(), nodes.end(), p) && found.insert(p).second)
        stack.push_back(p);
    }
  }
  return {found.begin(), found.end()};
}

/// Kahn's algorithm over groups and fallback nodes, taking the ready step whose first node
/// comes first, so the order stays close to the graph's.
std::vector<PartitionStep> step_order(const Graph& g, const Partition& p,
                                      const std::vector<int>& group_of) {
  int num_nodes = static_cast<int>(g.nodes().size());
  int num_groups = static_cast<int>(p.groups.size());
  // Steps are numbered groups first, then fallback nodes (num_groups + position).
  std::vector<int> step_of(num_nodes), first_node;
  std::vector<PartitionStep> steps;
  for (int k = 0; k < num_groups; ++k) {
    steps.push_back({PartitionStep::Kind::Group, k});
    first_node.push_back(p.groups[k].nodes.front());
  }
  for (int n : p.fallback_nodes) {
    step_of[n] = static_cast<int>(steps.size());
    steps.push_back({PartitionStep::Kind::Fallback, n});
    first_node.push_back(n);
  }
  for (int n = 0; n < num_nodes; ++n)
    if (group_of[n] >= 0) step_of[n] = group_of[n];

  std::vector<std::set<int>> users(steps.size());
  std::vector<int> waiting(steps.size(), 0);
  auto depend = [&](int before, int after) {
    if (before != after && users[before].insert(after).second) ++waiting[after];
  };
  for (int n = 0; n < num_nodes; ++n) {
    for (ValueId v : node_inputs(g.nodes()[n])) {
      int prod = g.producer(v);
      if (prod >= 0) depend(step_of[prod], step_of[n]);
    }
    // What came before a side-effecting ATen call in the graph runs before it. (A group that
    // fused one keeps its data order only: ordering the whole group could close a cycle.)
    if (g.nodes()[n].side_effects && group_of[n] < 0)
      for (size_t s = 0; s < steps.size(); ++s)
        if (first_node[s] < n) depend(static_cast<int>(s), step_of[n]);
  }
  std::set<std::pair<int, int>> ready;  // (first node, step)
  for (size_t s = 0; s < steps.size(); ++s)
    if (waiting[s] == 0) ready.insert({first_node[s], static_cast<int>(s)});
  std::vector<PartitionStep> order;
  while (!ready.empty()) {
    int s = ready.begin()->second;
    ready.erase(ready.begin());
    order.push_back(steps[s]);
    for (int u : users[s])
      if (--waiting[u] == 0) ready.insert({first_node[u], u});
  }
  KILN_CHECK(order.size() == steps.size(), "the partition has a cycle between its steps");
  return order;
}

}  // namespace

Partition partition(const Graph& g, const OpRegistry& ops) {
  int num_nodes = static_cast<int>(g.nodes().size());
  std::vector<bool> live = live_nodes(g);
  std::vector<NodeInfo> info(num_nodes);
  std::map<std::string, std::string> unsupported;
  for (int n = 0; n < num_nodes; ++n) {
    if (!live[n]) continue;  // dead code: a fallback, and nothing to report
    info[n] = classify_node(g, n, ops);
    if (!info[n].unsupported.empty()) unsupported.emplace(g.nodes()[n].op, info[n].unsupported);
  }

  std::vector<int> group_of = fuse_nodes(g, info);
  int num_groups = 0;
  for (int k : group_of) num_groups = std::max(num_groups, k + 1);
  std::vector<std::vector<int>> members(num_groups);
  for (int n = 0; n < num_nodes; ++n)
    if (group_of[n] >= 0) members[group_of[n]].push_back(n);
  // Renumber after dropping views: group numbers stay dense and in first-node order.
  std::vector<int> renumber(members.size(), -1);
  int next = 0;
  for (size_t k = 0; k < members.size(); ++k)
    if (!is_view_of_inputs(g, members[k], info)) renumber[k] = next++;
  for (int n = 0; n < num_nodes; ++n)
    if (group_of[n] >= 0) group_of[n] = renumber[group_of[n]];

  Partition result;
  for (size_t k = 0; k < members.size(); ++k)
    if (renumber[k] >= 0) {
      FusionGroup group = lower_group(g, members[k], group_of, ops);
      // Fusion only sees live nodes, and a live group's last node is read outside it.
      KILN_CHECK(!group.outputs.empty(), "a fusion group without outputs");
      for (int n : group.nodes)
        if (info[n].cls == NodeClass::Contraction) group.contraction = n;
      if (group.contraction >= 0)
        group.prologue = producers_within(g, group.nodes, group.contraction);
      result.groups.push_back(std::move(group));
    }
  for (int n = 0; n < num_nodes; ++n)
    if (group_of[n] < 0) result.fallback_nodes.push_back(n);
  result.unsupported = std::move(unsupported);
  result.steps = step_order(g, result, group_of);
  result.group_of = std::move(group_of);
  return result;
}

FusionGroup lower_epilogue(const Graph& g, const Partition& p, int k, const OpRegistry& ops) {
  const FusionGroup& group = p.groups.at(k);
  if (group.contraction < 0) throw Error(str_cat("fusion group ", k, " has no contraction"));
  std::vector<int> group_of = p.group_of;
  // The contraction and its prologue leave the group: their results are read as made outside
  // (with the strides `g` recorded).
  group_of[group.contraction] = -1;
  for (int n : group.prologue) group_of[n] = -1;
  std::vector<int> nodes;
  for (int n : group.nodes)
    if (group_of[n] >= 0) nodes.push_back(n);
  if (nodes.empty()) return {};
  return lower_group(g, nodes, group_of, ops);
}

}  // namespace kiln
