#include "ops/einsum.h"

#include <algorithm>
#include <map>

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/matmul.h"
#include "ops/reshape.h"
#include "ops/sum.h"
#include "ops/transpose.h"

namespace tg {

namespace {

struct Labelled {
  Tensor t;
  std::string labels;  // one letter per dimension of t
};

// t's dimensions put in the order of `order` (letters of t.labels).
Tensor arrange(const Labelled& x, const std::string& order) {
  std::vector<int> dims;
  for (char c : order) dims.push_back(static_cast<int>(x.labels.find(c)));
  bool identity = true;
  for (size_t i = 0; i < dims.size(); ++i) identity = identity && dims[i] == static_cast<int>(i);
  return identity ? x.t : permute(x.t, dims);
}

// Sums the letters of x that `keep` lacks.
Labelled sum_out(Labelled x, const std::string& keep) {
  std::vector<int> axes;
  std::string kept;
  for (size_t i = 0; i < x.labels.size(); ++i) {
    if (keep.find(x.labels[i]) == std::string::npos) axes.push_back(static_cast<int>(i));
    else kept += x.labels[i];
  }
  if (axes.empty()) return x;
  return {sum(x.t, axes), kept};
}

int64_t product(const std::string& letters, const std::map<char, int64_t>& size) {
  int64_t p = 1;
  for (char c : letters) p *= size.at(c);
  return p;
}

}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  const ProfileScope profile("einsum");
  std::string spec;
  for (char c : equation)
    if (c != ' ') spec += c;
  if (spec.find("...") != std::string::npos) fail("einsum \"{}\": \"...\" is not supported", equation);
  const size_t arrow = spec.find("->");
  const std::string inputs = spec.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = inputs.find(',', start);
    terms.push_back(inputs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() > 2) fail("einsum \"{}\": {} operands; one or two are supported", equation, terms.size());
  if (terms.size() != operands.size())
    fail("einsum \"{}\": the equation names {} operand{}, got {}", equation, terms.size(),
         terms.size() == 1 ? "" : "s", operands.size());
  std::map<char, int64_t> size;
  std::map<char, int> count;
  std::vector<Labelled> xs;
  for (size_t k = 0; k < terms.size(); ++k) {
    const std::string& labels = terms[k];
    const Tensor& t = operands[k];
    check_defined(t, "einsum", "operand");
    if (static_cast<int>(labels.size()) != t.ndim())
      fail("einsum \"{}\": operand {} has {} letters \"{}\" but shape {}", equation, k, labels.size(), labels,
           t.shape().str());
    for (size_t i = 0; i < labels.size(); ++i) {
      const char c = labels[i];
      if (c < 'a' || c > 'z') fail("einsum \"{}\": '{}' is not a lowercase letter", equation, c);
      if (labels.find(c) != i)
        fail("einsum \"{}\": '{}' appears twice in operand {} (diagonals are not supported)", equation, c, k);
      const auto [it, fresh] = size.emplace(c, t.size(static_cast<int>(i)));
      if (!fresh && it->second != t.size(static_cast<int>(i)))
        fail("einsum \"{}\": '{}' is {} in one operand and {} in operand {} (shape {})", equation, c, it->second,
             t.size(static_cast<int>(i)), k, t.shape().str());
      ++count[c];
    }
    xs.push_back({t, labels});
  }
  std::string out;
  if (arrow == std::string::npos) {
    for (const auto& [c, n] : count)
      if (n == 1) out += c;  // std::map: alphabetical
  } else {
    out = spec.substr(arrow + 2);
    for (size_t i = 0; i < out.size(); ++i) {
      if (size.count(out[i]) == 0) fail("einsum \"{}\": output letter '{}' is in no operand", equation, out[i]);
      if (out.find(out[i]) != i) fail("einsum \"{}\": output letter '{}' appears twice", equation, out[i]);
    }
  }

  if (xs.size() == 1) return arrange(sum_out(xs[0], out), out);

  // Letters one operand has alone and the output lacks: summed first.
  const Labelled a = sum_out(xs[0], out + xs[1].labels), b = sum_out(xs[1], out + xs[0].labels);
  std::string batch, contract, left, right;
  for (char c : a.labels) {
    const bool shared = b.labels.find(c) != std::string::npos, kept = out.find(c) != std::string::npos;
    (shared ? (kept ? batch : contract) : left) += c;
  }
  for (char c : b.labels)
    if (a.labels.find(c) == std::string::npos) right += c;
  // (batch, left, contract) @ (batch, contract, right) -> (batch, left, right)
  const int64_t B = product(batch, size), L = product(left, size), C = product(contract, size),
                R = product(right, size);
  const Tensor lhs = reshape(arrange(a, batch + left + contract), Shape{B, L, C});
  const Tensor rhs = reshape(arrange(b, batch + contract + right), Shape{B, C, R});
  Shape result_shape;
  for (char c : batch + left + right) result_shape.push_back(size.at(c));
  const Labelled result{reshape(matmul(lhs, rhs), result_shape), batch + left + right};
  return arrange(result, out);
}

}  // namespace tg
