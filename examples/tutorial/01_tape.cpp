// Chapter 1 of the tutorial (docs/tutorial/01-the-tape.md): the tape.
// f = (a·b + c)·a for three scalars, its tape, a backward pass by hand, and
// tapegrad's backward(); exits 1 if the two disagree.
#include <fmt/format.h>
#include <tapegrad.h>

#include <cmath>
#include <cstdio>

int main() {
  // [tutorial:expression]
  tg::Tape tape;
  tg::TapeScope record_on(tape);  // ops on tensors that require grad append nodes here
  const tg::TensorOptions leaf{.dtype = tg::DType::f64, .requires_grad = true};
  const tg::Tensor a = tg::scalar(2.0, leaf), b = tg::scalar(-3.0, leaf), c = tg::scalar(10.0, leaf);
  const tg::Tensor ab = a * b;  // node 0: mul
  const tg::Tensor u = ab + c;  // node 1: add
  const tg::Tensor f = u * a;   // node 2: mul; a is used twice
  // [/tutorial:expression]

  // [tutorial:nodes]
  for (size_t i = 0; i < tape.nodes().size(); ++i) {
    const tg::Node& node = tape.nodes()[i];
    fmt::print("node {}: {} of {} input(s) -> {}; saves", i, node.op, node.inputs.size(),
               node.output.lock()->shape.str());
    for (const tg::Saved& value : node.saved) fmt::print(" [{}]", value.describe());
    fmt::print(" ({} bytes)\n", node.saved_bytes());  // what its backward will read
  }
  std::FILE* dot = std::fopen("tape.dot", "w");  // render with: dot -Tsvg tape.dot -o tape.svg
  if (dot != nullptr) {
    std::fputs(tape.to_dot().c_str(), dot);
    std::fclose(dot);
  }
  // [/tutorial:nodes]

  // [tutorial:by-hand]
  // Backward by hand, latest node first, starting from df/df = 1:
  const double av = 2.0, bv = -3.0, cv = 10.0;
  const double df_du = av;                    // node 2: f = u·a  ->  df/du = a
  double df_da = av * bv + cv;                // node 2: ... and df/da = u (first use of a)
  const double df_dab = df_du, df_dc = df_du;  // node 1: u = ab + c passes df/du to both
  df_da += df_dab * bv;                        // node 0: ab = a·b  ->  df/da += b·df/d(ab) (second use)
  const double df_db = df_dab * av;           //                    df/db = a·df/d(ab)
  // [/tutorial:by-hand]

  // [tutorial:backward]
  f.backward();  // seeds df/df = 1 and walks the nodes f reaches, latest first
  fmt::print("f = {}\n", f.item());
  fmt::print("df/da: tape {}, by hand {}\n", a.grad().item(), df_da);
  fmt::print("df/db: tape {}, by hand {}\n", b.grad().item(), df_db);
  fmt::print("df/dc: tape {}, by hand {}\n", c.grad().item(), df_dc);
  // [/tutorial:backward]

  const bool agree = std::abs(a.grad().item() - df_da) < 1e-12 && std::abs(b.grad().item() - df_db) < 1e-12 &&
                     std::abs(c.grad().item() - df_dc) < 1e-12;
  if (!agree) {
    fmt::print(stderr, "the tape and the hand computation disagree\n");
    return 1;
  }
  fmt::print("the tape and the hand computation agree\n");
  return 0;
}
