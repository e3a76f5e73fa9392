#include "core/graph/fusion.h"

#include <algorithm>

#include "core/support/error.h"

namespace kiln {

namespace {

/// A scan's or scatter's group is that node alone: its template schedules it, nothing around it.
bool is_alone(NodeClass c) {
  return c == NodeClass::Scan || c == NodeClass::Scatter;
}

bool is_anchor(NodeClass c) {
  return c == NodeClass::Reduction || c == NodeClass::Contraction || is_alone(c);
}

class Fuser {
 public:
  Fuser(const Graph& g, const std::vector<NodeInfo>& info)
      : g_(g),
        info_(info),
        group_of_(g.nodes().size(), -1),
        members_(g.nodes().size()),
        anchor_(g.nodes().size(), -1),
        producers_(g.nodes().size()),
        users_(g.nodes().size()),
        free_prologue_(g.nodes().size(), false) {
    for (int n = 0; n < num_nodes(); ++n) {
      for (ValueId v : node_inputs(g_.nodes()[n])) {
        int p = g_.producer(v);
        if (p < 0) continue;
        add_unique(producers_[n], p);
        add_unique(users_[p], n);
      }
    }
    std::vector<bool> view_of_inputs(g.nodes().size(), false);
    for (int n = 0; n < num_nodes(); ++n) {
      view_of_inputs[n] = info_[n].index_map;
      for (ValueId v : node_inputs(g_.nodes()[n]))
        if (g_.producer(v) >= 0 && !view_of_inputs[g_.producer(v)]) view_of_inputs[n] = false;
    }
    // A prologue chain ends at its contraction: decided from the last node back.
    for (int n = num_nodes() - 1; n >= 0; --n)
      free_prologue_[n] = view_of_inputs[n] && is_free_prologue(n);
  }

  std::vector<int> run() {
    for (int n = 0; n < num_nodes(); ++n) {
      if (info_[n].cls == NodeClass::Fallback) continue;
      group_of_[n] = n;
      members_[n] = {n};
      if (is_anchor(info_[n].cls)) anchor_[n] = n;
      for (int p : producers_[n]) {
        int a = group_of_[p], b = group_of_[n];
        if (a >= 0 && a != b && can_merge(a, b)) merge(a, b);
      }
    }
    return dense_numbers();
  }

 private:
  int num_nodes() const { return static_cast<int>(g_.nodes().size()); }

  static void add_unique(std::vector<int>& list, int x) {
    if (std::find(list.begin(), list.end(), x) == list.end()) list.push_back(x);
  }

  /// Whether index map `n` of graph inputs (directly, or through other such nodes) is read only
  /// by a contraction, once, or by another free prologue node (the transposed weight of a Linear
  /// layer, a permuted and flattened input): the contraction reads through the chain at no cost.
  /// Needs free_prologue_ of the later nodes.
  bool is_free_prologue(int n) const {
    if (users_[n].size() != 1) return false;
    int user = users_[n][0];
    if (info_[user].cls != NodeClass::Contraction && !free_prologue_[user]) return false;
    for (ValueId v : g_.nodes()[n].outputs)
      if (std::find(g_.outputs().begin(), g_.outputs().end(), v) != g_.outputs().end())
        return false;
    return true;
  }

  /// Whether every node of groups `a` and `b` that `n` reads, directly or not, is a free prologue.
  bool only_free_prologue_feeds(int n, int a, int b) const {
    for (int p : producers_[n]) {
      if (group_of_[p] != a && group_of_[p] != b) continue;
      if (!free_prologue_[p] || !only_free_prologue_feeds(p, a, b)) return false;
    }
    return true;
  }

  /// Producer group `a` may merge into consumer group `b`: one anchor at most, no prologue for a
  /// contraction but free ones, no cycle.
  bool can_merge(int a, int b) const {
    if (anchor_[a] >= 0 && anchor_[b] >= 0) return false;
    for (int g : {a, b})
      if (anchor_[g] >= 0 && is_alone(info_[anchor_[g]].cls)) return false;
    int anchor = std::max(anchor_[a], anchor_[b]);
    if (anchor >= 0 && info_[anchor].cls == NodeClass::Contraction) {
      // A contraction reads its operands as they are: an injective producer inlined into it
      // would be recomputed for every output it contributes to.
      if (!only_free_prologue_feeds(anchor, a, b)) return false;
    }
    return !reads_a_checked_value_made_inside(a, b) && !closes_cycle(a, b);
  }

  /// Whether a node of a ∪ b reads a checked value (NodeInfo::checked_inputs) that a node of
  /// a ∪ b makes: the runtime checks kernel inputs only.
  bool reads_a_checked_value_made_inside(int a, int b) const {
    for (int g : {a, b})
      for (int m : members_[g])
        for (ValueId v : info_[m].checked_inputs) {
          int p = g_.producer(v);
          if (p >= 0 && (group_of_[p] == a || group_of_[p] == b)) return true;
        }
    return false;
  }

  /// True when a path leaves groups a ∪ b and comes back: merging would make a cycle. Nodes are
  /// in topological order, so a path back cannot pass a node later than the union's last.
  bool closes_cycle(int a, int b) const {
    auto inside = [&](int n) { return group_of_[n] == a || group_of_[n] == b; };
    int last = std::max(members_[a].back(), members_[b].back());
    std::vector<char> seen(num_nodes(), 0);
    std::vector<int> stack;
    for (int g : {a, b})
      for (int m : members_[g])
        for (int u : users_[m])
          if (!inside(u) && u < last && !seen[u]) {
            seen[u] = 1;
            stack.push_back(u);
          }
    while (!stack.empty()) {
      int n = stack.back();
      stack.pop_back();
      for (int u : users_[n]) {
        if (inside(u)) return true;
        if (u < last && !seen[u]) {
          seen[u] = 1;
          stack.push_back(u);
        }
      }
    }
    return false;
  }

  /// Moves group `a` into group `b`.
  void merge(int a, int b) {
    for (int m : members_[a]) group_of_[m] = b;
    auto& into = members_[b];
    into.insert(into.end(), members_[a].begin(), members_[a].end());
    std::sort(into.begin(), into.end());
    members_[a].clear();
    anchor_[b] = std::max(anchor_[a], anchor_[b]);
    anchor_[a] = -1;
  }

  std::vector<int> dense_numbers() const {
    std::vector<int> number(num_nodes(), -1), result(num_nodes(), -1);
    int next = 0;
    for (int n = 0; n < num_nodes(); ++n) {
      int g = group_of_[n];
      if (g < 0) continue;
      if (number[g] < 0) number[g] = next++;
      result[n] = number[g];
    }
    return result;
  }

  const Graph& g_;
  const std::vector<NodeInfo>& info_;
  std::vector<int> group_of_;              ///< Node → group (named by a member node), -1: fallback.
  std::vector<std::vector<int>> members_;  ///< Group → its nodes, sorted.
  std::vector<int> anchor_;                ///< Group → its reduction or contraction node, or -1.
  std::vector<std::vector<int>> producers_, users_;  ///< Node → nodes it reads / that read it.
  std::vector<bool> free_prologue_;                  ///< Node → is_free_prologue.
};

}  // namespace

std::vector<int> fuse_nodes(const Graph& g, const std::vector<NodeInfo>& info) {
  KILN_CHECK(info.size() == g.nodes().size(), "one NodeInfo per node");
  return Fuser(g, info).run();
}

}  // namespace kiln
